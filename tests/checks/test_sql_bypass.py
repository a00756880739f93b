"""Standing test: generated variants of dangerous statements have no effect on a real PostgreSQL.

A denylist of names over text was bypassed by a comment between a function name and its
parenthesis, by nested block comments and ``--`` comments ended by a carriage return, and by
functions nobody had listed. Here every dangerous call is spelled every way the grammar allows
(case, quoting, schema qualification, unicode escapes, comments in between, nested and
CR-ended comments) and placed in every form a read can take (FROM f(), ROWS FROM, LATERAL,
CTEs, subqueries, casts, set operations, EXPLAIN ANALYZE), plus DO blocks, several statements,
and routines of the database's own (an operator, an aggregate, a cast, the attribute notation).

Each variant goes through the ``sql`` kind as a knowledge-base check would. Then, on servers
started for this (``wal_level=logical``, ``log_statement=all``, a hot standby):

* none of the variant texts reached the server (its log shows every statement it received);
* statistics were not reset; the victim session still answers; the logical slot still has its
  pending changes and its position; the standby is not paused and still replays; no file
  appeared where the server could write; no backup is running.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from diagnose.checks import sql
from diagnose.checks.base import CheckError, Context, RunResources, SkipCheck
from diagnose.pg import TempPostgres

NOT_SENT = "refused, not sent to database 'victim': "

#: dangerous calls: {victim} another session's pid, {file} a path the server could write
CALLS = [
    ("pg_stat_reset", "()"),
    ("pg_stat_reset_shared", "('bgwriter')"),
    ("pg_terminate_backend", "({victim})"),
    ("pg_cancel_backend", "({victim})"),
    ("pg_logical_slot_get_binary_changes", "('diag_slot', NULL, NULL, 'proto_version', '1', 'publication_names', 'diag_pub')"),
    ("pg_replication_slot_advance", "('diag_slot', pg_current_wal_lsn())"),
    ("pg_drop_replication_slot", "('diag_slot')"),
    ("pg_switch_wal", "()"),
    ("pg_reload_conf", "()"),
    ("lo_export", "(lo_from_bytea(0, 'x'), '{file}')"),
    ("set_config", "('default_transaction_read_only', 'off', false)"),
    ("pg_advisory_lock", "(4711)"),
    ("pg_backup_start", "('diagnose-planted')"),
    ("query_to_xml", "('SELECT pg_stat_reset()', true, true, '')"),
]


def spellings(name: str) -> list[str]:
    escaped = "".join(f"\\{ord(c):04x}" for c in name[:3]) + name[3:]
    return [name, name.upper(), f'"{name}"', f"pg_catalog.{name}", f'"pg_catalog"."{name}"', f'PG_CATALOG.{name.upper()}',
            f'U&"{escaped}"', f"{name}/**/", f"{name}/* a /* nested */ comment */", f"{name}\n", f"{name}\t",
            f"pg_catalog /* x */ . {name}"]


FORMS = [
    "SELECT {call}", "SELECT * FROM {call}", "SELECT * FROM ROWS FROM ({call})", "SELECT 1 WHERE {call} IS NOT NULL",
    "WITH x AS (SELECT {call}) SELECT * FROM x", "WITH x AS MATERIALIZED (SELECT {call} AS r) SELECT r FROM x",
    "EXPLAIN ANALYZE SELECT {call}", "EXPLAIN (ANALYZE true, TIMING false) SELECT {call}",
    "SELECT ({call})::text", "SELECT CAST({call} AS text)", "SELECT (SELECT {call})",
    "SELECT 1 UNION ALL SELECT count({call}) FROM generate_series(1, 1)",
    "SELECT * FROM generate_series(1, 1) g, LATERAL (SELECT {call}) l", "SELECT {call} FROM generate_series(1, 1)",
    "SELECT 1 --\r, {call}", "SELECT 1 /* /* */ */ , {call}", "SELECT 1 -- a comment\n, {call}",
    "VALUES ({call})", "SELECT ARRAY[{call}]", "SELECT CASE WHEN true THEN {call} END",
    "SELECT 1; SELECT {call}", "DO $$BEGIN PERFORM {call}; END$$", "SELECT 1 FROM pg_class WHERE EXISTS (SELECT {call})",
]

#: the attribute notation calls f(x) for a value x of any type, defaults filled in
ATTRIBUTE_CALLS = [
    "SELECT ('bgwriter'::text).pg_stat_reset_shared", "SELECT ({victim}).pg_terminate_backend",
    "SELECT (a.pid).pg_cancel_backend FROM pg_stat_activity a WHERE a.pid = {victim}",
    "SELECT (4711::bigint).pg_advisory_lock", "SELECT (0.25::float8).setseed", "SELECT ('diag_slot'::name).pg_drop_replication_slot",
]

#: routines of the database's own that run a volatile function (created in the fixture)
OWN = [
    "SELECT 1 === 1", "SELECT 1 OPERATOR(public.===) 1", "SELECT evil_agg(x) FROM generate_series(1, 3) x",
    "SELECT 1::evil_t", "SELECT CAST(1 AS public.evil_t)", "SELECT r.evil_attr FROM evil_tbl r",
    "SELECT (r).evil_attr FROM evil_tbl r", "SELECT evil_srf()", "SELECT * FROM evil_srf()",
    # what runs without being named: a domain's CHECK (a cast, a record built from JSON, a column
    # definition list), a parameter default, an implicit cast to an argument type, an implied `=`
    # (simple CASE, IN subquery, DISTINCT, UNION, JOIN USING), a sort support function (ORDER BY)
    "SELECT 1::evil_dom", "SELECT CAST(1 AS evil_dom)", "SELECT json_populate_record(NULL::evil_dtbl, '{{\"x\": 1}}')",
    "SELECT * FROM json_to_record('{{\"x\": 1}}') AS r(x evil_dom)", "SELECT evil_default()",
    "SELECT evil_show(1)",
    # the parser's grammar (PostgreSQL 17) reads this as SQL/JSON syntax; the server (15 or 16) calls a function
    "SELECT json_scalar(1)",
]
#: operators of the database's own behind VOLATILE functions, run by comparisons nobody wrote: an
#: implied `=` (simple CASE, IN subquery, DISTINCT, UNION, JOIN USING) or the sort support of ORDER BY.
#: Operators are resolved by name, not by operand types, so in a database that has them every query
#: using `=` (or `<`, `>`) is refused: they live in a database of their own here.
OWN_OPERATORS = [
    "SELECT CASE v WHEN v THEN 1 END FROM evil_pt_tbl",
    "SELECT 1 FROM evil_pt_tbl WHERE v IN (SELECT v FROM evil_pt_tbl)", "SELECT DISTINCT v FROM evil_pt_tbl",
    "SELECT v FROM evil_pt_tbl UNION SELECT v FROM evil_pt_tbl", "SELECT 1 FROM evil_pt_tbl a JOIN evil_pt_tbl b USING (v)",
    "SELECT v FROM evil_st_tbl ORDER BY v", "SELECT v FROM evil_pt_tbl WHERE v = v", "SELECT GREATEST(v, v) FROM evil_st_tbl",
    "SELECT count(DISTINCT v) FROM evil_pt_tbl", "SELECT v FROM evil_pt_tbl INTERSECT ALL SELECT v FROM evil_pt_tbl",
]
OWN_SQL = """
CREATE FUNCTION evil_reset() RETURNS bool VOLATILE LANGUAGE sql AS 'SELECT pg_stat_reset() IS NULL';
CREATE FUNCTION evil_op(int, int) RETURNS bool VOLATILE LANGUAGE sql AS 'SELECT evil_reset()';
CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = evil_op);
CREATE FUNCTION evil_sfunc(int, int) RETURNS int VOLATILE LANGUAGE sql AS 'SELECT CASE WHEN evil_reset() THEN 1 ELSE 2 END';
CREATE AGGREGATE evil_agg(int) (SFUNC = evil_sfunc, STYPE = int);
CREATE TYPE evil_t AS (x int);
CREATE FUNCTION to_evil(int) RETURNS evil_t VOLATILE LANGUAGE sql AS 'SELECT ROW(CASE WHEN evil_reset() THEN 1 END)::evil_t';
CREATE CAST (int AS evil_t) WITH FUNCTION to_evil(int);
CREATE TABLE evil_tbl (x int); INSERT INTO evil_tbl VALUES (1);
CREATE FUNCTION evil_attr(evil_tbl) RETURNS int VOLATILE LANGUAGE sql AS 'SELECT CASE WHEN evil_reset() THEN 1 END';
CREATE FUNCTION evil_srf() RETURNS SETOF int VOLATILE LANGUAGE sql AS 'SELECT 1 WHERE evil_reset()';
CREATE TABLE slot_feed (x int); CREATE PUBLICATION diag_pub FOR TABLE slot_feed;
CREATE DOMAIN evil_dom AS int CHECK (evil_reset());
CREATE TABLE evil_dtbl (x evil_dom);
CREATE FUNCTION evil_default(a bool DEFAULT evil_reset()) RETURNS int STABLE LANGUAGE sql AS 'SELECT 1';
CREATE TYPE evil_ev AS (x int);
CREATE FUNCTION to_evil_ev(int) RETURNS evil_ev VOLATILE LANGUAGE sql AS 'SELECT ROW(CASE WHEN evil_reset() THEN 1 END)::evil_ev';
CREATE CAST (int AS evil_ev) WITH FUNCTION to_evil_ev(int) AS IMPLICIT;
CREATE FUNCTION evil_show(evil_ev) RETURNS int STABLE LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION json_scalar(int) RETURNS int VOLATILE LANGUAGE sql AS 'SELECT CASE WHEN evil_reset() THEN 1 END';
"""
OWN_OPERATORS_SQL = """
CREATE FUNCTION evil_reset() RETURNS bool VOLATILE LANGUAGE sql AS 'SELECT pg_stat_reset() IS NULL';
CREATE TYPE evil_pt AS (x int);
CREATE FUNCTION evil_pt_eq(evil_pt, evil_pt) RETURNS bool VOLATILE LANGUAGE sql AS 'SELECT evil_reset()';
CREATE OPERATOR = (LEFTARG = evil_pt, RIGHTARG = evil_pt, FUNCTION = evil_pt_eq);
CREATE TABLE evil_pt_tbl (v evil_pt); INSERT INTO evil_pt_tbl VALUES (ROW(1));
CREATE TYPE evil_st AS (x int);
CREATE FUNCTION evil_st_lt(evil_st, evil_st) RETURNS bool IMMUTABLE LANGUAGE sql AS 'SELECT $1.x < $2.x';
CREATE FUNCTION evil_st_gt(evil_st, evil_st) RETURNS bool IMMUTABLE LANGUAGE sql AS 'SELECT $1.x > $2.x';
CREATE FUNCTION evil_st_le(evil_st, evil_st) RETURNS bool IMMUTABLE LANGUAGE sql AS 'SELECT $1.x <= $2.x';
CREATE FUNCTION evil_st_ge(evil_st, evil_st) RETURNS bool IMMUTABLE LANGUAGE sql AS 'SELECT $1.x >= $2.x';
CREATE FUNCTION evil_st_eq(evil_st, evil_st) RETURNS bool IMMUTABLE LANGUAGE sql AS 'SELECT $1.x = $2.x';
CREATE FUNCTION evil_st_cmp(evil_st, evil_st) RETURNS int VOLATILE LANGUAGE sql
  AS 'SELECT CASE WHEN evil_reset() THEN 0 ELSE 0 END';
