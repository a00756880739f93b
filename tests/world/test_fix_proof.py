"""The self-test proves a fix by doing it (diagnose.selftest.prove_fix, diagnose.world.fix): a broken
example's ``fix`` names a solution, whose SQL changes run with the ids the broken run found and whose env
edits rewrite the world's env file; the entry must then be healthy from the moment of the fix on. A
change whose RETURNING count is not the step's ``rows`` is rolled back and the proof fails."""

from __future__ import annotations

import textwrap
from pathlib import Path

import psycopg
import pytest
import yaml

from diagnose.kb.loader import load_pack
from diagnose.profile import Resolver
from diagnose.runner import run_entry
from diagnose.selftest import ExampleOutcome, prove_fix, run_selftest
from diagnose.world.build import World

RELEASE_SQL = "UPDATE jobs SET status = 'queued' WHERE id IN ({ids}) AND status = 'stuck' RETURNING id"

ENTRY = textwrap.dedent("""\
    id: stuck-jobs
    title: Jobs stay stuck
    category: data
    severity: medium
    summary: Jobs never leave the stuck state.
    causes:
      - {id: stuck, title: A worker died holding jobs, text: The worker died and left its jobs stuck.}
      - {id: no-token, title: The worker has no token, text: Without WORKER_TOKEN it cannot take jobs.}
    checks:
      - id: stuck-jobs
        kind: sql
        title: Stuck jobs
        expects: none
        database: db
        cause: stuck
        symptom: true
        query: "SELECT id, status FROM jobs WHERE status = 'stuck' ORDER BY id"
        expect: {rows: 0}
      - id: stuck-log
        kind: log
        title: The worker says a job is stuck
        expects: no such line in the last hour
        log: app
        pattern: 'job stuck'
        since: 1h
        cause: stuck
        symptom: true
      - id: worker-token
        kind: env
        title: The worker's token
        expects: WORKER_TOKEN is set
        env: app
        key: WORKER_TOKEN
        cause: no-token
    solutions:
      - id: release
        title: Release the stuck jobs the diagnosis found
        causes: [stuck]
        steps:
          - do: Look at them first.
            risk: read-only
            where: database:db
            fill:
              ids: {check: stuck-jobs, column: id}
            sql: SELECT id, status FROM jobs WHERE id IN ({ids})
          - do: Release them, and only them.
            risk: reversible
            where: database:db
            scope: the stuck jobs, by id
            fill:
              ids: {check: stuck-jobs, column: id}
            sql: "__RELEASE_SQL__"
            rows: ids
            undo: UPDATE jobs SET status = 'stuck' WHERE id IN ({ids}) RETURNING id
            verify: [stuck-jobs]
      - id: give-token
        title: Give the worker its token
        causes: [no-token]
        steps:
          - do: Set the token in the worker's env file.
            risk: reversible
            where: host
            scope: WORKER_TOKEN in the worker's .env
            env:
              source: app
              set: {WORKER_TOKEN: "<the worker's token>"}
            undo: remove WORKER_TOKEN again
            verify: [worker-token]
    examples:
      - name: stuck
        verdict: problem
        causes: [stuck]
        fails: [stuck-jobs, stuck-log]
        fix: {solution: release}
        world:
          databases:
            db: |
              CREATE TABLE jobs (id text PRIMARY KEY, status text NOT NULL, note text);
              INSERT INTO jobs (id, status) VALUES ('job-1', 'stuck'), ('job-2', 'stuck'), ('job-3', 'done');
          logs:
            app: |
              {now-20m} INFO worker: took job-1
              {now-10m} ERROR worker: job stuck: job-1
          env:
            app: {WORKER_TOKEN: t-1}
      - name: no-token
        verdict: risk
        causes: [no-token]
        fails: [worker-token]
        fix: {solution: give-token, values: {WORKER_TOKEN: t-2}}
        world:
          databases:
            db: |
              CREATE TABLE jobs (id text PRIMARY KEY, status text NOT NULL, note text);
              INSERT INTO jobs (id, status) VALUES ('job-3', 'done');
          logs:
            app: |
              {now-20m} INFO worker: took job-3
          env:
            app: {MODE: live}
      - name: healthy
        verdict: healthy
        world:
          databases:
            db: |
              CREATE TABLE jobs (id text PRIMARY KEY, status text NOT NULL, note text);
              INSERT INTO jobs (id, status) VALUES ('job-3', 'done');
          logs:
            app: |
              {now-20m} INFO worker: took job-3
          env:
            app: {WORKER_TOKEN: t-1}
    """)

