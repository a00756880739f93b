"""Sessions a world holds on its databases: the states pg_stat_activity shows while the world
exists, and nothing left behind once it is closed (also after a build that failed half way)."""

from __future__ import annotations

import psycopg
import pytest

from diagnose.world.sessions import validate

ACTIVITY = ("SELECT state, application_name, count(*) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() GROUP BY 1, 2 ORDER BY 1, 2")


def activity(pg_server, dsn):
    dbname = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
        return [tuple(row) for row in conn.execute(ACTIVITY, (dbname,))]


def test_held_sessions_show_their_state_until_the_world_closes(build_world, pg_server):
    world = build_world({"sessions": {"desk": [
        {"state": "idle in transaction", "count": 3, "application_name": "backend"},
        {"state": "idle", "count": 2, "application_name": "realtime"},
        {"state": "active", "count": 2, "application_name": "report"},
        {"state": "idle"},
    ]}})
    desk = world.profile.sources["databases"]["desk"]
    assert activity(pg_server, desk) == [("active", "report", 2), ("idle", "", 1), ("idle", "realtime", 2),
                                         ("idle in transaction", "backend", 3)]
    trading = world.profile.sources["databases"]["trading"]
    assert activity(pg_server, trading) == []
    with psycopg.connect(desk) as conn:
        query = conn.execute("SELECT query FROM pg_stat_activity WHERE application_name = 'report'").fetchone()[0]
    assert query == "SELECT pg_sleep(3600)"
    world.close()
    assert activity(pg_server, desk) == []
    world.close()                                   # a second close is harmless


def test_a_world_without_sessions_holds_nothing(build_world, pg_server):
    world = build_world({"databases": {"desk": "SELECT 1;"}})
    assert activity(pg_server, world.profile.sources["databases"]["desk"]) == []


@pytest.mark.parametrize("sessions, message", [
    ({"ledger": [{"state": "idle"}]}, "sessions ledger: no database 'ledger' in this world (known: desk, trading)"),
    ({"desk": {"state": "idle"}}, "sessions desk: must be a list such as [{state: idle, count: 2}]"),
    ({"desk": [{"state": "busy"}]}, "sessions desk[0]: state must be one of idle, idle in transaction, active, not 'busy'"),
    ({"desk": [{"state": "idle", "count": 0}]}, "sessions desk[0]: count must be between 1 and 50, not 0"),
    ({"desk": [{"state": "idle", "count": "3"}]}, "sessions desk[0]: count must be a whole number, not a text ('3')"),
    ({"desk": [{"state": "idle", "app": "x"}]}, "sessions desk[0]: unknown key 'app' (use state, count, application_name or idle_for)"),
    ({"desk": [{"state": "idle", "application_name": 7}]},
     "sessions desk[0]: application_name must be a text (quote it in YAML), not a number (7)"),
])
def test_bad_session_specs_name_database_and_key(sessions, message):
    with pytest.raises(ValueError) as caught:
        validate(sessions, {"desk", "trading"})
    assert str(caught.value) == message


def test_idle_for_makes_the_world_ready_only_once_the_sessions_have_aged(build_world, pg_server):
    world = build_world({"sessions": {"desk": [
        {"state": "idle in transaction", "count": 1, "idle_for": 2, "application_name": "leaky"}]}})
    desk = world.profile.sources["databases"]["desk"]
    with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
        state, age = conn.execute(
            "SELECT state, extract(epoch FROM clock_timestamp() - state_change)::float FROM pg_stat_activity "
            "WHERE application_name = 'leaky' AND datname = %s",
            (psycopg.conninfo.conninfo_to_dict(desk)["dbname"],)).fetchone()
    assert state == "idle in transaction"
    assert age >= 2.0, f"the world was ready when its session had been idle only {age:.3f}s"


@pytest.mark.parametrize("idle_for", [0, 30])
def test_idle_for_bounds_are_accepted(idle_for):
    [group] = validate({"desk": [{"state": "idle in transaction", "idle_for": idle_for}]}, {"desk"})
    assert group.idle_for == idle_for and group.count == 1


def test_idle_for_defaults_to_zero():
    [group] = validate({"desk": [{"state": "idle"}]}, {"desk"})
    assert group.idle_for == 0


@pytest.mark.parametrize("idle_for, message", [
    (31, "sessions desk[0]: idle_for must be between 0 and 30, not 31"),
    (-1, "sessions desk[0]: idle_for must be between 0 and 30, not -1"),
    ("2", "sessions desk[0]: idle_for must be a whole number, not a text ('2')"),
    (1.5, "sessions desk[0]: idle_for must be a whole number, not a number (1.5)"),
])
def test_bad_idle_for_is_refused_naming_database_and_key(idle_for, message):
    with pytest.raises(ValueError) as caught:
        validate({"desk": [{"state": "idle in transaction", "idle_for": idle_for}]}, {"desk", "trading"})
    assert str(caught.value) == message
