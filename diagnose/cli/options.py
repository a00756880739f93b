"""Options shared by several commands, and the few helpers that turn errors into exit code 2.

Everything printed on stderr goes through :func:`stderr_masker`: a message about a bad ``--dsn``,
an endpoint or a profile that does not validate may quote a password, which must not reach the
terminal (or the CI log it is captured in) any more than a report.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NoReturn

import click

from diagnose.kb.loader import PackChoice

if TYPE_CHECKING:
    from diagnose.kb.model import Entry, Pack
    from diagnose.masking import Masker
    from diagnose.profile import Profile

EXIT_USAGE = 2
_STDERR_MASKER: Masker | None = None


def stderr_masker() -> Masker:
    """The masker of what this process prints on stderr; it learns the profile's secrets as they are read."""
    global _STDERR_MASKER
    if _STDERR_MASKER is None:
        from diagnose.masking import Masker

        _STDERR_MASKER = Masker()
    return _STDERR_MASKER


def mask_for_stderr(text: str) -> str:
    return stderr_masker().mask_text(text)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """One clear line on stderr, secrets masked, then exit: never a traceback for a user's mistake."""
    click.echo(f"diagnose: {mask_for_stderr(message)}", err=True)
    sys.exit(code)


def checks_option(f: Callable) -> Callable:
    """``--checks DIR`` (repeatable) and ``--no-builtin``, handed to the command as one ``checks: PackChoice``."""

    @functools.wraps(f)
    def command(*args: Any, checks_paths: tuple[str, ...], no_builtin: bool, **kwargs: Any) -> Any:
        # an empty part ("$DIAGNOSE_CHECKS:new" with the variable unset) names no folder, not this one
        paths = tuple(Path(p) for p in checks_paths if p)
        return f(*args, checks=PackChoice(paths, not no_builtin), **kwargs)

    command = click.option(
        "--no-builtin", is_flag=True, envvar="DIAGNOSE_NO_BUILTIN",
        help="Leave the built-in pack out: only the packs given with --checks or the profile's packs: "
             "(also $DIAGNOSE_NO_BUILTIN=1).",
    )(command)
    return click.option(
        "--checks", "checks_paths", multiple=True, type=click.Path(), envvar="DIAGNOSE_CHECKS",
        help="A knowledge-base folder used with the built-in pack (repeat for several; also $DIAGNOSE_CHECKS, "
             f"folders separated by '{os.pathsep}'). Ids and aliases may not clash across packs.",
    )(command)


