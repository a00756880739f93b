"""``diagnose triage``: run every symptom's checks at once and rank what was found.

Many entries look at the same thing (is the backend up? is ntfy reachable?). A probe is the
part of a check that touches the system: its kind and kind fields (query and params, pattern
and window, path, key, expectation). Checks with identical probes run once and each entry
renders its own result from that probe, with its own title, message and causes.

Ranking is about *which symptom the operator is most likely looking at*. An entry's score is
the weighted share of its concluded checks that failed, where a failure shared with other
entries counts less (it does not single this entry out), plus a bonus when one of its
symptom checks ("is the symptom visible?": checks without a cause, or marked
``symptom: true``) failed. Severity breaks ties. Entries with a ``problem`` (the symptom is
there) come first, roots before the problems that follow from them (an entry's ``follows``:
nothing connects to a backend that cannot start), then those with a ``risk`` (a cause without
the symptom, ranked below every problem), then the inconclusive and the healthy ones.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from diagnose.checks.base import RunResources, Status
from diagnose.kb.model import Check, Entry, Pack
from diagnose.runner import (DEFAULT_TIMEOUT, EXIT_CODES, Run, Stop, complete_results, finish_probe,
                             interrupted_exit, run_probes)

#: check fields that change how a result is presented, not what is probed
PRESENTATION = frozenset({"id", "title", "expects", "cause", "message", "manual", "weight", "symptom"})
SYMPTOM_BONUS = 0.5
SEVERITY_TIEBREAK = {"critical": 0.03, "high": 0.02, "medium": 0.01, "low": 0.0}


def probe_key(check: Check) -> str:
    """Identity of what a check probes: equal keys give equal outcomes in one run."""
    return json.dumps({k: v for k, v in check.raw.items() if k not in PRESENTATION}, sort_keys=True,
                      default=str, ensure_ascii=False)


@dataclass
class Plan:
    """The distinct probes of some entries, and which entry check uses which probe."""

    probes: list[Check]
    uses: dict[tuple[str, str], int]          # (entry id, check id) -> index in probes
    sharing: dict[int, int] = field(default_factory=dict)   # probe index -> entries using it

    @property
    def total_checks(self) -> int:
        return len(self.uses)


def plan(entries: list[Entry]) -> Plan:
    index: dict[str, int] = {}
    probes: list[Check] = []
    uses: dict[tuple[str, str], int] = {}
    users: dict[int, set[str]] = {}
    for entry in entries:
        for check in entry.checks:
            key = probe_key(check)
            if key not in index:
                index[key] = len(probes)
                probes.append(check)
            uses[(entry.id, check.id)] = index[key]
            users.setdefault(index[key], set()).add(entry.id)
    return Plan(probes, uses, {i: len(u) for i, u in users.items()})


@dataclass
class Finding:
    run: Run
    score: float
    shared: dict[str, int]      # check id -> number of entries sharing its probe
    #: the problems of this triage this one follows from (its entry's ``follows``), when it is one too
    follows: list[str] = field(default_factory=list)


@dataclass
class Triage:
    findings: list[Finding]     # every entry, ranked: problems first (best score first), then the rest
    started_at: datetime
    finished_at: datetime
    profile: dict[str, Any]
    checks_total: int
    probes_run: int
    incomplete: bool = False
    interrupted: bool = False
    deadline: float | None = None   # the run's deadline, when it was reached
    notes: list[str] = field(default_factory=list)  # how the run went, beyond the checks
    signal: str | None = None       # the signal that interrupted it

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.run.verdict == "problem"]

    @property
    def risks(self) -> list[Finding]:
        return [f for f in self.findings if f.run.verdict == "risk"]

    @property
    def verdict(self) -> str:
        verdicts = {f.run.verdict for f in self.findings}
        for v in ("problem", "risk", "inconclusive"):
            if v in verdicts:
                return v
        return "healthy"

    @property
    def exit_code(self) -> int:
        return interrupted_exit(self.signal) if self.interrupted else EXIT_CODES[self.verdict]


def score(run: Run, shared: dict[str, int]) -> float:
    """Weighted share of concluded checks that failed, exclusive evidence first; see module doc."""
    concluded = [(c, r) for c, r in zip(run.entry.checks, run.results) if r.status in (Status.PASS, Status.FAIL)]
    total = sum(c.weight or 1.0 for c, _ in concluded)
    if not total:
        return 0.0
    failed = sum((c.weight or 1.0) / shared.get(c.id, 1) for c, r in concluded if r.status is Status.FAIL)
    symptom_seen = any(r.status is Status.FAIL and c.symptom for c, r in concluded)
    return round(failed / total + (SYMPTOM_BONUS if symptom_seen else 0.0)
                 + SEVERITY_TIEBREAK.get(run.entry.severity, 0.0), 4)


def run_triage(pack: Pack, resolve: Callable[[str, str], Any], profile_view: dict, *,
               entries: list[Entry] | None = None, default_timeout: float = DEFAULT_TIMEOUT,
               on_done: Callable[[Any], None] | None = None,
               cancel: threading.Event | None = None, deadline: float | None = None,
               the_plan: Plan | None = None, since: datetime | None = None) -> Triage:
    """Run the distinct probes of ``entries`` (default: the pack's) and rank the entries.

    ``the_plan``: the :func:`plan` of those entries, when the caller already made it. ``since``:
    ``--since``, no window starts earlier.
    """
    entries = list(entries if entries is not None else pack.entries)
    the_plan = the_plan or plan(entries)
    started_at = datetime.now(timezone.utc)
    notify = (lambda i, probe: on_done(finish_probe(the_plan.probes[i], probe))) if on_done else None
    stop, resources = Stop(), RunResources(since=since)
    probes = run_probes(the_plan.probes, resolve, default_timeout=default_timeout, now=started_at,
                        on_done=notify, cancel=cancel, deadline=deadline, stop=stop, shared=resources)
    finished_at = datetime.now(timezone.utc)
    reached = deadline if stop.reason == "deadline" else None
    findings = []
    for entry in entries:
        index = [the_plan.uses[(entry.id, check.id)] for check in entry.checks]
        shared = {check.id: the_plan.sharing[i] for check, i in zip(entry.checks, index)}
        mine = {n: probes[i] for n, i in enumerate(index) if i in probes}
        results = complete_results(list(entry.checks), mine, stop)
        run = Run(entry=entry, pack=pack, results=results, started_at=started_at, finished_at=finished_at,
                  profile=profile_view, incomplete=stop.reason is not None,
                  interrupted=stop.reason == "interrupt", deadline=reached, notes=resources.notes,
                  signal=stop.signal if stop.reason == "interrupt" else None, since=since)
        findings.append(Finding(run, score(run, shared) if run.verdict in ("problem", "risk") else 0.0, shared))
    problems = {f.run.entry.id for f in findings if f.run.verdict == "problem"}
    for finding in findings:
        if finding.run.verdict == "problem":
            finding.follows = [root for root in finding.run.entry.follows if root in problems]
    order = {"problem": 0, "risk": 1, "inconclusive": 2, "healthy": 3}
    findings.sort(key=lambda f: (order[f.run.verdict], bool(f.follows), -f.score, f.run.entry.id))
    return Triage(findings, started_at, finished_at, profile_view, the_plan.total_checks, len(the_plan.probes),
                  incomplete=stop.reason is not None, interrupted=stop.reason == "interrupt", deadline=reached,
                  notes=resources.notes, signal=stop.signal if stop.reason == "interrupt" else None)
