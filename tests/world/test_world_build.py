"""A whole example world with every kind of endpoint and held sessions, built from a Pack and an
Example, probed by the real check kinds; and torn down completely, also when a build fails."""

from __future__ import annotations

import socket

import psycopg
import pytest

from diagnose.kb.model import Example
from diagnose.world.build import World

WORLD = {
    "databases": {"desk": "CREATE TABLE probe_marker (id int);"},
    "sessions": {"desk": [{"state": "idle in transaction", "count": 2, "application_name": "backend"}]},
    "endpoints": {
        "backend": {"routes": {"/health": {"json": {"status": "ok"}}},
                    "websocket": {"/ws/positions": {"reply": '{"message": "Connected"}'}}},
        "api": {"silent": True},
        "ntfy": {"refuse": True},
        "redis": {"tcp": True, "scheme": "redis"},
    },
}


def port_of(url):
    return int(url.rsplit(":", 1)[1].split("/")[0])


def refused(url):
    try:
        socket.create_connection(("127.0.0.1", port_of(url)), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def hogs(pg_server, name):
    with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)).fetchone()[0]


def test_every_endpoint_kind_and_sessions_in_one_world(build_world, pg_server, probe):
    world = build_world(WORLD)
    urls = world.profile.sources["endpoints"]
    assert urls["backend"].startswith("http://127.0.0.1:") and urls["api"].startswith("http://127.0.0.1:")
    assert urls["ntfy"].startswith("http://127.0.0.1:") and urls["redis"] == f"redis://127.0.0.1:{port_of(urls['redis'])}/0"
    assert probe("http", urls["backend"], path="/health", expect={"status": 200}).passed
    assert probe("websocket", urls["backend"], path="/ws/positions", send="hi",
                 expect={"reply": {"matches": "Connected"}}).passed
    assert probe("tcp", urls["redis"]).passed and probe("tcp", urls["api"]).passed
    assert not probe("tcp", urls["ntfy"]).passed
    assert hogs(pg_server, "backend") == 2
    world.close()
    assert all(refused(url) for url in urls.values())
    assert hogs(pg_server, "backend") == 0


def test_a_bad_spec_fails_before_anything_is_built(pg_server, schema_pack, tmp_path):
    world_spec = {**WORLD, "endpoints": {**WORLD["endpoints"], "ntfy": {"refuse": True, "timeout": 3}}}
    world = World(schema_pack, Example("bad", "problem", (), world_spec), pg_server, tmp_path / "w")
    with pytest.raises(ValueError) as caught:
        with world:
            pass
    assert str(caught.value) == "endpoint ntfy: unknown key 'timeout' (use routes, websocket, refuse, silent, tcp, scheme or uvicorn)"
    assert world.profile.sources["databases"] == {} and world.profile.sources["endpoints"] == {}
    with psycopg.connect(pg_server.dsn("postgres")) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE %s", (world.tag + "%",)).fetchone()[0] == 0


def test_a_build_failing_half_way_tears_down_what_was_started(pg_server, schema_pack, tmp_path):
    with psycopg.connect(pg_server.dsn("postgres")) as conn:
        limit = int(conn.execute("SHOW max_connections").fetchone()[0])
    too_many = [{"state": "idle in transaction", "count": 50, "application_name": "hog"}] * (limit // 50 + 1)
    spec = {"endpoints": WORLD["endpoints"], "sessions": {"desk": too_many}}
    world = World(schema_pack, Example("greedy", "problem", (), spec), pg_server, tmp_path / "w")
    with pytest.raises(psycopg.OperationalError):
        with world:
            pass
    urls = world.profile.sources["endpoints"]
    assert set(urls) == set(WORLD["endpoints"])          # the servers had started ...
    assert all(refused(url) for url in urls.values())     # ... and are gone
    assert hogs(pg_server, "hog") == 0


def test_a_closed_world_leaves_no_database_behind(pg_server, tmp_path):
    import psycopg

    from diagnose.kb.loader import load_pack
    from diagnose.world.build import World

    pack = load_pack()
    example = pack.get("stale-positions").examples[0]
    with World(pack, example, pg_server, tmp_path / "w") as world:
        tag = world.tag
        with psycopg.connect(pg_server.dsn("postgres")) as conn:
            assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE %s", (tag + "%",)).fetchone()[0] == 2
    with psycopg.connect(pg_server.dsn("postgres")) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE %s", (tag + "%",)).fetchone()[0] == 0


def test_a_kept_server_builds_an_edited_reference_schema_anew(pg_server, tmp_path):
    """``docs serve`` keeps its PostgreSQL between builds: a reference schema edited meanwhile gets a template of
    its own (the old one is dropped), the unchanged one is reused."""
    import shutil

    from diagnose.kb.loader import builtin_root, load_pack
    from diagnose.world.build import reference_database

    root = tmp_path / "checks"
    shutil.copytree(builtin_root(), root)
    pack = load_pack(root, use_cache=False)
    first = reference_database(pg_server, pack, "trading")
    assert reference_database(pg_server, pack, "trading") == first
    schema = pack.reference_schemas["trading"]
    schema.write_text(schema.read_text(encoding="utf-8") + "\nCREATE TABLE kept_server_probe (id int);\n",
                      encoding="utf-8")
    second = reference_database(pg_server, pack, "trading")
    assert second != first
    with psycopg.connect(pg_server.dsn(second)) as conn:
        assert conn.execute("SELECT to_regclass('kept_server_probe') IS NOT NULL").fetchone()[0]
    with psycopg.connect(pg_server.dsn("postgres")) as conn:
        names = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
    assert second in names and first not in names
