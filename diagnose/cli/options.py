"""Options shared by several commands, and the few helpers that turn errors into exit code 2.

Everything printed on stderr goes through :func:`stderr_masker`: a message about a bad ``--dsn``,
an endpoint or a profile that does not validate may quote a password, which must not reach the
terminal (or the CI log it is captured in) any more than a report.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import click

EXIT_USAGE = 2
_STDERR_MASKER: Any = None


def stderr_masker() -> Any:
    """The masker of what this process prints on stderr; it learns the profile's secrets as they are read."""
    global _STDERR_MASKER
    if _STDERR_MASKER is None:
        from diagnose.masking import Masker

        _STDERR_MASKER = Masker()
    return _STDERR_MASKER


def mask_for_stderr(text: str) -> str:
    return stderr_masker().mask_text(text)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """One clear line on stderr, secrets masked, then exit: never a traceback for a user's mistake."""
    click.echo(f"diagnose: {mask_for_stderr(message)}", err=True)
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
    from diagnose.profile import ProfileError, apply_overrides, load_profile, register_profile_secrets

    masker = stderr_masker()
    for pair in dsn:                     # even a malformed pair's value is the user's secret
        masker.add_dsn(pair.partition("=")[2] or pair)
    for pair in endpoint:
        masker.add_url(pair.partition("=")[2] or pair)
    try:
        profile = load_profile(profile_path)
        register_profile_secrets(profile.sources, masker)
        apply_overrides(profile, "databases", dsn, "--dsn")
        apply_overrides(profile, "logs", logs, "--log")
        apply_overrides(profile, "env", env_file, "--env-file")
        apply_overrides(profile, "endpoints", endpoint, "--endpoint")
    except ProfileError as exc:
        _learn_from_invalid_profile(profile_path)
        fail(str(exc))
    refuse_irregular_env_files(profile, {pair.partition("=")[0].strip() for pair in env_file})
    return profile


def refuse_irregular_env_files(profile: Any, from_option: set[str]) -> None:
    """Exit 2 before any check runs when an env file is a FIFO (reading it would block for ever,
    deaf to signals), a device or a directory; a missing file is the check's to report."""
    from diagnose.checks.base import SkipCheck
    from diagnose.files import NOT_REGULAR, NotRegularFile, refuse_unless_regular
    from diagnose.profile import Resolver, expand

    resolver = Resolver(profile)
    for name, value in profile.sources.get("env", {}).items():
        if not isinstance(value, str):
            continue
        try:
            path = resolver._path(expand(value, f"env file '{name}'"))
            refuse_unless_regular(path)
        except SkipCheck:
            continue
        except NotRegularFile:
            where = f"--env-file {name}=" if name in from_option else f"{profile.path}: env.{name}: "
            fail(f"{where}{path}: {NOT_REGULAR}")


def _learn_from_invalid_profile(path: Path | None) -> None:
    """A profile that failed validation may still hold DSNs and URLs its error message quotes."""
    import os

    path = path or os.environ.get("DIAGNOSE_PROFILE") or "diagnose.yaml"
    try:
        import yaml

        from diagnose.files import read_regular_text

        data = yaml.safe_load(read_regular_text(path, errors="replace")[:1_000_000])
    except Exception:  # anything: this only improves masking of an error that is already being reported
        return
    if isinstance(data, dict):
        from diagnose.profile import register_profile_secrets

        sources = {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, dict)}
        try:
            register_profile_secrets(sources, stderr_masker())
            _learn_nested(data, stderr_masker())
        except Exception:
            pass


def _learn_nested(value: Any, masker: Any, key: str = "", depth: int = 0) -> None:
    """Every string of an invalid profile, however misplaced (``trading: {dsn: "postgresql://..."}``):
    URLs and DSNs give their passwords, values under secret-looking keys are secrets."""
    from diagnose.secret_shapes import key_looks_secret

    if depth > 20:
        return
    if isinstance(value, dict):
        for k, v in list(value.items())[:10_000]:
            _learn_nested(v, masker, str(k), depth + 1)
    elif isinstance(value, list):
        for v in value[:10_000]:
            _learn_nested(v, masker, key, depth + 1)
    elif isinstance(value, str):
        masker.add_dsn(value)
        masker.add_url(value)
        if key and key_looks_secret(key):
            masker.add(value, "value")


class Seconds(click.ParamType):
    """A finite number of seconds within bounds: ``nan`` and ``inf`` are refused (a float range
    lets ``nan`` through, since every comparison with it is false)."""

    name = "seconds"

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        import math

        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(number) or not self.low <= number <= self.high:
            self.fail(f"{value!r} is not a number of seconds from {self.low:g} to {self.high:g}", param, ctx)
        return number


class Since(click.ParamType):
    """``--since``: a moment, as an operator writes the time of a fix: ``03:12`` (the last time the local
    clock showed it: today, or yesterday just after midnight),
    ``2026-12-05 03:12`` or ISO 8601 with a zone, or a duration ago (``20m``). Never in the future."""

    name = "time"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        from datetime import datetime, timezone

        from diagnose.checks.durations import parse_since

        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        now = datetime.now(timezone.utc)
        try:
            span = parse_since(text)
        except ValueError:
            span = None
        if span is not None:
            if not span:
                self.fail(f"{text!r} is no time ago: windows would count nothing", param, ctx)
            return now - span
        try:
            if len(text) <= 8 and ":" in text:   # a time of day: the last time the clock showed it (local)
                from datetime import timedelta

                clock = datetime.strptime(text, "%H:%M:%S" if text.count(":") == 2 else "%H:%M").time()
                moment = datetime.combine(datetime.now().date(), clock).astimezone()
                if moment > now:   # 23:55 typed at 00:05 is yesterday's
                    moment = datetime.combine(datetime.now().date() - timedelta(days=1), clock).astimezone()
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
                moment = moment if moment.tzinfo else moment.astimezone()
        except ValueError:
            self.fail(f"{text!r} is not a time: give 03:12, 2026-12-05 03:12 (local), an ISO 8601 time "
                      "with a zone, or how long ago (20m, 2h)", param, ctx)
        if moment > now:
            self.fail(f"{text!r} is in the future: windows would count nothing", param, ctx)
        return moment.astimezone(timezone.utc)


def since_option(f: Callable) -> Callable:
    """--since: windows start no earlier (confirm a fix by what happened after it)."""
    return click.option(
        "--since", type=Since(), default=None, metavar="TIME",
        help="Count only what happened from TIME on (03:12, 2026-12-05 03:12, or 20m ago): every check with a "
             "time window starts there if that is later. Run it after a fix, with the time you applied it.")(f)


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
        click.option("--timeout", type=Seconds(0.1, 3600), default=10.0, show_default=True,
                     help="Seconds each check may take, unless its entry sets its own."),
        click.option("--deadline", type=Seconds(0.1, 86400), default=None, metavar="SECONDS",
                     help="Bound the whole run: checks not finished by then are reported as not finished."),
        click.option("--quiet", "-q", is_flag=True, help="Print only the verdict and the report path."),
    ]
    for option in reversed(options):
        f = option(f)
    return f