CREATE OPERATOR < (LEFTARG = evil_st, RIGHTARG = evil_st, FUNCTION = evil_st_lt);
CREATE OPERATOR > (LEFTARG = evil_st, RIGHTARG = evil_st, FUNCTION = evil_st_gt);
CREATE OPERATOR <= (LEFTARG = evil_st, RIGHTARG = evil_st, FUNCTION = evil_st_le);
CREATE OPERATOR >= (LEFTARG = evil_st, RIGHTARG = evil_st, FUNCTION = evil_st_ge);
CREATE OPERATOR = (LEFTARG = evil_st, RIGHTARG = evil_st, FUNCTION = evil_st_eq);
CREATE OPERATOR CLASS evil_st_ops DEFAULT FOR TYPE evil_st USING btree AS
  OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, FUNCTION 1 evil_st_cmp(evil_st, evil_st);
CREATE TABLE evil_st_tbl (v evil_st); INSERT INTO evil_st_tbl VALUES (ROW(2)), (ROW(1));
"""
#: a view is the database owner's own SELECT: reading it is a read (what it calls is the owner's word)
OWN_SQL_VIEW = "CREATE VIEW evil_view AS SELECT 1 AS one"

STANDBY_CALLS = ["pg_wal_replay_pause()", "pg_promote()", "pg_catalog.pg_wal_replay_pause/**/()",
                 'SELECT "pg_wal_replay_pause"()', "SELECT * FROM pg_promote(true, 5)"]


def variants() -> list[str]:
    out = []
    for name, args in CALLS:
        out += [form.format(call=name + args) for form in FORMS]
    for name, args in CALLS:
        out += [f"SELECT {spelling}{args}" for spelling in spellings(name)]
        out += [f"SELECT * FROM {spelling}{args}" for spelling in spellings(name)[:6]]
    return out + ATTRIBUTE_CALLS + OWN


VARIANTS = variants()


def run(dsn: str, query: str, shared: RunResources | None = None) -> str:
    """The variant as a knowledge-base check runs it: the error, or '' when it ran. ``shared``: the
    run's resources (its pooled connections), as the checks of one diagnosis share them."""
    def resolve(kind: str, name: str):
        if kind != "databases":
            raise SkipCheck("not configured")
        return dsn

    check = {"id": "variant", "kind": "sql", "database": "victim", "query": query, "expect": {"rows": {"min": 0}}}
    ctx = Context(timeout=10, now=datetime.now(timezone.utc), resolve=resolve, shared=shared or RunResources())
    try:
        sql.run(check, ctx)
        return ""
    except CheckError as exc:
        return str(exc)
    finally:
        if shared is None:
            ctx.shared.close()


