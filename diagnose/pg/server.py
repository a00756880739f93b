"""A throwaway PostgreSQL server: ``initdb`` in a temporary directory, started, then deleted.

Used by ``diagnose demo``, ``diagnose selftest`` and the test suite, so the SQL checks run
against a real server without touching anyone's database::

    with TempPostgres() as pg:
        dsn = pg.create_database("trading", schema_sql=Path("trading.sql").read_text())

It listens on 127.0.0.1 at a free port and on a Unix socket in its own directory, with
trust authentication (except for roles made by :meth:`TempPostgres.create_user` with a
password) and durability switched off, because nothing in it needs to survive. The server
is stopped and its directory removed on exit, on exceptions and, as a safety net, at
interpreter exit.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import TypeVar

from .binaries import (Binaries, PostgresUnavailable, RunAs, die_with_parent_hook, find_binaries, server_account,
                       subprocess_identity, usable_by)
from .datadir import INITDB_OPTIONS, base_dir_parent, save_template, template_dir

_T = TypeVar("_T")

PASSWORD_GROUP = "diagnose_password_auth"  # members must log in with their password
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
CLEAN_POLLS = 50            # x 20 ms: how long a server given back may take to lose its last sessions

PG_HBA = f"""\
# Written by diagnose: trust, except members of {PASSWORD_GROUP} who need their password.
local all +{PASSWORD_GROUP}                scram-sha-256
host  all +{PASSWORD_GROUP} 127.0.0.1/32   scram-sha-256
host  all +{PASSWORD_GROUP} ::1/128        scram-sha-256
local all all                              trust
host  all all               127.0.0.1/32   trust
host  all all               ::1/128        trust
local replication all                      trust
host  replication all       127.0.0.1/32   trust
"""


class PostgresStartError(RuntimeError):
    """The server did not come up; the message ends with the last lines of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a server started next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TempPostgres:
    """A private PostgreSQL server for the lifetime of a ``with`` block (or start()/stop())."""

    def __init__(self, binaries: Binaries | None = None, *, max_connections: int = 50,
                 cache_root: Path | None = None, settings: dict[str, str] | None = None,
                 replica_of: TempPostgres | None = None, env: dict[str, str] | None = None) -> None:
        """``settings``: server settings (``-c name=value``) on top of ours, e.g. ``wal_level=logical``.
        ``replica_of``: a running server this one is a hot standby of (``pg_basebackup -R``): it
        streams that server's WAL and answers read-only queries. ``env``: extra environment of the
        server's processes (a test's clock through libfaketime, for instance)."""
        self._wanted = binaries if binaries is not None or replica_of is None else replica_of.binaries
        self._cache_root = cache_root
        self.max_connections = max_connections
        self.settings = dict(settings or {})
        self.replica_of = replica_of
        self.extra_env = dict(env or {})
        self.binaries: Binaries | None = None
        self.port: int | None = None
        self.base_dir: Path | None = None
        self.process: subprocess.Popen | None = None
        self.start_seconds: float | None = None
        self.account: RunAs | None = None
        self._pool_key: tuple[tuple[str, str], ...] | None = None   # set by the ServerPool that lends it

    # --- paths and connection strings ---------------------------------------------------
    @property
    def bin_dir(self) -> Path:
        return self._require(self.binaries).bin_dir

    @property
    def version(self) -> str:
        return self._require(self.binaries).version

    @property
    def data_dir(self) -> Path:
        return self._require(self.base_dir) / "data"

    @property
    def socket_dir(self) -> Path:
        return self._require(self.base_dir) / "sock"

    @property
    def log_path(self) -> Path:
        return self._require(self.base_dir) / "server.log"

    def _require(self, value: _T | None) -> _T:
        if value is None:
            raise RuntimeError("TempPostgres is not started")
        return value

    def dsn(self, dbname: str = "postgres", user: str = "postgres", password: str | None = None) -> str:
        """A URL for ``dbname`` over TCP on 127.0.0.1 (superuser ``postgres``, no password)."""
        from urllib.parse import quote

        auth = quote(user, safe="") + (":" + quote(password, safe="") if password is not None else "")
        return f"postgresql://{auth}@127.0.0.1:{self._require(self.port)}/{quote(dbname, safe='')}"

    # --- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> TempPostgres:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> TempPostgres:
        """initdb, start and wait until the server accepts connections (``start_seconds``)."""
        if self.process is not None:
            return self
        began = time.monotonic()
        self.account = server_account()
        self.binaries = usable_by(self._wanted or find_binaries(), self.account, self._cache_root)
        self.base_dir = Path(tempfile.mkdtemp(prefix="diagnose-pg-", dir=base_dir_parent(self.account is not None)))
        atexit.register(self.stop)
        try:
            self.socket_dir.mkdir()
            if self.account is not None:
                for path in (self.base_dir, self.socket_dir):
                    os.chown(path, self.account.uid, self.account.gid)
            if self.replica_of is not None:
                self._basebackup(self.replica_of)
            else:
                self._initdb()
            for attempt in range(3):  # a free port can be taken between probing and binding
                self.port = free_port()
                if self._launch():
                    break
            else:
                raise PostgresStartError(self._failure("could not start PostgreSQL"))
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - began
        return self

    def _child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(HOME=str(self.base_dir), LC_ALL="C", LANG="C", **self.extra_env)
        return env

    def _run(self, argv: list[str]) -> None:
        try:
            done = subprocess.run(argv, cwd=self.base_dir, env=self._child_env(), capture_output=True,
                                  text=True, timeout=120, **subprocess_identity(self.account))
        except (OSError, subprocess.SubprocessError) as exc:
            raise PostgresStartError(f"{Path(argv[0]).name} failed: {exc}") from None
        if done.returncode != 0:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-5:])
            raise PostgresStartError(f"{Path(argv[0]).name} failed (exit {done.returncode}): {tail}")

    def _initdb(self) -> None:
        """initdb, or a copy of a cached initdb result (10x faster on later starts)."""
        binaries = self._require(self.binaries)
        template = template_dir(binaries)
        if template is not None and (template / "PG_VERSION").exists():
            shutil.copytree(template, self.data_dir, symlinks=True)
        else:
            self._run([binaries.program("initdb"), "-D", str(self.data_dir), *INITDB_OPTIONS])
            if template is not None:
                save_template(self.data_dir, template)
        (self.data_dir / "pg_hba.conf").write_text(PG_HBA)
        if self.account is not None:
            for path in [self.data_dir, *self.data_dir.rglob("*")]:
                os.lchown(path, self.account.uid, self.account.gid)

    def _basebackup(self, primary: TempPostgres) -> None:
        """The data directory of a hot standby of ``primary``: its base backup, set up to stream (-R)."""
        pg_basebackup = self._require(self.binaries).program("pg_basebackup")
        self._run([pg_basebackup, "-h", "127.0.0.1", "-p", str(primary._require(primary.port)),
                   "-U", "postgres", "-D", str(self.data_dir), "-R", "-X", "stream", "-c", "fast", "--no-sync"])
        (self.data_dir / "pg_hba.conf").write_text(PG_HBA)
        if self.account is not None:
            os.lchown(self.data_dir / "pg_hba.conf", self.account.uid, self.account.gid)

    def _launch(self) -> bool:
        """Start ``postgres``; True once it is ready, False if the port was taken."""
        options = {
            "listen_addresses": "127.0.0.1", "port": str(self.port), "unix_socket_directories": str(self.socket_dir),
            "max_connections": str(self.max_connections), "fsync": "off", "synchronous_commit": "off",
            "full_page_writes": "off", "logging_collector": "off", "shared_buffers": "32MB",
            **self.settings,
        }
        argv = [self._require(self.binaries).program("postgres"), "-D", str(self.data_dir)]
        for name, value in options.items():
            argv += ["-c", f"{name}={value}"]
        with open(self.log_path, "ab") as log:
            if self.account is not None:
                os.fchown(log.fileno(), self.account.uid, self.account.gid)
            self.process = subprocess.Popen(
                argv, cwd=self.base_dir, env=self._child_env(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True, preexec_fn=die_with_parent_hook(), **subprocess_identity(self.account))
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                if any(m in self._log_tail() for m in ("could not bind", "could not create listen socket")):
                    return False
                raise PostgresStartError(self._failure("PostgreSQL exited during start-up"))
            if self._ready():
                return True
            time.sleep(0.01)
        raise PostgresStartError(self._failure(f"PostgreSQL was not ready within {READY_TIMEOUT:g}s"))

    def _ready(self) -> bool:
        """The postmaster writes ``ready`` into line 8 of postmaster.pid once it accepts connections."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

    def _log_tail(self, count: int = 8) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-count:])
        except OSError:
            return ""

    def _failure(self, what: str) -> str:
        return f"{what}; server log: {self._log_tail() or '(empty)'}"

    def stop(self) -> None:
        """Fast shutdown (then harder signals if needed), and remove the directory. Idempotent."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            for sig, wait in ((signal.SIGINT, STOP_TIMEOUT), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
                try:
                    process.send_signal(sig)
                    process.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
                except ProcessLookupError:
                    break
        if self.base_dir is not None:
            shutil.rmtree(self.base_dir, ignore_errors=True)
            self.base_dir = None
        atexit.unregister(self.stop)

    # --- databases and roles ------------------------------------------------------------
    def execute(self, sql: str, dbname: str = "postgres") -> None:
        """Run ``sql`` (one or several statements) in ``dbname`` as the superuser, autocommit."""
        import psycopg

        with psycopg.connect(self.dsn(dbname), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.encode())

    def create_database(self, name: str, schema_sql: str | None = None) -> str:
        """Create database ``name``, run ``schema_sql`` in it, and return its DSN."""
        from psycopg import sql

        # FILE_COPY (PostgreSQL 15+) copies the tiny template faster than the default WAL_LOG.
        strategy = " STRATEGY FILE_COPY" if self._require(self.binaries).major >= 15 else ""
        self.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)).as_string(None) + strategy)
        if schema_sql:
            self.execute(schema_sql, name)
        return self.dsn(name)

    def create_user(self, name: str, password: str | None = None, superuser: bool = False) -> None:
        """A login role; with a password, it must log in with it (scram-sha-256)."""
        from psycopg import sql

        statements = [sql.SQL("CREATE ROLE {} LOGIN {}").format(
            sql.Identifier(name), sql.SQL("SUPERUSER" if superuser else "NOSUPERUSER"))]
        if password is not None:
            statements += [
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)),
                sql.SQL("DO $$BEGIN CREATE ROLE {} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$")
                .format(sql.Identifier(PASSWORD_GROUP)),
                sql.SQL("GRANT {} TO {}").format(sql.Identifier(PASSWORD_GROUP), sql.Identifier(name)),
            ]
        self.execute(";\n".join(s.as_string(None) for s in statements))


