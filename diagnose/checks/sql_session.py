"""diagnose's own sessions on the database it diagnoses: how they are opened, how many, as whom.

Every session is read-only by default (``default_transaction_read_only=on``), bounded by the
check's budget (``statement_timeout``, ``lock_timeout``, ``idle_in_transaction_session_timeout``)
and named ``application_name=diagnose``, so the built-in checks can leave diagnose's own
backends out of what they count, and a DBA can see them. Each check runs in its own
``READ ONLY`` transaction at the server's default READ COMMITTED level: each statement takes its own
snapshot, held (``backend_xmin``) only while it runs.

The footprint stays small on a server short of connection slots (the very thing the
``db-pool-exhausted`` entry looks at): the first session of a run asks how many slots are
free and the run then opens at most a quarter of them (one when slots are short, never more
than :data:`~diagnose.checks.sql_pool.MAX_PER_DSN`); a connection refused for lack of slots is
tried once per run, and the time of that attempt is kept so log checks with ``exclude_own``
do not count the server's "too many clients" line about it. What the run did is said in the
report's notes, as is a role that is a superuser or may write to the tables the checks read:
a read-only role is enough (the FAQ site's ``reference/least-privilege`` page).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

from .base import CheckError, CheckTimeout, Context, SkipCheck
from .sql_grammar import Calls
from .sql_pool import MAX_PER_DSN, PoolTimeout, SqlPool
from .sql_text import one_line, redact


APPLICATION_NAME = "diagnose"
#: the server's words for SQLSTATE 53300 (too_many_connections), which libpq does not hand over at connect time
TOO_MANY_CONNECTIONS = re.compile(r"too many clients already|remaining connection slots are reserved"
                                  r"|too many connections for (?:database|role)")
#: at most this share of the free connection slots is taken by one run
SLOT_SHARE = 4
# What a session is given (documented on the FAQ site's reference/own-session page, generated from these;
# tests/checks/test_own_session.py compares them with what a real server shows inside a check):
#: the session's own defaults, sent at connection as startup options (``-c name=value``) with the time limits
SESSION_OPTIONS = {"default_transaction_read_only": "on"}
#: statement_timeout and lock_timeout (ms): what is left of the check's budget less this margin, so the
#: server cancels a statement just before the check gives up on it
BUDGET_MARGIN_MS = 20
#: idle_in_transaction_session_timeout (ms): the statement_timeout plus this
IDLE_GRACE_MS = 5000
#: set for each check's transaction only (SET LOCAL), whatever the session's values
TRANSACTION_SETTINGS = {"standard_conforming_strings": "on", "jit": "off"}
#: libpq connect_timeout (s): what is left of the budget, rounded up, and at least this
MIN_CONNECT_TIMEOUT = 2
LEAST_PRIVILEGE = "a read-only role is enough: see 'A role for diagnose' (reference/least-privilege on the FAQ site)"

SESSION_QUERY = """
SELECT current_user::text, r.rolsuper,
       current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
       - coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0)
       - (SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend')::int
  FROM pg_catalog.pg_roles r WHERE r.rolname = current_user
"""
WRITABLE_QUERY = """
SELECT DISTINCT c.oid::pg_catalog.regclass::text
  FROM unnest(%(relations)s::text[]) AS wanted(name)
  JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(wanted.name)
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND pg_catalog.has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
"""


def connect(dsn: str, name: str, ctx: Context, pool: SqlPool) -> Any:
    """A new read-only session (options may be refused by poolers: the transaction still is)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(dsn)
    except psycopg.Error:
        raise CheckError(f"the DSN of database '{name}' is not a valid connection string "
                         f"(postgresql://user@host:port/db or key=value pairs)") from None
    budget_ms = budget(ctx)
    options = {**SESSION_OPTIONS, "statement_timeout": budget_ms, "lock_timeout": budget_ms,
               "idle_in_transaction_session_timeout": budget_ms + IDLE_GRACE_MS}
    ours = " ".join(f"-c {key}={value}" for key, value in options.items())
    settings: dict[str, Any] = {"connect_timeout": max(MIN_CONNECT_TIMEOUT, int(ctx.remaining() + 0.999)),
                "application_name": APPLICATION_NAME,
                "options": f"{info.get('options', '')} {ours}".strip()}
    where = f"{info.get('user') or 'default user'}@{info.get('host') or 'local socket'}" \
            f":{info.get('port') or 5432}/{info.get('dbname') or '(default)'}"
    for attempt in ("with options", "without options"):
        try:
            conn = psycopg.connect(dsn, **settings)
            conn.read_only = True
            # never a server-side prepared statement (psycopg prepares a query run 5 times): behind
            # PgBouncer or Supavisor in transaction mode the next check may land on another server
            # session, where it does not exist
            conn.prepare_threshold = None
            return conn
        except psycopg.Error as exc:
            password = info.get("password")
            text = one_line(redact(str(exc), password if isinstance(password, str) else None))
            if "startup parameter" in text and attempt == "with options":
                settings.pop("options")  # e.g. PgBouncer: rely on the READ ONLY transaction
                continue
            text = re.sub(r"^(FATAL|ERROR):\s*", "", text.rsplit(" failed: ", 1)[-1])  # libpq's reason only
            error = CheckError(f"cannot connect to database '{name}' ({where}): {text}")
            if TOO_MANY_CONNECTIONS.search(text):
                pool.refused(dsn, CheckError(f"{error} (diagnose tried once and does not add to the refusals)"))
                ctx.shared.note(f"refused:{name}", f"database '{name}': the server refused diagnose's connection "
                                "for lack of slots; diagnose tried once, and log checks do not count the "
                                "server's line about that attempt")
            raise error from None
    raise AssertionError("unreachable")


def budget(ctx: Context) -> int:
    """Milliseconds the server gives a statement: what is left of the check's budget."""
    return max(1, int(ctx.remaining() * 1000) - BUDGET_MARGIN_MS)


def borrow(dsn: str, name: str, ctx: Context) -> tuple[SqlPool, Any]:
    """A session of the run's pool for ``dsn`` (opened if need be)."""
    pool = ctx.shared.get("sql", SqlPool)
    try:
        return pool, pool.acquire(dsn, lambda: connect(dsn, name, ctx, pool), wait=ctx.remaining())
    except PoolTimeout as exc:
        raise CheckTimeout(f"no connection to database '{name}' became free in time ({exc})") from None


def give_back(pool: SqlPool, dsn: str, conn: Any) -> None:
    """End the check's transaction and return the session (closed if anything went wrong)."""
    import psycopg

    try:
        # Session-level advisory locks outlive ROLLBACK (a function the query calls may take one):
        # dropped in the same round trip, so a pooled connection never holds one between checks.
        conn.execute("ROLLBACK; SELECT pg_advisory_unlock_all()")
    except psycopg.Error:
        conn.close()
    pool.release(dsn, conn)


def begin(cur: Any, ctx: Context, pool: SqlPool, dsn: str, name: str) -> None:
    """Start the check's transaction with its time limits; on the run's first session of ``dsn``,
    learn the role and the free slots (limits and notes)."""
    budget_ms = budget(ctx)
    # A SELECT first: after its snapshot no statement can make this
    # transaction read-write again. standard_conforming_strings on: the server must read string
    # literals as the parser that judged the query did (with it off, a backslash ends no string
    # for pglast but escapes the quote for the server, and the text after it runs as SQL). No JIT:
    # compiling costs the catalog lookup, or a short check, far more (200 ms) than it could save.
    local = {"statement_timeout": budget_ms, "lock_timeout": budget_ms,
             "idle_in_transaction_session_timeout": budget_ms + IDLE_GRACE_MS, **TRANSACTION_SETTINGS}
    cur.execute("SELECT " + ", ".join(f"set_config(%(k{i})s, %(v{i})s, true)" for i in range(len(local))),
                {**{f"k{i}": k for i, k in enumerate(local)}, **{f"v{i}": str(v) for i, v in enumerate(local.values())}})
    if pool.first_use(dsn):
        cur.execute(SESSION_QUERY)
        role, superuser, free = cur.fetchone() or ("?", False, None)
        pool.sessions[dsn] = {"role": role, "superuser": bool(superuser), "writable": set()}
        if superuser:
            ctx.shared.note(f"superuser:{name}", f"database '{name}': diagnose connected as {role}, a superuser; "
                            f"{LEAST_PRIVILEGE}")
        if free is not None:
            most = max(1, min(MAX_PER_DSN, (int(free) + 1) // SLOT_SHARE))  # +1: this session was counted
            pool.limit(dsn, most)
            if most < MAX_PER_DSN:
                ctx.shared.note(f"slots:{name}", f"database '{name}': {max(0, int(free))} connection slot(s) were "
                                f"free, so diagnose used at most {most} connection(s) (not {MAX_PER_DSN})")


def note_writable(cur: Any, ctx: Context, pool: SqlPool, dsn: str, name: str, calls: Calls | None) -> None:
    """Say in the report when the role may write to a table the check reads (not for a superuser,
    whose note already says more)."""
    session = pool.sessions.get(dsn)
    if calls is None or not calls.relations or session is None or session["superuser"]:
        return
    names = sorted({_qualified(schema, table) for schema, table in calls.relations})
    cur.execute(WRITABLE_QUERY, {"relations": names})
    found = {row[0] for row in cur.fetchall()}
    if found - session["writable"]:
        session["writable"] |= found
        tables = ", ".join(sorted(session["writable"]))
        ctx.shared.note(f"writable:{name}", f"database '{name}': role {session['role']} can write to {tables}, "
                        f"which the checks read; {LEAST_PRIVILEGE}")


def _qualified(schema: str | None, table: str) -> str:
    quote = lambda part: '"' + part.replace('"', '""') + '"'  # noqa: E731
    return f"{quote(schema)}.{quote(table)}" if schema else quote(table)


def prepare(names: Sequence[str], ctx: Context) -> None:
    """Before the run's probes: one session per database (``names``: those its SQL checks read), opened in
    parallel.

    So the free slots are known (and the pool limited) before checks compete for connections,
    and a refused attempt happens before log checks read the server log that records it.
    Failures are left for the checks to report.
    """
    threads = [threading.Thread(target=_open_one, args=(name, ctx), daemon=True) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(ctx.remaining())


def _open_one(name: str, ctx: Context) -> None:
    import psycopg

    try:
        dsn = ctx.database(name)
        pool, conn = borrow(dsn, name, ctx)
    except (SkipCheck, CheckError, CheckTimeout):
        return
    try:
        with conn.cursor() as cur:
            begin(cur, ctx, pool, dsn, name)
    except psycopg.Error:
        pass
    finally:
        give_back(pool, dsn, conn)
