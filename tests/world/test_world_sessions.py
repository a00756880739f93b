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
    ({"desk": [{"state": "idle", "app": "x"}]}, "sessions desk[0]: unknown key 'app' (use state, count or application_name)"),
    ({"desk": [{"state": "idle", "application_name": 7}]},
     "sessions desk[0]: application_name must be a text (quote it in YAML), not a number (7)"),
])
def test_bad_session_specs_name_database_and_key(sessions, message):
    with pytest.raises(ValueError) as caught:
        validate(sessions, {"desk", "trading"})
    assert str(caught.value) == message