class ServerPool:
    """The servers example worlds run on, each started only when a world needs it.

    :meth:`shared` is the one server every world without a ``server:`` of its own uses (many at a
    time, each in databases of its own). :meth:`lend` gives one world at a time a *dedicated* server
    started with the settings it asks for; :meth:`give_back` keeps it for the next world asking for the
    same settings when nothing is left in it (no client session, no prepared transaction, no database
    or role the world made), and stops it otherwise. :meth:`close` stops every server the pool
    started (not a ``shared`` server it was given)::

        with ServerPool() as servers:
            pg = servers.lend({"max_connections": "20"})
            ...
            servers.give_back(pg)
    """

    def __init__(self, shared: TempPostgres | None = None, binaries: Binaries | None = None) -> None:
        self._shared = shared
        self._own_shared = shared is None
        self._binaries = binaries or (shared.binaries if shared is not None else None)
        self._idle: dict[tuple[tuple[str, str], ...], list[TempPostgres]] = {}
        self._started: list[TempPostgres] = []
        self._baseline: dict[int, tuple[set[str], set[str]]] = {}
        self._lock = threading.Lock()
        #: dedicated servers started so far (a server given back clean and lent again counts once)
        self.dedicated_starts = 0

    def __enter__(self) -> ServerPool:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def binaries(self) -> Binaries:
        """The binaries every server of the pool runs (PostgresUnavailable when there are none)."""
        with self._lock:
            if self._binaries is None:
                self._binaries = find_binaries()
            return self._binaries

    def shared(self) -> TempPostgres:
        """The shared server, started on first use."""
        binaries = self.binaries()
        with self._lock:
            if self._shared is None:
                server = TempPostgres(binaries)
                self._started.append(server)
                self._shared = server.start()
            return self._shared

    @property
    def shared_started(self) -> bool:
        return self._shared is not None

    def lend(self, settings: dict[str, str] | None = None) -> TempPostgres:
        """A running server with ``settings`` for one world's use, until :meth:`give_back`."""
        key = tuple(sorted((settings or {}).items()))
        binaries = self.binaries()
        with self._lock:
            if self._idle.get(key):
                return self._idle[key].pop()
        server = TempPostgres(binaries, settings=dict(key))
        server._pool_key = key
        with self._lock:
            self._started.append(server)
            self.dedicated_starts += 1
        try:
            server.start()
        except BaseException:
            self._forget(server)
            raise
        with _connect(server.dsn("postgres")) as conn:
            self._baseline[id(server)] = ({r[0] for r in conn.execute("SELECT datname FROM pg_database")},
                                          {r[0] for r in conn.execute("SELECT rolname FROM pg_roles")})
        return server

    def give_back(self, server: TempPostgres, reusable: bool = True) -> None:
        """Keep ``server`` for the next world with its settings if it is as it was lent; else stop it."""
        key = getattr(server, "_pool_key", None)
        if key is None or server not in self._started:
            raise ValueError("give_back: this server was not lent by this pool")
        if reusable and server.process is not None and self._clean(server):
            with self._lock:
                self._idle.setdefault(key, []).append(server)
            return
        server.stop()
        self._forget(server)

    def _forget(self, server: TempPostgres) -> None:
        with self._lock:
            if server in self._started:
                self._started.remove(server)

    def _clean(self, server: TempPostgres) -> bool:
        databases, roles = self._baseline.get(id(server), (set(), set()))
        # template databases diagnose.world.build.reference_database made there stay for the next world
        databases = databases | set(getattr(server, "_diagnose_templates", {}).values())
        try:
            with _connect(server.dsn("postgres")) as conn:
                for _ in range(CLEAN_POLLS):   # the world's last connections may still be exiting
                    sessions = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                                            "'client backend' AND pid <> pg_backend_pid()").fetchone()[0]
                    if sessions == 0:
                        break
                    time.sleep(0.02)
                prepared = conn.execute("SELECT count(*) FROM pg_prepared_xacts").fetchone()[0]
                now_databases = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
                now_roles = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles")}
        except Exception:  # a server that does not answer is not worth keeping
            return False
        return sessions == 0 and prepared == 0 and now_databases <= databases and now_roles <= roles

    def close(self) -> None:
        """Stop every server the pool started; idempotent."""
        with self._lock:
            started, self._started, self._idle = self._started, [], {}
        for server in started:
            server.stop()
        if self._own_shared:
            self._shared = None


def _connect(dsn: str):
    import psycopg

    return psycopg.connect(dsn, autocommit=True, connect_timeout=10)


__all__ = ["TempPostgres", "ServerPool", "PostgresStartError", "PostgresUnavailable", "find_binaries"]
