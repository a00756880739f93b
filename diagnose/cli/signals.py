"""SIGINT, SIGTERM and SIGHUP during a run: stop where it is, still write the report, exit 128+N.

A run is stopped by Ctrl-C, by a supervisor (systemd, Kubernetes, ``timeout``: SIGTERM) or by a
closed terminal (SIGHUP). Whenever that happens after the process starts, the operator must get
the report of what was done, marked as interrupted, and an exit code that says which signal
(130, 143, 129), never ``Aborted!`` and exit 1 (which would read as "problem found").

For commands that write a report, :func:`claim` is called as the very first thing the program
does: the handlers then only record the signal and set :data:`STOP`, which the run uses as its
``cancel`` event, so whatever was loading goes on for the few milliseconds it needs and the run
then reports every check as not run. A third signal exits at once (an escape hatch for a stuck
process). Other commands keep Python's behaviour: Ctrl-C raises KeyboardInterrupt (``docs
serve`` stops on it).
"""

from __future__ import annotations

import os
import signal
import threading

#: commands that write a report (a symptom id is one too); the others keep Python's Ctrl-C.
#: Names only: this module is imported before the command line (kept in step by a test).
REPORTING = frozenset({"run", "triage", "demo"})
NOT_REPORTING = frozenset({"list", "show", "explain", "lint", "schema", "selftest", "report", "docs", "init",
                           "new", "serve"})
#: the signals a run stops on
SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
_received: list[int] = []


class _StopEvent(threading.Event):
    """The run's cancel event; ``signal`` names what set it (the runner reports it)."""

    @property
    def signal(self) -> str | None:
        return name(received())


#: set by the first signal: the run's cancel event
STOP = _StopEvent()


def claim() -> None:
    """From now on SIGINT/SIGTERM/SIGHUP stop the run instead of killing the process."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in SIGNALS:
        signal.signal(signum, _record)


def _record(signum: int, frame: object) -> None:
    _received.append(signum)
    STOP.set()
    if len(_received) >= 3:  # the operator insists: no report
        os._exit(128 + signum)


def received() -> int | None:
    """The first signal received since :func:`claim`, if any."""
    return _received[0] if _received else None


def name(signum: int | None) -> str | None:
    if signum is None:
        return None
    return signal.Signals(signum).name


def exit_code(signum: int) -> int:
    """The shell's code for a process ended by ``signum``: 128 + its number (130 for SIGINT)."""
    return 128 + signum