def state(conn: psycopg.Connection) -> dict[str, object]:
    return {
        "stats reset": conn.execute("SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()").fetchone(),
        "bgwriter reset": conn.execute("SELECT stats_reset FROM pg_stat_bgwriter").fetchone(),
        "slot": conn.execute("SELECT slot_name, confirmed_flush_lsn FROM pg_replication_slots").fetchall(),
        "pending changes": conn.execute(
            "SELECT count(*) FROM pg_logical_slot_peek_binary_changes('diag_slot', NULL, NULL, 'proto_version', '1',"
            " 'publication_names', 'diag_pub')").fetchone(),
        "wal file": conn.execute("SELECT pg_walfile_name(pg_current_wal_lsn())").fetchone(),
        "advisory locks": conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone(),
        "large objects": conn.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone(),
        "read-only default": conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'diagnose'").fetchone(),
    }


@pytest.fixture(scope="module")
def servers():
    settings = {"wal_level": "logical", "log_statement": "all", "max_replication_slots": "4", "max_wal_senders": "4"}
    with TempPostgres(settings=settings) as primary:
        primary.execute("CREATE DATABASE victim")
        primary.execute(OWN_SQL + OWN_SQL_VIEW, "victim")
        primary.execute("CREATE DATABASE victim_ops")
        primary.execute(OWN_OPERATORS_SQL, "victim_ops")
        primary.execute("SELECT pg_create_logical_replication_slot('diag_slot', 'pgoutput')", "victim")
        primary.execute("INSERT INTO slot_feed VALUES (1), (2)", "victim")
        with TempPostgres(replica_of=primary, settings={"log_statement": "all"}) as standby:
            yield primary, standby


