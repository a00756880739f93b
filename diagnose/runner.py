"""Run a symptom's checks and reach a verdict: results, cause ranking, message templates.

The concurrency (workers, budgets, abandoning hung probes, Ctrl-C) is :mod:`diagnose.probes`;
this module turns probes into the results, verdict and ranked causes a report shows.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from diagnose.checks import manual_command
from diagnose.checks.base import CheckResult, RunResources, Status
from diagnose.kb.model import Check, Entry, Pack, Precondition, render_message, with_caveat  # noqa: F401 (render_message: re-exported)
from diagnose.probes import (DEFAULT_TIMEOUT, GRACE, WORKERS, Probe, Stop, run_probe,  # noqa: F401 (re-exported)
                             run_probes)



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
    host: str = field(default_factory=lambda: _hostname())
    incomplete: bool = False
    interrupted: bool = False      # a signal: the checks that did not finish are marked as not run
    deadline: float | None = None  # --deadline of the run, when it was reached
    signal: str | None = None      # the signal that interrupted it (SIGINT for Ctrl-C)
    notes: list[str] = field(default_factory=list)  # how the run went, beyond the checks (RunResources.note)
    since: datetime | None = None  # --since: no window started earlier
    #: the pack's preconditions its solutions require, checked by this run (precondition id -> result)
    preconditions: dict[str, CheckResult] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return verdict_of(self.results)

    @property
    def exit_code(self) -> int:
        return interrupted_exit(self.signal) if self.interrupted else EXIT_CODES[self.verdict]

    @property
    def causes(self) -> list[RankedCause]:
        return rank_causes(self.entry, self.results)


def _hostname() -> str:
    """The machine the run happened on; socket is imported here, as a log-only run needs no network."""
    import socket

    return socket.gethostname()


EXIT_CODES = {"healthy": 0, "problem": 1, "inconclusive": 3, "risk": 4}
#: the shell's code for "ended by Ctrl-C" (128 + SIGINT); SIGTERM gives 143, SIGHUP 129
EXIT_INTERRUPTED = 130
NOT_RUN = {"interrupt": "did not run: the run was interrupted ({how}) before this check finished",
           "deadline": "did not run: the run's deadline ({deadline:g}s) was reached first",
           None: "did not run"}


def interrupted_exit(signal_name: str | None) -> int:
    """128 + the signal's number: 130 for Ctrl-C (SIGINT), 143 for SIGTERM, 129 for SIGHUP."""
    import signal

    try:
        return 128 + int(signal.Signals[signal_name or "SIGINT"])
    except KeyError:
        return EXIT_INTERRUPTED


def interruption(signal_name: str | None) -> str:
    """How a report names what interrupted a run: ``Ctrl-C``, or the signal (``SIGTERM``)."""
    return "Ctrl-C" if signal_name in (None, "SIGINT") else signal_name


def verdict_of(results: list[CheckResult]) -> str:
    """``problem`` when a failed check shows the symptom itself; ``risk`` when checks failed that only
    point to a cause (the symptom is not there, or not yet: "will break on the next restart");
    else ``inconclusive`` if any could not conclude (or passed or failed only on what it could not
    establish: ``conclusive`` false, e.g. log lines without a time in a window); else ``healthy``.
    A failed *context* check (no cause, not the symptom) or *history* check (a past event) alone
    changes nothing."""
    failed = [r for r in results if r.status is Status.FAIL and r.conclusive]
    if any(r.role == "symptom" for r in failed):
        return "problem"
    if any(r.role == "cause" for r in failed):
        return "risk"
    if any(r.status in (Status.ERROR, Status.TIMEOUT, Status.SKIP) or not r.conclusive
           for r in results):
        return "inconclusive"
    return "healthy"