MANIFEST = {"name": "tiny", "version": "1",
            "sources": {"databases": {"db": {"description": "the jobs database"}},
                        "logs": {"app": {"description": "the worker's log"}},
                        "env": {"app": {"description": "the worker's .env"}}}}


def make_pack(tmp_path: Path, *edits: tuple[str, str], release_sql: str = RELEASE_SQL):
    root = tmp_path / "kb"
    (root / "data").mkdir(parents=True)
    (root / "pack.yaml").write_text(yaml.safe_dump(MANIFEST, sort_keys=False))
    text = ENTRY.replace("__RELEASE_SQL__", release_sql)
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    (root / "data" / "stuck-jobs.yaml").write_text(text)
    pack = load_pack(root, use_cache=False)
    return pack, pack.get("stuck-jobs")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "cache"))


def outcomes(pack, entry, pg_server) -> dict:
    return {o.example: o for o in run_selftest(pack, [entry], pg_server, jobs=3)}


def statuses(dsn: str) -> dict[str, str]:
    with psycopg.connect(dsn) as conn:
        return dict(conn.execute("SELECT id, status FROM jobs ORDER BY id").fetchall())


def prove_in_world(pack, entry, name: str, pg_server, workdir: Path):
    """Build the example's world, run the entry, prove its fix; what the proof said, the outcome and the
    world's jobs and env file afterwards (read before the world goes)."""
    example = next(x for x in entry.examples if x.name == name)
    outcome = ExampleOutcome(entry.id, example.name, example.verdict)
    with World(pack, example, pg_server, workdir) as world:
        run = run_entry(entry, pack, Resolver(world.profile), {}, default_timeout=10)
        assert run.verdict == example.verdict, [(r.id, r.status, r.message) for r in run.results]
        problems = prove_fix(pack, entry, example, world, run.results, 10, outcome)
        jobs = statuses(world.profile.sources["databases"]["db"])
        env = Path(world.profile.sources["env"]["app"]).read_text()
    return problems, outcome, jobs, env


def test_fixes_that_fix_are_proven(tmp_path, pg_server):
    pack, entry = make_pack(tmp_path)
    found = outcomes(pack, entry, pg_server)
    assert {name: o.problems for name, o in found.items()} == {"stuck": [], "no-token": [], "healthy": []}
    assert found["stuck"].ok and found["stuck"].proven == "release"
    assert found["no-token"].ok and found["no-token"].proven == "give-token"
    assert found["healthy"].proven is None


def test_a_fix_scoped_to_the_wrong_rows_is_rolled_back_and_not_proven(tmp_path, pg_server):
    pack, entry = make_pack(tmp_path, release_sql=RELEASE_SQL.replace("status = 'stuck'", "status = 'running'"))
    found = outcomes(pack, entry, pg_server)
    stuck = found["stuck"]
    assert not stuck.ok and stuck.proven is None
    assert any("release" in p for p in stuck.problems), stuck.problems
    assert stuck.verdict == "problem"               # the broken run itself still holds
    assert found["no-token"].ok and found["healthy"].ok


def test_a_fix_that_changes_nothing_relevant_is_not_proven(tmp_path, pg_server):
    pack, entry = make_pack(tmp_path, release_sql="UPDATE jobs SET note = 'seen' WHERE id IN ({ids}) RETURNING id")
    stuck = outcomes(pack, entry, pg_server)["stuck"]
    assert not stuck.ok and stuck.proven is None
    about = [p for p in stuck.problems if "release" in p]
    assert about and any("stuck-jobs" in p for p in about), stuck.problems


