"""``kind: sql``: one read-only query against a PostgreSQL database, with expectations on the result.

Safety comes first: a knowledge-base query must never change the system it diagnoses. Before
anything is sent, PostgreSQL's own parser must find exactly one read statement
(:mod:`.sql_grammar`); then, in the check's transaction and before the query, the target
server's catalog must show that every function, operator and cast it calls only reads
(:mod:`.sql_catalog`). The query runs in a ``READ ONLY`` transaction that is always rolled
back, on a session whose default is read-only, over the extended protocol (which refuses
several statements in one query), with server-side time limits derived from the check's
budget. Parameters are bound by psycopg, never formatted into the SQL; so a literal ``%`` is
written ``%%``.

Example::

    - id: open-positions
      kind: sql
      database: trading
      query: SELECT position_id, symbol FROM positions
             WHERE status = 'OPEN' AND execution_mode <> %(current_mode)s
      params:
        current_mode: {env: trading, key: EXECUTION_MODE, default: LIVE}
      expect: {rows: {max: 0}}
"""

from __future__ import annotations

import re
from typing import Any, Required, TypedDict

from . import expect as expectations
from . import sql_session as session
from .base import CheckError, CheckTimeout, Context, Evidence, Outcome
from .expect import Expectation
from .params import PARAM_SCHEMA, Param, lint_params, resolve_params, shortened_windows
from .sql_catalog import CATALOG_QUERY, catalog_parameters, judge, lint_calls
from .sql_grammar import Calls, Refused
from .sql_verdicts import inspect
from .sql_text import jsonable, lint_placeholders, one_line, placeholders, render_manual

KIND = "sql"
SOURCE = "database"
#: imported when a check runs; a run with sql checks starts importing it early (diagnose.probes.preload)
PRELOAD = ("psycopg",)
DEFAULT_MAX_ROWS = 20

SCHEMA: dict[str, Any] = {
    "properties": {
        "database": {"type": "string", "description": "Name of the database source in the target profile "
                                                      "(resolved to a DSN), e.g. `trading`."},
        "query": {"type": "string", "minLength": 1, "description": (
            "One read statement (SELECT, WITH, VALUES, TABLE, SHOW or EXPLAIN), used verbatim. Placeholders "
            "are written %(name)s and bound from `params`; a literal % must be written %%. It runs in a "
            "read-only transaction that is always rolled back.")},
        "params": {"type": "object", "description": "Values bound to the %(name)s placeholders of the query.",
                   "additionalProperties": PARAM_SCHEMA},
        "expect": {"type": "object", "additionalProperties": False, "minProperties": 1,
                   "description": "What a healthy result looks like: on the row count, the first row's value, "
                                  "or both (all must hold for the check to pass).",
                   "properties": {
                       "rows": {**expectations.SCHEMA, "description": "Expectation on the number of rows."},
                       "value": {**expectations.SCHEMA, "description": "Expectation on the first row's first "
                                 "column (or `column`); a result without rows gives null."},
                       "column": {"type": "string", "description": "The column `value` reads (default: the first)."},
                   }},
        "max_rows": {"type": "integer", "minimum": 1, "default": DEFAULT_MAX_ROWS,
                     "description": "How many rows are kept as evidence (the total is always counted)."},
    },
    "required": ["database", "query", "expect"],
}


class SqlExpect(TypedDict, total=False):
    """``expect`` of a sql check: on the row count, the first row's value, or both."""

    rows: Expectation
    value: Expectation
    column: str


class SqlCheck(TypedDict, total=False):
    """A ``sql`` check as :data:`SCHEMA` validates it (tests/checks/test_kind_types.py keeps the two alike)."""

    id: Required[str]       # a common field: named when the check is misconfigured
    database: Required[str]
    query: Required[str]
    params: dict[str, Param]
    expect: Required[SqlExpect]
    max_rows: int

RESERVED_VARS = ("count", "value", "database", "columns")


def run(check: SqlCheck, ctx: Context) -> Outcome:
    """Run the query and compare the result with ``expect``."""
    name = check["database"]
    expect = check.get("expect") or {}
    if not isinstance(expect, dict) or not ("rows" in expect or "value" in expect):
        raise CheckError(f"check {check.get('id')!r} has no expect.rows or expect.value")
    calls = screen(check["query"], name)  # lint says the same, earlier; a run checks again (a pack edited since)
    params = resolve_params(check.get("params") or {}, ctx)
    dsn = ctx.database(name)
    max_rows = int(check.get("max_rows") or DEFAULT_MAX_ROWS)
    columns, kept, count = _fetch(dsn, name, check["query"], params, ctx, max_rows, calls)

    column = expect.get("column")
    if column is not None and column not in columns:
        raise CheckError(f"expect.column {column!r} is not a column of the result ({', '.join(columns)})")
    first = kept[0] if kept else [None] * len(columns)
    row = dict(zip(columns, first))
    value = row.get(column) if column is not None else (first[0] if first else None)

    passed = True
    if "rows" in expect:
        passed = expectations.holds(count, expect["rows"])
    if "value" in expect:
        passed = passed and expectations.holds(value, expect["value"])
    # the bound params first (a message may name the deployment's own value), the first row over them
    variables = {k: v for k, v in {**params, **row}.items() if k not in RESERVED_VARS}
    variables.update(count=count, value=value, database=name, columns=row)
    shown = f", first {len(kept)} shown" if count > len(kept) else ""
    evidence = Evidence(kind="rows", title=f"database '{name}': {count} row(s){shown}",
                        columns=columns, rows=kept, total=count)
    return Outcome(passed=passed, vars=variables, evidence=[evidence],
                   caveat=shortened_windows(check.get("params") or {}, ctx))


