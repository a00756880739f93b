"""Shared fixtures: one throwaway PostgreSQL server per test session, fresh databases per test.

The server uses installed PostgreSQL binaries when there are some, else the embedded wheel.
Run the suite against the wheel with ``DIAGNOSE_PG_BIN=embedded pytest`` (or point
``DIAGNOSE_PG_BIN`` at any directory holding ``initdb`` and ``postgres``). As root, the
server runs as ``nobody`` (``DIAGNOSE_PG_USER`` to change).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from diagnose.pg import TempPostgres

REFERENCE_SCHEMAS = Path(__file__).resolve().parents[1] / "checks" / "schemas"
_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[TempPostgres]:
    """A running TempPostgres shared by the whole session (superuser ``postgres``, trust auth)."""
    with TempPostgres() as server:
        yield server


@pytest.fixture
def make_db(pg_server: TempPostgres) -> Callable[..., str]:
    """``make_db("trading")`` -> DSN of a new, uniquely named database loaded with that schema.

    The schema name is a file of ``checks/schemas/`` without ``.sql``; ``None`` gives an
    empty database.
    """

    def make(schema: str | None = None) -> str:
        name = f"{schema or 'empty'}_{next(_database_numbers)}"
        sql = (REFERENCE_SCHEMAS / f"{schema}.sql").read_text() if schema else None
        return pg_server.create_database(name, schema_sql=sql)

    return make


@pytest.fixture(autouse=True)
def english_unless_asked(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts in English whatever the machine's locale (a CI runner with LANG=zh_CN.UTF-8 must not
    turn the goldens Chinese), and a language a test chose does not outlive it (subprocesses inherit this
    environment too)."""
    from diagnose import i18n

    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    i18n.set_language(None)
    yield
    i18n.set_language(None)