def load_pack_or_exit(choice: PackChoice, profile: Profile | None = None, *, ad_hoc: bool = False,
                      lang: str | None = None) -> Pack:
    """The packs of ``choice`` (and the profile's ``packs:``) as one pack; exit 2 listing every problem.
    ``ad_hoc``: an unfinished entry (no solution or example yet) is kept, for commands that run or read
    it (:func:`warn_unfinished` says what it lacks). This is where pack and profile meet: the profile's
    ``settings`` must name entries of these packs, settings they declare and values of the right type
    (one line naming file and line, exit 2). ``lang``: the language of its texts (default: the one in
    force, :func:`diagnose.i18n.language`)."""
    from diagnose.i18n import language
    from diagnose.kb.loader import KnowledgeBaseError, load_packs

    extra = tuple(profile.packs) if profile is not None else ()
    try:
        pack = load_packs((*extra, *choice.paths), builtin=choice.builtin, allow_unfinished=ad_hoc,
                          lang=lang or language())
    except KnowledgeBaseError as exc:
        click.echo(f"diagnose: the knowledge base has {len(exc.problems)} problem(s):", err=True)
        for problem in exc.problems:
            click.echo(f"  {mask_for_stderr(str(problem))}", err=True)
        click.echo("run `diagnose lint` for details after fixing these", err=True)
        sys.exit(EXIT_USAGE)
    if profile is not None and profile.settings:
        from diagnose.kb.settings import profile_problems

        problems = profile_problems(pack.entries, profile.settings, profile.where)
        if problems:
            fail(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return pack


def warn_unfinished(pack: Pack, entries: list[Entry]) -> None:
    """One line on stderr per unfinished entry about to run: it runs, but proves nothing yet."""
    for entry in entries:
        missing = pack.unfinished_of(entry)
        if missing:
            what = "; ".join(f"{p.path or 'entry'}: {p.message}" for p in missing)
            click.echo(f"diagnose: warning: {entry.id} is unfinished ({what}); run `diagnose lint` for the list",
                       err=True)


def packs_profile_option(f: Callable) -> Callable:
    """``--profile`` for a command that reads only the profile's ``packs:`` (list, explain, selftest...)."""
    return click.option("--profile", "profile_path", type=click.Path(path_type=Path), envvar="DIAGNOSE_PROFILE",
                        help="Target profile whose `packs:` are used with the built-in pack "
                             "(default: ./diagnose.yaml if present; also $DIAGNOSE_PROFILE).")(f)


def profile_or_exit(path: Path | None) -> Profile:
    """The profile at ``path`` (None: $DIAGNOSE_PROFILE or ./diagnose.yaml, if any); a broken one is one line
    on stderr, the secrets it holds masked, and exit 2. What every command that reads a profile loads it with
    (:func:`profile_from` then applies the flags)."""
    from diagnose.profile import ProfileError, load_profile

    try:
        return load_profile(path)
    except ProfileError as exc:
        _learn_from_invalid_profile(path)
        fail(str(exc))


def find_entry_or_exit(pack: Pack, symptom: str) -> Entry:
    from diagnose.cli import COMMANDS
    from diagnose.kb.lookup import find, suggest

    entry = find(pack, symptom)
    if entry is None:
        close = suggest(pack, symptom, extra=tuple(c for c in COMMANDS if c != "run"))
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        fail(f"unknown symptom '{symptom}'{hint} (`diagnose list` shows them all)")
    return entry


@dataclass(frozen=True)
class Target:
    """Where the deployment is: ``--profile`` (or the default profile) and the source flags given
    (``--dsn``, ``--log``, ... one per source type: section -> its ``NAME=VALUE`` pairs)."""

    profile_path: Path | None = None
    overrides: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _dest(section: str) -> str:
    return f"source_{section}"


def profile_options(f: Callable) -> Callable:
    """``--profile`` and one ``NAME=VALUE`` flag per source type (:mod:`diagnose.sources`: a plugin's
    type brings its own), handed to the command as one ``target: Target``."""
    from diagnose.sources import source_types

    types = source_types()

    @functools.wraps(f)
    def command(*args: Any, profile_path: Path | None, **kwargs: Any) -> Any:
        overrides = tuple((section, tuple(kwargs.pop(_dest(section)))) for section in types)
        return f(*args, target=Target(profile_path, overrides), **kwargs)

    for section, source in reversed(types.items()):
        command = click.option(source.FLAG, _dest(section), multiple=True, metavar=source.METAVAR,
                               help=source.HELP)(command)
    nouns = ", ".join(source.NOUN + ("s" if not source.NOUN.endswith("s") else "") for source in types.values())
    return click.option("--profile", "profile_path", type=click.Path(path_type=Path), envvar="DIAGNOSE_PROFILE",
                        help=f"Target profile: where {nouns} are (default: ./diagnose.yaml if present; "
                             "also $DIAGNOSE_PROFILE).")(command)


def profile_from(target: Target) -> Profile:
    """The profile of ``target`` with its flags applied; exit 2 with one line (secrets masked) when it
    cannot be used, or when a source would stop the run before it starts (an env file that is a FIFO)."""
    from diagnose.profile import ProfileError, apply_overrides, register_profile_secrets
    from diagnose.sources import source_types

    masker = stderr_masker()
    types = source_types()
    for section, pairs in target.overrides:
        for pair in pairs:               # even a malformed pair's value is the user's secret
            types[section].secrets(pair.partition("=")[2] or pair, masker, None)
    profile = profile_or_exit(target.profile_path)
    register_profile_secrets(profile.sources, masker)
    try:
        for section, pairs in target.overrides:
            apply_overrides(profile, section, pairs, types[section].FLAG)
    except ProfileError as exc:
        fail(str(exc))
    given = {section: {pair.partition("=")[0].strip() for pair in pairs} for section, pairs in target.overrides}
    refuse_before_run(profile, given)
    return profile


def refuse_before_run(profile: Profile, given: dict[str, set[str]]) -> None:
    """Exit 2 before any check runs when a source type's ``preflight`` refuses a source (an env file that
    is a FIFO: reading it would block for ever, deaf to signals); what is merely missing is the check's."""
    from diagnose.profile import Resolver
    from diagnose.sources import source_types

    resolver = Resolver(profile)
    for section, source in source_types().items():
        preflight = getattr(source, "preflight", None)
        if preflight is None:
            continue
        for name, value in profile.sources.get(section, {}).items():
            problem = preflight(name, value, resolver)
            if problem:
                where = (f"{source.FLAG} {name}=" if name in given.get(section, ())
                         else f"{profile.path}: {section}.{name}: ")
                fail(f"{where}{problem}")


def _learn_from_invalid_profile(path: Path | None) -> None:
    """A profile that failed validation may still hold DSNs and URLs its error message quotes."""
    import os

    where = path or os.environ.get("DIAGNOSE_PROFILE") or "diagnose.yaml"
    try:
        import yaml

        from diagnose.files import read_regular_text

        data = yaml.safe_load(read_regular_text(where, errors="replace")[:1_000_000])
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


def _learn_nested(value: Any, masker: Masker, key: str = "", depth: int = 0) -> None:
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


class ReportFormatChoice(click.Choice):
    """``--format``: a name of the format registry (:mod:`diagnose.reports.formats`: the built-in formats and
    the installed plugins'). An unknown name is click's usage error listing the valid ones; the chosen format
    is loaded here, so a plugin that cannot be used is one line naming its entry point, exit 2, before
    anything runs."""

    def __init__(self) -> None:
        from diagnose.reports.formats import format_names

        super().__init__(format_names())

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from diagnose.reports.formats import FormatError, report_format

        name = str(super().convert(value, param, ctx))
        try:
            report_format(name)
        except FormatError as exc:
            fail(str(exc))
        return name


class _FormatOption(click.Option):
    """``--format``, whose help describes every format (plugins are imported only when help is shown)."""

    def __init__(self, *args: Any, lead: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lead = lead

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from diagnose.reports.formats import describe, format_names

        self.help = f"{self.lead}: {'; '.join(describe(name) for name in format_names())}."
        return super().get_help_record(ctx)


def format_option(lead: str) -> Callable[[Callable], Callable]:
    """``--format NAME``: choices, default and help from the format registry; ``lead`` begins the help."""
    from diagnose.reports.formats import DEFAULT_FORMAT

    return click.option("--format", "fmt", cls=_FormatOption, lead=lead, type=ReportFormatChoice(),
                        default=DEFAULT_FORMAT, show_default=True)


def report_options(f: Callable) -> Callable:
    """--format, --output, --bundle, --timeout, --deadline, --quiet: every command that writes a report."""
    options = [
        format_option("Report format"),
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
