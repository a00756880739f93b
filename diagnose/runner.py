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
    SkipCheck,
    Status,
)
from diagnose.kb.model import Check, Entry, Pack

DEFAULT_TIMEOUT = 10.0
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


def run_check(check: Check, resolve: Callable[[str, str], Any], timeout: float, now: datetime,
              cancel: threading.Event | None = None) -> CheckResult:
    """Run one check to a :class:`CheckResult`; never raises."""
    started = time.monotonic()
    ctx = Context(timeout=timeout, now=now, resolve=resolve, cancel=cancel or threading.Event())
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
    return finish(check, status, detail, variables, evidence, time.monotonic() - started)


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


def run_checks(checks: list[Check], resolve: Callable[[str, str], Any], *,
               default_timeout: float = DEFAULT_TIMEOUT, now: datetime | None = None,
               on_done: Callable[[CheckResult], None] | None = None,
               cancel: threading.Event | None = None) -> list[CheckResult]:
    """Run ``checks`` concurrently; results come back in the order of ``checks``.

    A check that outlives ``timeout + GRACE`` is reported as ``timeout`` while its thread is
    left to die on its own (daemon), so a hung probe cannot hold the run hostage.
    """
    now = now or datetime.now(timezone.utc)
    cancel = cancel or threading.Event()
    results: dict[int, CheckResult] = {}
    done = threading.Condition()

    def work(i: int, check: Check, budget: float) -> None:
        result = run_check(check, resolve, budget, now, cancel)
        with done:
            if i not in results:  # not already declared timed out
                results[i] = result
                if on_done:
                    on_done(result)
            done.notify_all()

    budgets = [check.timeout or default_timeout for check in checks]
    started = time.monotonic()
    for i, (check, budget) in enumerate(zip(checks, budgets)):
        threading.Thread(target=work, args=(i, check, budget), daemon=True, name=f"check-{check.id}").start()

    with done:
        while len(results) < len(checks):
            if cancel.is_set():
                break
            elapsed = time.monotonic() - started
            overdue = [i for i, b in enumerate(budgets) if i not in results and elapsed > b + GRACE]
            for i in overdue:
                results[i] = finish(checks[i], Status.TIMEOUT, f"did not finish within {budgets[i]:g}s",
                                    {}, [], elapsed)
                if on_done:
                    on_done(results[i])
            pending = [b + GRACE - elapsed for i, b in enumerate(budgets) if i not in results]
            if pending:
                done.wait(timeout=max(0.01, min(min(pending), 0.25)))
    return [results[i] for i in sorted(results)]


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
