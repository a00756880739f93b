"""May the server run what a query calls? Asked of the target server's own catalog, before sending.

:mod:`diagnose.checks.sql_grammar` says *which names* a statement calls; only the server knows
what they resolve to there (its version, its extensions, its users' functions). So right before
the query, in the same ``READ ONLY`` transaction, one catalog query resolves every function,
operator and cast target by name, through the session's ``search_path`` (or the schema written),
and the query is refused, unsent, when any candidate

* is ``VOLATILE`` (it may change state: reset statistics, signal backends, consume a replication
  slot, pause replay, write files) and not on :data:`ALLOWED_VOLATILE`, a short list of readers
  of PostgreSQL's own whose volatility only means "the answer changes";
* runs SQL given as text (:data:`RUNS_SQL_TEXT`), or assigns a transaction id although marked
  ``STABLE`` (:data:`ASSIGNS_XID`).

Aggregates are judged by their support functions too, operators by the function behind them,
casts by the cast and input functions of the target type, and what runs without being named (a
parameter default, an implicit cast, a domain's CHECK, an operator family's sort support) with
the name that makes it run. The comparisons a query makes without an operator (simple ``CASE``,
``IN (subquery)``, ``DISTINCT``, ``ORDER BY``...) are judged as the ``=``, ``<`` and ``>`` they use.
Views and the rules of the database are the owner's word: what a view runs is not resolved. Extension and user-defined functions
follow the same rule: the server's marking is the word of the database's owner, who made them
(a check cannot create anything). A name the server does not know is not refused here: the
server will refuse the query itself. The allowlist applies to ``pg_catalog`` only; a user
function called ``random`` is judged like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .sql_grammar import Calls, QualifiedName

#: VOLATILE functions of pg_catalog that only read (their answer changes from call to call, which is
#: why they are VOLATILE): name -> what it reads. Nothing else VOLATILE is sent.
ALLOWED_VOLATILE: dict[str, str] = {
    "clock_timestamp": "the current time", "timeofday": "the current time", "random": "a random number",
    "random_normal": "a random number", "gen_random_uuid": "a random UUID", "uuidv4": "a random UUID",
    "uuidv7": "a time-ordered UUID",
    "pg_sleep": "nothing: it waits, within the check's statement_timeout", "pg_sleep_for": "nothing: it waits",
    "pg_sleep_until": "nothing: it waits",
    "pg_blocking_pids": "which sessions block a session", "pg_safe_snapshot_blocking_pids": "which sessions block a snapshot",
    "pg_lock_status": "the lock table (pg_locks)", "pg_prepared_xact": "prepared transactions",
    "pg_is_in_recovery": "whether the server is a standby", "pg_is_wal_replay_paused": "the replay state",
    "pg_get_wal_replay_pause_state": "the replay state", "pg_last_wal_receive_lsn": "a WAL position",
    "pg_last_wal_replay_lsn": "a WAL position", "pg_last_xact_replay_timestamp": "the replay time",
    "pg_current_wal_lsn": "a WAL position", "pg_current_wal_insert_lsn": "a WAL position",
    "pg_current_wal_flush_lsn": "a WAL position", "pg_xact_commit_timestamp": "a commit time",
    "pg_last_committed_xact": "the last commit", "pg_xact_status": "a transaction's status",
    "txid_status": "a transaction's status", "pg_is_in_backup": "whether a backup runs",
    "pg_database_size": "a size on disk", "pg_relation_size": "a size on disk", "pg_table_size": "a size on disk",
    "pg_indexes_size": "a size on disk", "pg_total_relation_size": "a size on disk",
    "pg_tablespace_size": "a size on disk", "pg_control_checkpoint": "pg_control (wraparound, checkpoints)",
    "pg_control_system": "pg_control", "pg_control_recovery": "pg_control", "pg_control_init": "pg_control",
    "pg_notification_queue_usage": "the NOTIFY queue's fill", "pg_jit_available": "whether JIT is available",
    "pg_current_logfile": "the current log file's name", "pg_ls_waldir": "WAL file names and sizes (pg_monitor)",
    "pg_ls_logdir": "log file names and sizes (pg_monitor)", "pg_ls_tmpdir": "temporary file names and sizes (pg_monitor)",
    "pg_ls_archive_statusdir": "archive status file names (pg_monitor)",
    "pg_partition_tree": "a partition tree", "pg_partition_ancestors": "a partition's ancestors",
    "pg_sequence_last_value": "a sequence's last value", "pg_stat_have_stats": "whether statistics exist",
    "pg_get_wait_events": "the list of wait events", "pg_stat_get_io": "I/O statistics",
    "pg_stat_get_backend_io": "I/O statistics", "pg_stat_get_backend_wal": "WAL statistics",
    "pg_stat_get_recovery_prefetch": "prefetch statistics", "pg_collation_actual_version": "a collation version",
    "pg_database_collation_actual_version": "a collation version",
}
# the transaction's own statistics counters
ALLOWED_VOLATILE.update({name: "this transaction's statistics" for name in (
    "pg_stat_get_xact_blocks_fetched", "pg_stat_get_xact_blocks_hit", "pg_stat_get_xact_function_calls",
    "pg_stat_get_xact_function_self_time", "pg_stat_get_xact_function_total_time", "pg_stat_get_xact_numscans",
    "pg_stat_get_xact_tuples_deleted", "pg_stat_get_xact_tuples_fetched", "pg_stat_get_xact_tuples_hot_updated",
    "pg_stat_get_xact_tuples_inserted", "pg_stat_get_xact_tuples_returned", "pg_stat_get_xact_tuples_updated",
    "pg_stat_get_xact_tuples_newpage_updated")})

#: functions that run SQL given to them as text: whatever it calls would escape every rule here
RUNS_SQL_TEXT = frozenset({"query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "ts_stat",
                           "ts_rewrite", "cursor_to_xml", "cursor_to_xmlschema"})
#: marked STABLE, but each call consumes a transaction id (a step towards wraparound)
ASSIGNS_XID = frozenset({"txid_current", "pg_current_xact_id"})

_VOLATILE_LIST = Path(__file__).with_name("pg_volatile.txt")

#: one round trip: every candidate routine behind the names a statement uses, with its volatility.
#: Columns: what, schema of the name, the name, the function that runs (signature, schema, name),
#: its volatility, and whether the name's schema is on the session's search_path.
#: Besides the routine a name resolves to, what runs without being named: a function's parameter
#: defaults and SQL body (pg_depend), implicit casts to its argument types or an operator's operand
#: types, the support functions of an operator's btree/hash families (sorting, grouping, hashing),
#: and for a type: the input functions and casts of the type, its domain's base types, its composite
#: attributes' types, and the functions its domain constraints call. Those derived rows are kept
#: only when VOLATILE (what they add is never a reader to allow).
_RUNS = "r.oid::pg_catalog.regprocedure::text, rn.nspname, r.proname, r.provolatile"
_VISIBLE = "n.nspname IN (SELECT nspname FROM visible)"
_VISIBLE_NAMED = "d.nspname IN (SELECT nspname FROM visible)"   # a type name, and the types behind it
_RUNNER = "JOIN pg_catalog.pg_namespace rn ON rn.oid = r.pronamespace"
_DEPENDS = ("JOIN pg_catalog.pg_depend dep ON dep.classid = 'pg_catalog.{catalog}'::pg_catalog.regclass "
            "AND dep.objid = {oid} AND dep.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass "
            "JOIN pg_catalog.pg_proc r ON r.oid = dep.refobjid")
CATALOG_QUERY = f"""
WITH RECURSIVE visible AS (SELECT unnest(pg_catalog.current_schemas(true)) AS nspname),
named AS (
  SELECT t.oid, n.nspname, t.typname AS name, 0 AS depth
    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
   WHERE t.typname = ANY(%(types)s::text[])
  UNION
  SELECT u.oid, d.nspname, d.name, d.depth + 1
    FROM named d JOIN pg_catalog.pg_type t ON t.oid = d.oid
    JOIN pg_catalog.pg_type u ON u.oid = t.typbasetype OR u.oid = t.typelem
      OR u.oid IN (SELECT a.atttypid FROM pg_catalog.pg_attribute a
                    WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
   WHERE d.depth < 6
)
SELECT 'function', n.nspname, r.proname, {_RUNS}, {_VISIBLE}
  FROM pg_catalog.pg_proc r JOIN pg_catalog.pg_namespace n ON n.oid = r.pronamespace {_RUNNER}
 WHERE r.proname = ANY(%(functions)s::text[])
UNION ALL
SELECT 'function', n.nspname, p.proname, {_RUNS}, {_VISIBLE}
  FROM pg_catalog.pg_aggregate a JOIN pg_catalog.pg_proc p ON p.oid = a.aggfnoid
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_catalog.pg_proc r ON r.oid IN (a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn,
                                         a.aggdeserialfn, a.aggmtransfn, a.aggminvtransfn, a.aggmfinalfn) {_RUNNER}
 WHERE p.proname = ANY(%(functions)s::text[])
UNION ALL
SELECT 'function', n.nspname, p.proname, {_RUNS}, {_VISIBLE}
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  {_DEPENDS.format(catalog="pg_proc", oid="p.oid")} {_RUNNER}
 WHERE p.proname = ANY(%(functions)s::text[]) AND r.provolatile = 'v'
UNION ALL
SELECT 'function', n.nspname, p.proname, {_RUNS}, {_VISIBLE}
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_catalog.pg_cast c ON c.casttarget = ANY(p.proargtypes::pg_catalog.oid[]) AND c.castcontext = 'i'
  JOIN pg_catalog.pg_proc r ON r.oid = c.castfunc {_RUNNER}
 WHERE p.proname = ANY(%(functions)s::text[]) AND r.provolatile = 'v'
UNION ALL
SELECT 'attribute', n.nspname, r.proname, {_RUNS}, {_VISIBLE}
  FROM pg_catalog.pg_proc r JOIN pg_catalog.pg_namespace n ON n.oid = r.pronamespace {_RUNNER}
 WHERE r.proname = ANY(%(attributes)s::text[])
UNION ALL
SELECT 'operator', n.nspname, o.oprname, {_RUNS}, {_VISIBLE}
  FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
  JOIN pg_catalog.pg_proc r ON r.oid = o.oprcode {_RUNNER}
 WHERE o.oprname = ANY(%(operators)s::text[])
UNION ALL
SELECT 'operator', n.nspname, o.oprname, {_RUNS}, {_VISIBLE}
  FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
  JOIN pg_catalog.pg_cast c ON c.casttarget IN (o.oprleft, o.oprright) AND c.castcontext = 'i'
  JOIN pg_catalog.pg_proc r ON r.oid = c.castfunc {_RUNNER}
 WHERE o.oprname = ANY(%(operators)s::text[]) AND r.provolatile = 'v'
UNION ALL
SELECT 'operator', n.nspname, o.oprname, {_RUNS}, {_VISIBLE}
  FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
  JOIN pg_catalog.pg_amop ao ON ao.amopopr = o.oid
  JOIN pg_catalog.pg_am am ON am.oid = ao.amopmethod AND am.amname IN ('btree', 'hash')
  JOIN pg_catalog.pg_amproc ap ON ap.amprocfamily = ao.amopfamily
  JOIN pg_catalog.pg_proc r ON r.oid = ap.amproc {_RUNNER}
 WHERE o.oprname = ANY(%(operators)s::text[]) AND r.provolatile = 'v'
UNION ALL
SELECT 'type', d.nspname, d.name, {_RUNS}, {_VISIBLE_NAMED}
  FROM named d JOIN pg_catalog.pg_type t ON t.oid = d.oid
  JOIN pg_catalog.pg_proc r ON r.oid = t.typinput {_RUNNER}
UNION ALL
SELECT 'type', d.nspname, d.name, {_RUNS}, {_VISIBLE_NAMED}
  FROM named d JOIN pg_catalog.pg_cast c ON c.casttarget = d.oid AND d.depth = 0
  JOIN pg_catalog.pg_proc r ON r.oid = c.castfunc {_RUNNER}
UNION ALL
SELECT 'type', d.nspname, d.name, {_RUNS}, {_VISIBLE_NAMED}
  FROM named d JOIN pg_catalog.pg_constraint k ON k.contypid = d.oid
  {_DEPENDS.format(catalog="pg_constraint", oid="k.oid")} {_RUNNER}
 WHERE r.provolatile = 'v'
"""


@dataclass(frozen=True)
class Routine:
    """A catalog row: something a name in the query may resolve to, and the function it runs."""

    what: str          # function | attribute | operator | type
    schema: str        # the schema of the name
    name: str          # the name the query used (function, operator or type name)
    runs: str          # the function that runs, as regprocedure text: pg_stat_reset()
    runs_schema: str   # its schema
    runs_name: str     # its name
    volatility: str    # i | s | v
    visible: bool      # the name's schema is on the session's search_path (pg_catalog included)


def catalog_parameters(calls: Calls) -> dict[str, list[str]]:
    return {"functions": sorted({n for _, n in calls.functions}), "attributes": sorted(calls.attribute_calls),
            "operators": sorted({n for _, n in calls.operators}), "types": sorted({n for _, n in calls.types})}


def judge(calls: Calls, rows: list[tuple]) -> str | None:
    """Why the statement must not be sent (None: it may), from the rows of :data:`CATALOG_QUERY`."""
    routines = [Routine(*row) for row in rows]
    wanted: list[tuple[str, QualifiedName]] = (
        [("function", n) for n in sorted(calls.functions, key=_key)]
        + [("attribute", (None, n)) for n in sorted(calls.attribute_calls)]
        + [("operator", n) for n in sorted(calls.operators, key=_key)]
        + [("type", n) for n in sorted(calls.types, key=_key)])
    for what, (schema, name) in wanted:
        for routine in routines:
            if routine.what != what or routine.name != name or \
                    not (routine.schema == schema if schema is not None else routine.visible):
                continue
            reason = _reason(routine)
            if reason:
                return f"{_called_as(what, schema, name, routine)} {reason}"
    return None


def _key(name: QualifiedName) -> tuple[str, str]:
    return name[0] or "", name[1]


def _reason(routine: Routine) -> str | None:
    own = routine.runs_schema == "pg_catalog"
    if routine.runs_name in RUNS_SQL_TEXT and own:
        return "runs SQL given as text, which no rule here could check"
    if routine.runs_name in ASSIGNS_XID and own:
        return "assigns a transaction id (each call consumes one)"
    if routine.volatility == "v" and not (own and routine.runs_name in ALLOWED_VOLATILE):
        return ("is VOLATILE on this server: it may change the server's state, and it is not one of the "
                "side-effect-free readers diagnose allows")
    return None


def _called_as(what: str, schema: str | None, name: str, routine: Routine) -> str:
    written = f"{schema}.{name}" if schema else name
    if what == "function":
        return routine.runs if routine.runs_name == name else f"{written}() runs {routine.runs}, which"
    if what == "attribute":
        return f"the attribute notation .{name} calls {routine.runs}, which"
    if what == "operator":
        return f"operator {written} runs {routine.runs}, which"
    return f"a cast to {written} runs {routine.runs}, which"


def known_volatile() -> frozenset[str]:
    """PostgreSQL's own VOLATILE function names (all supported versions), for ``lint``."""
    lines = _VOLATILE_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def lint_calls(calls: Calls) -> list[str]:
    """What ``lint`` can tell without a server: calls to PostgreSQL's own functions that will be refused."""
    volatile = known_volatile()
    problems = []
    for schema, name in sorted(calls.functions, key=_key):
        if schema not in (None, "pg_catalog"):
            continue
        if name in RUNS_SQL_TEXT:
            problems.append(f"{name}() runs SQL given as text: checks must only read (refused at run time)")
        elif name in ASSIGNS_XID:
            problems.append(f"{name}() assigns a transaction id: checks must only read (refused at run time)")
        elif name in volatile and name not in ALLOWED_VOLATILE:
            problems.append(f"{name}() is VOLATILE in PostgreSQL: it may change the server's state; "
                            f"checks must only read (refused at run time)")
    return problems
