"""SQL checks of one run share a few connections; a failed check never poisons the next."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import psycopg

from diagnose.checks import sql
from diagnose.checks.base import Context, RunResources
from diagnose.checks.sql_pool import MAX_PER_DSN, SqlPool
from diagnose.kb.loader import build_entry
from diagnose.runner import run_checks


def ctx(dsn: str, shared: RunResources, timeout: float = 5.0) -> Context:
    return Context(timeout=timeout, now=datetime.now(timezone.utc), resolve=lambda kind, name: dsn, shared=shared)


def query(q: str, **extra) -> dict:
    return {"id": "q", "kind": "sql", "title": "t", "expects": "e", "database": "trading", "query": q,
            "expect": {"rows": 0}, **extra}


def test_checks_of_one_run_reuse_one_connection_one_after_another(make_db):
    dsn = make_db("trading")
    shared = RunResources()
    pids = {sql.run(query("SELECT pg_backend_pid() AS pid", expect={"rows": 1}), ctx(dsn, shared)).vars["pid"]
            for _ in range(5)}
    pool = shared.get("sql", SqlPool)
    assert len(pids) == 1 and pool.opened == 1
    shared.close()


def test_a_timed_out_or_failed_query_does_not_poison_the_connection(make_db):
    dsn = make_db("trading")
    shared = RunResources()
    for bad in ("SELECT pg_sleep(5)", "SELECT * FROM no_such_table"):
        try:
            sql.run(query(bad, timeout=0.5), ctx(dsn, shared, timeout=0.5))
        except Exception:
            pass
    outcome = sql.run(query("SELECT current_setting('transaction_read_only') AS ro", expect={"rows": 1}),
                      ctx(dsn, shared))
    assert outcome.vars["ro"] == "on"   # still a fresh READ ONLY transaction
    shared.close()


def test_a_concurrent_run_opens_at_most_the_pool_size_per_database(make_db, pg_server, tmp_path):
    dsn = make_db("trading")
    dbname = dsn.rsplit("/", 1)[1]
    checks = [query(f"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    f"AND application_name = 'diagnose' HAVING count(*) > {MAX_PER_DSN} -- {i}") | {"id": f"q{i}"}
              for i in range(30)]
    entry = build_entry(tmp_path / "e.yaml", {
        "id": "e", "title": "t", "category": "data", "severity": "low", "summary": "s",
        "causes": [{"id": "c", "title": "c", "text": "c"}], "checks": checks,
        "solutions": [{"id": "s", "title": "s", "steps": [{"do": "s", "risk": "read-only"}]}], "examples": []})
    results = run_checks(list(entry.checks), lambda kind, name: dsn)
    assert [r.status.value for r in results] == ["pass"] * 30
    with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:   # and none is left behind
        for _ in range(100):  # a closed session's backend exits a moment after the client hangs up
            left = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = "
                                "'diagnose'", (dbname,)).fetchone()[0]
            if left == 0:
                break
            time.sleep(0.02)
    assert left == 0
