"""The knowledge base proves itself: build every example world for real and judge the run.

For each example of each entry: start from the reference schemas on a throwaway PostgreSQL,
build the world (SQL, held sessions, log and env files, servers on 127.0.0.1), run the entry
exactly as ``diagnose SYMPTOM`` would, and compare with what the example claims:

* the verdict (problem / risk / healthy / inconclusive);
* ``fails``: exactly these checks fail, no more, no fewer;
* ``causes``: all are implicated, and the first one ranks top;
* ``skips``: exactly these checks are skipped (the world lacks what they compare with);
* no other check errors, times out or is skipped unless the example expects ``inconclusive``
  (a world that cannot feed a check is an incomplete world, not a pass);
* ``fix``: the named solution, applied to the world as an operator follows it (its SQL with the ids
  this run found, its env edits: :mod:`diagnose.world.fix`), leaves the entry healthy when it runs
  again with ``--since`` the fix, and none of the example's causes implicated, while the same run
  without the fix is not healthy (the control: windows emptied by ``--since`` prove nothing): the fix
  is proven.

Examples are independent (each world has databases, files and ports of its own), so they
run a few at a time on one shared PostgreSQL. An example whose world says ``server:`` (settings of
its own, or ``dedicated`` because it reads views of the whole server: ``pg_stat_activity`` counts,
``pg_prepared_xacts``) runs on a dedicated server instead; examples asking for the same settings run
one after another on the same one, which is kept only while a world leaves nothing behind. No
PostgreSQL is started when no example needs one (see :func:`needs_postgres`).
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from diagnose.checks.base import Status
from diagnose.kb.model import Entry, Example, Pack

DEFAULT_JOBS = 4
DEFAULT_TIMEOUT = 10.0


@dataclass
class ExampleOutcome:
    entry: str
    example: str
    expected: str
    verdict: str = "error"
    failed: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    duration: float = 0.0
    results: list[Any] = field(default_factory=list)
    #: the solution proven on this world (``fix``)
    proven: str | None = None
    #: ``dedicated server (max_connections=20)`` when the world ran on a server of its own
    server: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def name(self) -> str:
        return f"{self.entry}/{self.example}"


def judge(example: Example, verdict: str, results: list[Any], ranked_causes: list[str]) -> list[str]:
    """What is wrong with this run, given what the example claims (empty: it holds)."""
    problems: list[str] = []
    if verdict != example.verdict:
        problems.append(f"verdict is {verdict}, the example expects {example.verdict}")
    failed = [r.id for r in results if r.status is Status.FAIL]
    if example.fails is not None and set(failed) != set(example.fails):
        extra = sorted(set(failed) - set(example.fails))
        missing = sorted(set(example.fails) - set(failed))
        parts = ([f"failed but not in `fails`: {', '.join(extra)}"] if extra else []) + \
                ([f"in `fails` but did not fail: {', '.join(missing)}"] if missing else [])
        problems.append("; ".join(parts))
    if example.verdict == "healthy" and failed and example.fails is None:
        problems.append(f"checks failed in a healthy world: {', '.join(failed)}")
    if example.causes:
        absent = [c for c in example.causes if c not in ranked_causes]
        if absent:
            problems.append(f"causes not implicated: {', '.join(absent)} (implicated: {', '.join(ranked_causes) or 'none'})")
        elif ranked_causes and ranked_causes[0] != example.causes[0]:
            problems.append(f"top cause is {ranked_causes[0]}, the example expects {example.causes[0]}")
    skipped = {r.id for r in results if r.status is Status.SKIP}
    if example.skips and set(example.skips) - skipped:
        problems.append(f"in `skips` but not skipped: {', '.join(sorted(set(example.skips) - skipped))}")
    if example.verdict != "inconclusive":
        for r in results:
            if r.status in (Status.ERROR, Status.TIMEOUT, Status.SKIP) and r.id not in example.skips:
                problems.append(f"check {r.id} ended {r.status.value}: {r.message}")
    return problems


def run_example(pack: Pack, entry: Entry, example: Example, pg: Any, workdir: Path,
                timeout: float = DEFAULT_TIMEOUT) -> ExampleOutcome:
    """Build one world, run its entry, judge; never raises for a broken example.

    ``pg``: a running server, a :class:`~diagnose.pg.server.ServerPool`, or None when the example
    needs no database (:func:`needs_postgres`)."""
    from diagnose.profile import Resolver
    from diagnose.runner import run_entry
    from diagnose.world.build import World
    from diagnose.world.specs import server_spec

    outcome = ExampleOutcome(entry.id, example.name, example.verdict)
    started = time.monotonic()
    after: list[str] = []
    try:
        outcome.server = _server_label(example, server_spec)
        with World(pack.layer_of(entry), example, pg, workdir) as world:
            run = run_entry(entry, pack, Resolver(world.profile), {}, default_timeout=timeout)
            if example.fix is not None:
                after = prove_fix(pack, entry, example, world, run.results, timeout, outcome)
    except Exception as exc:  # a world that cannot be built is a broken example, reported in one line
        first_line = (str(exc).strip().splitlines() or [""])[0]
        outcome.problems.append(f"world could not be built: {type(exc).__name__}: {first_line}")
        outcome.duration = time.monotonic() - started
        return outcome
    outcome.duration = time.monotonic() - started
    outcome.verdict = run.verdict
    outcome.results = run.results
    outcome.failed = [r.id for r in run.results if r.status is Status.FAIL]
    outcome.causes = [c.id for c in run.causes]
    outcome.problems = judge(example, run.verdict, run.results, outcome.causes) + after
    return outcome


def prove_fix(pack: Pack, entry: Entry, example: Example, world: Any, results: list[Any], timeout: float,
              outcome: ExampleOutcome) -> list[str]:
    """Apply the example's ``fix`` to its world, run the entry again from the moment of the fix on, and
    say what keeps the fix from being proven (empty: proven)."""
    from datetime import datetime, timezone

    from diagnose.profile import Resolver
    from diagnose.runner import run_entry
    from diagnose.world.fix import apply_solution

    solution = next((s for s in entry.solutions if s.id == example.fix), None)
    if solution is None:
        return [f"fix: no solution '{example.fix}'"]
    fixed_at = datetime.now(timezone.utc)
    # the control: from this moment on, without the fix. Healthy already, and the proof would show only
    # that --since empties the windows: a check of the state the fix changes must still fail here
    control = run_entry(entry, pack, Resolver(world.profile), {}, default_timeout=timeout, since=fixed_at)
    if control.verdict == "healthy":
        return [f"fix {solution.id}: the entry is healthy from this moment on without the fix (--since alone "
                f"empties its windows), so the proof would show nothing: a check of the state the fix changes "
                f"must fail until it is applied"]
    world_env = {k: dict(v) for k, v in (example.world.get("env") or {}).items()}
    applied = apply_solution(solution, results, world.profile.sources, world_env, example.fix_values)
    if applied:
        return [f"fix {solution.id}: {p}" for p in applied]
    again = run_entry(entry, pack, Resolver(world.profile), {}, default_timeout=timeout, since=fixed_at)
    problems = []
    if again.verdict != "healthy":
        failed = [r.id for r in again.results
                  if r.status is not Status.PASS and not (r.status is Status.SKIP and r.id in example.skips)]
        problems.append(f"fix {solution.id}: after it, the verdict is {again.verdict} (still not passing: "
                        f"{', '.join(failed) or 'none'})")
    still = [c.id for c in again.causes if c.id in example.causes]
    if still:
        problems.append(f"fix {solution.id}: after it, still implicated: {', '.join(still)}")
    if not problems:
        outcome.proven = solution.id
    return problems


def _server_label(example: Example, server_spec: Callable[[dict], Any]) -> str | None:
    spec = server_spec(example.world)
    return spec.label if spec is not None else None


def examples_of(entries: Iterable[Entry], only: str | None = None) -> list[tuple[Entry, Example]]:
    return [(e, x) for e in entries for x in e.examples if only is None or x.name == only]


def needs_postgres(pack: Pack, entry: Entry, example: Example) -> bool:
    """Does this example need PostgreSQL? Its world has databases, autocommit statements, sessions or a
    server of its own, or a check of its entry (or a step of the solution it proves) reads a database
    the world provides (a reference schema of the entry's pack, or one of the world's databases)."""
    from diagnose.world.build import POSTGRES_SECTIONS

    world = example.world
    if any(world.get(k) for k in POSTGRES_SECTIONS):
        return True
    provided = set(pack.layer_of(entry).reference_schemas)
    if any(check.raw.get("database") in provided for check in entry.checks):
        return True
    return any(step.where == f"database:{name}" for s in entry.solutions if s.id == example.fix
               for step in s.steps for name in provided)


def run_selftest(pack: Pack, entries: Iterable[Entry], pg: Any = None, *, jobs: int = DEFAULT_JOBS,
                 timeout: float = DEFAULT_TIMEOUT, only: str | None = None,
                 on_outcome: Callable[[ExampleOutcome], None] | None = None) -> list[ExampleOutcome]:
    """Run every example of ``entries`` (a few at a time); outcomes in the entries' order.

    ``pg``: the shared server (a running TempPostgres), a :class:`~diagnose.pg.server.ServerPool`, or
    None: a pool of our own, which starts PostgreSQL only when some example needs it. Binaries are
    looked up and the shared server started before any example runs, so PostgresUnavailable and
    PostgresStartError reach the caller (a self-test that cannot run) instead of failing examples.
    Examples with ``server:`` run one after another per distinct settings, on the pool's dedicated
    servers, next to the others.
    """
    from diagnose.pg.server import ServerPool
    from diagnose.world.build import reference_database
    from diagnose.world.specs import WorldSpecError, server_spec

    entries = list(entries)
    todo = examples_of(entries, only)
    servers = pg if isinstance(pg, ServerPool) else ServerPool(shared=pg)
    try:
        needs = [needs_postgres(pack, e, x) for e, x in todo]
        groups: dict[Any, list[int]] = {}          # a dedicated server's settings -> its examples, in order
        alone: list[list[int]] = []
        for i, (entry, example) in enumerate(todo):
            try:
                spec = server_spec(example.world)
            except WorldSpecError:                 # reported by its world, which will not build
                spec = None
            if spec is not None and needs[i]:
                groups.setdefault(spec.settings, []).append(i)
            else:
                alone.append([i])
        if any(needs):
            servers.binaries()                     # PostgresUnavailable: the self-test cannot run
        if any(needs[i] for [i] in alone):
            shared = servers.shared()
            for layer in {id(p): p for p in (pack.layer_of(e) for e in entries)}.values():
                for name in sorted(layer.reference_schemas):  # once, before worlds clone them concurrently
                    reference_database(shared, layer, name)
        outcomes: list[ExampleOutcome | None] = [None] * len(todo)
        with tempfile.TemporaryDirectory(prefix="diagnose-selftest-") as tmp:
            def run(indices: list[int]) -> None:
                for i in indices:                  # one after another: a dedicated server serves one world
                    entry, example = todo[i]
                    out = run_example(pack, entry, example, servers if needs[i] else None,
                                      Path(tmp) / f"{i:03d}-{entry.id}-{example.name}", timeout)
                    outcomes[i] = out
                    if on_outcome:
                        on_outcome(out)

            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                # the dedicated servers' sequences first: they are the longest
                list(pool.map(run, [*groups.values(), *alone]))
        return [o for o in outcomes if o is not None]
    finally:
        if servers is not pg:
            servers.close()
