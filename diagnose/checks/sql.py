"""``kind: sql``: one read-only query against a PostgreSQL database, with expectations on the result.

Safety comes first: a knowledge-base query must never change the system it diagnoses. The
query runs in a ``READ ONLY`` transaction that is always rolled back, on a session whose
default is read-only, over the extended protocol (which refuses several statements in one
query), with server-side time limits derived from the check's budget. Parameters are bound
by psycopg, never formatted into the SQL; so a literal ``%`` is written ``%%``.

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
from typing import Any

from . import expect as expectations
from .base import CheckError, CheckTimeout, Context, Evidence, Outcome, SkipCheck
from .sql_text import jsonable, lint_query, one_line, placeholders, redact, refusal, render_manual

KIND = "sql"
SOURCE = "database"
DEFAULT_MAX_ROWS = 20

_PARAM_SCHEMA = {
    "description": "A bound query parameter: a literal value, {value: X}, or {env: NAME, key: KEY, default: X} "
                   "(read from an env source; without a default the check is skipped when it is missing).",
    "anyOf": [
        {"type": ["string", "number", "boolean", "null", "array"]},
        {"type": "object", "additionalProperties": False, "required": ["value"],
         "properties": {"value": {"description": "the literal value bound to the placeholder"}}},
        {"type": "object", "additionalProperties": False, "required": ["env", "key"],
         "properties": {
             "env": {"type": "string", "description": "name of the env source (target profile) to read"},
             "key": {"type": "string", "description": "the variable to read from that env source"},
             "default": {"description": "used when the env source or the key is missing"}}},
    ],
}

SCHEMA: dict[str, Any] = {
    "properties": {
        "database": {"type": "string", "description": "Name of the database source in the target profile "
                                                      "(resolved to a DSN), e.g. `trading`."},
        "query": {"type": "string", "minLength": 1, "description": (
            "One read statement (SELECT, WITH, VALUES, TABLE, SHOW or EXPLAIN), used verbatim. Placeholders "
            "are written %(name)s and bound from `params`; a literal % must be written %%. It runs in a "
            "read-only transaction that is always rolled back.")},
        "params": {"type": "object", "description": "Values bound to the %(name)s placeholders of the query.",
                   "additionalProperties": _PARAM_SCHEMA},
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

RESERVED_VARS = ("count", "value", "database", "columns")


def run(check: dict, ctx: Context) -> Outcome:
    """Run the query and compare the result with ``expect``."""
    name = check["database"]
    expect = check.get("expect") or {}
    if not isinstance(expect, dict) or not ("rows" in expect or "value" in expect):
        raise CheckError(f"check {check.get('id')!r} has no expect.rows or expect.value")
    refused = refusal(check["query"])
    if refused:  # what the read-only transaction would let through (lint says the same, earlier)
        raise CheckError(f"refused, not sent to database '{name}': {refused}")
    params = resolve_params(check.get("params") or {}, ctx)
    dsn = ctx.database(name)
    max_rows = int(check.get("max_rows") or DEFAULT_MAX_ROWS)
    columns, kept, count = _fetch(dsn, name, check["query"], params, ctx, max_rows)

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
    variables = {k: v for k, v in row.items() if k not in RESERVED_VARS}
    variables.update(count=count, value=value, database=name, columns=row)
    shown = f", first {len(kept)} shown" if count > len(kept) else ""
    evidence = Evidence(kind="rows", title=f"database '{name}': {count} row(s){shown}",
                        columns=columns, rows=kept, total=count)
    return Outcome(passed=passed, vars=variables, evidence=[evidence])


def resolve_params(spec: dict, ctx: Context) -> dict[str, Any]:
    """The values to bind: literals as they are, env values read through ``ctx``."""
    values: dict[str, Any] = {}
    for name, param in spec.items():
        if not isinstance(param, dict):
            values[name] = param
        elif "value" in param:
            values[name] = param["value"]
        elif "env" in param:
            values[name] = _env_param(param, ctx)
        else:
            raise CheckError(f"params.{name}: give a literal, {{value: ...}} or {{env: NAME, key: KEY}}")
    return values


def _env_param(param: dict, ctx: Context) -> Any:
    env_name, key = param["env"], param.get("key")
    try:
        env = ctx.env(env_name)
    except SkipCheck:
        if "default" in param:
            return param["default"]
        raise SkipCheck(f"needs {key} from env '{env_name}', which is not configured") from None
    if key in env:
        return env[key]
    if "default" in param:
        return param["default"]
    raise SkipCheck(f"needs {key} from env '{env_name}', which does not set it")


def _connect(dsn: str, name: str, ctx: Context):
    """A read-only session (options may be refused by poolers: then the transaction still is)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(dsn)
    except psycopg.Error:
        raise CheckError(f"the DSN of database '{name}' is not a valid connection string "
                         f"(postgresql://user@host:port/db or key=value pairs)") from None
    budget_ms = _budget_ms(ctx)
    ours = (f"-c default_transaction_read_only=on -c statement_timeout={budget_ms} "
            f"-c lock_timeout={budget_ms} -c idle_in_transaction_session_timeout={budget_ms + 5000}")
    settings = {"connect_timeout": max(2, int(ctx.remaining() + 0.999)), "application_name": "diagnose",
                "options": f"{info.get('options', '')} {ours}".strip()}
    where = f"{info.get('user') or 'default user'}@{info.get('host') or 'local socket'}" \
            f":{info.get('port') or 5432}/{info.get('dbname') or '(default)'}"
    for attempt in ("with options", "without options"):
        try:
            conn = psycopg.connect(dsn, **settings)
            conn.read_only = True
            return conn
        except psycopg.Error as exc:
            text = one_line(redact(str(exc), info.get("password")))
            if "startup parameter" in text and attempt == "with options":
                settings.pop("options")  # e.g. PgBouncer: rely on the READ ONLY transaction
                continue
            text = re.sub(r"^(FATAL|ERROR):\s*", "", text.rsplit(" failed: ", 1)[-1])  # libpq's reason only
            raise CheckError(f"cannot connect to database '{name}' ({where}): {text}") from None
    raise AssertionError("unreachable")


