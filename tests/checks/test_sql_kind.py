"""``kind: sql`` against a real PostgreSQL: results, expectations, params, and every refusal."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import datetime, timezone

import jsonschema
import psycopg
import pytest

from diagnose.checks import sql
from diagnose.checks.base import CheckError, CheckTimeout, Context, SkipCheck

SEED = """
INSERT INTO positions (position_id, idempotency_key, symbol, timeframe, side, qty_total, status, execution_mode)
VALUES ('p1', 'k1', 'BTCUSDT', '1h', 'BUY', 0.001, 'OPEN', 'PAPER'),
       ('p2', 'k2', 'ETHUSDT', '15m', 'SELL', 2, 'OPEN', 'LIVE'),
       ('p3', 'k3', 'SOLUSDT', '4h', 'BUY', 12345678901234567890.12345678, 'CLOSED', 'LIVE');
INSERT INTO order_rejections (idempotency_key, symbol, timeframe, reason, blocking_position_id)
VALUES ('k9', 'BTCUSDT', '1h', 'position_mutex_blocked', 'p1');
CREATE FUNCTION record_rejection() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO order_rejections (idempotency_key, symbol, timeframe, reason) VALUES ('x', 'X', '1h', 'test');
  RETURN 1;
END $$;
"""

OPEN_NOT_CURRENT_MODE = {
    "id": "open-positions", "kind": "sql", "title": "OPEN positions", "database": "trading",
    "query": "SELECT position_id, symbol, qty_total, created_at FROM positions\n"
             "WHERE status = 'OPEN' AND execution_mode <> %(current_mode)s ORDER BY position_id",
    "params": {"current_mode": {"env": "trading", "key": "EXECUTION_MODE", "default": "LIVE"}},
    "expect": {"rows": {"max": 0}},
}


@pytest.fixture
def trading(make_db, pg_server):
    dsn = make_db("trading")
    pg_server.execute(SEED, dsn.rsplit("/", 1)[1])
    return dsn


def context(databases: dict[str, str], env: dict[str, dict] | None = None, timeout: float = 10.0) -> Context:
    sources = {"databases": databases, "env": env or {}}

    def resolve(kind: str, name: str):
        if name not in sources[kind]:
            raise SkipCheck(f"{kind} source {name!r} is not configured")
        return sources[kind][name]

    return Context(timeout=timeout, now=datetime.now(timezone.utc), resolve=resolve)


def check(**changes) -> dict:
    return {**OPEN_NOT_CURRENT_MODE, **changes}


def fingerprint(dsn: str) -> tuple:
    """Everything a write could change: both tables' contents and the sequence."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT (SELECT md5(string_agg(p::text, ',' ORDER BY position_id)) FROM positions p),"
            " (SELECT md5(string_agg(r::text, ',' ORDER BY id)) FROM order_rejections r),"
            " (SELECT last_value FROM order_rejections_id_seq)").fetchone()


def test_rows_found_fail_with_vars_and_json_evidence(trading):
    outcome = sql.run(check(), context({"trading": trading}))
    assert outcome.passed is False
    assert outcome.vars["count"] == 1 and outcome.vars["database"] == "trading"
    assert outcome.vars["value"] == "p1" and outcome.vars["symbol"] == "BTCUSDT"
    assert outcome.vars["columns"]["qty_total"] == 0.001
    [evidence] = outcome.evidence
    assert evidence.kind == "rows" and evidence.total == 1
    assert evidence.columns == ["position_id", "symbol", "qty_total", "created_at"]
    assert datetime.fromisoformat(evidence.rows[0][3]).tzinfo is not None
    json.dumps(evidence.to_dict())


def test_env_param_is_bound_from_the_env_source(trading):
    outcome = sql.run(check(), context({"trading": trading}, env={"trading": {"EXECUTION_MODE": "PAPER"}}))
    assert outcome.vars["count"] == 1 and outcome.vars["symbol"] == "ETHUSDT"


def test_no_rows_pass_and_columns_are_none(trading):
    outcome = sql.run(check(params={"current_mode": "LIVE"}, query=check()["query"].replace("'OPEN'", "'NONE'")),
                      context({"trading": trading}))
    assert outcome.passed is True
    assert outcome.vars["count"] == 0 and outcome.vars["value"] is None and outcome.vars["symbol"] is None
    assert outcome.evidence[0].rows == [] and outcome.evidence[0].columns[0] == "position_id"


def test_env_param_without_default_skips_when_env_is_missing(trading):
    params = {"current_mode": {"env": "trading", "key": "EXECUTION_MODE"}}
    with pytest.raises(SkipCheck, match="needs EXECUTION_MODE from env 'trading', which is not configured"):
        sql.run(check(params=params), context({"trading": trading}))
    with pytest.raises(SkipCheck, match="does not set it"):
        sql.run(check(params=params), context({"trading": trading}, env={"trading": {}}))