def test_generated_variants_are_refused_unsent_and_change_nothing(servers, tmp_path):
    primary, standby = servers
    dsn = primary.dsn("victim")
    target = Path(primary.base_dir) / "planted-by-a-variant.txt"
    assert len(VARIANTS) > 400
    with psycopg.connect(dsn, autocommit=True) as victim, psycopg.connect(dsn, autocommit=True) as observer:
        before = state(observer)
        log_start = primary.log_path.stat().st_size
        answers, shared = {}, RunResources()
        try:
            for number, text in enumerate(VARIANTS):
                query = text.format(victim=victim.info.backend_pid, file=target) + f"\n-- dgn-variant-{number}-"
                answers[text] = run(dsn, query, shared)
        finally:
            shared.close()
        not_refused = {t: a for t, a in answers.items() if not a.startswith(NOT_SENT)}
        assert not_refused == {}
        time.sleep(0.2)
        assert victim.execute("SELECT 1").fetchone() == (1,), "the victim session was disturbed"
        assert state(observer) == before
    assert not target.exists(), "a variant wrote a file on the database server"
    log = primary.log_path.read_text(errors="replace")[log_start:]
    assert re.findall(r"dgn-variant-\d+-", log) == [], "a variant's text reached the server"
    assert "statement: SELECT" in log  # log_statement=all was on: the catalog queries themselves are there


