"""Issue 6, "Trust": a check never writes to the database it diagnoses, shown on a real PostgreSQL.

Three layers, each shown on its own, each judged by a fingerprint of the whole database (every
table's rows, every sequence, the catalog's object counts, large objects, advisory locks,
replication slots, the statistics reset time) taken before and after:

1. every ``kind: sql`` check of the built-in pack, run in the worlds of its entry's examples;
2. planted statements run through the kind as if a careless or malicious YAML got past lint:
   refused before sending (PostgreSQL's parser, then the server's catalog: :func:`diagnose.checks.sql.screen`
   and :func:`~diagnose.checks.sql.catalog_refusal`); with that guard switched off, the READ ONLY
   transaction still refuses every write the server can see, and a pooled connection never keeps a
   session lock or setting;
3. ``diagnose lint`` (the kind's ``lint``) refuses every planted statement it can know about without
   a server (all but the database's own functions).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest
from psycopg import sql as pgsql

from diagnose.checks import sql
from diagnose.checks.base import CheckError, Context, RunResources, SkipCheck, Status
from diagnose.checks.sql_pool import SqlPool
from diagnose.kb.loader import load_pack
from diagnose.profile import Resolver
from diagnose.runner import run_checks
from diagnose.world.build import World, reference_database

PACK = load_pack()
SQL_ENTRIES = [e.id for e in PACK.entries if any(c.kind == "sql" for c in e.checks)]
SCHEMAS = Path(__file__).resolve().parents[2] / "checks" / "schemas"

SEED = """
INSERT INTO positions (position_id, idempotency_key, symbol, timeframe, side, qty_total, status, execution_mode)
VALUES ('p1', 'k1', 'BTCUSDT', '1h', 'BUY', 0.001, 'OPEN', 'PAPER'),
       ('p2', 'k2', 'ETHUSDT', '15m', 'SELL', 2, 'OPEN', 'LIVE');
INSERT INTO order_rejections (idempotency_key, symbol, timeframe, reason, blocking_position_id)
VALUES ('k9', 'BTCUSDT', '1h', 'position_mutex_blocked', 'p1');
CREATE FUNCTION record_rejection() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO order_rejections (idempotency_key, symbol, timeframe, reason) VALUES ('x', 'X', '1h', 'planted');
  RETURN 1;
END $$;
CREATE PROCEDURE record_rejection_proc() LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO order_rejections (idempotency_key, symbol, timeframe, reason) VALUES ('x', 'X', '1h', 'planted');
END $$;
-- takes a session-level lock where no text guard can see it
CREATE FUNCTION take_lock() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_lock(4242); RETURN 1; END $$;
"""

TABLES = """
SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' ORDER BY 1, 2
"""
CATALOG = """
SELECT 'objects in ' || n.nspname, count(*)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace GROUP BY 1
UNION ALL SELECT 'functions', count(*)::text FROM pg_proc
UNION ALL SELECT 'large objects', count(*)::text FROM pg_largeobject_metadata
UNION ALL SELECT 'replication slots', count(*)::text FROM pg_replication_slots
UNION ALL SELECT 'advisory locks', count(*)::text FROM pg_locks
           WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
UNION ALL SELECT 'stats reset', coalesce(stats_reset::text, 'never') FROM pg_stat_database WHERE datname = current_database()
"""


def fingerprint(dsn: str) -> dict[str, str]:
    """Row count and md5 of every table, every sequence's position, and the catalog's counts."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        parts = []
        for schema, name, kind in conn.execute(TABLES).fetchall():
            label, table = pgsql.Literal(f"{schema}.{name}"), pgsql.Identifier(schema, name)
            parts.append(pgsql.SQL("SELECT {}, last_value || '/' || is_called FROM {}" if kind == "S" else
                                   "SELECT {}, count(*) || ' rows ' || coalesce(md5(string_agg(t::text, ',' "
                                   "ORDER BY t::text)), '') FROM {} t").format(label, table))
        state = dict(conn.execute(pgsql.SQL(" UNION ALL ").join(parts)).fetchall()) if parts else {}
        state.update(conn.execute(CATALOG).fetchall())
        return state


def context(dsn: str, shared: RunResources | None = None, timeout: float = 10.0) -> Context:
    def resolve(kind: str, name: str):
        if kind != "databases":
            raise SkipCheck(f"{kind} source {name!r} is not configured")
        return dsn

    return Context(timeout=timeout, now=datetime.now(timezone.utc), resolve=resolve,
                   shared=shared if shared is not None else RunResources())


