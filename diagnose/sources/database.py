"""``databases``: PostgreSQL servers, named in a check with ``database: NAME``, given as a DSN."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from diagnose.sources.base import Masker, Place, expand, expanded

SECTION = "databases"
FIELD = "database"
NOUN = "database"
FLAG = "--dsn"
METAVAR = "NAME=DSN"
HELP = "Override one database, e.g. --dsn trading=postgresql://app@db/trading."
SCHEMA: dict[str, Any] = {"type": "string",
                          "description": "a PostgreSQL DSN (postgresql://user:pass@host:5432/db or key=value pairs)"}


def resolve(name: str, value: Any, where: str, place: Place) -> str:
    """The DSN, ``${VAR}`` expanded (its password is remembered for the masker)."""
    dsn = expand(value, where)
    place.secret("dsn", dsn)
    return dsn


def secrets(value: Any, masker: Masker, path_of: Callable[[str], Path] | None) -> None:
    if dsn := expanded(value):
        masker.add_dsn(dsn)