def test_the_databases_own_routines_are_judged_by_the_catalog(servers):
    primary, _ = servers
    answers = {q: run(primary.dsn("victim"), q) for q in OWN}
    assert run(primary.dsn("victim"), "TABLE evil_view") == ""  # the owner's view is read like a table
    for query, answer in answers.items():
        assert answer.startswith(NOT_SENT) and "is VOLATILE on this server" in answer, (query, answer)
    assert "operator === runs evil_op(integer,integer)" in answers["SELECT 1 === 1"]
    assert "evil_agg() runs evil_sfunc(integer,integer)" in answers["SELECT evil_agg(x) FROM generate_series(1, 3) x"]
    assert "a cast to evil_t runs to_evil(integer)" in answers["SELECT 1::evil_t"]
    assert "the attribute notation .evil_attr calls evil_attr(evil_tbl)" in answers["SELECT r.evil_attr FROM evil_tbl r"]


def test_operators_of_the_databases_own_are_judged_even_when_not_written(servers):
    primary, _ = servers
    dsn = primary.dsn("victim_ops")
    with psycopg.connect(dsn, autocommit=True) as observer:
        reset = "SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()"
        before = observer.execute(reset).fetchone()
        answers = {q: run(dsn, q) for q in OWN_OPERATORS}
        assert observer.execute(reset).fetchone() == before
    for query, answer in answers.items():
        assert answer.startswith(NOT_SENT) and "is VOLATILE on this server" in answer, (query, answer)
    assert "operator < runs evil_st_cmp(evil_st,evil_st)" in answers["SELECT v FROM evil_st_tbl ORDER BY v"]
    assert run(dsn, "SELECT count(*) FROM evil_pt_tbl") == ""   # no comparison, nothing of theirs runs


def test_string_literals_are_read_by_the_server_as_the_parser_read_them(servers):
    """With standard_conforming_strings off (a database, a role or the DSN can set it), a backslash
    would escape the quote for the server but not for the parser that judged the query: the text
    after it would run as SQL. Each check's transaction turns it on, so the server reads strings too."""
    primary, _ = servers
    primary.execute("CREATE DATABASE victim_scs", "postgres")
    primary.execute("ALTER DATABASE victim_scs SET standard_conforming_strings = off", "postgres")
    dsn = primary.dsn("victim_scs")
    with psycopg.connect(dsn, autocommit=True) as observer, psycopg.connect(dsn, autocommit=True) as victim:
        assert observer.execute("SHOW standard_conforming_strings").fetchone() == ("off",)
        before = observer.execute("SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()").fetchone()
        reset = run(dsn, "SELECT '\\', $$', pg_stat_reset() --$$")
        kill = run(dsn, "SELECT '\\', $$', (SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE pid <> pg_backend_pid()) --$$")
        assert (reset, kill) == ("", "")      # two string literals, read as such: nothing to refuse
        assert observer.execute("SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()").fetchone() == before
        assert victim.execute("SELECT 1").fetchone() == (1,)


def test_a_standby_is_never_paused_or_promoted(servers):
    primary, standby = servers
    dsn = standby.dsn("victim")
    answers = {q: run(dsn, q if q.startswith("SELECT") else f"SELECT {q}") for q in STANDBY_CALLS}
    assert all(a.startswith(NOT_SENT) for a in answers.values()), answers
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute("SELECT pg_is_in_recovery(), pg_is_wal_replay_paused()").fetchone() == (True, False)
    primary.execute("INSERT INTO slot_feed VALUES (3)", "victim")  # and it still replays
    deadline = time.monotonic() + 10
    with psycopg.connect(dsn, autocommit=True) as conn:
        while conn.execute("SELECT count(*) FROM slot_feed").fetchone()[0] < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert conn.execute("SELECT count(*) FROM slot_feed").fetchone()[0] >= 3


def test_reading_helpers_pass_the_catalog(servers):
    """Volatile readers of the allowlist, stable and immutable functions, operators and casts run."""
    dsn = servers[0].dsn("victim")
    for query in ("SELECT clock_timestamp(), random(), pg_is_in_recovery(), pg_current_wal_lsn(), now() - interval '1 h'",
                  "SELECT pg_blocking_pids(pg_backend_pid()), pg_database_size(current_database())",
                  "SELECT count(*) FILTER (WHERE x > 1), string_agg(x::text, ',') FROM generate_series(1, 3) x",
                  "SELECT 'pg_stat_reset'::regproc, '1 day'::interval, 'a' LIKE 'a%%' AND 2 BETWEEN 1 AND 3",
                  "EXPLAIN ANALYZE SELECT 1", "SHOW work_mem", "SELECT x FROM evil_tbl r(x) ORDER BY x USING <"):
        assert run(dsn, query) == "", query
