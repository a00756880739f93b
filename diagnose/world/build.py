"""Build an example world for real: databases on a throwaway PostgreSQL, log and env files,
small servers on 127.0.0.1; and the target profile that points at all of it."""

from __future__ import annotations

import itertools
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
        self._servers: list[Any] = []
        self.tag = f"w{next(_COUNTER)}_{_sql_identifier(example.name)}"[:40]

    def __enter__(self) -> "World":
        try:
            self.build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def build(self) -> Profile:
        world = self.example.world
        self.workdir.mkdir(parents=True, exist_ok=True)
        for name in sorted(set(self.pack.reference_schemas) | set(world.get("databases", {}))):
            self.profile.sources["databases"][name] = self._database(name, world.get("databases", {}).get(name))
        for name, text in (world.get("logs") or {}).items():
            path = self.workdir / "logs" / f"{name}.log"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(fill(text, self.now), encoding="utf-8")
            self.profile.sources["logs"][name] = str(path)
        for name, values in (world.get("env") or {}).items():
            path = self.workdir / "env" / f"{name}.env"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(f"{k}={_env_value(v)}\n" for k, v in values.items()), encoding="utf-8")
            self.profile.sources["env"][name] = str(path)
        for name, spec in (world.get("endpoints") or {}).items():
            self.profile.sources["endpoints"][name] = self._endpoint(spec)
        return self.profile

    def _database(self, name: str, sql: str | None) -> str:
        import psycopg

        template = reference_database(self.pg, self.pack, name)
        dbname = f"{self.tag}_{_sql_identifier(name)}"
        with psycopg.connect(self.pg.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"' + (f' TEMPLATE "{template}"' if template else ""))
        dsn = self.pg.dsn(dbname)
        if sql:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(sql)
        return dsn

    def _endpoint(self, spec: dict[str, Any]) -> str:
        from diagnose.world.http import WorldHTTPServer

        server = WorldHTTPServer(spec).start()
        self._servers.append(server)
        return server.url

    def close(self) -> None:
        for server in self._servers:
            server.stop()
        self._servers.clear()


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
