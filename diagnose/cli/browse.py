"""Reading the knowledge base from the terminal: ``list``, ``show``, ``explain``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from diagnose.i18n import t
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
        title = pack.category_title(category)
        click.echo(f"{category}:" if pack.lang == "en" or title == category else f"{title} ({category}):")
        for entry in entries:
            click.echo(f"  {entry.id:<{width}}  {entry.title}")
    click.echo("\n" + t("{count} symptom(s) in {name} {version}. Run one with `diagnose SYMPTOM`, read one with "
                        "`diagnose show SYMPTOM`.", count=len(pack.entries), name=pack.name, version=pack.version))


def entry_markdown(entry: Entry, pack: Pack, approvers: dict[str, str] | None = None) -> str:
    """The FAQ entry as Markdown: what you see, the command, the checks, causes, solutions (with who
    approves each risky step, from the profile's ``approvers`` when there is one)."""
    from diagnose.kb.steps import avoid_line, proven_on, provenance_words, risk_and_proof, solution_markdown
    from diagnose.reports.words import severity_word
    from diagnose.checks import manual_command

    out = [f"# {entry.title}", "", f"`{entry.id}` · {entry.category} · " + t("severity {severity}",
                                                                            severity=severity_word(entry.severity))]
    if entry.aliases:
        out.append(t("aliases: {aliases}", aliases=", ".join(entry.aliases)))
    out += ["", "## " + t("What you see"), "", entry.summary.strip()]
    if entry.seen:
        out += ["", t("As users report it:"), ""] + [f"> {s}  " for s in entry.seen]
    out += ["", "## " + t("Diagnose it"), "", "```", f"diagnose {entry.id}", "```", "", "## " + t("Checks"), ""]
    for i, check in enumerate(entry.checks, 1):
        source = check.source
        where = f" ({source[0]} `{source[1]}`)" if source else ""
        out.append(f"{i}. **{check.title}** [{check.kind}]{where}")
        out.append("   " + t("expects: {expects}", expects=check.expects))
        if "expect" in check.raw:
            out.append("   " + t("rule: {rule}", rule=json.dumps(check.raw["expect"], ensure_ascii=False)))
        if check.causes:
            out.append("   " + t("failure points to: {causes}", causes=", ".join(check.causes)))
        if check.symptom:
            out.append("   " + t("a failure shows the symptom itself"))
        manual = check.manual or manual_command(check.kind, check.raw)
        if manual:
            out += ["   " + t("by hand:"), "   ```", *("   " + line for line in manual.strip().splitlines()), "   ```"]
    out += ["", "## " + t("Causes"), ""]
    for cause in entry.causes:
        cited = " *(" + t("Source: {source}", source=provenance_words(cause.provenance)) + ")*" \
            if cause.provenance else ""
        out += [f"- **{cause.title}** (`{cause.id}`): {cause.text.strip()}{cited}"]
    out += ["", "## " + t("Solutions"), "", t("Each step says its risk, where it runs, who approves it, its undo and "
                                              "how to verify it. `diagnose` never runs them."), ""]
    for solution in entry.solutions:
        fixes = t("fixes: {causes}", causes=", ".join(solution.causes)) + " · " if solution.causes else ""
        out += [f"### {solution.title}", "", fixes + risk_and_proof(solution.risk, proven_on(solution, entry)), "",
                solution_markdown(solution, entry, pack.policy_of(entry), approvers=approvers, site=approvers is None), ""]
    if entry.avoid:
        out += ["## " + t("What not to do"), ""] + [avoid_line(a) for a in entry.avoid] + [""]
    if entry.prevention:
        out += ["## " + t("Prevention"), "", entry.prevention.strip(), ""]
    if entry.related:
        out += ["## " + t("Related"), "", ", ".join(entry.related), ""]
    if pack.site_url:
        out += [t("FAQ page: {url}", url=pack.page_url(entry.id))]
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

    profile = profile_or_exit(profile_path)
    pack = load_pack_or_exit(checks, profile, ad_hoc=True)
    # the same entries in the pack's other languages: a Chinese message finds English text and back (loaded
    # only when the search index is not in the cache)
    found = find_explanations(pack, message, limit=limit, translations=lambda: [
        load_pack_or_exit(checks, profile, ad_hoc=True, lang=lang) for lang in pack.languages if lang != pack.lang])
    if not found:
        click.echo(t("No symptom in the knowledge base explains this message. `diagnose list` shows them all; "
                     "`diagnose triage` checks everything."))
        sys.exit(1)
    for rank, hit in enumerate(found, 1):
        how = t("matches /{pattern}/ on '{matched}'", pattern=hit.pattern, matched=hit.matched) if hit.pattern \
            else t("shares words: {words}", words=hit.matched)
        click.echo(f"{rank}. {hit.entry.id}  {hit.entry.title}")
        click.echo(f"   {how}")
        click.echo("   " + t("next: diagnose {id}", id=hit.entry.id))
