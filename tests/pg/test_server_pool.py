"""ServerPool: the shared server started only when asked for, dedicated servers started with the settings
a world asks for, kept for the next world with the same settings only when the last one left nothing."""

from __future__ import annotations

import psycopg
import pytest

from diagnose.pg import PostgresUnavailable
from diagnose.pg.server import ServerPool


def scalar(pg, query: str):
    with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
        return conn.execute(query).fetchone()[0]


def execute(pg, statement: str) -> None:
    with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
        conn.execute(statement)


def test_a_clean_server_is_lent_again_and_a_dirty_one_is_stopped(pg_server):
    with ServerPool(binaries=pg_server.binaries) as pool:
        first = pool.lend({"max_connections": "21"})
        assert scalar(first, "SHOW max_connections") == "21"
        pool.give_back(first)
        assert pool.lend({"max_connections": "21"}) is first          # same settings: reused
        other = pool.lend({"max_connections": "22"})                   # other settings: another server
        assert other is not first and pool.dedicated_starts == 2
        execute(first, "CREATE DATABASE left_behind")                   # a world left a database there
        pool.give_back(first)
        assert first.process is None and first.base_dir is None       # stopped, not kept
        third = pool.lend({"max_connections": "21"})
        assert third is not first and pool.dedicated_starts == 3
        pool.give_back(third, reusable=False)                          # the world changed the server
        assert third.process is None
        pool.give_back(other)
        assert other.process is not None
    assert other.process is None                                       # close() stops what it kept
    assert not pool.shared_started                                     # never asked for: never started


def test_a_session_or_role_left_behind_makes_the_server_unfit(pg_server):
    with ServerPool(binaries=pg_server.binaries) as pool:
        server = pool.lend()
        execute(server, "CREATE ROLE leftover")
        pool.give_back(server)
        assert server.process is None
        server = pool.lend()
        conn = psycopg.connect(server.dsn("postgres"), autocommit=True)
        try:
            pool.give_back(server)
            assert server.process is None
        finally:
            conn.close()


def test_the_shared_server_is_started_on_first_use_and_a_given_one_is_not_stopped(pg_server):
    with ServerPool() as pool:
        assert not pool.shared_started
        shared = pool.shared()
        assert pool.shared() is shared and scalar(shared, "SELECT 1") == 1
    assert shared.process is None
    with ServerPool(shared=pg_server) as pool:
        assert pool.shared() is pg_server
    assert pg_server.process is not None


def test_a_server_the_pool_did_not_lend_is_refused(pg_server):
    with ServerPool(binaries=pg_server.binaries) as pool, pytest.raises(ValueError, match="not lent by this pool"):
        pool.give_back(pg_server)


def test_without_binaries_the_pool_says_so_when_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("DIAGNOSE_PG_BIN", str(tmp_path))
    with ServerPool() as pool:
        with pytest.raises(PostgresUnavailable):
            pool.binaries()
        with pytest.raises(PostgresUnavailable):
            pool.lend()
