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
    checks = sum(len(e.checks) for e in pack.entries)
    examples = sum(len(e.examples) for e in pack.entries)
    click.echo(f"{pack.root}: {len(pack.entries)} entries, {checks} checks, {examples} examples: no problems.")
    for entry in pack.entries:
        broken = sum(1 for x in entry.examples if x.verdict == "problem")
        healthy = sum(1 for x in entry.examples if x.verdict == "healthy")
        demonstrated = {c for x in entry.examples for c in x.causes}
        causes = [c.id for c in entry.causes]
        click.echo(f"  {entry.id}: {len(entry.checks)} checks, {len(causes)} causes "
                   f"({len(demonstrated & set(causes))} demonstrated by examples), "
                   f"{broken} broken + {healthy} healthy example(s)")


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
