"""Check kinds, one module each, behind the interface of :mod:`diagnose.checks.base`.

Kinds are imported only when a check of that kind runs (``psycopg`` alone costs ~200 ms of
start-up), so this registry names modules instead of importing them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: kind name -> module (relative to this package). One module per kind.
KINDS: dict[str, str] = {
    "sql": ".sql",
    "log": ".log",
    "env": ".env",
    "http": ".http",
    "tcp": ".tcp",
    "websocket": ".websocket",
}


def load_kind(kind: str) -> ModuleType:
    """The module implementing ``kind`` (KeyError for an unknown kind)."""
    return importlib.import_module(KINDS[kind], __name__)
