"""Run probes concurrently, each under its own time budget, on a small pool of workers.

A probe is what a check does to the system (the query, the grep, the request), before an
entry's templates turn it into a result (:func:`diagnose.runner.finish_probe`). Keeping the
two apart lets triage run a probe shared by several entries once.

Checks are small and mostly CPU on a busy host (the query, the regex), so a few worker
threads serve a queue of probes; when none finishes for a while the workers are waiting on
slow hosts, and more are added. A probe that hangs past its budget is reported as a timeout
and abandoned (daemon thread), so neither the others nor the report wait for it. Ctrl-C
stops the run where it is: the probes done so far are returned and the caller reports them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from diagnose.checks import KindError, load_kind
from diagnose.checks.base import CheckError, CheckTimeout, Context, Outcome, RunResources, SkipCheck, Status
from diagnose.kb.model import Check

DEFAULT_TIMEOUT = 10.0
#: probes running at the same time (waiting on a slow host or port does not block the others)
WORKERS = 8
#: seconds without any probe finishing after which more workers are added (slow I/O, not CPU)
STALL = 0.2
#: extra time a kind gets past its budget to report its own timeout before being abandoned
GRACE = 1.0
#: seconds a kind's ``prepare`` may take before the probes start (opening database sessions)
PREPARE_TIMEOUT = 5.0


@dataclass
class Probe:
    """What running a check's probe produced, before the entry's message templates apply.

    Triage runs a probe shared by several entries once and renders one result per entry
    from it (:func:`finish`), each with that entry's own title, message and causes.
    """

    status: Status
    detail: str
    vars: dict[str, Any]
    evidence: list
    duration: float
    caveat: str | None = None
    conclusive: bool = True


def run_probe(check: Check, resolve: Callable[[str, str], Any], timeout: float, now: datetime,
              cancel: threading.Event | None = None, shared: RunResources | None = None) -> Probe:
    """Run one check's probe; never raises. ``shared``: the run's resources (else its own)."""
    own = shared is None
    shared = shared if shared is not None else RunResources()
    try:
        return _probe(check, resolve, timeout, now, cancel, shared)
    finally:
        if own:
            shared.close()


def _probe(check: Check, resolve: Callable[[str, str], Any], timeout: float, now: datetime,
           cancel: threading.Event | None, shared: RunResources) -> Probe:
    started = time.monotonic()
    ctx = Context(timeout=timeout, now=now, resolve=resolve, cancel=cancel or threading.Event(), shared=shared)
    variables: dict[str, Any] = {}
    evidence: list = []
    caveat, conclusive = None, True
    try:
        kind = load_kind(check.kind)
        outcome: Outcome = kind.run(check.raw, ctx)
        variables, evidence = outcome.vars, outcome.evidence
        caveat, conclusive = outcome.caveat, outcome.conclusive
        status = Status.PASS if outcome.passed else Status.FAIL
        detail = ""
    except SkipCheck as exc:
        status, detail = Status.SKIP, str(exc)
    except CheckTimeout as exc:
        status, detail = Status.TIMEOUT, str(exc) or f"did not finish within {timeout:g}s"
    except (CheckError, KindError) as exc:
        status, detail = Status.ERROR, str(exc)
    except Exception as exc:  # a bug in a kind must not take the report down
        status, detail = Status.ERROR, f"internal error in the {check.kind} check: {type(exc).__name__}: {exc}"
    return Probe(status, detail, variables, evidence, time.monotonic() - started, caveat, conclusive)


def prepare(checks: list[Check], resolve: Callable[[str, str], Any], timeout: float, now: datetime,
            cancel: threading.Event, shared: RunResources) -> None:
    """Give each kind with a ``prepare(checks, ctx)`` hook its planned checks once, before any probe
    runs (the SQL kind opens its sessions there). Never raises: the probes report what failed."""
    by_kind: dict[str, list[dict]] = {}
    for check in checks:
        by_kind.setdefault(check.kind, []).append(check.raw)
    for kind_name, raws in by_kind.items():
        if cancel.is_set() or timeout <= 0:
            return
        try:
            hook = getattr(load_kind(kind_name), "prepare", None)
            if hook is not None:
                hook(raws, Context(timeout=timeout, now=now, resolve=resolve, cancel=cancel, shared=shared))
        except Exception:  # a failing preparation only costs the speed-up; the checks say what is wrong
            pass


def preload(checks: list[Check]) -> None:
    """Start importing, on a helper thread, the modules the kinds of ``checks`` import when they run (their
    ``PRELOAD``): psycopg alone is a fifth of a symptom run on the demo world, and this way its import
    overlaps what the run does before its first probe. Never raises: the probe's own import says what fails."""
    modules: list[str] = []
    for kind_name in dict.fromkeys(check.kind for check in checks):
        try:
            wanted = getattr(load_kind(kind_name), "PRELOAD", ())
        except Exception:  # an unknown or broken kind: its checks report it
            continue
        if isinstance(wanted, (tuple, list)):
            modules += [name for name in wanted if isinstance(name, str) and name not in modules]
    if modules:
        helper = threading.Thread(target=_import_quietly, args=(modules,), daemon=True, name="diagnose-preload")
        helper.start()
        _PRELOADING.append(helper)


#: the helper threads importing ahead; the probes wait for them (:func:`_preloaded`), so no check imports a
#: module while the helper is halfway through it
_PRELOADING: list[threading.Thread] = []


