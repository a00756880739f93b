"""``diagnose lint`` and ``diagnose schema``: the knowledge author's tools."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from diagnose.cli.options import PackChoice, checks_option, fail

if TYPE_CHECKING:
    from diagnose.kb.model import Pack


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@checks_option
@click.option("--stamp", "stamp", multiple=True, type=click.Path(path_type=Path),
              help="A translation you have brought up to date (<entry>.zh.yaml, repeatable): record that each part "
                   "it translates is translated from today's English, then lint.")
def lint(paths: tuple[Path, ...], checks: PackChoice, stamp: tuple[Path, ...]) -> None:
    """Validate knowledge bases (default: the built-in pack) and list every problem.

    Each PATH (or --checks) is linted on its own, then together with the built-in pack (unless
    --no-builtin): an id or alias used by two packs is a problem naming both files. Each problem
    names file, line and field, e.g.
    data/stale-positions.yaml:14: checks[2].kind: unknown kind 'sqll' (expected one of: ...).
    Exit code 0 when clean, 2 when there are problems.
    """
    from diagnose.kb.layers import clashes
    from diagnose.kb.loader import KnowledgeBaseError, builtin_root, load_pack
    from diagnose.kb.translations import StampError, stamp_file

    for overlay in stamp:
        try:
            click.echo(f"{overlay}: stamped {stamp_file(overlay)} translated part(s)")
        except StampError as exc:
            fail(str(exc))
    roots = list(dict.fromkeys([*paths, *checks.paths]))
    if not roots and stamp:      # the packs of the translations just stamped, not the built-in one
        roots = list(dict.fromkeys(_pack_of(overlay) for overlay in stamp))
    if not roots and not checks.builtin:
        fail("--no-builtin: give the pack to lint (PATH or --checks DIR)")
    roots = roots or [builtin_root()]
    packs, problems = [], 0
    for root in roots:
        try:
            pack = load_pack(root, use_cache=False, allow_unfinished=True)
            packs.append(pack)
            for problem in pack.unfinished:      # runnable ad hoc, but not done: lint says what is missing
                click.echo(f"{problem} (unfinished)")
            for problem in pack.translation_problems:     # the run shows these parts in English meanwhile
                click.echo(str(problem))
            problems += len(pack.unfinished) + len(pack.translation_problems)
        except KnowledgeBaseError as exc:
            for problem in exc.problems:
                click.echo(str(problem))
            problems += len(exc.problems)
    if checks.builtin and packs and not any(p.root.resolve() == builtin_root().resolve() for p in packs):
        with contextlib.suppress(KnowledgeBaseError):   # the built-in pack's own problems are not this lint's
            packs.insert(0, load_pack(builtin_root()))
    for clash in clashes(packs):
        click.echo(str(clash))
        problems += 1
    for pack in packs:
        if pack.root.resolve() in {Path(r).resolve() for r in roots}:
            problems += _report(pack)
    if problems:
        click.echo(f"\n{problems} problem(s) found.", err=True)
        sys.exit(2)


def _pack_of(path: Path) -> Path:
    """The pack folder holding ``path``: its nearest parent with a pack.yaml (its own folder when none)."""
    for parent in path.absolute().parents:    # where it stands, not where a link leads
        if (parent / "pack.yaml").is_file():
            return parent
    return path.absolute().parent


def _report(pack: Pack) -> int:
    """Coverage problems and the summary line of one pack; returns how many problems."""
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
    return len(problems)


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
    from diagnose.kb.schema import entry_schema, pack_schema

    text = json.dumps(pack_schema() if which else entry_schema(with_kinds=True), indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"--output {output}: cannot write ({exc.strerror})")
