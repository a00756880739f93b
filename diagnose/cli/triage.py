"""``diagnose triage``: every symptom's checks in one run, findings ranked, one report."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from diagnose.cli.options import (
    PackChoice,
    Target,
    checks_option,
    load_pack_or_exit,
    profile_from,
    profile_options,
    report_options,
    since_option,
    warn_unfinished,
)

if TYPE_CHECKING:
    from diagnose.kb.model import Pack
    from diagnose.profile import Profile


@click.command(epilog="Exit codes: 0 nothing found, 1 some symptom has a problem, 2 usage or knowledge-base "
                      "error, 3 inconclusive (nothing failed, but some check could not conclude).")
@checks_option
@profile_options
@report_options
@since_option
def triage(checks: PackChoice, target: Target, fmt: str, output: Path | None, bundle: Path | None, timeout: float,
           deadline: float | None, quiet: bool, since: datetime | None) -> None:
    """Run the checks of every symptom and rank what was found, most likely first.

    For "something is wrong" when you do not know which symptom it is. A check shared by
    several symptoms runs once. The report (`--format json`: a ranked `symptoms` list) has
    every symptom's checks; run `diagnose SYMPTOM` on the top finding for its full report.
    """
    from diagnose.cli.run import refuse_bad_targets

    profile = profile_from(target)
    pack = load_pack_or_exit(checks, profile, ad_hoc=True)
    warn_unfinished(pack, pack.entries)
    refuse_bad_targets(output, bundle)
    sys.exit(triage_pack(pack, profile, fmt=fmt, output=output, timeout=timeout, quiet=quiet, deadline=deadline,
                         bundle=bundle, since=since))


def triage_pack(pack: Pack, profile: Profile, *, fmt: str = "md", output: Path | None = None, timeout: float = 10.0,
                quiet: bool = False, stream: Any = None, on_document: Any = None,
                deadline: float | None = None, bundle: Path | None = None, since: datetime | None = None) -> int:
    """Run, report, summarise; returns the exit code (shared by ``triage`` and ``demo``)."""
    from diagnose.cli import signals
    from diagnose.cli.run import masker_for, signalled_exit, write_bundle_or_exit, write_document
    from diagnose.kb.settings import apply_all
    from diagnose.profile import Resolver
    from diagnose.reports.terminal import print_summary, progress
    from diagnose.reports.triage_document import build_triage_document
    from diagnose.triage import plan, run_triage

    stream = stream or sys.stdout
    interactive = stream.isatty() and not quiet
    resolver = Resolver(profile)
    entries = apply_all(pack.entries, getattr(profile, "settings", None))   # the profile's thresholds
    the_plan = plan(entries)
    with progress(len(the_plan.probes), enabled=interactive and sys.stderr.isatty()) as tick:
        result = run_triage(pack, resolver, profile.view(), entries=entries, default_timeout=timeout, on_done=tick,
                            deadline=deadline, the_plan=the_plan, cancel=signals.STOP, since=since)
    document = build_triage_document(result, pack, masker_for(profile, resolver), approvers=profile.approvers)
    if on_document:
        on_document(document)
    path = write_document(document, "triage", fmt, output)
    print_summary(document, path, stream=stream, rich=interactive, quiet=quiet)
    write_bundle_or_exit(document, "triage", bundle, stream)
    return signalled_exit(result.exit_code)
