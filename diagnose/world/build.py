"""Build an example world for real: databases on a throwaway PostgreSQL, log and env files,
small servers on 127.0.0.1, sessions held open; and the target profile that points at all of it."""

from __future__ import annotations

import itertools
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from diagnose.kb.model import Example, Pack
from diagnose.profile import Profile
from diagnose.world.timestamps import fill

_COUNTER = itertools.count(1)


def _sql_identifier(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name.lower())


class World:
    """One built example. Use as a context manager: servers stop and files go on exit.

    ``profile`` is ready once entered. Reference databases are created once per server and
    cloned per world (``CREATE DATABASE ... TEMPLATE``), which costs milliseconds.
    """

    def __init__(self, pack: Pack, example: Example, pg: Any, workdir: Path, now: datetime | None = None):
        self.pack, self.example, self.pg = pack, example, pg
        self.workdir = Path(workdir)
        self.now = now or datetime.now(timezone.utc)
        self.profile = Profile(path=None)
        self.timezone: str | None = None     # the host's zone, when the world names one (clock.timezone)
        self._servers: list[Any] = []
        self._sessions: Any = None
        self._databases: list[str] = []
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

        world = self.example.world
        zone = self._clock(world.get("clock") or {})
        database_names = set(self.pack.reference_schemas) | set(world.get("databases") or {})
        for name, spec in (world.get("endpoints") or {}).items():
            endpoints.validate(name, spec)
        session_groups = validate_sessions(world.get("sessions"), database_names)
        self.workdir.mkdir(parents=True, exist_ok=True)
        for name in sorted(database_names):
            self.profile.sources["databases"][name] = self._database(name, (world.get("databases") or {}).get(name))
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
                conn.execute(sql)
        return dsn

    def close(self) -> None:
        """Stop every server and end every held session; idempotent, and every part is
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
        try:
            self._drop_databases()
        except Exception as exc:
            problems.append(exc)
        if problems:
            raise problems[0]


    def _drop_databases(self) -> None:
        """A world's databases go with it, so a long self-test does not pile them up."""
        databases, self._databases = self._databases, []
        if not databases:
            return
        import psycopg

        with psycopg.connect(self.pg.dsn("postgres"), autocommit=True) as conn:
            for dbname in databases:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


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
    if name not in cache:
        template = f"ref_{_sql_identifier(name)}"
        sql = (pack.root / schema_file).read_text(encoding="utf-8")
        with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{template}"')
            conn.execute(f'CREATE DATABASE "{template}"')
        with psycopg.connect(pg.dsn(template), autocommit=True) as conn:
            conn.execute(sql)
        cache[name] = template
    return cache[name]
