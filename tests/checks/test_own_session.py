"""diagnose's own database session on a real PostgreSQL: what the ``reference/own-session`` page says
is what a check sees, and the built-in checks leave diagnose's own backends out of what they count.

The world's sessions are the application's (``application_name`` ``backend``); diagnose's are real
sessions of its pool, in every state they can be in while a run goes on: running a check,
idle in the pool between checks, and in a check's transaction (idle in it between two statements).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

import psycopg
import pytest

from diagnose.checks import sql
from diagnose.checks import sql_session as session
from diagnose.checks.base import Context, SkipCheck, Status
from diagnose.checks.sql_pool import MAX_PER_DSN
from diagnose.kb.loader import load_pack
from diagnose.profile import Profile, Resolver
from diagnose.runner import run_entry
from diagnose.site.own_session import own_session_page, own_settings

PACK = load_pack()
ENTRY = PACK.get("db-pool-exhausted")
ROLE = "own_session_monitor"


@dataclass
class FixedBudget(Context):
    """A context whose budget never runs down, so the time limits diagnose derives from it are exact."""

    left: float = 7.0

    def remaining(self) -> float:
        return self.left


def resolver(dsn: str):
    def resolve(kind: str, name: str):
        if kind != "databases":
            raise SkipCheck(f"{kind} source {name!r} is not configured")
        return dsn
    return resolve


def context(dsn: str) -> Context:
    return Context(timeout=10.0, now=datetime.now(timezone.utc), resolve=resolver(dsn))


def builtin(check_id: str, **changes) -> dict:
    [check] = [c for c in ENTRY.checks if c.id == check_id]
    return {**check.raw, **changes}


def rows_of(outcome) -> list[dict]:
    [evidence] = outcome.evidence
    return [dict(zip(evidence.columns, row)) for row in evidence.rows]


def query(dsn: str, text: str, **changes) -> list[dict]:
    """Run ``text`` as a SQL check of diagnose (through its guard, on its session)."""
    ctx = context(dsn)
    try:
        check = {"id": "probe", "kind": "sql", "database": "desk", "query": text, "expect": {"rows": {"min": 0}},
                 "max_rows": 500, **changes}
        return rows_of(sql.run(check, ctx))
    finally:
        ctx.shared.close()


@pytest.fixture
def desk(make_db):
    return make_db("desk")


@pytest.fixture
def world(desk):
    """The application's sessions on ``desk``: 3 idle, 2 idle in transaction (the first one in a
    REPEATABLE READ transaction, so it holds a snapshot)."""
    idle = [psycopg.connect(desk, application_name="backend", autocommit=True) for _ in range(3)]
    in_transaction = [psycopg.connect(desk, application_name="backend") for _ in range(2)]
    in_transaction[0].isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    for conn in in_transaction:
        conn.execute("SELECT 1")
    yield {"idle": [c.info.backend_pid for c in idle], "in_transaction": [c.info.backend_pid for c in in_transaction]}
    for conn in idle + in_transaction:
        conn.close()


@pytest.fixture
def own_sessions(desk):
    """diagnose's other sessions on ``desk`` (another run's pool): some in a check's transaction, one idle."""
    ctx = context(desk)
    held = []
    for _ in range(MAX_PER_DSN - 2):
        pool, conn = session.borrow(desk, "desk", ctx)
        cur = conn.cursor()
        session.begin(cur, ctx, pool, desk, "desk")
        held.append((pool, conn))
    pool, conn = session.borrow(desk, "desk", ctx)
    with conn.cursor() as cur:
        session.begin(cur, ctx, pool, desk, "desk")
    session.give_back(pool, desk, conn)   # back in the pool: idle
    yield MAX_PER_DSN - 1
    for pool, conn in held:
        session.give_back(pool, desk, conn)
    ctx.shared.close()


def dbname_of(dsn: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]