def run(dsn: str, query: str, shared: RunResources | None = None):
    """The planted query as a KB check runs it (``diagnose.checks.sql.run``); lint never saw it."""
    check = {"id": "planted", "kind": "sql", "database": "trading", "query": query, "expect": {"rows": {"max": 1000}}}
    ctx = context(dsn, shared)
    try:
        return sql.run(check, ctx)
    finally:
        if shared is None:
            ctx.shared.close()


# --- 1. the whole built-in pack, in populated worlds ------------------------------------------------

def sweep(pg_server, workdir: Path, example, checks) -> tuple[list, int]:
    """Build ``example``'s world, run ``checks`` in it as a diagnosis would, and compare every database of
    the world before and after: (results, how many tables the fingerprints covered)."""
    with World(PACK, example, pg_server, workdir) as world:
        databases = world.profile.sources["databases"]
        before = {name: fingerprint(dsn) for name, dsn in databases.items()}
        results = run_checks(checks, Resolver(world.profile))  # closes its connections when done
        after = {name: fingerprint(dsn) for name, dsn in databases.items()}
    assert after == before, f"{example.name}: a check changed the database"
    return results, sum(" rows " in value for state in before.values() for value in state.values())


@pytest.mark.parametrize("entry_id", SQL_ENTRIES)
def test_every_sql_check_of_the_pack_leaves_its_worlds_unchanged(pg_server, tmp_path, entry_id):
    entry = PACK.get(entry_id)
    checks = [c for c in entry.checks if c.kind == "sql"]
    for name in PACK.reference_schemas:  # created once, before worlds clone them concurrently (as selftest does)
        reference_database(pg_server, PACK, name)
    with ThreadPoolExecutor(max_workers=4) as pool:
        swept = list(pool.map(lambda x: sweep(pg_server, tmp_path / x.name, x, checks), entry.examples))
    refused = [f"{r.id}: {r.message}" for results, _ in swept for r in results
               if r.status is Status.ERROR and "refused" in r.message]
    assert refused == []
    assert all(tables >= 5 for _, tables in swept)  # the fingerprints cover the schemas' tables
    # every check really read a world at least once (not skipped or failed to run everywhere)
    answered = {r.id for results, _ in swept for r in results if r.status in (Status.PASS, Status.FAIL)}
    assert answered == {c.id for c in checks}


def test_the_sweep_covers_the_sql_checks_of_the_whole_pack():
    checks = [c for e in PACK.entries for c in e.checks if c.kind == "sql"]
    assert len(checks) >= 30 and all(PACK.get(i).examples for i in SQL_ENTRIES)


# --- 2. planted statements, run through the kind ---------------------------------------------------

@dataclass(frozen=True)
class Plant:
    id: str
    query: str            # {victim}: another session's pid; {file}: a path the server could write;
    #                       {conninfo}: this very database, as a new connection would reach it
    lint: str | None      # what lint says about it (None: lint cannot know: a function of the database's own)
    says: str | None      # regex of the check's error (None: allowed to run, and rolled back)
    server_says: str | None = None   # the error with the guard switched off (None: the server alone
    #                                  would not stop it, which is why the guard refuses it)


READ_ONLY = "refused: the check tried to write \\(read-only transaction\\): cannot execute "
NOT_SENT = "refused, not sent to database 'trading': "
NOT_READ = " is not a read statement"
VOLATILE = r"\(.*\) is VOLATILE on this server"
ROLLED_BACK = "(runs, and the transaction undoes it)"
SINGLE = "the query must be a single statement \\(cannot insert multiple commands into a prepared statement\\)"