def _budget_ms(ctx: Context) -> int:
    return max(1, int(ctx.remaining() * 1000) - 20)


def _fetch(dsn: str, name: str, query: str, params: dict, ctx: Context, max_rows: int):
    """(column names, first ``max_rows`` rows as JSON-able lists, total row count)."""
    import psycopg

    from .sql_pool import PoolTimeout, SqlPool

    pool = ctx.shared.get("sql", SqlPool)
    try:
        conn = pool.acquire(dsn, lambda: _connect(dsn, name, ctx), wait=ctx.remaining())
    except PoolTimeout as exc:
        raise CheckTimeout(f"no connection to database '{name}' became free in time ({exc})") from None
    count, kept, columns = 0, [], []
    try:
        with conn.cursor() as cur:
            budget_ms = _budget_ms(ctx)
            # A SELECT first: it also takes the snapshot, after which no statement can make
            # this transaction read-write again.
            cur.execute("SELECT set_config('statement_timeout', %(t)s, true), set_config('lock_timeout', %(l)s, true),"
                        " set_config('idle_in_transaction_session_timeout', %(i)s, true)",
                        {"t": str(budget_ms), "l": str(budget_ms), "i": str(budget_ms + 5000)})
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
        try:
            # Session-level advisory locks outlive ROLLBACK (a function the query calls may take one):
            # dropped in the same round trip, so a pooled connection never holds one between checks.
            conn.execute("ROLLBACK; SELECT pg_advisory_unlock_all()")
        except psycopg.Error:
            conn.close()
        pool.release(dsn, conn)
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


def lint(check: dict) -> list[tuple[str, str]]:
    """A single read statement; placeholders and params match; an expectation on rows or value."""
    problems: list[tuple[str, str]] = []
    query = check.get("query")
    if not isinstance(query, str) or not query.strip():
        return [("query", "the query is empty")]
    problems += [("query", message) for message in lint_query(query)]
    params = check.get("params") or {}
    if not isinstance(params, dict):
        problems.append(("params", "params must be a mapping of placeholder name to value"))
        params = {}
    used = placeholders(query)
    for missing in sorted(used - set(params)):
        problems.append(("query", f"%({missing})s has no entry in params"))
    for unused in sorted(set(params) - used):
        problems.append((f"params.{unused}", f"not used by the query (no %({unused})s)"))
    for pname, param in params.items():
        if isinstance(param, dict) and not ("value" in param or ("env" in param and "key" in param)):
            problems.append((f"params.{pname}", "give a literal, {value: X} or {env: NAME, key: KEY, default: X}"))
    expect = check.get("expect")
    if not isinstance(expect, dict) or not ("rows" in expect or "value" in expect):
        problems.append(("expect", "give expect.rows (row count) and/or expect.value (first row's value)"))
    else:
        for field in ("rows", "value"):
            if field in expect:
                problems += expectations.lint(expect[field], f"expect.{field}")
    return problems


def manual(check: dict) -> str:
    """``psql "$DATABASE_URL_<name>" -c "<query>"`` with the params filled in."""
    return render_manual(check.get("database") or "db", check.get("query") or "", check.get("params") or {})

