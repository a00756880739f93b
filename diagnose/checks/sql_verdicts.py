"""The grammar's verdict on a check's query, remembered between runs.

Reading a query with PostgreSQL's own grammar (:func:`.sql_grammar.inspect`) needs pglast, whose import
and parse took about a tenth of a symptom run (35 ms of 340 on the demo world), while a pack's queries
seldom change. So each verdict (what the query calls, or why it is refused) is kept in the cache folder,
keyed by the query's exact text, in a file named after everything that could change a verdict: the rules
(``sql_grammar.py``, ``sql_text.py``, this module and ``diagnose/pgparse.py``, by content) and the parser
(pglast's files, by size and modification time). Edit either and the old file is no longer read. A file that
someone else could have written (another owner, or writable by others: :func:`diagnose.cache.trusted`) is
not believed: its queries are parsed again.

Only the parse is spared. Every run still asks the target server's catalog whether what the query calls
only reads (:mod:`.sql_catalog`), and the query still runs in a read-only transaction that is rolled back.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import threading
from pathlib import Path
from typing import Any

from diagnose.cache import cache_dir, read_cache_file, write_cache_file

from .sql_grammar import Calls, QualifiedName, Refused

FORMAT = 1
#: verdicts kept per file; the oldest go first (a file only grows while an author edits queries)
MOST = 2000
#: the files whose content decides a verdict (this package's; and how the parser is called, one level up)
RULES = ("sql_grammar.py", "sql_text.py", "sql_verdicts.py", "../pgparse.py")

_LOCK = threading.Lock()
#: the verdicts read or made by this process, per cache file (a test may point the cache folder elsewhere)
_memos: dict[Path | None, dict[str, dict[str, Any]]] = {}


def inspect(query: str) -> Calls:
    """:func:`.sql_grammar.inspect` of ``query``, from the cache when this code and parser judged it before."""
    from . import sql_grammar

    key = hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()
    with _LOCK:
        known = _verdicts(_file()).get(key)
    if known is not None and _valid(known):   # a verdict of another shape is judged again
        if "refused" in known:
            raise Refused(known["refused"])
        return _calls(known["calls"])
    try:
        calls = sql_grammar.inspect(query)
    except Refused as exc:
        _remember(key, {"refused": str(exc)})
        raise
    _remember(key, {"calls": _plain(calls)})
    return calls


@functools.cache
def fingerprint() -> str | None:
    """What a verdict depends on, as 16 hex digits; None when the rules' source or pglast cannot be found
    (then verdicts are only kept in memory)."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    try:
        for name in RULES:
            h.update((here / name).read_bytes())
        spec = importlib.util.find_spec("pglast")
        if spec is None or not spec.submodule_search_locations:
            return None
        parser = Path(next(iter(spec.submodule_search_locations)))
        for path in sorted([*parser.glob("parser*"), parser / "__init__.py"]):  # libpg_query, its stub, the version
            stat = path.stat()
            h.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    except (OSError, ImportError, ValueError):
        return None
    return h.hexdigest()[:16]


def forget() -> None:
    """Drop what this process read and the fingerprint (the next call reads both again); for tests."""
    with _LOCK:
        _memos.clear()
    fingerprint.cache_clear()


def _file() -> Path | None:
    stamp = fingerprint()
    return cache_dir() / f"sql-verdicts-{stamp}.json" if stamp is not None else None


def _verdicts(path: Path | None) -> dict[str, dict[str, Any]]:
    """The verdicts of ``path``, read once per process (called with the lock held)."""
    if path not in _memos:
        memo: dict[str, dict[str, Any]] = {}
        data = read_cache_file(path) if path is not None else None   # not believed when someone else could
        if isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("verdicts"), dict):
            memo = data["verdicts"]   # each verdict is checked when it is looked up (:func:`inspect`): a run
            # reads a handful of an author's hundreds
        _memos[path] = memo
    return _memos[path]


def _remember(key: str, verdict: dict[str, Any]) -> None:
    with _LOCK:
        path = _file()
        memo = _verdicts(path)
        memo[key] = verdict
        while len(memo) > MOST:
            del memo[next(iter(memo))]
        if path is not None:
            write_cache_file(path, {"format": FORMAT, "verdicts": {k: v for k, v in memo.items() if _valid(v)}})


def _valid(verdict: Any) -> bool:
    """A verdict as :func:`_remember` wrote it (anything else in the file is ignored)."""
    if not isinstance(verdict, dict):
        return False
    if "refused" in verdict:
        return isinstance(verdict["refused"], str)
    calls = verdict.get("calls")
    if not isinstance(calls, dict) or not isinstance(calls.get("statement"), str):
        return False
    pairs = [calls.get(k) for k in ("functions", "operators", "types", "relations")]
    names = [calls.get(k) for k in ("attribute_calls", "names")]
    return (all(isinstance(p, list) and all(isinstance(x, list) and len(x) == 2 and isinstance(x[1], str)
                                            and (x[0] is None or isinstance(x[0], str)) for x in p) for p in pairs)
            and all(isinstance(n, list) and all(isinstance(x, str) for x in n) for n in names)
            and isinstance(calls.get("analyze"), bool))


def _plain(calls: Calls) -> dict[str, Any]:
    pairs = lambda names: sorted(([schema, name] for schema, name in names), key=lambda p: (p[0] or "", p[1]))  # noqa: E731
    return {"statement": calls.statement, "functions": pairs(calls.functions),
            "attribute_calls": sorted(calls.attribute_calls), "operators": pairs(calls.operators),
            "types": pairs(calls.types), "relations": pairs(calls.relations), "analyze": calls.analyze,
            "names": list(calls.names)}


def _calls(data: dict[str, Any]) -> Calls:
    names = lambda key: frozenset(_name(pair) for pair in data.get(key) or [])  # noqa: E731
    return Calls(data["statement"], names("functions"), frozenset(data.get("attribute_calls") or []),
                 names("operators"), names("types"), names("relations"), bool(data.get("analyze")),
                 tuple(data.get("names") or []))


def _name(pair: list) -> QualifiedName:
    schema, name = pair
    return (schema, name)

