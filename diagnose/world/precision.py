"""Triage precision over a pack's whole-stack world: no false problem, the planted fault first.

An operator who sees two false findings on every run stops trusting the first one. So the
pack's stack (``worlds/stack.yaml``) is built the way real deployments differ from the
reference (its healthy ``variants``: a fresh install, a weekend, another tenant name, journald
logs...), each with no fault and with each fault declared for it, and ``diagnose triage`` runs
on it as an operator runs it: a separate process, through the CLI, reading a profile file,
writing the JSON report. Worlds at a moment of their own (a Saturday, 22:00 in the night
session) run their PostgreSQL server and the ``diagnose`` process under libfaketime at that
moment (:mod:`diagnose.world.clock`); the others at the stack's ``moment`` (a Tuesday
afternoon), so what is measured does not depend on the day it is measured.

What a case must show:

* a healthy world: no ``problem`` at all (a ``risk`` is allowed where it is real);
* a fault: its symptom ranked first, as a ``problem``, and no other problem except the
  symptoms the fault declares in ``also`` (those that truly follow from it).

:func:`summary` gives the figures the README quotes: top-1 accuracy over the faults, false
problems per healthy world, and the margin between the first and the second finding.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnose.kb.model import Pack
from diagnose.world.stack import Stack

#: seconds one ``diagnose triage`` process may take before the case fails
TRIAGE_TIMEOUT = 180


@dataclass(frozen=True)
class Case:
    """One world: a variant (None: the baseline) with at most one fault planted."""

    variant: str | None
    fault: str | None = None
    symptom: str | None = None          # the entry that must rank first (a fault's)
    also: tuple[str, ...] = ()          # other symptoms allowed to be problems (they follow from it)

    @property
    def name(self) -> str:
        return f"{self.fault or 'healthy'}@{self.variant or 'baseline'}"


@dataclass
class Outcome:
    case: Case
    exit_code: int
    verdict: str
    #: (symptom id, verdict, score) of every problem and risk, in the report's order
    ranked: list[tuple[str, str, float]] = field(default_factory=list)
    #: symptom id -> the problems it follows from (ranked after them whatever its score)
    follows: dict[str, list[str]] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        return [s for s, verdict, _ in self.ranked if verdict == "problem"]

    @property
    def first(self) -> tuple[str, str, float] | None:
        return self.ranked[0] if self.ranked else None

    @property
    def false_problems(self) -> list[str]:
        """Problems that are neither the fault's symptom nor declared to follow from it."""
        allowed = {self.case.symptom, *self.case.also} - {None}
        return [s for s in self.problems if s not in allowed]

    @property
    def top1(self) -> bool:
        first = self.first
        return self.case.symptom is not None and first is not None and first[:2] == (self.case.symptom, "problem")

    @property
    def margin(self) -> float | None:
        """Score of the first finding minus the best score of the others that do not follow from it
        (0 when there are none; None: nothing found at all): how far it leads on its own evidence."""
        if not self.ranked:
            return None
        first = self.ranked[0][0]
        rivals = [score for symptom, _, score in self.ranked[1:] if first not in self.follows.get(symptom, [])]
        return round(self.ranked[0][2] - max(rivals, default=0.0), 4)

    def problems_with_it(self) -> list[str]:
        """What is wrong with this outcome (empty: it holds)."""
        out = []
        if self.case.symptom and not self.top1:
            out.append(f"expected {self.case.symptom} first as a problem, got {self.first}")
        if self.false_problems:
            out.append(f"false problem(s): {', '.join(self.false_problems)}")
        return out


def cases(stack: Stack) -> list[Case]:
    """Every healthy variant (and the baseline) alone, then every fault on each variant it declares
    (on the baseline when it declares none)."""
    out = [Case(None)] + [Case(v.name) for v in stack.variants]
    for fault in stack.faults:
        out += [Case(v, fault.name, fault.symptom, fault.also) for v in (fault.variants or (None,))]
    return out


class Servers:
    """Throwaway PostgreSQL servers, one per moment a world lives at; stopped by :meth:`close`."""

    def __init__(self) -> None:
        self._by_moment: dict[str, tuple[Any, Any]] = {}

    def at(self, moment: Any) -> tuple[Any, Any]:
        """``(server, clock)`` for a world at ``moment`` (an aware datetime, or None: the real time)."""
        from diagnose.pg import TempPostgres
        from diagnose.world.clock import FakeClock

        key = moment.isoformat() if moment else ""
        if key not in self._by_moment:
            clock = FakeClock.at_moment(moment) if moment else None
            server = TempPostgres(env=clock.env if clock else None).start()
            self._by_moment[key] = (server, clock)
        return self._by_moment[key]

    def close(self) -> None:
        servers, self._by_moment = list(self._by_moment.values()), {}
        for server, _ in servers:
            server.stop()

    def __enter__(self) -> Servers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_case(pack: Pack, stack: Stack, case: Case, servers: Servers, workdir: Path) -> Outcome:
    """Build the case's world and run ``diagnose triage`` on it as a separate process."""
    from diagnose.world.build import World
    from diagnose.world.clock import moment

    example = stack.example([case.fault] if case.fault else [], case.variant, pinned=True)
    server, clock = servers.at(moment(example.world.get("clock") or {}))
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        with World(pack, example, server, Path(tmp), now=clock.now() if clock else None) as world:
            report = Path(tmp) / "triage.json"
            env = {**os.environ, **(clock.env if clock else {})}
            env.pop("DIAGNOSE_PROFILE", None)
            proc = subprocess.run([sys.executable, "-m", "diagnose", "triage", "--checks", str(pack.root),
                                   "--profile", str(world.profile_file()), "--format", "json", "-o", str(report), "-q"],
                                  env=env, capture_output=True, text=True, timeout=TRIAGE_TIMEOUT,
                                  stdin=subprocess.DEVNULL)
            if not report.is_file():
                raise RuntimeError(f"{case.name}: diagnose triage wrote no report (exit {proc.returncode}): "
                                   f"{(proc.stderr or proc.stdout).strip()[-400:]}")
            doc = json.loads(report.read_text(encoding="utf-8"))
    ranked = [(s["id"], s["verdict"], float(s["score"])) for s in doc["symptoms"] if s["verdict"] in ("problem", "risk")]
    follows = {s["id"]: list(s.get("follows") or []) for s in doc["symptoms"] if s.get("follows")}
    return Outcome(case, proc.returncode, doc["verdict"], ranked, follows)


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    """The figures: top-1 accuracy over fault cases, false problems per healthy world, margins."""
    faults = [o for o in outcomes if o.case.fault]
    healthy = [o for o in outcomes if not o.case.fault]
    margins = sorted(o.margin for o in faults if o.top1 and o.margin is not None)
    return {
        "fault_cases": len(faults),
        "top1": sum(o.top1 for o in faults),
        "top1_accuracy": round(sum(o.top1 for o in faults) / len(faults), 4) if faults else None,
        "healthy_worlds": len(healthy),
        "false_problems": sum(len(o.problems) for o in healthy) + sum(len(o.false_problems) for o in faults),
        "false_problems_per_healthy_world": round(sum(len(o.problems) for o in healthy) / len(healthy), 4)
        if healthy else None,
        "risks_in_healthy_worlds": sum(1 for o in healthy for _, v, _ in o.ranked if v == "risk"),
        "margin_min": margins[0] if margins else None,
        "margin_median": margins[len(margins) // 2] if margins else None,
    }