PLANTS = [
    Plant("update", "UPDATE positions SET status = 'CLOSED'", "UPDATE is not a read statement",
          NOT_SENT + "UPDATE" + NOT_READ, READ_ONLY + "UPDATE"),
    Plant("delete", "DELETE FROM order_rejections", "DELETE is not a read", NOT_SENT + "DELETE" + NOT_READ,
          READ_ONLY + "DELETE"),
    Plant("insert", "INSERT INTO order_rejections (idempotency_key, symbol, timeframe, reason) VALUES ('a', 'b', 'c', 'd')",
          "INSERT is not a read", NOT_SENT + "INSERT" + NOT_READ, READ_ONLY + "INSERT"),
    Plant("select-for-update", "SELECT * FROM positions FOR UPDATE", "'FOR UPDATE' locks rows",
          NOT_SENT + "'FOR UPDATE' locks rows", READ_ONLY + "SELECT FOR UPDATE"),
    Plant("copy-to-stdout", "COPY positions TO STDOUT", "COPY is not a read", NOT_SENT + "COPY" + NOT_READ),
    Plant("copy-from-stdin", "COPY order_rejections FROM STDIN", "COPY is not a read",
          NOT_SENT + "COPY" + NOT_READ, READ_ONLY + "COPY FROM"),
    # a superuser's READ ONLY transaction writes server files and runs programs: only the guard stops these
    Plant("copy-to-server-file", "COPY (SELECT * FROM positions) TO '{file}'", "COPY is not a read",
          NOT_SENT + "COPY" + NOT_READ),
    Plant("copy-to-program", "COPY (SELECT 1) TO PROGRAM 'touch {file}'", "COPY is not a read",
          NOT_SENT + "COPY" + NOT_READ),
    Plant("data-modifying-cte", "WITH gone AS (DELETE FROM order_rejections RETURNING *) SELECT count(*) FROM gone",
          "DELETE changes data", NOT_SENT + "DELETE changes data", READ_ONLY),
    Plant("side-effect-function", "SELECT record_rejection()", None, NOT_SENT + "record_rejection" + VOLATILE,
          READ_ONLY + "INSERT"),
    Plant("nextval", "SELECT nextval('order_rejections_id_seq')", "nextval() is VOLATILE",
          NOT_SENT + "nextval" + VOLATILE, READ_ONLY + "nextval\\(\\)"),
    Plant("set-config-then-write", "SELECT set_config('default_transaction_read_only', 'off', false); "
          "DELETE FROM order_rejections", "2 statements (SELECT, DELETE)", NOT_SENT + "2 statements \\(SELECT, DELETE\\)", SINGLE),
    Plant("begin-commit", "BEGIN; DELETE FROM order_rejections; COMMIT", "3 statements", NOT_SENT + "3 statements \\(BEGIN, DELETE, COMMIT\\)",
          SINGLE),
    Plant("set-transaction-read-write", "SET TRANSACTION READ WRITE", "SET is not a read",
          NOT_SENT + "SET" + NOT_READ, "transaction read-write mode must be set before any query"),
    Plant("call-procedure", "CALL record_rejection_proc()", "CALL is not a read", NOT_SENT + "CALL" + NOT_READ,
          READ_ONLY + "INSERT"),
    Plant("do-block", "DO $$ BEGIN INSERT INTO order_rejections (idempotency_key, symbol, timeframe, reason) "
          "VALUES ('x', 'X', '1h', 'planted'); END $$", "DO is not a read", NOT_SENT + "DO" + NOT_READ,
          READ_ONLY + "INSERT"),
    # READ ONLY allows LOCK in every mode: ACCESS EXCLUSIVE would stall the application until rollback
    Plant("lock-table", "LOCK TABLE positions", "LOCK is not a read", NOT_SENT + "LOCK" + NOT_READ),
    Plant("vacuum", "VACUUM positions", "VACUUM or ANALYZE is not a read", NOT_SENT + "VACUUM or ANALYZE" + NOT_READ,
          "VACUUM cannot run inside a transaction block"),
    Plant("create-temp-table", "CREATE TEMP TABLE planted AS SELECT * FROM positions", "CREATE TABLE AS is not a read",
          NOT_SENT + "CREATE TABLE AS" + NOT_READ, READ_ONLY + "CREATE TABLE AS"),
    Plant("notify", "NOTIFY diagnose_planted", "NOTIFY is not a read", NOT_SENT + "NOTIFY" + NOT_READ),
    # the rest run happily in a READ ONLY transaction and act beyond it
    Plant("advisory-lock", "SELECT pg_advisory_lock(1)", "pg_advisory_lock() is VOLATILE",
          NOT_SENT + "pg_advisory_lock" + VOLATILE),
    Plant("terminate-backend", "SELECT pg_terminate_backend({victim})", "pg_terminate_backend() is VOLATILE",
          NOT_SENT + "pg_terminate_backend" + VOLATILE),
    Plant("cancel-backend", "SELECT pg_catalog.pg_cancel_backend({victim})", "pg_cancel_backend() is VOLATILE",
          NOT_SENT + "pg_cancel_backend" + VOLATILE),
    Plant("quoted-function-name", 'SELECT "pg_terminate_backend"({victim})', "pg_terminate_backend() is VOLATILE",
          NOT_SENT + "pg_terminate_backend" + VOLATILE),
    # an extension's function: the server's catalog judges it (not installed with these binaries: the
    # server refuses the unknown function itself)
    Plant("dblink-write", "SELECT * FROM dblink('{conninfo}', 'DELETE FROM order_rejections RETURNING 1') "
          "AS gone(n int)", None, f"(?:{NOT_SENT}dblink{VOLATILE}|function dblink\\(unknown, unknown\\) does not exist)"),
    Plant("dynamic-sql-write", "SELECT query_to_xml('DELETE FROM order_rejections RETURNING 1', true, true, '')",
          "query_to_xml() runs SQL given as text", NOT_SENT + "query_to_xml\\(.*\\) runs SQL given as text",
          "DELETE is not allowed in a non-volatile function"),
    Plant("lock-in-a-string", "SELECT query_to_xml('SELECT pg_advisory_lock(2)', true, true, '')",
          "query_to_xml() runs SQL given as text", NOT_SENT + "query_to_xml\\(.*\\) runs SQL given as text"),
    Plant("replication-slot", "SELECT pg_create_physical_replication_slot('diagnose_planted')",
          "pg_create_physical_replication_slot() is VOLATILE", NOT_SENT + "pg_create_physical_replication_slot" + VOLATILE),
    Plant("statistics-reset", "SELECT pg_stat_reset()", "pg_stat_reset() is VOLATILE", NOT_SENT + "pg_stat_reset" + VOLATILE),
    # refused too, although the transaction would undo them (each has its own test below, guard off)
    Plant("large-object", "SELECT lo_from_bytea(0, 'planted')", "lo_from_bytea() is VOLATILE",
          NOT_SENT + "lo_from_bytea" + VOLATILE, ROLLED_BACK),
    Plant("set-config", "SELECT set_config('default_transaction_read_only', 'off', false)",
          "set_config() is VOLATILE", NOT_SENT + "set_config" + VOLATILE, ROLLED_BACK),
    Plant("pg-notify", "SELECT pg_notify('diagnose_planted', 'x')", "pg_notify() is VOLATILE",
          NOT_SENT + "pg_notify" + VOLATILE, ROLLED_BACK),
    Plant("lock-inside-a-function", "SELECT take_lock()", None, NOT_SENT + "take_lock" + VOLATILE, ROLLED_BACK),
    Plant("typo", "SELEC 1", "not valid PostgreSQL: syntax error at or near \"SELEC\"",
          NOT_SENT + "not valid PostgreSQL: syntax error at or near \"SELEC\"", "syntax error at or near \"SELEC\""),
]