def test_value_expectation_on_a_named_column_with_literal_params(trading):
    query = ("SELECT count(*) AS open_count, max(symbol) AS top FROM positions "
             "WHERE status = %(status)s AND created_at > now() - %(window)s::interval AND symbol LIKE 'B%%'")
    probe = check(query=query, params={"status": "OPEN", "window": {"value": "1 hour"}},
                  expect={"value": {"equals": 1}, "column": "open_count"})
    outcome = sql.run(probe, context({"trading": trading}))
    assert outcome.passed is True and outcome.vars["value"] == 1 and outcome.vars["top"] == "BTCUSDT"
    probe["expect"] = {"value": {"equals": 0}, "column": "open_count", "rows": 1}
    assert sql.run(probe, context({"trading": trading})).passed is False


def test_exact_decimals_stay_exact_and_rows_are_truncated(trading):
    probe = check(query="SELECT qty_total FROM positions ORDER BY qty_total DESC", params={},
                  max_rows=2, expect={"rows": {"max": 5}})
    outcome = sql.run(probe, context({"trading": trading}))
    assert outcome.passed is True and outcome.vars["count"] == 3
    assert outcome.evidence[0].rows == [["12345678901234567890.12345678"], [2]]
    assert outcome.evidence[0].total == 3


def test_session_is_read_only_and_labelled(trading):
    probe = check(query="SELECT current_setting('application_name'), current_setting('transaction_read_only'),"
                        " current_setting('default_transaction_read_only'), current_setting('statement_timeout')",
                  params={}, expect={"rows": 1})
    row = sql.run(probe, context({"trading": trading}, timeout=5)).evidence[0].rows[0]
    assert row[:3] == ["diagnose", "on", "on"] and row[3] not in ("0", "")


def test_statement_timeout_becomes_check_timeout_within_the_budget(trading):
    started = time.monotonic()
    with pytest.raises(CheckTimeout, match="did not finish within 1s"):
        sql.run(check(query="SELECT pg_sleep(30)", params={}), context({"trading": trading}, timeout=1))
    assert time.monotonic() - started < 5  # not 30: the server cancelled it


@pytest.mark.parametrize("query, why", [
    ("UPDATE positions SET status = 'CLOSED'", "UPDATE is not a read statement"),
    ("DELETE FROM order_rejections", "DELETE is not a read statement"),
    ("INSERT INTO order_rejections (idempotency_key, symbol, timeframe, reason) VALUES ('a', 'b', 'c', 'd')",
     "INSERT is not a read statement"),
    ("SELECT * FROM positions FOR UPDATE", "'FOR UPDATE' locks rows"),
    ("WITH gone AS (DELETE FROM positions RETURNING *) SELECT count(*) FROM gone", "DELETE changes data"),
    ("SELECT nextval('order_rejections_id_seq')", r"nextval\(regclass\) is VOLATILE"),
    ("SELECT record_rejection()", r"record_rejection\(\) is VOLATILE"),
])
def test_writes_are_refused_unsent_and_change_nothing(trading, query, why):
    before = fingerprint(trading)
    with pytest.raises(CheckError, match=rf"^refused, not sent to database 'trading': {why}"):
        sql.run(check(query=query, params={}), context({"trading": trading}))
    assert fingerprint(trading) == before


def test_several_statements_are_refused(trading):
    before = fingerprint(trading)
    with pytest.raises(CheckError, match=r"2 statements \(SELECT, DELETE\): a check runs exactly one read statement"):
        sql.run(check(query="SELECT 1; DELETE FROM order_rejections", params={}), context({"trading": trading}))
    assert fingerprint(trading) == before


def test_connection_problems_are_one_line_without_password(pg_server, trading):
    pg_server.create_user("reader_sql", password="right-pw")
    secret = "s3cret-Pw0rd"
    cases = {
        pg_server.dsn("trading", user="reader_sql", password=secret): "password authentication failed",
        f"postgresql://reader_sql:{secret}@127.0.0.1:1/trading": "Connection refused",
        pg_server.dsn("no_such_db", password=secret): 'database "no_such_db" does not exist',
        f"host=127.0.0.1 password={secret} nonsense": "not a valid connection string",
    }
    for dsn, expected in cases.items():
        with pytest.raises(CheckError) as raised:
            sql.run(check(), context({"trading": dsn}))
        message = str(raised.value)
        assert expected in message and secret not in message and "\n" not in message
        assert message.startswith(("cannot connect to database 'trading'", "the DSN of database 'trading'"))


def test_sql_errors_carry_the_parser_or_server_message(trading):
    with pytest.raises(CheckError, match="not sent to database 'trading': not valid PostgreSQL: syntax error at or "
                                         "near \"SELEC\""):
        sql.run(check(query="SELEC 1", params={}), context({"trading": trading}))
    with pytest.raises(CheckError, match="query failed on database 'trading': relation \"no_such_table\" does not exist"):
        sql.run(check(query="SELECT * FROM no_such_table", params={}), context({"trading": trading}))


def test_placeholder_without_param_and_stray_percent_are_errors(trading):
    with pytest.raises(CheckError, match=r"%\(mode\)s but params has no 'mode'"):
        sql.run(check(query="SELECT %(mode)s", params={}), context({"trading": trading}))
    with pytest.raises(CheckError, match="write %% for a literal %"):
        sql.run(check(query="SELECT 'BTC%'", params={}), context({"trading": trading}))


