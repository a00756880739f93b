"""The ``diagnose`` program's first lines: signals are claimed before anything is imported.

A run must end with its report whenever a signal arrives after the program starts (see
:mod:`diagnose.cli.signals`); importing the command line (click, rich...) already takes tens of
milliseconds, so the handlers are installed here, from the standard library alone, and only
then is the command line imported and run.
"""

from __future__ import annotations

import sys


def main() -> None:
    from diagnose.cli.signals import claim

    if _writes_a_report(sys.argv[1:]):
        claim()
    from diagnose.cli import main as run_cli

    run_cli()


def _writes_a_report(argv: list[str]) -> bool:
    """``diagnose SYMPTOM``, ``run``, ``triage`` and ``demo`` write a report; other commands and
    options keep Python's own Ctrl-C (``docs serve`` stops on it)."""
    from diagnose.cli.signals import REPORTING, NOT_REPORTING

    first = argv[0] if argv else ""
    return bool(first) and not first.startswith("-") and (first in REPORTING or first not in NOT_REPORTING)