@pytest.fixture(scope="module")
def victim_db(pg_server) -> str:
    """A trading database with rows, a side-effect function and procedure, set up as the superuser."""
    dsn = pg_server.create_database("readonly_victim", schema_sql=(SCHEMAS / "trading.sql").read_text() + SEED)
    try:
        pg_server.execute("CREATE EXTENSION dblink", "readonly_victim")
    except psycopg.Error:
        pass  # not shipped with these binaries: the guard refuses the text all the same
    return dsn


@pytest.fixture
def planted(pg_server, victim_db):
    """``planted(plant)`` -> the query with {victim}, {file} and {conninfo} filled in; checks afterwards
    that the other session is still alive and that no server file appeared."""
    other = psycopg.connect(victim_db, autocommit=True)
    server_dir = Path(pg_server.base_dir)  # the server's own: it could write here
    target = server_dir / "planted-by-a-check.txt"

    def fill(plant: Plant) -> str:
        conninfo = f"host=127.0.0.1 port={pg_server.port} dbname=readonly_victim user=postgres"
        return plant.query.format(victim=other.info.backend_pid, file=target, conninfo=conninfo)

    yield fill
    written = target.exists()
    target.unlink(missing_ok=True)
    try:
        assert other.execute("SELECT 1").fetchone() == (1,), "the other session was disturbed"
    finally:
        other.close()
    assert not written, "a check wrote a file on the database server"


def refused_or_rolled_back(dsn: str, query: str, says: str | None) -> None:
    before = fingerprint(dsn)
    if says is None:
        run(dsn, query)  # may pass: it must leave nothing behind
    else:
        with pytest.raises(CheckError) as raised:
            run(dsn, query)
        message = str(raised.value)
        assert re.search(says, message) and "\n" not in message, message
    assert fingerprint(dsn) == before


@pytest.mark.parametrize("plant", PLANTS, ids=[p.id for p in PLANTS])
def test_planted_statements_are_refused_or_rolled_back(victim_db, planted, plant):
    refused_or_rolled_back(victim_db, planted(plant), plant.says)


SERVER_STOPS = [p for p in PLANTS if p.server_says]


@pytest.mark.parametrize("plant", SERVER_STOPS, ids=[p.id for p in SERVER_STOPS])
def test_without_the_text_guard_the_server_still_refuses_or_rolls_back(monkeypatch, victim_db, planted, plant):
    monkeypatch.setattr(sql, "screen", lambda query, name: None)
    refused_or_rolled_back(victim_db, planted(plant), None if plant.server_says == ROLLED_BACK else plant.server_says)


