"""Build an example world for real: databases on a throwaway PostgreSQL, log and env files,
small servers on 127.0.0.1, sessions held open; and the target profile that points at all of it."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from diagnose.kb.model import Example, Pack
from diagnose.kb.schema import world_building_sources
from diagnose.profile import Profile
from diagnose.world.timestamps import fill

_COUNTER = itertools.count(1)

GONE_POLLS = 500        # x 10 ms: how long a closed connection of the world's SQL may take to exit

#: world sections that need PostgreSQL (a world with none of them, given no server, builds without one)
POSTGRES_SECTIONS = ("databases", "autocommit", "sessions", "server")

#: statements that change the whole server rather than the world's own databases
_CLUSTER_WIDE = re.compile(r"^\s*((CREATE|ALTER|DROP)\s+(DATABASE|ROLE|USER|GROUP|TABLESPACE)\b|"
                           r"ALTER\s+SYSTEM\b)", re.I)
_SYSTEM = re.compile(r"^\s*ALTER\s+SYSTEM\b", re.I)


def _sql_identifier(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name.lower())


class World:
    """One built example. Use as a context manager: servers stop and files go on exit.

    ``profile`` is ready once entered. Reference databases are created once per server and
    cloned per world (``CREATE DATABASE ... TEMPLATE``), which costs milliseconds.

    ``pg`` is where its databases live: a running :class:`~diagnose.pg.server.TempPostgres` (the shared
    server), a :class:`~diagnose.pg.server.ServerPool` (its shared server, or a dedicated one it lends),
    or None for a world that needs no database (logs, env files, endpoints only). A world with
    ``server:`` runs on a dedicated server: lent by the pool, else started for it and stopped on close.
    """

    def __init__(self, pack: Pack, example: Example, pg: Any, workdir: Path, now: datetime | None = None):
        self.pack, self.example, self.pg = pack, example, pg
        self.workdir = Path(workdir)
        self.now = now or datetime.now(timezone.utc)
        self.profile = Profile(path=None)
        self.timezone: str | None = None     # the host's zone, when the world names one (clock.timezone)
        #: ``dedicated server (...)`` when the world runs on a server of its own
        self.server_label: str | None = None
        self._servers: list[Any] = []
        self._sessions: Any = None
        self._databases: list[str] = []
        self._dedicated: tuple[Any, Any] | None = None    # (pool or None, server) the world runs on alone
        self._changed_server = False                        # cluster-wide statements ran: never reuse it
        self.tag = f"w{next(_COUNTER)}_{_sql_identifier(example.name)}"[:40]

    def __enter__(self) -> "World":
        try:
            self.build()
        except BaseException:
            try:
                self.close()
            except Exception:  # the build's own error is the one worth reporting
                pass
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def build(self) -> Profile:
        """Make everything the example describes. Specs are checked first (a one-line ValueError
        naming the endpoint or database and the key); whatever was started before a later
        failure is torn down by :meth:`close`, which ``with World(...)`` calls."""
        from diagnose.world import endpoints
        from diagnose.world.sessions import HeldSessions, validate as validate_sessions
        from diagnose.world.specs import server_spec

        world = self.example.world
        zone = self._clock(world.get("clock") or {})
        own_server = server_spec(world)
        needs_postgres = [k for k in POSTGRES_SECTIONS if world.get(k)]
        if self.pg is None and needs_postgres:
            raise ValueError(f"this world needs PostgreSQL ({', '.join(needs_postgres)}), but it is built without one")
        database_names = (set(self.pack.reference_schemas) if self.pg is not None else set()) \
            | set(world.get("databases") or {})
        for name, spec in (world.get("endpoints") or {}).items():
            endpoints.validate(name, spec)
        session_groups = validate_sessions(world.get("sessions"), database_names)
        autocommit = autocommit_statements(world.get("autocommit"), database_names, own_server is not None)
        self.workdir.mkdir(parents=True, exist_ok=True)
        if own_server is not None:
            self._dedicate(own_server)
        elif self.pg is not None and hasattr(self.pg, "lend"):      # a pool: its shared server
            self.pg = self.pg.shared()
        for name in sorted(database_names):
            self.profile.sources["databases"][name] = self._database(name, (world.get("databases") or {}).get(name))
        for name, statements in autocommit.items():
            self._autocommit(name, statements)
        for name, text in (world.get("logs") or {}).items():
            path = self.workdir / "logs" / f"{name}.log"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(fill(text, self.now, zone), encoding="utf-8")
            # written at the world's moment (it may live at another time than the machine): a window
            # judges a file by its modification time too
            os.utime(path, (self.now.timestamp(), self.now.timestamp()))
            self.profile.sources["logs"][name] = str(path)
        for name, values in (world.get("env") or {}).items():
            path = self.workdir / "env" / f"{name}.env"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(env_file_text(values), encoding="utf-8")
            self.profile.sources["env"][name] = str(path)
        for name, spec in (world.get("endpoints") or {}).items():
            server = endpoints.make(name, spec, self.workdir / "logs")
            self._servers.append(server)          # bound: close() must release it from now on
            log_name = getattr(server, "log_name", None)
            if log_name is not None:              # the real service writes that log itself
                if log_name in (world.get("logs") or {}):
                    raise ValueError(f"endpoint {name}: uvicorn writes log '{log_name}', which the world also gives")
                self.profile.sources["logs"][log_name] = str(server.log_path)
            self.profile.sources["endpoints"][name] = server.start().url
        for section, source in world_building_sources().items():   # a plugin's source type builds its own
            for name, spec in (world.get(section) or {}).items():
                value = source.world(name, spec, self.workdir)
                self._servers.append(_BuiltBySource(source, value))   # close() hands it back to close_world
                self.profile.sources[section][name] = value
        for name, age in (world.get("modified") or {}).items():   # a log nobody has written since then
            if name not in self.profile.sources["logs"]:
                raise ValueError(f"modified.{name}: the world has no log '{name}'")
            when = (self.now - _age(name, age)).timestamp()
            os.utime(self.profile.sources["logs"][name], (when, when))
        self._sessions = HeldSessions()
        for group in session_groups:
            self._sessions.open(self.profile.sources["databases"][group.database], group)
        self._sessions.age()
        return self.profile

    def _dedicate(self, spec: Any) -> None:
        """Run on a server of its own, started with the world's settings (lent by a pool when given one)."""
        from diagnose.pg.server import TempPostgres

        settings = dict(spec.settings)
        if hasattr(self.pg, "lend"):
            pool = self.pg
            self.pg = pool.lend(settings)
            self._dedicated = (pool, self.pg)
        else:
            server = TempPostgres(getattr(self.pg, "binaries", None), settings=settings)
            self._dedicated = (None, server)
            self.pg = server.start()
        self.server_label = spec.label

    def profile_file(self) -> Path:
        """The world's profile as a ``diagnose.yaml`` in its folder, for a ``diagnose`` process to use."""
        import yaml

        data: dict[str, Any] = {kind: dict(names) for kind, names in self.profile.sources.items() if names}
        if self.profile.timezone:
            data["timezone"] = self.profile.timezone
        path = self.workdir / "diagnose.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    def _clock(self, spec: dict[str, Any]) -> Any:
        """The world's host time zone (``clock.timezone``: its logs' local times, the profile's
        timezone, its databases' TimeZone); a world ``clock.at`` another moment must be built by
        a caller living at it (:class:`diagnose.world.clock.FakeClock`)."""
        from zoneinfo import ZoneInfo

        from diagnose.world.clock import moment

        at = moment(spec)
        if at is not None and abs((self.now - at).total_seconds()) > 3600:
            raise ValueError(f"this world happens at {at.isoformat()}: build it with a FakeClock at that moment "
                             f"(diagnose.world.clock), not at {self.now.isoformat()}")
        self.timezone = spec.get("timezone")
        if self.timezone:
            self.profile.timezone = self.timezone
        return ZoneInfo(self.timezone) if self.timezone else None

    def _database(self, name: str, sql: str | None) -> str:
        import psycopg

        template = reference_database(self.pg, self.pack, name)
        dbname = f"{self.tag}_{_sql_identifier(name)}"
        with psycopg.connect(self.pg.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"' + (f' TEMPLATE "{template}"' if template else ""))
            if self.timezone:   # a server whose clock is set to the host's zone
                conn.execute(f"ALTER DATABASE \"{dbname}\" SET timezone TO '{self.timezone}'")
        self._databases.append(dbname)
        dsn = self.pg.dsn(dbname)
        if sql:
            with psycopg.connect(dsn, autocommit=True) as conn:
                pid = conn.info.backend_pid
                conn.execute(sql)
            self._until_gone(pid)
        return dsn

    def _until_gone(self, pid: int) -> None:
        """Wait (bounded) until the backend of a closed connection has exited: it flushes its statistics
        as it exits, so pg_stat_user_tables shows what the world's SQL did before anything runs next (a
        later VACUUM's counts are not overwritten by the DELETE before it, a check reads them settled)."""
        import time

        import psycopg

        with psycopg.connect(self.pg.dsn("postgres"), autocommit=True, connect_timeout=10) as watcher:
            for _ in range(GONE_POLLS):
                if watcher.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() is None:
                    return
                time.sleep(0.01)
        raise RuntimeError(f"the world's SQL connection (pid {pid}) did not end within {GONE_POLLS / 100:g}s")

    def _autocommit(self, name: str, statements: tuple[str, ...]) -> None:
        """``autocommit``: each statement on its own, outside any transaction block (VACUUM, CREATE
        DATABASE, ...), in order, on one connection to the world's database ``name``."""
        import psycopg
        from psycopg.pq import TransactionStatus

        with psycopg.connect(self.profile.sources["databases"][name], autocommit=True, connect_timeout=10) as conn:
            pid = conn.info.backend_pid
            for i, statement in enumerate(statements):
                if _CLUSTER_WIDE.match(statement):
                    self._changed_server = True
                try:
                    conn.execute(statement)
                except psycopg.Error as exc:
                    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                    raise ValueError(f"autocommit {name}[{i}]: {first}") from None
            if conn.info.transaction_status != TransactionStatus.IDLE:
                raise ValueError(f"autocommit {name}: the statements leave a transaction open (to hold one, use a "
                                 f"session with hold: open)")
        self._until_gone(pid)

    def close(self) -> None:
        """Stop every server and end every held session, roll back the world's prepared transactions,
        drop its databases and stop (or give back) its dedicated server; idempotent, and every part is
        attempted even when one fails (the first failure is raised at the end)."""
        problems: list[BaseException] = []
        servers, self._servers = self._servers, []
        sessions, self._sessions = self._sessions, None
        for part in [*servers, sessions]:
            if part is None:
                continue
            try:
                (part.stop if hasattr(part, "stop") else part.close)()
            except Exception as exc:  # keep tearing down the rest
                problems.append(exc)
        for step in (self._rollback_prepared, self._drop_databases, self._release_server):
            try:
                step()
            except Exception as exc:
                problems.append(exc)
        if problems:
            raise problems[0]

    def _rollback_prepared(self) -> None:
        """Prepared transactions outlive their session: roll back those in the world's databases."""
        if not self._databases:
            return
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.pg.dsn("postgres"), autocommit=True, connect_timeout=10) as conn:
            prepared = conn.execute("SELECT database, gid FROM pg_prepared_xacts WHERE database = ANY(%s)",
                                    (self._databases,)).fetchall()
        for database, gid in prepared:
            with psycopg.connect(self.pg.dsn(database), autocommit=True, connect_timeout=10) as conn:
                conn.execute(sql.SQL("ROLLBACK PREPARED {}").format(sql.Literal(gid)))

    def _drop_databases(self) -> None:
        """A world's databases go with it, so a long self-test does not pile them up."""
        databases, self._databases = self._databases, []
        if not databases:
            return
        import psycopg

        with psycopg.connect(self.pg.dsn("postgres"), autocommit=True) as conn:
            for dbname in databases:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

    def _release_server(self) -> None:
        """The dedicated server: given back to its pool (which keeps it only if it is clean), or stopped."""
        dedicated, self._dedicated = self._dedicated, None
        if dedicated is None:
            return
        pool, server = dedicated
        if pool is not None:
            pool.give_back(server, reusable=not self._changed_server)
        else:
            server.stop()