def test_unconfigured_database_skips():
    with pytest.raises(SkipCheck):
        sql.run(check(), context({}))


def test_lint_accepts_a_good_check_and_ignores_words_in_strings_and_comments():
    assert sql.lint(OPEN_NOT_CURRENT_MODE) == []
    quiet = check(query="-- update; delete\nSELECT 'DELETE; UPDATE', \"insert\" /* merge */ FROM t WHERE a LIKE 'x%%'",
                  params={})
    assert sql.lint(quiet) == []


@pytest.mark.parametrize("query, complaint", [
    ("SELECT 1; SELECT 2", "2 statements"),
    ("DELETE FROM positions", "DELETE is not a read statement"),
    ("WITH d AS (DELETE FROM positions RETURNING *) SELECT * FROM d", "DELETE changes data"),
    ("SELECT * FROM positions FOR UPDATE", "'FOR UPDATE' locks rows"),
    ("SELECT * FROM positions FOR NO KEY UPDATE", "locks rows"),
    ("SELECT * INTO copy FROM positions", "SELECT ... INTO creates a table"),
    ("SELECT 1 AS a INTO newt UNION SELECT 2", "SELECT ... INTO creates a table"),   # a side of a set operation
    ("SELECT 1 UNION (SELECT 2 FOR UPDATE)", "locks rows"),
    ("SELECT nextval('s')", "nextval() is VOLATILE"),
    ("SELECT 1 WHERE 'a' LIKE 'a%'", "line 1: a literal % must be written %%"),
    ("SELECT %s", "positional %s is not supported"),
])
def test_lint_flags_what_is_not_a_single_read(query, complaint):
    problems = sql.lint(check(query=query, params={}))
    assert any(path == "query" and complaint in message for path, message in problems), problems


def test_lint_matches_placeholders_params_and_expectations():
    problems = sql.lint(check(query="SELECT %(a)s", params={"b": 1, "c": {"env": "x"}}, expect={}))
    assert ("query", "%(a)s has no entry in params") in problems
    assert ("params.b", "not used by the query (no %(b)s)") in problems
    assert any(path == "params.c" for path, _ in problems)
    assert any(path == "expect" for path, _ in problems)
    assert ("expect.value.matches", "invalid regex: missing ), unterminated subpattern at position 0") in \
        sql.lint(check(expect={"value": {"matches": "("}}))


def test_manual_is_a_psql_command_that_really_runs(pg_server, trading):
    query = check()["query"].replace("ORDER BY", "AND \"symbol\" LIKE '%%USDT' ORDER BY")
    command = sql.manual(check(query=query))
    assert command.startswith('psql "$DATABASE_URL_trading" -c "SELECT position_id')
    assert "'${EXECUTION_MODE:-LIVE}'" in command and "%%" not in command
    env = {**os.environ, "DATABASE_URL_trading": trading, "EXECUTION_MODE": "PAPER"}
    done = subprocess.run(["bash", "-c", command.replace("psql", str(pg_server.bin_dir / "psql"), 1) + " -At"],
                          env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("|")[0] == "p2"


def test_manual_quotes_literals():
    command = sql.manual(check(query="SELECT %(name)s, %(n)s", params={"name": {"value": "O'Hara"}, "n": 3}))
    assert command == 'psql "$DATABASE_URL_trading" -c "SELECT \'O\'\'Hara\', 3"'


def test_schema_describes_every_field_and_validates_the_example():
    for name, field in sql.SCHEMA["properties"].items():
        assert field.get("description"), name
    schema = {"type": "object", "properties": sql.SCHEMA["properties"], "required": sql.SCHEMA["required"]}
    jsonschema.validate(OPEN_NOT_CURRENT_MODE, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(check(params={"m": {"env": "trading"}}), schema)


def test_bound_params_are_message_vars_below_the_first_rows_columns(trading):
    env = {"trading": {"EXECUTION_MODE": "PAPER"}}
    outcome = sql.run(check(), context({"trading": trading}, env=env))
    assert outcome.vars["current_mode"] == "PAPER" and outcome.vars["symbol"] == "ETHUSDT"
    # a column of the same name is what the row says, not the bound value
    shadowed = check(query="SELECT symbol, execution_mode AS current_mode FROM positions\n"
                           "WHERE status = 'OPEN' AND execution_mode <> %(current_mode)s ORDER BY position_id")
    outcome = sql.run(shadowed, context({"trading": trading}, env=env))
    assert outcome.vars["current_mode"] == "LIVE" and outcome.vars["symbol"] == "ETHUSDT"
    # the run's own variables are never a param's
    counted = check(params={"current_mode": "PAPER", "count": 99, "value": "v", "database": "d"},
                    query="SELECT symbol FROM positions WHERE execution_mode <> %(current_mode)s "
                          "AND %(count)s > 0 AND %(value)s <> '' AND %(database)s <> '' ORDER BY symbol")
    outcome = sql.run(counted, context({"trading": trading}))
    assert (outcome.vars["count"], outcome.vars["value"], outcome.vars["database"]) == (2, "ETHUSDT", "trading")