def advisory_locks(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0]


@pytest.mark.parametrize("query", ["SELECT take_lock()", "SELECT pg_advisory_lock(7)", "SELECT 1 / (take_lock() - 1)"])
def test_a_session_lock_never_outlives_its_check_on_a_pooled_connection(monkeypatch, victim_db, query):
    monkeypatch.setattr(sql, "screen", lambda query, name: None)  # as if the lock hid where no guard looks
    shared = RunResources()
    try:
        try:
            assert run(victim_db, query, shared).passed is True
        except CheckError as exc:
            assert "division by zero" in str(exc)
        assert advisory_locks(victim_db) == 0  # the connection is still open, idle in the pool
        mine = run(victim_db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
                   shared)
        assert mine.vars["value"] == 0 and shared.get("sql", SqlPool).opened == 1  # the same connection, lock-free
    finally:
        shared.close()


def test_a_session_setting_changed_by_a_check_is_undone_before_the_next(monkeypatch, victim_db):
    monkeypatch.setattr(sql, "screen", lambda query, name: None)  # the guard refuses set_config: below it
    shared = RunResources()
    try:
        assert run(victim_db, "SELECT set_config('default_transaction_read_only', 'off', false)",
                   shared).vars["value"] == "off"
        after = run(victim_db, "SELECT current_setting('default_transaction_read_only') AS session_default, "
                               "current_setting('transaction_read_only') AS this_transaction", shared)
        assert (after.vars["session_default"], after.vars["this_transaction"]) == ("on", "on")
        assert shared.get("sql", SqlPool).opened == 1
    finally:
        shared.close()


def test_a_notification_sent_by_a_check_is_never_delivered(monkeypatch, victim_db):
    monkeypatch.setattr(sql, "screen", lambda query, name: None)  # the guard refuses pg_notify: below it
    with psycopg.connect(victim_db, autocommit=True) as listener, psycopg.connect(victim_db, autocommit=True) as app:
        listener.execute("LISTEN diagnose_planted")
        assert run(victim_db, "SELECT pg_notify('diagnose_planted', 'from the check')").passed is True
        app.execute("NOTIFY diagnose_planted, 'from the application'")  # a committed one, which does arrive
        received = [n.payload for n in listener.notifies(timeout=5, stop_after=1)]
    assert received == ["from the application"]


# --- 3. lint ---------------------------------------------------------------------------------------

def lint_of(query: str) -> list[str]:
    check = {"id": "planted", "kind": "sql", "database": "trading", "query": query, "expect": {"rows": 0}}
    return [message for path, message in sql.lint(check) if path == "query"]


def text_of(plant: Plant) -> str:
    return plant.query.format(victim=12345, file="/tmp/planted.txt", conninfo="dbname=trading")


NOT_PLAIN = [p for p in PLANTS if p.lint]


@pytest.mark.parametrize("plant", NOT_PLAIN, ids=[p.id for p in NOT_PLAIN])
def test_lint_refuses_every_planted_statement_that_is_not_a_plain_query(plant):
    problems = lint_of(text_of(plant))
    assert any(plant.lint in message for message in problems), problems


def test_lint_cannot_know_the_databases_own_functions_which_the_run_refuses_by_the_catalog():
    assert {p.id: lint_of(text_of(p)) for p in PLANTS if not p.lint} == \
        {"side-effect-function": [], "dblink-write": [], "lock-inside-a-function": []}


def test_plain_reads_pass_lint_and_names_in_strings_or_comments_are_not_calls():
    for query in ("SELECT 'pg_cancel_backend is mentioned', count(*) FROM pg_stat_activity",
                  "-- COPY\nWITH x AS (SELECT 1) SELECT * FROM x", "SELECT 1 /* pg_stat_reset() */",
                  "SELECT now() - backend_start FROM pg_stat_activity WHERE state = 'idle in transaction'"):
        assert lint_of(query) == [], query


def test_escaped_and_commented_names_are_what_the_parser_reads(victim_db, planted):
    """``U&"\\0070g_..."`` and a comment before the parenthesis hide nothing from the parser."""
    for query in ('SELECT U&"\\0070g_terminate_backend"({victim})', "SELECT pg_terminate_backend/**/({victim})"):
        assert any("pg_terminate_backend() is VOLATILE" in m for m in lint_of(text_of(Plant("x", query, None, None))))
        refused_or_rolled_back(victim_db, planted(Plant("x", query, None, None)), NOT_SENT + "pg_terminate_backend" + VOLATILE)