def autocommit_statements(spec: Any, databases: set[str], dedicated: bool) -> dict[str, tuple[str, ...]]:
    """The world's ``autocommit`` (database source -> statements run outside a transaction block, in
    order) checked: known databases, statements as texts; a statement that changes the whole server
    (CREATE DATABASE, roles) only on a server of the world's own, ALTER SYSTEM never."""
    from diagnose.world.sessions import statement_list
    from diagnose.world.specs import fail, mapping

    out = {}
    for name, value in mapping("autocommit", spec).items():
        where = f"autocommit {name}"
        if name not in databases:
            raise fail(where, f"no database '{name}' in this world (known: {', '.join(sorted(databases)) or 'none'})")
        statements = statement_list(where, "statements", value)
        for i, statement in enumerate(statements):
            if _SYSTEM.match(statement):
                raise fail(f"{where}[{i}]", "ALTER SYSTEM: give the setting in server: {settings: {...}} instead")
            if _CLUSTER_WIDE.match(statement) and not dedicated:
                raise fail(f"{where}[{i}]", "this statement changes the whole server, which other worlds share: "
                                            "add server: dedicated to this world")
        out[name] = statements
    return out


def _age(name: str, age: Any):
    from diagnose.checks.durations import parse_since

    try:
        delta = parse_since(age)
    except ValueError as exc:
        raise ValueError(f"modified.{name}: {exc}") from None
    if delta is None:
        raise ValueError(f"modified.{name}: give how long ago, e.g. 3d or 90m")
    return delta


