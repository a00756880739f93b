"""Worlds that hold database state: sessions that run SQL and keep their transaction open or wait on a
lock, prepared transactions, statements outside a transaction, and servers of an example's own. Each
state is read the way a check reads it: from a fresh connection, with the real sql check kind."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from diagnose.checks import load_kind
from diagnose.checks.base import Context
from diagnose.kb.model import Example, Pack
from diagnose.pg.server import ServerPool
from diagnose.world.build import World, autocommit_statements
from diagnose.world.sessions import SessionError, validate
from diagnose.world.specs import WorldSpecError, server_spec

APP = ("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);"
       "INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 1000) g;")
HOLDER = {"application_name": "holder", "sql": "UPDATE accounts SET balance = 0 WHERE id = 1", "hold": "open"}
WAITER = {"application_name": "waiter", "sql": "UPDATE accounts SET balance = 1 WHERE id = 1", "wait": True}


@pytest.fixture
def pack(tmp_path) -> Pack:
    """A pack without reference schemas: each world makes its own `app` database."""
    return Pack(root=tmp_path, name="hold", version="0", site_url="https://diagnose.invalid", digest="-",
                sources={}, reference_schemas={})


@pytest.fixture
def world_of(pg_server, pack, tmp_path):
    """``world_of({...}, pg=...)`` -> an entered World on ``pg`` (default: the shared test server)."""
    opened: list[World] = []

    def build(world: dict, pg=pg_server) -> World:
        w = World(pack, Example(name="case", verdict="problem", causes=(), world={"databases": {"app": APP}, **world}),
                  pg, tmp_path / f"world-{len(opened)}")
        opened.append(w)
        return w.__enter__()

    yield build
    for w in opened:
        w.close()


def check(world: World, query: str, **expect):
    """The sql check kind on the world's `app` database (a fresh connection, read-only)."""
    dsn = world.profile.sources["databases"]["app"]
    ctx = Context(timeout=5, now=datetime.now(timezone.utc), resolve=lambda _kind, _name: dsn)
    try:
        return load_kind("sql").run({"id": "probe", "kind": "sql", "database": "app", "query": query,
                                     "expect": expect or {"rows": 0}}, ctx)
    finally:
        ctx.shared.close()


def one(dsn: str, query: str, *args):
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(query, args or None).fetchone()


def test_a_session_waits_on_the_lock_the_session_before_it_holds(world_of):
    world = world_of({"sessions": {"app": [HOLDER, WAITER]}})
    outcome = check(world, "SELECT w.application_name AS waiter, h.application_name AS holder, h.state AS holder_state "
                           "FROM pg_stat_activity w JOIN pg_locks l ON l.pid = w.pid AND NOT l.granted "
                           "JOIN pg_stat_activity h ON h.pid = ANY(pg_blocking_pids(w.pid)) "
                           "WHERE w.datname = current_database()")
    assert not outcome.passed
    assert outcome.vars["count"] == 1
    assert (outcome.vars["waiter"], outcome.vars["holder"], outcome.vars["holder_state"]) == \
        ("waiter", "holder", "idle in transaction")
    dsn = world.profile.sources["databases"]["app"]
    world.close()
    assert one(dsn.rsplit("/", 1)[0] + "/postgres", "SELECT count(*) FROM pg_stat_activity WHERE application_name "
                                                    "IN ('holder', 'waiter')") == (0,)


def test_a_long_query_waits_until_the_world_closes(world_of):
    world = world_of({"sessions": {"app": [
        {"application_name": "report", "sql": "SELECT pg_sleep(600)", "wait": True}]}})
    outcome = check(world, "SELECT wait_event FROM pg_stat_activity WHERE application_name = 'report' "
                           "AND state = 'active'", rows=1)
    assert (outcome.passed, outcome.vars["wait_event"]) == (True, "PgSleep")
    started = time.monotonic()
    world.close()                                  # cancelled, not waited for
    assert time.monotonic() - started < 5


def test_a_repeatable_read_snapshot_held_shows_backend_xmin(world_of):
    world = world_of({"sessions": {"app": [
        {"application_name": "report", "hold": "open",
         "sql": ["BEGIN ISOLATION LEVEL REPEATABLE READ", "SELECT count(*) FROM accounts"]},
        {"application_name": "forgetful", "state": "idle in transaction"},   # the short form holds none
    ]}})
    outcome = check(world, "SELECT application_name FROM pg_stat_activity WHERE datname = current_database() "
                           "AND state = 'idle in transaction' AND backend_xmin IS NOT NULL "
                           "AND pid <> pg_backend_pid()")
    assert (outcome.passed, outcome.vars["count"], outcome.vars["application_name"]) == (False, 1, "report")


