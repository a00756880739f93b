"""Reading the knowledge base from the terminal: ``list``, ``show``, ``explain``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from diagnose.cli.options import (PackChoice, Target, checks_option, find_entry_or_exit, load_pack_or_exit,
                                  packs_profile_option, profile_from, profile_or_exit)

if TYPE_CHECKING:
    from diagnose.kb.model import Entry, Pack


@click.command("list")
@checks_option
@packs_profile_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_cmd(checks: PackChoice, profile_path: Path | None, as_json: bool) -> None:
    """List the symptoms of the knowledge base by category, with ids and titles."""
    pack = load_pack_or_exit(checks, profile_or_exit(profile_path), ad_hoc=True)
    groups = pack.by_category()
    if as_json:
        click.echo(json.dumps({cat: [{"id": e.id, "title": e.title, "severity": e.severity} for e in entries]
                               for cat, entries in groups.items()}, indent=2, ensure_ascii=False))
        return
    width = max((len(e.id) for e in pack.entries), default=10)
    for category, entries in groups.items():
        click.echo(f"{category}:")
        for entry in entries:
            click.echo(f"  {entry.id:<{width}}  {entry.title}")
    click.echo(f"\n{len(pack.entries)} symptom(s) in {pack.name} {pack.version}. "
               f"Run one with `diagnose SYMPTOM`, read one with `diagnose show SYMPTOM`.")


def entry_markdown(entry: Entry, pack: Pack, approvers: dict[str, str] | None = None) -> str:
    """The FAQ entry as Markdown: what you see, the command, the checks, causes, solutions (with who
    approves each risky step, from the profile's ``approvers`` when there is one)."""
    from diagnose.kb.steps import avoid_line, proven_on, provenance_words, risk_and_proof, solution_markdown
    from diagnose.runner import default_manual

    out = [f"# {entry.title}", "", f"`{entry.id}` · {entry.category} · severity {entry.severity}"]
    if entry.aliases:
        out.append(f"aliases: {', '.join(entry.aliases)}")
    out += ["", "## What you see", "", entry.summary.strip()]
    if entry.seen:
        out += ["", "As users report it:", ""] + [f"> {s}  " for s in entry.seen]
    out += ["", "## Diagnose it", "", "```", f"diagnose {entry.id}", "```", "", "## Checks", ""]
    for i, check in enumerate(entry.checks, 1):
        source = check.source
        where = f" ({source[0]} `{source[1]}`)" if source else ""
        out.append(f"{i}. **{check.title}** [{check.kind}]{where}")
        out.append(f"   expects: {check.expects}")
        if "expect" in check.raw:
            out.append(f"   rule: {json.dumps(check.raw['expect'], ensure_ascii=False)}")
        if check.causes:
            out.append(f"   failure points to: {', '.join(check.causes)}")
        if check.symptom:
            out.append("   a failure shows the symptom itself")
        manual = check.manual or default_manual(check)
        if manual:
            out += ["   by hand:", "   ```", *("   " + line for line in manual.strip().splitlines()), "   ```"]
    out += ["", "## Causes", ""]
    for cause in entry.causes:
        cited = f" *(Source: {provenance_words(cause.provenance)})*" if cause.provenance else ""
        out += [f"- **{cause.title}** (`{cause.id}`): {cause.text.strip()}{cited}"]
    out += ["", "## Solutions", "", "Each step says its risk, where it runs, who approves it, its undo and how to "
            "verify it. `diagnose` never runs them.", ""]
    for solution in entry.solutions:
        fixes = f"fixes: {', '.join(solution.causes)} · " if solution.causes else ""
        out += [f"### {solution.title}", "", fixes + risk_and_proof(solution.risk, proven_on(solution, entry)), "",
                solution_markdown(solution, entry, pack.policy_of(entry), approvers=approvers, site=approvers is None), ""]
    if entry.avoid:
        out += ["## What not to do", ""] + [avoid_line(a) for a in entry.avoid] + [""]
    if entry.prevention:
        out += ["## Prevention", "", entry.prevention.strip(), ""]
    if entry.related:
        out += ["## Related", "", ", ".join(entry.related), ""]
    if pack.site_url:
        out += [f"FAQ page: {pack.page_url(entry.id)}"]
    return "\n".join(out).rstrip() + "\n"


@click.command()
@click.argument("symptom")
@checks_option
@click.option("--profile", "profile_path", type=click.Path(path_type=Path), envvar="DIAGNOSE_PROFILE",
              help="Target profile whose `approvers:` name who signs off each risky step "
                   "(default: ./diagnose.yaml if present).")
def show(symptom: str, checks: PackChoice, profile_path: Path | None) -> None:
    """Show the FAQ entry of SYMPTOM: what you see, checks, causes, solutions (each step with its risk,
    where it runs, who approves it, its undo and how to verify it)."""
    profile = profile_from(Target(profile_path))
    pack = load_pack_or_exit(checks, profile, ad_hoc=True)
    entry = find_entry_or_exit(pack, symptom)
    text = entry_markdown(entry, pack, approvers=profile.approvers if profile.path else None)
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        click.echo(text, nl=False)


@click.command()
@click.argument("message")
@checks_option
@packs_profile_option
@click.option("--limit", default=5, show_default=True, help="How many symptoms to show at most.")
def explain(message: str, checks: PackChoice, profile_path: Path | None, limit: int) -> None:
    """Find which symptoms explain an error MESSAGE, best first.

    Paste the message as you saw it, e.g.
    diagnose explain "order rejected: position_mutex_blocked (BTCUSDT 1h)"
    """
    from diagnose.kb.search import explain as find_explanations

    pack = load_pack_or_exit(checks, profile_or_exit(profile_path), ad_hoc=True)
    found = find_explanations(pack, message, limit=limit)
    if not found:
        click.echo("No symptom in the knowledge base explains this message. "
                   "`diagnose list` shows them all; `diagnose triage` checks everything.")
        sys.exit(1)
    for rank, hit in enumerate(found, 1):
        how = f"matches /{hit.pattern}/ on '{hit.matched}'" if hit.pattern else f"shares words: {hit.matched}"
        click.echo(f"{rank}. {hit.entry.id}  {hit.entry.title}")
        click.echo(f"   {how}")
        click.echo(f"   next: diagnose {hit.entry.id}")