def test_an_env_fix_without_its_effect_is_not_proven(tmp_path, pg_server):
    pack, entry = make_pack(tmp_path, ("set: {WORKER_TOKEN: \"<the worker's token>\"}",
                                       "set: {WORKER_MODE: \"<the worker's token>\"}"),
                            ("values: {WORKER_TOKEN: t-2}", "values: {WORKER_MODE: t-2}"))
    found = outcomes(pack, entry, pg_server)
    assert not found["no-token"].ok and found["no-token"].proven is None
    assert any("give-token" in p for p in found["no-token"].problems), found["no-token"].problems


def test_the_proof_commits_the_change_and_writes_the_env_file(tmp_path, pg_server):
    pack, entry = make_pack(tmp_path)
    problems, outcome, jobs, _ = prove_in_world(pack, entry, "stuck", pg_server, tmp_path / "w1")
    assert problems == [] and outcome.proven == "release"
    assert jobs == {"job-1": "queued", "job-2": "queued", "job-3": "done"}
    problems, outcome, _, env = prove_in_world(pack, entry, "no-token", pg_server, tmp_path / "w2")
    assert problems == [] and outcome.proven == "give-token"
    assert "WORKER_TOKEN=t-2" in env.splitlines()


def test_a_rows_mismatch_rolls_back(tmp_path, pg_server):
    """Both stuck jobs are released, but the step says 1 row: the transaction is rolled back."""
    pack, entry = make_pack(tmp_path, ("        rows: ids\n", "        rows: 1\n"))
    problems, outcome, jobs, _ = prove_in_world(pack, entry, "stuck", pg_server, tmp_path / "w")
    assert problems and all("release" in p for p in problems), problems
    assert outcome.proven is None
    assert jobs == {"job-1": "stuck", "job-2": "stuck", "job-3": "done"}


def test_ids_the_run_did_not_list_in_full_are_not_guessed(tmp_path, pg_server):
    """The check kept 1 of its 2 rows: the step cannot be filled, nothing is changed, the proof fails."""
    pack, entry = make_pack(tmp_path, ("    expect: {rows: 0}\n", "    expect: {rows: 0}\n    max_rows: 1\n"))
    problems, outcome, jobs, _ = prove_in_world(pack, entry, "stuck", pg_server, tmp_path / "w")
    assert problems and any("release" in p and "ids" in p for p in problems), problems
    assert outcome.proven is None
    assert jobs == {"job-1": "stuck", "job-2": "stuck", "job-3": "done"}


def test_a_fix_whose_sql_postgresql_refuses_is_a_problem_of_the_fix(tmp_path, pg_server):
    """The broken world was built and judged; the fix's own SQL failing is the fix's problem (named), not
    a world that could not be built (the broken run's verdict is kept)."""
    pack, entry = make_pack(tmp_path, release_sql="UPDATE jobs SET status = NULL WHERE id IN ({ids}) RETURNING id")
    stuck = outcomes(pack, entry, pg_server)["stuck"]
    assert not stuck.ok and stuck.proven is None
    assert any("release" in p for p in stuck.problems), stuck.problems
    assert stuck.verdict == "problem", stuck.problems


def test_a_proof_that_only_windows_make_green_is_refused(tmp_path, pg_server):
    """The control: the stuck rows are only in the log's window here, so --since alone turns the entry
    healthy and the proof would show nothing: it fails, and says why."""
    pack, entry = make_pack(tmp_path, (
        "query: \"SELECT id, status FROM jobs WHERE status = 'stuck' ORDER BY id\"\n    expect: {rows: 0}",
        "query: \"SELECT id, status FROM jobs WHERE status = 'stuck' ORDER BY id\"\n    expect: {rows: {max: 99}}"),
        ("fails: [stuck-jobs, stuck-log]", "fails: [stuck-log]"))
    stuck = outcomes(pack, entry, pg_server)["stuck"]
    assert not stuck.ok and stuck.proven is None
    assert any("without the fix" in p for p in stuck.problems), stuck.problems
