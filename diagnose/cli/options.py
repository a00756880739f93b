"""Options shared by several commands, and the few helpers that turn errors into exit code 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import click

EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """One clear line on stderr, then exit: never a traceback for a user's mistake."""
    click.echo(f"diagnose: {message}", err=True)
    sys.exit(code)


def checks_option(f: Callable) -> Callable:
    return click.option(
        "--checks", "checks_path", type=click.Path(path_type=Path), envvar="DIAGNOSE_CHECKS",
        help="Knowledge-base folder to use instead of the built-in pack (also $DIAGNOSE_CHECKS).",
    )(f)


def load_pack_or_exit(path: Path | None) -> Any:
    from diagnose.kb.loader import KnowledgeBaseError, load_pack

    try:
        return load_pack(path)
    except KnowledgeBaseError as exc:
        click.echo(f"diagnose: the knowledge base has {len(exc.problems)} problem(s):", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        click.echo("run `diagnose lint` for details after fixing these", err=True)
        sys.exit(EXIT_USAGE)


def find_entry_or_exit(pack: Any, symptom: str) -> Any:
    from diagnose.cli import COMMANDS
    from diagnose.kb.search import find, suggest

    entry = find(pack, symptom)
    if entry is None:
        close = suggest(pack, symptom, extra=tuple(c for c in COMMANDS if c != "run"))
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        fail(f"unknown symptom '{symptom}'{hint} (`diagnose list` shows them all)")
    return entry


def profile_options(f: Callable) -> Callable:
    options = [
        click.option("--profile", "profile_path", type=click.Path(path_type=Path), envvar="DIAGNOSE_PROFILE",
                     help="Target profile: where databases, logs, env files and endpoints are "
                          "(default: ./diagnose.yaml if present; also $DIAGNOSE_PROFILE)."),
        click.option("--dsn", multiple=True, metavar="NAME=DSN",
                     help="Override one database, e.g. --dsn trading=postgresql://app@db/trading."),
        click.option("--log", "logs", multiple=True, metavar="NAME=PATH",
                     help="Override one log: a file, glob or rotated set, e.g. --log execution=/var/log/x.log."),
        click.option("--env-file", multiple=True, metavar="NAME=PATH",
                     help="Override one env file, e.g. --env-file trading=/srv/trading/.env."),
        click.option("--endpoint", multiple=True, metavar="NAME=URL",
                     help="Override one endpoint, e.g. --endpoint api=http://127.0.0.1:8000."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def profile_from(profile_path: Path | None, dsn: tuple, logs: tuple, env_file: tuple, endpoint: tuple) -> Any:
    from diagnose.profile import ProfileError, apply_overrides, load_profile

    try:
        profile = load_profile(profile_path)
        apply_overrides(profile, "databases", dsn, "--dsn")
        apply_overrides(profile, "logs", logs, "--log")
        apply_overrides(profile, "env", env_file, "--env-file")
        apply_overrides(profile, "endpoints", endpoint, "--endpoint")
    except ProfileError as exc:
        fail(str(exc))
    return profile


def report_options(f: Callable) -> Callable:
    """--format, --output, --bundle, --timeout, --deadline, --quiet: every command that writes a report."""
    options = [
        click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True,
                     help="Report format."),
        click.option("--output", "-o", type=click.Path(path_type=Path),
                     help="Report file (default: ./diagnose-reports/<symptom>-<UTC time>.<format>)."),
        click.option("--bundle", type=click.Path(path_type=Path), metavar="PATH",
                     help="Also write a support bundle (.tar.gz: the report in every format, evidence files, "
                          "masked profile, checksums) for a ticket; a folder gets <symptom>-<UTC time>.tar.gz. "
                          "`diagnose report PATH` re-renders it."),
        click.option("--timeout", type=click.FloatRange(min=0.1, max=3600), default=10.0, show_default=True,
                     help="Seconds each check may take, unless its entry sets its own."),
        click.option("--deadline", type=click.FloatRange(min=0.1, max=86400), default=None, metavar="SECONDS",
                     help="Bound the whole run: checks not finished by then are reported as not finished."),
        click.option("--quiet", "-q", is_flag=True, help="Print only the verdict and the report path."),
    ]
    for option in reversed(options):
        f = option(f)
    return f