def census(dsn: str) -> dict[str, int]:
    """What is on the server right now, seen from a connection of the test (not counted)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        own, others = conn.execute(
            "SELECT count(*) FILTER (WHERE application_name = %(name)s AND datname = current_database()),"
            "       count(*) FILTER (WHERE application_name <> %(name)s AND pid <> pg_backend_pid())"
            "  FROM pg_stat_activity WHERE backend_type = 'client backend'",
            {"name": session.APPLICATION_NAME}).fetchone()
    return {"own": own, "others": others}


# -- the built-in checks do not count diagnose's own backends ------------------------------------------


def test_free_slots_counts_the_world_not_diagnose(desk, world, own_sessions):
    ctx = context(desk)
    try:
        before = census(desk)
        outcome = sql.run(builtin("free-slots"), ctx)
        after = census(desk)
    finally:
        ctx.shared.close()
    assert after["own"] == own_sessions + 1               # diagnose's others and the check's own were there
    [row] = rows_of(outcome)
    assert row["database_connections"] == 5, row          # 3 idle + 2 in transaction, not + 4 of diagnose's
    # the whole server: everyone but diagnose (other tests' connections may come and go meanwhile)
    others = sorted((before["others"], after["others"]))
    assert others[0] <= row["server_connections"] <= others[1], (row, before, after)
    assert row["free_slots"] == row["max_connections"] - row["reserved_slots"] - row["server_connections"]


def test_idle_in_transaction_lists_the_world_not_diagnose(desk, world, own_sessions):
    rows = query(desk, builtin("idle-in-transaction")["query"], params={"min_idle": {"value": "0 seconds"}})
    assert sorted(r["pid"] for r in rows) == sorted(world["in_transaction"])   # diagnose's 2 are idle in one too
    assert {r["application_name"] for r in rows} == {"backend"}


def test_idle_hoarded_counts_the_world_not_diagnose(desk, world, own_sessions):
    # min_free far above the free slots: the check then shows its counts whatever the server's size
    rows = query(desk, builtin("idle-hoarded")["query"], params={"min_free": {"value": 1_000_000}})
    assert [(r["application_name"], r["idle_connections"], r["idle_total"], r["database_connections"])
            for r in rows] == [("backend", 3, 3, 5)]     # diagnose's idle pooled session is not one of them


def test_a_whole_run_counts_only_the_world(desk, world, pg_server):
    """``diagnose db-pool-exhausted`` as a user runs it: its sessions are not in its own counts."""
    profile = Profile()
    profile.sources["databases"]["desk"] = desk
    profile.sources["logs"]["postgres"] = str(pg_server.log_path)
    run = run_entry(ENTRY, PACK, Resolver(profile), {}, default_timeout=10)
    results = {r.id: r for r in run.results}
    slots = results["free-slots"]
    assert slots.status is Status.PASS, slots.message
    [row] = [dict(zip(slots.evidence[0].columns, r)) for r in slots.evidence[0].rows]
    assert row["database_connections"] == 5, row
    assert results["idle-in-transaction"].evidence[0].total == 0    # the world's 2 are not 5 s old yet
    assert results["idle-hoarded"].status is Status.PASS


# -- what the page says is what a check sees -------------------------------------------------------------


def test_the_settings_a_check_sees_are_those_the_page_lists(desk):
    from diagnose.checks.sql_session import (APPLICATION_NAME, BUDGET_MARGIN_MS, IDLE_GRACE_MS, SESSION_OPTIONS,
                                             TRANSACTION_SETTINGS)

    ctx = FixedBudget(timeout=10.0, now=datetime.now(timezone.utc), resolve=resolver(desk))
    try:
        outcome = sql.run({"id": "settings", "kind": "sql", "database": "desk", "max_rows": 100,
                           "query": "SELECT name, setting, source, reset_val FROM pg_settings "
                                    "WHERE source IN ('client', 'session') ORDER BY name",
                           "expect": {"rows": {"min": 1}}}, ctx)
        [me] = rows_of(sql.run({"id": "me", "kind": "sql", "database": "desk", "expect": {"rows": 1},
                                "query": "SELECT backend_xmin IS NOT NULL AS has_snapshot, backend_xid, "
                                         "current_setting('transaction_isolation') AS isolation "
                                         "FROM pg_stat_activity WHERE pid = pg_backend_pid()"}, ctx))
    finally:
        ctx.shared.close()
    seen = {r["name"]: r for r in rows_of(outcome)}
    assert {name: r["source"] for name, r in seen.items()} == {s.name: s.source for s in own_settings()}
    assert seen["application_name"]["setting"] == APPLICATION_NAME
    for name, value in {**SESSION_OPTIONS, **TRANSACTION_SETTINGS, "transaction_read_only": "on"}.items():
        assert seen[name]["setting"] == value, name
    limit = int(ctx.left * 1000) - BUDGET_MARGIN_MS
    for column in ("setting", "reset_val"):   # the check's transaction, and the session it opened
        assert int(seen["statement_timeout"][column]) == int(seen["lock_timeout"][column]) == limit
        assert int(seen["idle_in_transaction_session_timeout"][column]) == limit + IDLE_GRACE_MS
    # the snapshot of the statement that runs, no transaction id, the server's default isolation
    assert me == {"has_snapshot": True, "backend_xid": None, "isolation": "read committed"}


def test_the_pages_queries_pass_the_guard_and_say_what_it_claims(desk, world, own_sessions, pg_server):
    """Every SQL block of the page, run as a diagnose check by a read-only pg_monitor role."""
    pg_server.execute(f"DO $$ BEGIN CREATE ROLE {ROLE} LOGIN IN ROLE pg_monitor; "
                      "EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
                      f"ALTER ROLE {ROLE} SET idle_in_transaction_session_timeout = '77s'")
    dsn = pg_server.dsn(dbname_of(desk), user=ROLE)
    blocks = re.findall(r"```sql\n(.*?)\n```", own_session_page(), re.S)
    assert len(blocks) == 5
    sessions, xmin, locks, reset, configured = (query(dsn, block) for block in blocks)
    assert sessions == [{"sessions": 5}]                                  # the world, not diagnose's 3 + 1
    # the check's own session had a snapshot and locks while it ran, diagnose's others locks: none is listed
    snapshot_holder = world["in_transaction"][0]
    assert snapshot_holder in {r["pid"] for r in xmin}
    assert all(r["application_name"] != session.APPLICATION_NAME for r in xmin)
    assert set(world["in_transaction"]) <= {r["pid"] for r in locks}       # their virtualxid locks
    assert all(r["application_name"] != session.APPLICATION_NAME for r in locks)
    with psycopg.connect(desk) as conn:
        server_jit = conn.execute("SELECT current_setting('jit')").fetchone()[0]
    reset = {r["name"]: r for r in reset}
    assert reset["jit"]["in_this_transaction"] == "off" and reset["jit"]["outside_it"] == server_jit
    assert {"database": "every database", "role": ROLE, "value": "77s"} in configured
    # while inside the check the value is diagnose's, not the role's 77s
    [inside] = query(dsn, "SELECT current_setting('idle_in_transaction_session_timeout') AS value")
    assert inside["value"] != "77s"
    pg_server.execute(f"ALTER ROLE {ROLE} RESET idle_in_transaction_session_timeout")
