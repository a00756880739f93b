"""One pass over a log for all the log checks of a run that read it.

A triage runs dozens of log checks, many on the same file (``execution``: sync failures,
sync heartbeats, tracebacks...). Each reading the file on its own would read a gigabyte
several times over. Instead the first check of a log to run scans it for the patterns of
*every* planned check on that log (:attr:`RunResources.planned`), in one pass
(:func:`.engine.scan_log`), and the others take their results from it, waiting if it is
still running. Windowed checks (``since``) and whole-file checks make two passes, since a
window reads only its end of the file.

The pass runs within the budget of the check that started it; one that fails (unreadable
file, timeout) fails the same way for the checks waiting on it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from diagnose.failures import CheckError, CheckTimeout

from .budget import Budget
from .engine import scan_log
from .scan import LinePattern, ScanResult, Want, compile_pattern
from .timestamps import TimestampParser


#: how often a check waiting for another's pass looks at its own clock
POLL = 0.05


@dataclass(frozen=True)
class Request:
    """What a log check asks of its log, as far as reading goes."""

    pattern: str
    ignore_case: bool
    window: timedelta | None
    keep: int
    #: ``pattern`` compiled (when the request was checked), so a pass does not compile it again
    compiled: LinePattern | None = field(default=None, compare=False, hash=False)


#: the checks' own context: a :class:`Budget` to the scan, handed back whole to the log kind's ``plan``
C = TypeVar("C", bound=Budget)


class LogPasses(Generic[C]):
    """The run's passes over its logs (a :class:`~diagnose.checks.base.RunResources` item)."""

    def __init__(self, planned: list[dict[str, Any]],
                 plan: Callable[[Mapping[str, Any], C], list[Request]]):
        """``planned``: the run's check dicts; ``plan``: the requests one of them makes of its log (the
        log kind says how a check reads: its pattern, window, and the line it counts from)."""
        self.planned = planned
        self.plan = plan
        self._lock = threading.Lock()
        self._passes: dict[tuple[str, bool], _Pass] = {}

    def results(self, name: str, spec, request: Request, stamps: TimestampParser,
                ctx: C) -> list[tuple[str, ScanResult]]:
        """The (source, result) pairs of ``request`` on log ``name``, from the shared pass."""
        key = (name, request.window is not None)
        with self._lock:
            shared = self._passes.get(key)
            owner = shared is None or (shared.done.is_set() and request not in shared.requests)
            if owner:
                requests = [request] + [r for r in self._planned(name, key[1], ctx) if r != request]
                shared = self._passes[key] = _Pass(requests)
        assert shared is not None   # found, or made just above
        if owner:
            shared.run(name, spec, stamps, ctx)
        else:
            shared.wait(ctx)
        if request not in shared.requests:   # a check nobody planned, after the pass began
            own = _Pass([request])
            own.run(name, spec, stamps, ctx)
            shared = own
        return shared.result(request)

    def _planned(self, name: str, windowed: bool, ctx: C) -> list[Request]:
        found: list[Request] = []
        for check in self.planned:
            if check.get("kind") != "log" or check.get("log") != name:
                continue
            for request in self.plan(check, ctx):   # a log check (the log kind reads it as its own type)
                if (request.window is not None) == windowed and request not in found:
                    found.append(request)
        return found

    def close(self) -> None:
        self._passes.clear()


class _Pass:
    def __init__(self, requests: list[Request]):
        self.requests = requests
        self.done = threading.Event()
        self._results: dict[Request, list[tuple[str, ScanResult]]] = {}
        self._error: BaseException | None = None

    def run(self, name: str, spec, stamps: TimestampParser, ctx: Budget) -> None:
        try:
            wants = [_want(r, ctx.now) for r in self.requests]
            found = scan_log(name, spec, wants, stamps, ctx)
            self._results = dict(zip(self.requests, found))
        except BaseException as exc:  # kept for the waiting checks, and raised here too
            self._error = exc
        finally:
            self.done.set()
        if self._error is not None:
            raise self._error

    def wait(self, ctx: Budget) -> None:
        while not self.done.wait(POLL):
            ctx.check_time()

    def result(self, request: Request) -> list[tuple[str, ScanResult]]:
        error = self._error
        if isinstance(error, CheckTimeout):
            raise CheckTimeout(f"the shared pass over this log did not finish: {error}")
        if isinstance(error, CheckError):
            raise CheckError(str(error))
        if error is not None:
            raise CheckError(f"reading the log failed: {type(error).__name__}: {error}")
        return self._results[request]


def _want(request: Request, now: datetime) -> Want:
    since = now - request.window if request.window is not None else None
    pattern = request.compiled or compile_pattern(request.pattern, request.ignore_case)
    return Want(pattern, since, max(request.keep, 1))