def prepare(checks: list[SqlCheck], ctx: Context) -> None:
    """Before the run's probes: open a session per database the checks read (see :func:`.sql_session.prepare`)."""
    session.prepare(sorted({c["database"] for c in checks if isinstance(c.get("database"), str)}), ctx)


def not_sent(name: str, why: str) -> CheckError:
    return CheckError(f"refused, not sent to database '{name}': {why}")


def screen(query: str, name: str) -> Calls | None:
    """What ``query`` calls, read by PostgreSQL's parser; refused (CheckError) unless it is exactly
    one read statement. ``None`` would mean "not screened" (the tests switch the guard off with it)."""
    try:
        return inspect(query)
    except Refused as exc:
        raise not_sent(name, str(exc)) from None


def catalog_refusal(cur: Any, calls: Calls | None) -> str | None:
    """Ask the server's catalog, in the check's own transaction, whether what the query calls only reads."""
    if calls is None:
        return None
    params = catalog_parameters(calls)
    if not any(params.values()):
        return None
    cur.execute(CATALOG_QUERY, params)
    return judge(calls, cur.fetchall())


def _fetch(dsn: str, name: str, query: str, params: dict, ctx: Context, max_rows: int, calls: Calls | None):
    """(column names, first ``max_rows`` rows as JSON-able lists, total row count)."""
    import psycopg

    pool, conn = session.borrow(dsn, name, ctx)
    count = 0
    kept: list[list[Any]] = []
    columns: list[str] = []
    try:
        with conn.cursor() as cur:
            session.begin(cur, ctx, pool, dsn, name)
            refused = catalog_refusal(cur, calls)
            if refused:
                raise not_sent(name, refused)
            session.note_writable(cur, ctx, pool, dsn, name, calls)
            # stream(): extended protocol (exactly one statement) and bounded memory.
            for row in cur.stream(query, params):
                if count < max_rows:
                    kept.append([jsonable(v) for v in row])
                count += 1
                if count % 1000 == 0:
                    ctx.check_time()
            columns = [c.name for c in cur.description or []] if count else _columns_of(cur, query, params)
    except psycopg.ProgrammingError as exc:
        if getattr(exc, "sqlstate", None):
            raise _query_error(exc, name, ctx) from None
        missing = re.search(r"query parameter missing: (\w+)", str(exc))
        if missing:
            raise CheckError(f"the query uses %({missing[1]})s but params has no {missing[1]!r}") from None
        raise CheckError(f"query placeholders: {one_line(str(exc))} (write %% for a literal %)") from None
    except psycopg.Error as exc:
        raise _query_error(exc, name, ctx) from None
    finally:
        session.give_back(pool, dsn, conn)
    return columns, kept, count


def _columns_of(cur, query: str, params: dict) -> list[str]:
    """Column names of a result without rows (stream() does not keep them): LIMIT 0 costs nothing."""
    import psycopg

    body = query.rstrip().rstrip(";")
    try:
        # binary=True forces the extended protocol: one statement only, like the query itself.
        cur.execute(f"SELECT * FROM (\n{body}\n) AS diagnose_columns LIMIT 0", params, binary=True)
    except psycopg.Error:  # SHOW / EXPLAIN cannot be wrapped: evidence without a header
        return []
    return [c.name for c in cur.description or []]


def _query_error(exc: Exception, name: str, ctx: Context) -> Exception:
    from psycopg import errors

    diag = getattr(exc, "diag", None)
    text = one_line((diag.message_primary if diag is not None else None) or str(exc))
    hint = one_line(diag.message_hint) if diag is not None and diag.message_hint else ""
    if isinstance(exc, errors.QueryCanceled) and "statement timeout" in text:
        return CheckTimeout(f"query on database '{name}' did not finish within {ctx.timeout:g}s ({text})")
    if isinstance(exc, errors.LockNotAvailable):
        return CheckTimeout(f"query on database '{name}' waited too long for a lock ({text})")
    if isinstance(exc, errors.ReadOnlySqlTransaction):
        return CheckError(f"refused: the check tried to write (read-only transaction): {text}")
    if "multiple commands" in text:
        return CheckError(f"the query must be a single statement ({text})")
    if getattr(exc, "sqlstate", None) is None:
        return CheckError(f"lost the connection to database '{name}': {text}")
    return CheckError(f"query failed on database '{name}': {text}" + (f" (hint: {hint})" if hint else ""))


def lint(check: SqlCheck) -> list[tuple[str, str]]:
    """A single read statement; placeholders and params match; an expectation on rows or value."""
    problems: list[tuple[str, str]] = []
    query = check.get("query")
    if not isinstance(query, str) or not query.strip():
        return [("query", "the query is empty")]
    try:
        problems += [("query", message) for message in lint_calls(inspect(query))]
    except Refused as exc:
        problems.append(("query", str(exc)))
    problems += [("query", message) for message in lint_placeholders(query)]
    problems += lint_params(check.get("params") or {}, placeholders(query), "query", "query")
    expect = check.get("expect")
    if not isinstance(expect, dict) or not ("rows" in expect or "value" in expect):
        problems.append(("expect", "give expect.rows (row count) and/or expect.value (first row's value)"))
    else:
        for field in ("rows", "value"):
            if field in expect:
                problems += expectations.lint(expect[field], f"expect.{field}")
    return problems


def manual(check: SqlCheck) -> str:
    """``psql "$DATABASE_URL_<name>" -c "<query>"`` with the params filled in."""
    return render_manual(check.get("database") or "db", check.get("query") or "", check.get("params") or {})

