"""Run a symptom's checks concurrently, each under its own timeout, and reach a verdict.

Checks are I/O bound (a query, a socket, a file), so threads suffice. Each check runs in a
daemon thread: one that hangs past its timeout is reported as ``timeout`` and abandoned, so
neither the others nor the report wait for it, and the process can still exit.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from diagnose.checks import load_kind
from diagnose.checks.base import (
    CheckError,
    CheckResult,
    CheckTimeout,
    Context,
    Outcome,
    RunResources,
    SkipCheck,
    Status,
)
from diagnose.kb.model import Check, Entry, Pack

DEFAULT_TIMEOUT = 10.0
#: probes running at the same time (waiting on a slow host or port does not block the others)
WORKERS = 8
#: seconds without any probe finishing after which another worker is added (slow I/O, not CPU)
STALL = 0.2
#: extra time a kind gets past its budget to report its own timeout before being abandoned
GRACE = 1.0


@dataclass
class RankedCause:
    id: str
    title: str
    text: str
    score: float
    checks: list[str]


@dataclass
class Run:
    """Everything a report needs about one run of one symptom."""

    entry: Entry
    pack: Pack
    results: list[CheckResult]
    started_at: datetime
    finished_at: datetime
    profile: dict[str, Any]
    host: str = field(default_factory=socket.gethostname)
    incomplete: bool = False

    @property
    def verdict(self) -> str:
        return verdict_of(self.results)

    @property
    def exit_code(self) -> int:
        return {"healthy": 0, "problem": 1, "inconclusive": 3}[self.verdict]

    @property
    def causes(self) -> list[RankedCause]:
        return rank_causes(self.entry, self.results)


def verdict_of(results: list[CheckResult]) -> str:
    """``problem`` if any check failed; else ``inconclusive`` if any could not conclude."""
    statuses = {r.status for r in results}
    if Status.FAIL in statuses:
        return "problem"
    if statuses & {Status.ERROR, Status.TIMEOUT, Status.SKIP}:
        return "inconclusive"
    return "healthy"


def rank_causes(entry: Entry, results: list[CheckResult]) -> list[RankedCause]:
    """Causes pointed to by failed checks, most evidence first (ties: the entry's order)."""
    weights = {c.id: c.weight for c in entry.checks}
    scores: dict[str, list[str]] = {}
    for result in results:
        if result.status is Status.FAIL:
            for cause_id in result.cause:
                scores.setdefault(cause_id, []).append(result.id)
    order = {c.id: i for i, c in enumerate(entry.causes)}
    ranked = []
    for cause_id, check_ids in scores.items():
        cause = entry.cause(cause_id)
        if cause is None:
            continue
        score = sum(weights.get(c, 1.0) for c in check_ids)
        ranked.append(RankedCause(cause.id, cause.title, cause.text, score, check_ids))
    ranked.sort(key=lambda c: (-c.score, order.get(c.id, 99)))
    return ranked


_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def render_message(template: str, variables: dict[str, Any]) -> str:
    """Fill ``{name}`` fields from ``variables``; unknown names stay visible as ``{name}``.

    Deliberately not ``str.format``: templates come from knowledge packs, and format's
    attribute access (``{x.__class__}``) is not something a YAML file should reach.
    """

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name in variables:
            v = variables[name]
            return "" if v is None else str(v)
        return match.group(0)

    return _FIELD.sub(value, template)


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
    try:
        kind = load_kind(check.kind)
        outcome: Outcome = kind.run(check.raw, ctx)
        variables, evidence = outcome.vars, outcome.evidence
        status = Status.PASS if outcome.passed else Status.FAIL
        detail = ""
    except SkipCheck as exc:
        status, detail = Status.SKIP, str(exc)
    except CheckTimeout as exc:
        status, detail = Status.TIMEOUT, str(exc) or f"did not finish within {timeout:g}s"
    except CheckError as exc:
        status, detail = Status.ERROR, str(exc)
    except Exception as exc:  # a bug in a kind must not take the report down
        status, detail = Status.ERROR, f"internal error in the {check.kind} check: {type(exc).__name__}: {exc}"
    return Probe(status, detail, variables, evidence, time.monotonic() - started)


def run_check(check: Check, resolve: Callable[[str, str], Any], timeout: float, now: datetime,
              cancel: threading.Event | None = None) -> CheckResult:
    """Run one check to a :class:`CheckResult`; never raises."""
    return finish_probe(check, run_probe(check, resolve, timeout, now, cancel))


def finish_probe(check: Check, probe: Probe) -> CheckResult:
    return finish(check, probe.status, probe.detail, probe.vars, probe.evidence, probe.duration)


def finish(check: Check, status: Status, detail: str, variables: dict, evidence: list,
           duration: float) -> CheckResult:
    """Build the result, rendering the entry's message template for pass/fail."""
    template = check.messages.get(status.value)
    if status in (Status.PASS, Status.FAIL):
        message = render_message(template, variables) if template else f"{check.title}: {status.value}"
    else:
        message = detail
    source = check.source
    return CheckResult(
        id=check.id, title=check.title, kind=check.kind, status=status, message=message,
        cause=list(check.causes), duration=duration, evidence=evidence,
        source=f"{source[0]}:{source[1]}" if source else None,
        manual=check.manual or default_manual(check),
    )


def default_manual(check: Check) -> str | None:
    try:
        kind = load_kind(check.kind)
    except (KeyError, ImportError):
        return None
    make = getattr(kind, "manual", None)
    return make(check.raw) if make else None


def run_probes(checks: list[Check], resolve: Callable[[str, str], Any], *,
               default_timeout: float = DEFAULT_TIMEOUT, now: datetime | None = None,
               on_done: Callable[[int, Probe], None] | None = None,
               cancel: threading.Event | None = None, workers: int = WORKERS) -> dict[int, Probe]:
    """Run the probes of ``checks`` concurrently: index -> probe, for those that finished.

    ``workers`` threads take probes from a queue: checks are small and mostly CPU on a busy
    host (the query, the regex), where a thread per check only fights over the GIL and the
    cores. When no probe finishes for ``STALL`` seconds the workers are waiting on slow
    hosts, not computing, so another worker is added for the queue. A probe's budget starts when it starts. One that outlives ``timeout + GRACE`` is
    reported as ``timeout`` and left to die on its own (daemon thread) while a fresh worker
    takes its place, so a hung probe cannot hold the run hostage. When ``cancel`` is set,
    the probes not yet finished are missing from the result.
    """
    now = now or datetime.now(timezone.utc)
    cancel = cancel or threading.Event()
    results: dict[int, Probe] = {}
    done = threading.Condition()

    progress = [time.monotonic()]

    def record(i: int, probe: Probe) -> None:
        results[i] = probe
        progress[0] = time.monotonic()
        if on_done:
            on_done(i, probe)

    shared = RunResources()
    budgets = [check.timeout or default_timeout for check in checks]
    queue = deque(range(len(checks)))
    starts: dict[int, float] = {}

    def worker() -> None:
        while True:
            with done:
                if cancel.is_set() or not queue:
                    return
                i = queue.popleft()
                starts[i] = time.monotonic()
            probe = run_probe(checks[i], resolve, budgets[i], now, cancel, shared)
            with done:
                if i not in results:  # not already declared timed out
                    record(i, probe)
                done.notify_all()

    def spawn() -> None:
        threading.Thread(target=worker, daemon=True, name="diagnose-check").start()

    for _ in range(min(workers, len(checks))):
        spawn()

    with done:
        while len(results) < len(checks):
            if cancel.is_set():
                break
            clock = time.monotonic()
            for i, began in list(starts.items()):
                if i not in results and clock - began > budgets[i] + GRACE:
                    record(i, Probe(Status.TIMEOUT, f"did not finish within {budgets[i]:g}s", {}, [], clock - began))
                    spawn()  # the hung probe keeps its thread; the run gets a fresh worker
            if queue and clock - progress[0] > STALL:
                # every worker is waiting on something slow: do not let the queue wait too
                for _ in range(min(len(queue), workers)):
                    spawn()
                progress[0] = clock
            pending = [budgets[i] + GRACE - (clock - began) for i, began in starts.items() if i not in results]
            done.wait(timeout=max(0.01, min(min(pending, default=STALL), STALL)))
        finished = dict(results)
    shared.close()
    return finished


def run_checks(checks: list[Check], resolve: Callable[[str, str], Any], *,
               default_timeout: float = DEFAULT_TIMEOUT, now: datetime | None = None,
               on_done: Callable[[CheckResult], None] | None = None,
               cancel: threading.Event | None = None) -> list[CheckResult]:
    """Run ``checks`` concurrently; results come back in the order of ``checks``."""
    notify = (lambda i, probe: on_done(finish_probe(checks[i], probe))) if on_done else None
    probes = run_probes(checks, resolve, default_timeout=default_timeout, now=now, on_done=notify,
                        cancel=cancel)
    return [finish_probe(checks[i], probes[i]) for i in sorted(probes)]


def run_entry(entry: Entry, pack: Pack, resolve: Callable[[str, str], Any], profile_view: dict, *,
              default_timeout: float = DEFAULT_TIMEOUT, now: datetime | None = None,
              on_done: Callable[[CheckResult], None] | None = None,
              cancel: threading.Event | None = None) -> Run:
    started_at = datetime.now(timezone.utc)
    results = run_checks(list(entry.checks), resolve, default_timeout=default_timeout, now=now,
                         on_done=on_done, cancel=cancel)
    incomplete = len(results) < len(entry.checks)
    return Run(entry=entry, pack=pack, results=results, started_at=started_at,
               finished_at=datetime.now(timezone.utc), profile=profile_view, incomplete=incomplete)