def test_vacuum_runs_outside_a_transaction_after_the_world_sql(world_of):
    world = world_of({"databases": {"app": APP + "DELETE FROM accounts WHERE id > 500;"},
                      "autocommit": {"app": ["VACUUM (ANALYZE) accounts",
                                             "CREATE INDEX CONCURRENTLY ON accounts (balance)"]}})
    outcome = check(world, "SELECT n_dead_tup, vacuum_count FROM pg_stat_user_tables WHERE relname = 'accounts' "
                           "AND vacuum_count = 1 AND n_dead_tup = 0", rows=1)
    assert outcome.passed, outcome.vars
    assert one(world.profile.sources["databases"]["app"],
               "SELECT count(*) FROM pg_indexes WHERE tablename = 'accounts'") == (2,)
    with pytest.raises(psycopg.errors.ActiveSqlTransaction):     # what `databases` SQL cannot do
        world_of({"databases": {"app": APP + "VACUUM accounts;"}})


def test_a_prepared_transaction_shows_until_the_world_closes_and_leaves_the_server_reusable(pack, tmp_path):
    world_spec = {"server": {"settings": {"max_prepared_transactions": 2}}, "databases": {"app": APP},
                  "sessions": {"app": [
                      {"application_name": "coordinator", "sql": [
                          "BEGIN", "UPDATE accounts SET balance = 0 WHERE id = 7", "PREPARE TRANSACTION 'transfer-7'"]},
                      {"application_name": "waiter", "sql": "UPDATE accounts SET balance = 1 WHERE id = 7",
                       "wait": True}]}}
    with ServerPool() as pool:
        with World(pack, Example("prepared", "problem", (), world_spec), pool, tmp_path / "w") as world:
            outcome = check(world, "SELECT gid FROM pg_prepared_xacts WHERE database = current_database()")
            assert (outcome.passed, outcome.vars.get("gid")) == (False, "transfer-7")
            assert check(world, "SELECT 1 FROM pg_stat_activity WHERE application_name = 'waiter' "
                                "AND wait_event_type = 'Lock'", rows=1).passed
            server = world.pg
            assert world.server_label == "dedicated server (max_prepared_transactions=2)"
        # rolled back: the pool finds the server clean and lends the same one again
        again = pool.lend({"max_prepared_transactions": "2"})
        assert again is server and pool.dedicated_starts == 1
        assert one(again.dsn("postgres"), "SELECT count(*) FROM pg_prepared_xacts") == (0,)
        pool.give_back(again)


def test_settings_reach_a_dedicated_server_and_the_shared_one_is_untouched(world_of, pg_server):
    world = world_of({"server": {"settings": {"max_connections": 20, "track_commit_timestamp": True}}})
    dsn = world.profile.sources["databases"]["app"]
    assert one(dsn, "SHOW max_connections") == ("20",)
    assert one(dsn, "SHOW track_commit_timestamp") == ("on",)
    assert world.pg is not pg_server and world.pg.port != pg_server.port
    assert one(pg_server.dsn("postgres"), "SHOW max_connections") == ("50",)
    assert one(pg_server.dsn("postgres"), "SELECT count(*) FROM pg_database WHERE datname = %s",
               psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]) == (0,)
    dedicated = world.pg
    world.close()
    assert dedicated.process is None and dedicated.base_dir is None      # stopped, its directory gone