def env_file_text(values: dict[str, Any]) -> str:
    """An env file as docker compose reads it: ``KEY=value`` lines, quoted where needed."""
    return "".join(f"{k}={_env_value(v)}\n" for k, v in values.items())


def _env_value(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f'"{text}"' if any(ch in text for ch in " #'\"") or text == "" else text


def reference_database(pg: Any, pack: Pack, name: str) -> str | None:
    """The template database holding ``name``'s reference schema, created on first use."""
    import psycopg

    schema_file = pack.reference_schemas.get(name)
    if not schema_file:
        return None
    cache = pg.__dict__.setdefault("_diagnose_templates", {})
    sql = Path(schema_file).read_text(encoding="utf-8")
    # two packs may each have their own `trading`; a server kept between site builds sees a schema edited
    key = (name, str(schema_file), hashlib.sha256(sql.encode()).hexdigest())
    if key not in cache:
        template = f"ref_{_sql_identifier(name)}_{len(cache)}"
        for old_key in [k for k in cache if k[:2] == key[:2]]:   # the schema was edited (a kept server): the
            with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:   # old template goes
                conn.execute(f'DROP DATABASE IF EXISTS "{cache.pop(old_key)}"')
        with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{template}"')
            conn.execute(f'CREATE DATABASE "{template}"')
        with psycopg.connect(pg.dsn(template), autocommit=True) as conn:
            conn.execute(sql)
        cache[key] = template
    return cache[key]


class _BuiltBySource:
    """What a source type's ``world()`` built, given back to its ``close_world(value)`` (when it has one)
    when the world closes: a process it started, a folder it mounted."""

    def __init__(self, source: Any, value: Any) -> None:
        self.source, self.value = source, value

    def stop(self) -> None:
        close = getattr(self.source, "close_world", None)
        if callable(close):
            close(self.value)
