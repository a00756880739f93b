"""``reference/own-session.md``: diagnose's own database session, generated from the code that opens it.

A ``kind: sql`` check runs on a session diagnose opened, not on one of the application's: what
``current_setting()`` returns there is partly diagnose's, and diagnose's own backends show up in
``pg_stat_activity`` and ``pg_locks`` like any other. This page says what diagnose sets (the values
from the constants of :mod:`diagnose.checks.sql_session`, :mod:`diagnose.checks.sql_pool` and
:mod:`diagnose.probes`), what its snapshot is, how many sessions a run opens, and what a check
author leaves out. ``tests/checks/test_own_session.py`` compares :func:`own_settings` with what a
real server shows inside a check.
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnose.site.mdtext import fence

PAGE = "own-session.md"


@dataclass(frozen=True)
class OwnSetting:
    name: str
    value: str      # Markdown
    when: str       # Markdown: when diagnose sets it
    source: str     # pg_settings.source inside a check


def own_settings() -> list[OwnSetting]:
    """Every server setting a diagnose session has changed by the time a check's query runs."""
    from diagnose.checks.sql_session import (APPLICATION_NAME, BUDGET_MARGIN_MS, IDLE_GRACE_MS, SESSION_OPTIONS,
                                             TRANSACTION_SETTINGS)

    at_connection = "at connection (startup option `-c`)"
    budget = (f"what is left of the check's time budget, less {BUDGET_MARGIN_MS} ms "
              "(milliseconds, set when the check's transaction starts)")
    twice = (f"{at_connection}, from the budget of whatever opened the session; again in each check's "
             "transaction (`SET LOCAL`)")
    rows = [OwnSetting("application_name", f"`{APPLICATION_NAME}`", "at connection (libpq `application_name`)",
                       "client")]
    rows += [OwnSetting(name, f"`{value}`", at_connection, "client") for name, value in SESSION_OPTIONS.items()]
    rows += [OwnSetting("statement_timeout", budget, twice, "session"),
             OwnSetting("lock_timeout", "the same as `statement_timeout`", twice, "session"),
             OwnSetting("idle_in_transaction_session_timeout", f"`statement_timeout` + {IDLE_GRACE_MS} ms", twice,
                        "session")]
    rows += [OwnSetting(name, f"`{value}`", "in each check's transaction (`SET LOCAL`)", "session")
             for name, value in TRANSACTION_SETTINGS.items()]
    rows.append(OwnSetting("transaction_read_only", "`on`", "each check's transaction is `BEGIN READ ONLY`",
                           "session"))
    return rows


COUNT_SESSIONS = """SELECT count(*) AS sessions
  FROM pg_stat_activity
 WHERE backend_type = 'client backend'
   AND datname = current_database()
   AND pid <> pg_backend_pid()
   AND application_name <> '{name}'"""

OLDEST_XMIN = """SELECT pid, usename, application_name, state, age(backend_xmin) AS xmin_age
  FROM pg_stat_activity
 WHERE backend_xmin IS NOT NULL
   AND pid <> pg_backend_pid()
   AND application_name <> '{name}'
 ORDER BY age(backend_xmin) DESC"""

LOCK_HOLDERS = """SELECT l.pid, a.application_name, l.locktype, l.relation::regclass AS relation, l.mode
  FROM pg_locks l
  JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.granted
   AND l.pid <> pg_backend_pid()
   AND a.application_name <> '{name}'"""

RESET_VALUE = """SELECT name, setting AS in_this_transaction, reset_val AS outside_it
  FROM pg_settings
 WHERE name IN ({names})"""

CONFIGURED = """SELECT coalesce(d.datname, 'every database') AS database,
       coalesce(r.rolname, 'every role') AS role,
       split_part(c.setting, '=', 2) AS value
  FROM pg_db_role_setting s
  LEFT JOIN pg_database d ON d.oid = s.setdatabase
  LEFT JOIN pg_roles r ON r.oid = s.setrole
 CROSS JOIN LATERAL unnest(s.setconfig) AS c(setting)
 WHERE split_part(c.setting, '=', 1) = 'idle_in_transaction_session_timeout'"""


