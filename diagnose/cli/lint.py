"""``diagnose lint`` and ``diagnose schema``: the knowledge author's tools."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from diagnose.cli.options import fail


@click.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--checks", "checks_path", type=click.Path(path_type=Path), envvar="DIAGNOSE_CHECKS",
              help="Knowledge-base folder to lint (same as PATH; also $DIAGNOSE_CHECKS).")
def lint(path: Path | None, checks_path: Path | None) -> None:
    """Validate a knowledge base (default: the built-in pack) and list every problem.

    Each problem names file, line and field, e.g.
    data/stale-positions.yaml:14: checks[2].kind: unknown kind 'sqll' (expected one of: ...).
    Exit code 0 when clean, 2 when there are problems.
    """
    from diagnose.kb.loader import KnowledgeBaseError, load_pack

    root = path or checks_path
    try:
        pack = load_pack(root, use_cache=False)
    except KnowledgeBaseError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        click.echo(f"\n{len(exc.problems)} problem(s) found.", err=True)
        sys.exit(2)
    from diagnose.kb.coverage import pack_coverage

    coverage = pack_coverage(pack)
    problems = [line for cov in coverage for line in _coverage_lines(pack.root, cov)]
    for line in problems:
        click.echo(line)
    checks = sum(len(e.checks) for e in pack.entries)
    examples = sum(len(e.examples) for e in pack.entries)
    verdict = f"{len(problems)} coverage problem(s)" if problems else "no problems"
    click.echo(f"{pack.root}: {len(pack.entries)} entries, {checks} checks, {examples} examples: {verdict}.")
    for cov in coverage:
        click.echo(f"  {cov.summary()}")
    for line in _untimed_warnings(pack):
        click.echo(line)
    if problems:
        sys.exit(2)


def _untimed_warnings(pack) -> list[str]:
    """Windowed log checks never run on a log without timestamps, by an example or the stack."""
    from diagnose.kb.coverage import untimed_windows
    from diagnose.world.stack import StackError, load_stack

    try:
        stack = load_stack(pack)
        worlds = [stack.example([], v.name).world for v in stack.variants] + [stack.baseline]
    except StackError:
        worlds = []
    out = []
    for entry, check_id in untimed_windows(pack, worlds):
        rel = entry.path.relative_to(pack.root) if entry.path.is_relative_to(pack.root) else entry.path
        out.append(f"warning: {rel}: check '{check_id}' has a time window, but no example (nor a variant of "
                   "worlds/stack.yaml) runs it on a log without timestamps: add one to prove what it does there "
                   "(lines without a time are counted and said so; see the profile page, 'Logs without timestamps')")
    return out


def _coverage_lines(root: Path, cov) -> list[str]:
    """Coverage problems as file:line: messages (lines from a fresh parse of the entry file)."""
    from diagnose.kb.lint import check_file

    if cov.complete:
        return []
    loc, _ = check_file(root, cov.entry.path)
    data = loc.data if loc else {}
    rel = cov.entry.path.relative_to(root) if cov.entry.path.is_relative_to(root) else cov.entry.path

    def line(*path) -> int:
        try:
            return loc.line_of(path) if loc else 1
        except (KeyError, IndexError, TypeError):
            return 1

    def index(field: str, key: str, value: str) -> int:
        return next((i for i, item in enumerate(data.get(field, [])) if item.get(key) == value), 0)

    out = []
    for check in cov.unexercised_checks:
        out.append(f"{rel}:{line('checks', index('checks', 'id', check), 'id')}: check '{check}' fails in no "
                   "broken example (add an example where it fails, listed in its `fails`)")
    for cause in cov.undemonstrated_causes:
        out.append(f"{rel}:{line('causes', index('causes', 'id', cause), 'id')}: cause '{cause}' is demonstrated "
                   "by no example (name it in a broken example's `causes`)")
    for name in cov.broken_without_fails:
        out.append(f"{rel}:{line('examples', index('examples', 'name', name), 'name')}: example '{name}' is broken "
                   "but has no `fails` (the exact list of checks that must fail in it)")
    for field, unknown in (("fails", cov.unknown_fails), ("skips", cov.unknown_skips)):
        for name, check in unknown:
            out.append(f"{rel}:{line('examples', index('examples', 'name', name), field)}: example '{name}' lists "
                       f"unknown check '{check}' in `{field}`")
    return out


@click.command()
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write to this file instead of stdout.")
@click.option("--pack", "which", is_flag=True, help="The schema of pack.yaml instead of entries.")
def schema(output: Path | None, which: bool) -> None:
    """Print the JSON Schema of knowledge-base entries (for editors: yaml-language-server)."""
    from diagnose.kb.schema import PACK_SCHEMA, entry_schema

    text = json.dumps(PACK_SCHEMA if which else entry_schema(with_kinds=True), indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"--output {output}: cannot write ({exc.strerror})")