def rank_causes(entry: Entry, results: list[CheckResult]) -> list[RankedCause]:
    """Causes pointed to by failed checks, most evidence first (ties: the entry's order). A failure
    that did not conclude (log lines of unknown time) implicates nothing in a run where nothing else
    failed, and counts half where a conclusive failure shows something is wrong."""
    weights = {c.id: c.weight for c in entry.checks}
    failed = [r for r in results if r.status is Status.FAIL]
    decided = any(r.conclusive for r in failed)
    scores: dict[str, list[tuple[str, float]]] = {}
    for result in failed:
        share = 1.0 if result.conclusive else (0.5 if decided else 0.0)
        if share:
            for cause_id in result.cause:
                scores.setdefault(cause_id, []).append((result.id, share))
    order = {c.id: i for i, c in enumerate(entry.causes)}
    ranked = []
    for cause_id, check_ids in scores.items():
        cause = entry.cause(cause_id)
        if cause is None:
            continue
        score = sum(weights.get(c, 1.0) * share for c, share in check_ids)
        ranked.append(RankedCause(cause.id, cause.title, cause.text, score, [c for c, _ in check_ids]))
    ranked.sort(key=lambda c: (-c.score, order.get(c.id, 99)))
    return ranked


def run_check(check: Check, resolve: Callable[[str, str], Any], timeout: float, now: datetime,
              cancel: threading.Event | None = None) -> CheckResult:
    """Run one check to a :class:`CheckResult`; never raises."""
    return finish_probe(check, run_probe(check, resolve, timeout, now, cancel))


def finish_probe(check: Check, probe: Probe) -> CheckResult:
    return finish(check, probe.status, probe.detail, probe.vars, probe.evidence, probe.duration,
                  probe.caveat, probe.conclusive)


def finish(check: Check, status: Status, detail: str, variables: dict, evidence: list,
           duration: float, caveat: str | None = None, conclusive: bool = True) -> CheckResult:
    """Build the result, rendering the entry's message template for pass/fail (and the caveat
    that limits it, if any)."""
    template = check.messages.get(status.value) if status in (Status.PASS, Status.FAIL) else None
    if status in (Status.PASS, Status.FAIL):
        template = template or f"{check.title}: {status.value}"
        message = with_caveat(render_message(template, variables), caveat)
    else:
        message = detail
    source = check.source
    return CheckResult(
        id=check.id, title=check.title, kind=check.kind, status=status, message=message,
        cause=list(check.causes), duration=duration, evidence=evidence,
        source=f"{source[0]}:{source[1]}" if source else None,
        manual=check.manual or manual_command(check.kind, check.raw), template=template, vars=dict(variables),
        role=check.role, caveat=caveat if status in (Status.PASS, Status.FAIL) else None,
        conclusive=conclusive or status not in (Status.PASS, Status.FAIL),
    )


def precondition_check(pre: Precondition) -> Check:
    """A pack precondition as a read-only SQL check that passes when its query returns no rows."""
    raw: dict[str, Any] = {"id": f"precondition-{pre.id}", "kind": "sql", "database": pre.database, "query": pre.sql,
           "expect": {"rows": 0}, "symptom": False}
    return Check(id=raw["id"], kind="sql", title=pre.title, expects="no rows", causes=(),
                 messages={"pass": "no rows: clear for the steps that require it",
                           "fail": "{count} row(s): not yet, the steps that require it must wait"},
                 manual=None, timeout=None, weight=0.0, raw=raw)


#: seconds a precondition may take: it only annotates the fix, it never holds up the verdict
PRECONDITION_TIMEOUT = 3.0


def check_preconditions(entry: Entry, pack: Pack, resolve: Callable[[str, str], Any], results: list[CheckResult],
                        timeout: float, cancel: threading.Event | None) -> dict[str, CheckResult]:
    """When a fix is due (a problem or a risk), run the preconditions its steps require (no rollover task
    executing, no armed lock...) read-only, after the checks: the verdict, the exit code and the deadline are
    the checks' alone. A database the checks found not answering is not asked again (one attempt at a
    server without a free slot); its preconditions stay unchecked and the step says so."""
    silent = {r.source.partition(":")[2] for r in results
              if r.source and r.source.startswith("database:") and r.status in (Status.ERROR, Status.TIMEOUT)}
    wanted = [pre for pre in preconditions_of(entry, pack) if pre.database not in silent]
    if not wanted:
        return {}
    checks = [precondition_check(pre) for pre in wanted]
    found = run_checks(checks, resolve, default_timeout=min(timeout, PRECONDITION_TIMEOUT), cancel=cancel)
    return {pre.id: result for pre, result in zip(wanted, found)}