def own_session_page() -> str:
    from diagnose.checks.sql_pool import MAX_PER_DSN
    from diagnose.checks.sql_session import (APPLICATION_NAME, BUDGET_MARGIN_MS, MIN_CONNECT_TIMEOUT, SESSION_OPTIONS,
                                             SLOT_SHARE, TRANSACTION_SETTINGS)
    from diagnose.probes import DEFAULT_TIMEOUT, PREPARE_TIMEOUT

    settings = own_settings()
    at_connection = [s.name for s in settings if s.source == "client"]
    per_transaction = sorted(TRANSACTION_SETTINGS)
    default_ms = int(DEFAULT_TIMEOUT * 1000) - BUDGET_MARGIN_MS
    names = ", ".join(f"'{name}'" for name in per_transaction)
    listed = lambda items: ", ".join(f"`{item}`" for item in items)  # noqa: E731
    title = "diagnose's own database session"
    out = ["---", f"title: {title}", "description: The settings, snapshot and application_name of the sessions "
           "diagnose opens, and what a SQL check leaves out because of them.", "---", "", f"# {title}", "",
           "A `kind: sql` check runs on a session diagnose opened, never on one of the application's. Inside it, "
           "`current_setting()` returns diagnose's values for the settings below, and `pg_stat_activity` and "
           "`pg_locks` show diagnose's own backends next to the application's. This page is generated from the "
           "code that opens the sessions: the values are diagnose's own.", "",
           "## The settings diagnose sets { #settings }", "",
           "Inside a check, these differ from what the server would give another session "
           "(`source` is the column of `pg_settings` that says where a value comes from):", "",
           "| setting | value | set | `pg_settings.source` in a check |", "|---|---|---|---|"]
    out += [f"| `{s.name}` | {s.value} | {s.when} | `{s.source}` |" for s in settings]
    out += ["",
            f"The time budget of a check is its `timeout:`, else `--timeout` (default {DEFAULT_TIMEOUT:g} s), "
            f"counted from when the check started: with the default, a check's `statement_timeout` is at most "
            f"{default_ms} ms. The session's own values (its `reset_val`) come from the budget of whatever opened "
            f"it, usually the run's first step (at most {PREPARE_TIMEOUT:g} s). Every other setting is the "
            "server's, as configured for the role and the database (`postgresql.conf`, `ALTER SYSTEM`, "
            "`ALTER DATABASE` / `ALTER ROLE ... SET`).", "",
            "Client side, not seen by the server: libpq's `connect_timeout` is what is left of the budget, rounded "
            f"up, and at least {MIN_CONNECT_TIMEOUT} s; psycopg never prepares a statement on the server "
            "(nothing in its `pg_prepared_statements`), so checks also work behind a pooler in transaction mode "
            "(PgBouncer, Supavisor), which may hand the next check another server session.", "",
            "A pooler that refuses startup options (`unsupported startup parameter`) gets a second connection "
            f"without them: {listed(SESSION_OPTIONS)} and the session's own time limits are then the server's, "
            "but `application_name`, the `READ ONLY` transaction and everything set in each check's transaction "
            "(its time limits included) are still diagnose's.", "",
            "## Its transaction and snapshot { #snapshot }", "",
            "- Each check runs in its own `READ ONLY` transaction, which is always rolled back; the session's "
            "advisory locks are released with it (`pg_advisory_unlock_all()`), so no diagnose session holds one "
            "between checks. A read-only transaction never gets a transaction id: `backend_xid` of a diagnose "
            "session is always null, and diagnose never prepares a transaction (nothing of its own in "
            "`pg_prepared_xacts`).",
            "- diagnose does not set the isolation level: the transaction has the session's default "
            "(`default_transaction_isolation`, `read committed` unless the server says otherwise). At `read "
            "committed` each statement takes its own snapshot, so while a check's query runs its session has a "
            "`backend_xmin` (it holds back the vacuum horizon, for at most its `statement_timeout`), and between "
            "statements and checks it has none. The query reading `pg_stat_activity` sees its own backend's "
            "`backend_xmin`; other diagnose sessions running checks at the same time have theirs.",
            "- While a query runs, its session holds `AccessShareLock` on every table, view and index it reads, "
            "and its own `virtualxid` lock: they are in `pg_locks` like anyone's.", "",
            "## How many sessions a run opens { #sessions }", "",
            "- Before any check runs, one session per database the run's SQL checks read, opened in parallel; "
            "the first one reads how many connection slots are free.",
            f"- Then at most {MAX_PER_DSN} per database (per DSN), shared by every check of the run (one symptom, "
            f"or a whole `diagnose triage`), and at most 1/{SLOT_SHARE} of the free slots: one when slots are "
            "short. The report's notes say when fewer were used.",
            "- Between two checks a session stays open, `idle`; all of them close when the run ends. A connection "
            "the server refused for lack of slots is not tried again in the run.", "",
            "So while a run goes on, up to that many backends with `application_name` "
            f"`{APPLICATION_NAME}` are in `pg_stat_activity`: idle, or running another check of the run.", "",
            "## What a check leaves out { #writing-checks }", "",
            "### Its own sessions { #exclude }", "",
            "Anything that counts or lists sessions, lock holders or snapshots leaves out diagnose's backends, "
            "with both conditions: `pid <> pg_backend_pid()` leaves out the session running the query even when "
            "its `application_name` did not reach the server (a pooler that drops it), and "
            f"`application_name <> '{APPLICATION_NAME}'` leaves out the run's other sessions. The built-in "
            "checks do (those of `db-pool-exhausted`). Sessions:", "",
            fence(COUNT_SESSIONS.format(name=APPLICATION_NAME), "sql"), "",
            "The oldest snapshots (what holds back vacuum):", "",
            fence(OLDEST_XMIN.format(name=APPLICATION_NAME), "sql"), "",
            "Lock holders:", "",
            fence(LOCK_HOLDERS.format(name=APPLICATION_NAME), "sql"), "",
            "### Its own settings { #settings-in-checks }", "",
            "`current_setting()`, `SHOW` and `pg_settings.setting` all return the value of the check's own "
            "transaction. For a setting of the table above that is diagnose's, never the server's:", "",
            f"- set only in each check's transaction ({listed(per_transaction)}): `pg_settings.reset_val` is the "
            "session's value outside the transaction, which is the server's for this role and database:", "",
            fence(RESET_VALUE.format(names=names), "sql"), "",
            f"- set at connection ({listed(at_connection)}) and the time limits: `reset_val` is diagnose's "
            "connection value too (`source` `client`), and `boot_val` is the default PostgreSQL was built with, "
            "whatever the configuration says: neither is the server's value, and no query on diagnose's session "
            "returns it. Read the configuration instead: `pg_db_role_setting` holds `ALTER DATABASE` / "
            "`ALTER ROLE ... SET` values and any role may read it; `pg_file_settings` holds `postgresql.conf` "
            "and `ALTER SYSTEM` values, for a superuser only unless granted (`GRANT SELECT ON pg_file_settings` "
            "and `GRANT EXECUTE ON FUNCTION pg_show_all_file_settings()`). A value given on the server's command "
            "line (`postgres -c ...`, a compose file's `command:`) is in neither.", "",
            fence(CONFIGURED, "sql"), "",
            "- `transaction_read_only` is `on` in every check. Whether the server is a standby (read-only for "
            "everyone) is `pg_is_in_recovery()`; whether the application's transactions are read-only by "
            "default is `default_transaction_read_only`, which diagnose sets at connection (the item above).",
            "- any other setting (`max_connections`, `superuser_reserved_connections`, "
            "`default_transaction_isolation`...): `current_setting()` is the server's value for diagnose's role "
            "and database, which is the application's unless the application's role, database or connection "
            "sets its own.", "",
            "See also [A role for diagnose](least-privilege.md) (the role to give it) and "
            "[Writing a new entry](writing-an-entry.md)."]
    return "\n".join(out) + "\n"
