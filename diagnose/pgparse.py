"""PostgreSQL's own parser (pglast's libpg_query), always called on one thread.

libpg_query sets up its memory in each thread that first parses, and takes a pthread TLS key
there that it never gives back. A process has 1024 such keys: after about a thousand short-lived
threads had parsed SQL (checks run on worker threads, a run makes new ones), the next library that
needed a key aborted the process ("out of TLS keys"). So every parse goes through this one thread,
whoever asks: one key for the life of the process.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_LOCK = threading.Lock()
_EXECUTOR: ThreadPoolExecutor | None = None


def _run(function: Any, *args: Any) -> Any:
    global _EXECUTOR
    with _LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-parser")
        executor = _EXECUTOR
    return executor.submit(function, *args).result()


def parse_sql(sql: str) -> Any:
    """``pglast.parse_sql``: the statements as pglast AST nodes (``ParseError`` on bad SQL)."""
    import pglast

    return _run(pglast.parse_sql, sql)


def parse_sql_json(sql: str) -> str:
    """``pglast.parser.parse_sql_json``: the parse tree as JSON text."""
    from pglast import parser

    return _run(parser.parse_sql_json, sql)


def split(sql: str) -> list[str]:
    """``pglast.split``: the statements of ``sql`` as texts."""
    import pglast

    return list(_run(pglast.split, sql))


def parse_error() -> type[Exception]:
    """The exception a parse raises on SQL PostgreSQL does not read."""
    from pglast import parser

    return parser.ParseError