def test_a_dedicated_server_sees_only_its_own_world(world_of, pg_server):
    other = world_of({"sessions": {"app": [{"state": "idle", "count": 3, "application_name": "api"}]}})
    world = world_of({"server": "dedicated",
                      "sessions": {"app": [{"state": "idle", "count": 2, "application_name": "api"}]}})
    assert check(world, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'api'", value=2).passed
    assert check(other, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'api'", value=3).passed


def test_a_wait_with_nothing_to_wait_on_fails_in_one_line_and_leaves_nothing(world_of, pg_server):
    with pytest.raises(SessionError) as caught:
        world_of({"server": {"settings": {"max_connections": 20}}, "sessions": {"app": [WAITER]}})
    assert str(caught.value) == ("sessions app[0] (waiter): wait: true, but 'UPDATE accounts SET balance = 1 WHERE "
                                 "id = 1' finished at once: nothing holds what it would wait for (list the session "
                                 "holding it first, with hold: open)")
    assert "\n" not in str(caught.value)
    # the order matters: the waiter listed before the holder has nothing to wait on yet
    with pytest.raises(SessionError, match=r"^sessions app\[0\] \(waiter\): wait: true, but"):
        world_of({"sessions": {"app": [WAITER, HOLDER]}})
    assert one(pg_server.dsn("postgres"), "SELECT count(*) FROM pg_stat_activity WHERE application_name "
                                          "IN ('holder', 'waiter')") == (0,)


def test_a_build_failing_half_way_stops_the_dedicated_server(pack, pg_server, tmp_path):
    world = World(pack, Example("x", "problem", (), {"server": "dedicated", "databases": {"app": APP},
                                                     "sessions": {"app": [HOLDER, {**WAITER, "sql": "SELEC 1"}]}}),
                  pg_server, tmp_path / "w")
    with pytest.raises(SessionError, match=r"^sessions app\[1\] \(waiter\): 'SELEC 1' failed instead of waiting: "
                                           r"syntax error at or near \"SELEC\"$"):
        world.__enter__()
    assert world.pg.process is None and world.pg.base_dir is None


@pytest.mark.parametrize("item, message", [
    ({"sql": "SELECT 1", "holds": "open"},
     "sessions app[0]: unknown key 'holds' (use sql, hold, wait, count, application_name or idle_for)"),
    ({"application_name": "waiter", "wait": True},
     "sessions app[0] (waiter): wait: true has nothing to wait on: give sql, the statements whose last one waits "
     "(e.g. an UPDATE of a row a session listed before it holds with hold: open)"),
    ({"hold": "open"}, "sessions app[0]: hold: open needs sql, the statements whose transaction stays open"),
    ({"state": "idle", "sql": "SELECT 1"}, "sessions app[0]: give state or sql, not both"),
    ({"count": 2}, "sessions app[0]: give state (idle, idle in transaction, active) or sql (the statements the "
                   "session runs)"),
    ({"sql": "SELECT 1", "hold": "closed"},
     "sessions app[0]: hold must be open (the transaction stays open), not 'closed'"),
    ({"sql": "SELECT 1", "wait": "yes"},
     "sessions app[0]: wait must be true, not a text ('yes') (leave the key out instead)"),
    ({"sql": []}, "sessions app[0]: sql must be a statement or a list of statements, not an empty list"),
    ({"sql": ["SELECT 1", 2]}, "sessions app[0]: sql[1] must be a statement (a text), not 2"),
])
def test_bad_session_specs_name_the_session(item, message):
    with pytest.raises(WorldSpecError) as caught:
        validate({"app": [item]}, {"app"})
    assert str(caught.value) == message


@pytest.mark.parametrize("statements, message", [
    ("COMMIT", "sessions app[0] (holder): hold: open, but the statements end their transaction (COMMIT, ROLLBACK or "
               "PREPARE TRANSACTION): leave hold out to keep the session idle"),
    (None, "sessions app[0] (holder): the statements leave a transaction open: say hold: open to keep it open"),
])
def test_a_session_that_does_not_end_as_it_says_is_refused(world_of, statements, message):
    spec = ({**HOLDER, "sql": [HOLDER["sql"], statements]} if statements else
            {"application_name": "holder", "sql": ["BEGIN", HOLDER["sql"]]})
    with pytest.raises(SessionError) as caught:
        world_of({"sessions": {"app": [spec]}})
    assert str(caught.value) == message


@pytest.mark.parametrize("spec, message", [
    ("own", "server: must be dedicated or a mapping such as {settings: {max_connections: 20}}, not a text ('own')"),
    ({"dedicate": True}, "server: unknown key 'dedicate' (use dedicated or settings)"),
    ({"settings": {"port": 5433}}, "server settings port: diagnose sets this one itself to start and reach the server"),
    ({"settings": {"max connections": 5}},
     "server settings: 'max connections' is not a setting name (such as max_connections)"),
    ({"settings": {"work_mem": [1]}},
     "server settings work_mem: must be a number, a boolean or a one-line text, not a list"),
])
def test_bad_server_specs_are_one_line(spec, message):
    with pytest.raises(WorldSpecError) as caught:
        server_spec({"server": spec})
    assert str(caught.value) == message


def test_server_specs():
    assert server_spec({}) is None
    assert server_spec({"server": "dedicated"}).label == "dedicated server"
    assert server_spec({"server": {"dedicated": True}}).settings == ()
    assert server_spec({"server": {"settings": {"max_connections": 20, "fsync": False}}}).settings == \
        (("fsync", "off"), ("max_connections", "20"))


@pytest.mark.parametrize("spec, dedicated, message", [
    ({"ledger": "VACUUM"}, False, "autocommit ledger: no database 'ledger' in this world (known: app)"),
    ({"app": ["VACUUM", "CREATE DATABASE archive"]}, False,
     "autocommit app[1]: this statement changes the whole server, which other worlds share: add server: dedicated "
     "to this world"),
    ({"app": "ALTER SYSTEM SET work_mem = '8MB'"}, True,
     "autocommit app[0]: ALTER SYSTEM: give the setting in server: {settings: {...}} instead"),
])
def test_bad_autocommit_specs_are_one_line(spec, dedicated, message):
    with pytest.raises(WorldSpecError) as caught:
        autocommit_statements(spec, {"app"}, dedicated)
    assert str(caught.value) == message


def test_a_world_without_postgres_builds_its_files_only(pack, tmp_path):
    with World(pack, Example("logs", "problem", (), {"logs": {"app": "{now-5m} ERROR boom\n"}}), None,
               tmp_path / "w") as world:
        assert Path(world.profile.sources["logs"]["app"]).read_text().endswith("ERROR boom\n")
        assert world.profile.sources["databases"] == {}
    with pytest.raises(ValueError, match=r"^this world needs PostgreSQL \(sessions\), but it is built without one$"):
        World(pack, Example("s", "problem", (), {"sessions": {"app": [{"state": "idle"}]}}), None,
              tmp_path / "v").__enter__()
