"""``diagnose SYMPTOM``: run a symptom's checks, print the summary, write the report."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from diagnose.cli.options import (
    PackChoice,
    Target,
    checks_option,
    fail,
    find_entry_or_exit,
    load_pack_or_exit,
    profile_from,
    profile_options,
    report_options,
    since_option,
    warn_unfinished,
)

if TYPE_CHECKING:
    from diagnose.kb.model import Entry, Pack
    from diagnose.masking import Masker
    from diagnose.profile import Profile, Resolver


@click.command(epilog="Exit codes: 0 healthy, 1 problem found, 2 usage or knowledge-base error, 3 inconclusive.")
@click.argument("symptom")
@checks_option
@profile_options
@report_options
@since_option
def run(symptom: str, checks: PackChoice, target: Target, fmt: str, output: Path | None, bundle: Path | None, timeout: float,
        deadline: float | None, quiet: bool, since: datetime | None) -> None:
    """Run the checks of SYMPTOM (an id, alias or close title) and write a report.

    The checks run concurrently, each under its own timeout, against the sources of the
    target profile; sources that are not configured are skipped, never failed.
    """
    profile = profile_from(target)
    pack = load_pack_or_exit(checks, profile, ad_hoc=True)
    entry = find_entry_or_exit(pack, symptom)
    if not entry.checks:
        fail(f"{entry.id} has no checks yet ({entry.path}): add one, then `diagnose lint` says what else it lacks")
    from diagnose.probes import preload

    preload(list(entry.checks))
    warn_unfinished(pack, [entry])
    refuse_bad_targets(output, bundle)
    code = diagnose_entry(pack, entry, profile, fmt=fmt, output=output, timeout=timeout, quiet=quiet,
                          deadline=deadline, bundle=bundle, since=since)
    sys.exit(code)


def diagnose_entry(pack: Pack, entry: Entry, profile: Profile, *, fmt: str = "md", output: Path | None = None,
                   timeout: float = 10.0, quiet: bool = False, stream: Any = None,
                   deadline: float | None = None, bundle: Path | None = None, since: datetime | None = None) -> int:
    """Run, report, summarise; returns the exit code (shared by ``run`` and ``demo``). The profile's
    settings of the entry (validated by :func:`~diagnose.cli.options.load_pack_or_exit`) replace their defaults."""
    from diagnose.cli import signals
    from diagnose.kb.settings import apply
    from diagnose.profile import Resolver
    from diagnose.reports.document import build_document
    from diagnose.reports.terminal import print_summary, progress
    from diagnose.runner import run_entry

    stream = stream or sys.stdout
    interactive = stream.isatty() and not quiet
    entry = apply(entry, (getattr(profile, "settings", None) or {}).get(entry.id))
    resolver = Resolver(profile)
    with progress(len(entry.checks), enabled=interactive and sys.stderr.isatty()) as tick:
        run_result = run_entry(entry, pack, resolver, profile.view(), default_timeout=timeout, on_done=tick,
                               deadline=deadline, cancel=signals.STOP, since=since)
    document = build_document(run_result, masker_for(profile, resolver), approvers=profile.approvers)
    path = write_document(document, entry.id, fmt, output)
    print_summary(document, path, stream=stream, rich=interactive, quiet=quiet)
    write_bundle_or_exit(document, entry.id, bundle, stream)
    return signalled_exit(run_result.exit_code)


def refuse_bad_targets(output: Path | None, bundle: Path | None) -> None:
    """Before any check runs: ``-o``/``--bundle`` may only replace a regular file (exit 2 otherwise),
    so a run is not wasted on a report that cannot be written."""
    from diagnose.reports.writer import refuse_unless_regular

    for option, path in (("--output", output), ("--bundle", bundle)):
        if path is not None and not Path(path).expanduser().is_dir():
            try:
                refuse_unless_regular(Path(path).expanduser())
            except OSError as exc:
                fail(f"{option} {path}: {exc}")


def signalled_exit(code: int) -> int:
    """``code``, or 128 + the signal when one arrived after the checks (the report is complete)."""
    from diagnose.cli import signals

    received = signals.received()
    return signals.exit_code(received) if received is not None else code


def masker_for(profile: Profile, resolver: Resolver) -> Masker:
    """The run's masker: the profile's own patterns plus every secret the resolver handed out."""
    from diagnose.masking import Masker, MaskingError

    try:
        masker = Masker(patterns=profile.mask)
    except MaskingError as exc:
        fail(f"profile mask: {exc}")
    resolver.register_secrets(masker)
    return masker


def write_document(document: dict, name: str, fmt: str, output: Path | None) -> Path:
    """Render and write the report atomically; exit 2 with one line when it cannot be rendered (a plugin
    format that fails: its name and the error, never a traceback) or written."""
    from diagnose.reports import render
    from diagnose.reports.formats import BUILTIN_FORMATS

    try:
        text = render(document, fmt)
    except Exception as exc:
        if fmt in BUILTIN_FORMATS:
            raise                     # a bug of diagnose's own: the traceback is what its authors need
        fail(f"--format {fmt}: the plugin format failed to render the report: {type(exc).__name__}: {exc}")
        raise
    return write_text(text, name, fmt, output)


def write_text(text: str, name: str, fmt: str, output: Path | None) -> Path:
    """Write a rendered report where ``--output`` says (a folder: ``<name>-<time>.<fmt>`` in it),
    atomically; exit 2 with one line when it cannot be written."""
    from diagnose.reports.writer import ReportWriteError, output_path, write_report

    target, overwrite = output_path(output, name, fmt, datetime.now(timezone.utc))
    try:
        return write_report(text, target, overwrite=overwrite)
    except ReportWriteError as exc:
        fail(str(exc))
        raise  # fail() exits; this line only satisfies the type checker


def write_bundle_or_exit(document: dict, name: str, bundle: Path | None, stream: Any = None) -> Path | None:
    """With ``--bundle``, write the support bundle and print its path; exit 2 with one line when
    it cannot be written (the report itself is already written and summarised by then)."""
    if bundle is None:
        return None
    from diagnose.reports.bundle import BundleError, bundle_path, write_bundle

    target, overwrite = bundle_path(bundle, name, datetime.now(timezone.utc))
    try:
        path = write_bundle(document, target, overwrite=overwrite)
    except BundleError as exc:
        fail(str(exc))
        raise  # fail() exits
    click.echo(f"Bundle: {path}", file=stream or sys.stdout)
    return path