def _preloaded(timeout: float) -> None:
    """Wait (at most ``timeout`` seconds) for the imports :func:`preload` started: by the first probe they are
    needed anyway (the SQL kind's preparation imports psycopg first), and two threads importing the same
    packages at once is how import locks deadlock."""
    ends = time.monotonic() + max(0.0, timeout)
    while _PRELOADING:
        _PRELOADING[0].join(max(0.0, ends - time.monotonic()))
        if _PRELOADING[0].is_alive():
            return
        _PRELOADING.pop(0)


def _import_quietly(modules: list[str]) -> None:
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # the probe's own import reports it, in its check's result
            pass


def deadline_message(deadline: float | None) -> str:
    return f"did not finish before the run's deadline ({deadline:g}s)"


@dataclass
class Stop:
    """Why a run ended early, if it did: ``"interrupt"`` (a signal, or ``cancel``) or ``"deadline"``."""

    reason: str | None = None
    deadline: float | None = None
    signal: str = "SIGINT"   # which signal interrupted it (Ctrl-C, or a cancel event that names one)


def run_probes(checks: list[Check], resolve: Callable[[str, str], Any], *,
               default_timeout: float = DEFAULT_TIMEOUT, now: datetime | None = None,
               on_done: Callable[[int, Probe], None] | None = None,
               cancel: threading.Event | None = None, workers: int = WORKERS,
               deadline: float | None = None, stop: Stop | None = None,
               shared: RunResources | None = None) -> dict[int, Probe]:
    """Run the probes of ``checks`` concurrently: index -> probe, for those that finished.

    ``workers`` threads take probes from a queue. When no probe finishes for ``STALL``
    seconds the workers are waiting on slow hosts, not computing, so more are added. A
    probe's budget starts when it starts and never reaches past ``deadline`` (seconds for
    the whole run). One that outlives its budget plus ``GRACE`` is reported as ``timeout``
    and left to die on its own (daemon thread) while a fresh worker takes its place, so a
    hung probe cannot hold the run hostage. At the deadline, probes still running are
    reported as timeouts and those never started are missing from the result, as are the
    unfinished ones after Ctrl-C or ``cancel``; ``stop.reason`` says which. ``shared``: the run's
    resources, when the caller wants to read their notes afterwards (closed here either way).
    """
    now = now or datetime.now(timezone.utc)
    cancel = cancel or threading.Event()
    stop = stop if stop is not None else Stop()
    stop.deadline = deadline
    results: dict[int, Probe] = {}
    done = threading.Condition()
    shared = shared if shared is not None else RunResources()
    shared.planned = [check.raw for check in checks]
    budgets = [check.timeout or default_timeout for check in checks]
    queue = deque(range(len(checks)))
    starts: dict[int, float] = {}
    begun = time.monotonic()
    ends_at = begun + deadline if deadline else float("inf")
    progress = [begun]

    def record(i: int, probe: Probe) -> None:
        results[i] = probe
        progress[0] = time.monotonic()
        if on_done:
            on_done(i, probe)

    def worker() -> None:
        while True:
            with done:
                if cancel.is_set() or not queue:
                    return
                i = queue.popleft()
                starts[i] = time.monotonic()
                own = budgets[i]
                budgets[i] = max(0.05, min(own, ends_at - starts[i]))
            probe = run_probe(checks[i], resolve, budgets[i], now, cancel, shared)
            if probe.status is Status.TIMEOUT and budgets[i] < own:  # the run's deadline, not its own
                probe = Probe(Status.TIMEOUT, deadline_message(deadline), probe.vars, probe.evidence,
                              probe.duration)
            with done:
                if i not in results:  # not already declared timed out
                    record(i, probe)
                done.notify_all()

    def spawn() -> None:
        threading.Thread(target=worker, daemon=True, name="diagnose-check").start()

    _preloaded(min(PREPARE_TIMEOUT, ends_at - begun))
    prepare(checks, resolve, min(default_timeout, PREPARE_TIMEOUT, ends_at - begun), now, cancel, shared)
    for _ in range(min(workers, len(checks))):
        spawn()
    try:
        with done:
            while len(results) < len(checks) and not cancel.is_set():
                clock = time.monotonic()
                if clock >= ends_at:
                    for i, began in starts.items():
                        if i not in results:
                            record(i, Probe(Status.TIMEOUT, deadline_message(deadline), {}, [], clock - began))
                    stop.reason = "deadline"
                    cancel.set()
                    break
                for i, began in list(starts.items()):
                    if i not in results and clock - began > budgets[i] + GRACE:
                        record(i, Probe(Status.TIMEOUT, f"did not finish within {budgets[i]:g}s", {}, [],
                                        clock - began))
                        spawn()  # the hung probe keeps its thread; the run gets a fresh worker
                if queue and clock - progress[0] > STALL:
                    for _ in range(min(len(queue), workers)):  # all waiting on slow hosts: widen
                        spawn()
                    progress[0] = clock
                waits = [budgets[i] + GRACE - (clock - b) for i, b in starts.items() if i not in results]
                done.wait(timeout=max(0.01, min(min(waits, default=STALL), STALL, ends_at - clock)))
    except KeyboardInterrupt:  # Ctrl-C: stop here; what finished is reported, the rest is not run
        stop.reason = "interrupt"
        cancel.set()
    with done:
        finished = dict(results)
    if cancel.is_set() and stop.reason is None and len(finished) < len(checks):
        stop.reason = "interrupt"   # cancelled from outside: a signal the CLI caught (its name, if it says)
        stop.signal = getattr(cancel, "signal", None) or stop.signal
    shared.close()
    return finished