def preconditions_of(entry: Entry, pack: Pack) -> list[Precondition]:
    """The pack's preconditions the entry's solution steps require (no rollover task executing...)."""
    wanted = dict.fromkeys(p for s in entry.solutions for step in s.steps for p in step.requires)
    policy = pack.policy_of(entry)
    return [policy.preconditions[p] for p in wanted if p in policy.preconditions]


def run_checks(checks: list[Check], resolve: Callable[[str, str], Any], *,
               default_timeout: float = DEFAULT_TIMEOUT, now: datetime | None = None,
               on_done: Callable[[CheckResult], None] | None = None,
               cancel: threading.Event | None = None, deadline: float | None = None,
               stop: Stop | None = None, shared: RunResources | None = None) -> list[CheckResult]:
    """Run ``checks`` concurrently: one result per check, in the order of ``checks``.

    On Ctrl-C, ``cancel`` or at ``deadline`` the checks that did not run are marked as such;
    ``stop.reason`` says why. ``shared``: the run's resources, to read their notes afterwards.
    """
    stop = stop if stop is not None else Stop()
    notify = (lambda i, probe: on_done(finish_probe(checks[i], probe))) if on_done else None
    probes = run_probes(checks, resolve, default_timeout=default_timeout, now=now, on_done=notify, cancel=cancel,
                        deadline=deadline, stop=stop, shared=shared)
    return complete_results(checks, probes, stop)


def complete_results(checks: list[Check], probes: dict[int, Probe], stop: Stop) -> list[CheckResult]:
    """One result per check, in order; a check with no probe (run stopped early) is marked as not run."""
    reason = NOT_RUN[stop.reason].format(deadline=stop.deadline or 0, how=interruption(stop.signal))
    return [finish_probe(check, probes[i]) if i in probes else finish(check, Status.SKIP, reason, {}, [], 0.0)
            for i, check in enumerate(checks)]


def run_entry(entry: Entry, pack: Pack, resolve: Callable[[str, str], Any], profile_view: dict, *,
              default_timeout: float = DEFAULT_TIMEOUT, now: datetime | None = None,
              on_done: Callable[[CheckResult], None] | None = None,
              cancel: threading.Event | None = None, deadline: float | None = None,
              since: datetime | None = None) -> Run:
    """Run every check of ``entry``; on Ctrl-C or at ``deadline``, returns what finished. ``since``
    (``--since``): no window starts earlier, so a re-run after a fix counts only what happened since."""
    started_at = datetime.now(timezone.utc)
    stop, shared = Stop(), RunResources(since=since)
    begun = time.monotonic()
    results = run_checks(list(entry.checks), resolve, default_timeout=default_timeout, now=now, on_done=on_done,
                         cancel=cancel, deadline=deadline, stop=stop, shared=shared)
    checked = {}
    left = deadline - (time.monotonic() - begun) if deadline else default_timeout
    if stop.reason is None and verdict_of(results) in ("problem", "risk") and left > 0.1:
        checked = check_preconditions(entry, pack, resolve, results, min(default_timeout, left), cancel)
    return Run(entry=entry, pack=pack, results=results, started_at=started_at, preconditions=checked,
               finished_at=datetime.now(timezone.utc), profile=profile_view,
               incomplete=stop.reason is not None, interrupted=stop.reason == "interrupt",
               deadline=deadline if stop.reason == "deadline" else None, notes=shared.notes,
               signal=stop.signal if stop.reason == "interrupt" else None, since=since)
