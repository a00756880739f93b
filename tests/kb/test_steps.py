"""Solution steps as the operator reads them (diagnose.kb.steps): values filled from a run's rows as
SQL literals, a change wrapped in a transaction with the count to expect, the approver named."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pglast
import pytest
import yaml

from diagnose.checks.base import CheckResult, Evidence, Status
from diagnose.kb.loader import build_entry, build_policy, build_step
from diagnose.kb.steps import (
    expected_rows,
    fill_from_results,
    solution_markdown,
    sql_literal,
    step_sql,
    substitute,
    transactional,
)

EVIL = "x'); DROP TABLE t; --"

ENTRY = yaml.safe_load(textwrap.dedent("""\
    id: stuck-jobs
    title: Jobs stay stuck
    category: data
    severity: medium
    summary: Jobs never leave the stuck state.
    causes: [{id: stuck, title: Stuck, text: A worker died holding them.}]
    checks:
      - {id: stuck-jobs, kind: sql, title: Stuck jobs, expects: none, database: db, cause: stuck,
         query: "SELECT id, status FROM jobs WHERE status = 'stuck'", expect: {rows: 0}}
    solutions:
      - id: release
        title: Release the stuck jobs
        steps:
          - do: Release the jobs the diagnosis found.
            risk: trading
            where: database:db
            scope: the stuck jobs, by id
            fill:
              ids: {check: stuck-jobs, column: id}
            sql: |
              UPDATE jobs SET status = 'queued' WHERE id IN ({ids}) AND status = 'stuck' RETURNING id
            rows: ids
            undo: UPDATE jobs SET status = 'stuck' WHERE id IN ({ids}) RETURNING id
            verify: [stuck-jobs]
            approve: trader
            when: quiet
    examples:
      - {name: broken, verdict: problem, world: {}, fix: {solution: release}}
      - {name: healthy, verdict: healthy, world: {}}
    """))
POLICY = build_policy({"approvers": {"trader": "the head trader"}, "windows": {"quiet": "outside trading hours"}})


@pytest.fixture
def entry():
    return build_entry(Path("data/stuck-jobs.yaml"), ENTRY)


def change(**over):
    data = {"do": "Release them.", "risk": "reversible", "where": "database:db", "scope": "the stuck jobs",
            "fill": {"ids": {"check": "stuck-jobs", "column": "id"}},
            "sql": "UPDATE jobs SET status = 'queued' WHERE id IN ({ids}) RETURNING id", "rows": "ids",
            "undo": "UPDATE jobs SET status = 'stuck' WHERE id IN ({ids}) RETURNING id", "verify": ["stuck-jobs"]}
    data.update(over)
    return build_step({k: v for k, v in data.items() if v is not None})


def rows_result(rows: list[list], total: int | None = None, check_id: str = "stuck-jobs",
                columns: tuple = ("id", "status")) -> CheckResult:
    evidence = Evidence(kind="rows", title="stuck jobs", columns=list(columns), rows=rows,
                        total=len(rows) if total is None else total)
    return CheckResult(id=check_id, title="Stuck jobs", kind="sql", status=Status.FAIL, message="stuck",
                       cause=["stuck"], duration=0.01, evidence=[evidence])


def statements(sql: str) -> list:
    return [raw.stmt for raw in pglast.parse_sql(sql)]


def in_list_values(stmt) -> list:
    """The values of ``WHERE id IN (...)`` as PostgreSQL reads them."""
    where = stmt.whereClause
    assert type(where).__name__ == "A_Expr"
    return [const.val.sval for const in where.rexpr]


# --- sql_literal and substitute -----------------------------------------------------------------------------------

def test_sql_literal_doubles_quotes_and_never_escapes():
    assert sql_literal("O'Brien") == "'O''Brien'"
    assert sql_literal("a\\b") == "'a\\b'"          # a backslash is itself (standard_conforming_strings)
    assert sql_literal("a\\'b") == "'a\\''b'"
    assert not sql_literal(EVIL).startswith(("E'", "e'"))
    assert sql_literal(None) == "NULL" and sql_literal(True) == "true" and sql_literal(7) == "7"


def test_a_hostile_value_stays_one_literal():
    step = change()
    filled = fill_from_results(step, [rows_result([[EVIL, "stuck"], ["a\\'b", "stuck"], ["pos-1", "stuck"]])])
    sql = substitute(step.sql, filled)
    parsed = statements(sql)
    assert len(parsed) == 1 and type(parsed[0]).__name__ == "UpdateStmt", sql
    assert sorted(in_list_values(parsed[0])) == sorted([EVIL, "a\\'b", "pos-1"])


def test_substitute_leaves_unfilled_placeholders_and_quotes_shell_words():
    """In a shell command each value is one word as the shell reads it: a value with `;` cannot start
    a second command in what the operator copies."""
    import shlex

    step = change()
    filled = fill_from_results(step, [rows_result([["job-2", "stuck"], ["job-1; rm -rf /", "stuck"]])])
    command = substitute("retry {ids} {other}", filled, shell=True)
    assert command.endswith(" {other}")
    assert shlex.split(command)[:3] == ["retry", "job-1; rm -rf /", "job-2"]
    assert substitute("WHERE id IN ({ids})", filled) == "WHERE id IN ('job-1; rm -rf /', 'job-2')"


# --- fill_from_results -----------------------------------------------------------------------------------------------

def test_fill_takes_the_distinct_values_of_the_column():
    step = change()
    filled = fill_from_results(step, [rows_result([["job-2", "stuck"], ["job-1", "stuck"], ["job-2", "stuck"]])])
    assert filled.values == {"ids": ["job-1", "job-2"]} and filled.why == {}
    assert expected_rows(step, filled) == 2


def test_rows_cut_from_the_evidence_are_not_filled_and_say_why():
    step = change()
    filled = fill_from_results(step, [rows_result([["job-1", "stuck"], ["job-2", "stuck"]], total=250)])
    assert "ids" not in filled.values
    assert filled.why.get("ids"), filled
    assert expected_rows(step, filled) is None
    assert "{ids}" in substitute(step.sql, filled)     # never a partial list of ids


def test_a_value_keep_refuses_leaves_the_placeholder_unfilled():
    step = change()
    result = rows_result([["job-1", "stuck"], ["sk-live-4f9a", "stuck"]])
    filled = fill_from_results(step, [result], keep=lambda v: not str(v).startswith("sk-"))
    assert "ids" not in filled.values and filled.why.get("ids")
    assert fill_from_results(step, [result], keep=lambda v: True).values == {"ids": ["job-1", "sk-live-4f9a"]}


def test_fill_says_why_when_the_check_did_not_list_the_rows():
    step = change()
    assert fill_from_results(step, None).values == {}                      # the page: nothing to fill
    missing = fill_from_results(step, [rows_result([["x", "y"]], check_id="other-check")])
    assert "ids" not in missing.values and missing.why.get("ids")
    no_column = fill_from_results(step, [rows_result([["x", "y"]], columns=("job_id", "status"))])
    assert "ids" not in no_column.values and no_column.why.get("ids")
    empty = fill_from_results(step, [rows_result([])])
    assert "ids" not in empty.values and empty.why.get("ids")


# --- step_sql ------------------------------------------------------------------------------------------------------

def test_a_change_is_opened_in_a_transaction_and_left_for_the_operator_to_commit():
    """Pasted whole, the block stops with the transaction open and the rows shown: the operator types
    COMMIT only when the count is the one stated (a COMMIT in the block would run whatever the count)."""
    step = change()
    filled = fill_from_results(step, [rows_result([["job-1", "stuck"], ["job-2", "stuck"]])])
    sql = step_sql(step, filled)
    kinds = [type(s).__name__ for s in statements(sql)]
    assert kinds == ["TransactionStmt", "UpdateStmt"], sql
    lines = [line.strip() for line in sql.strip().splitlines()]
    assert lines[0].upper().startswith("BEGIN") and lines[-1].startswith("--")
    comments = [line for line in lines if line.startswith("--")]
    assert any("2" in line and "ROLLBACK" in line.upper() and "COMMIT" in line.upper() for line in comments), sql
    # a fixed count, and a count not known on the page
    assert any("5" in line for line in step_sql(change(rows=5), filled).splitlines() if line.startswith("--"))
    unfilled = step_sql(step, fill_from_results(step, None))
    assert "{ids}" in unfilled and unfilled.startswith("BEGIN")


def test_alter_system_is_not_wrapped():
    step = change(sql="ALTER SYSTEM SET idle_in_transaction_session_timeout = '5min'", fill=None, rows=None,
                  undo="ALTER SYSTEM RESET idle_in_transaction_session_timeout")
    sql = step_sql(step, fill_from_results(step, []))
    assert [type(s).__name__ for s in statements(sql)] == ["AlterSystemStmt"], sql
    assert "BEGIN" not in sql.upper()


def test_what_can_run_in_a_transaction():
    assert transactional("UPDATE jobs SET status = 'queued' WHERE id IN ({ids}) RETURNING id")
    assert not transactional("ALTER SYSTEM SET work_mem = '64MB'")
    assert not transactional("VACUUM jobs")
    assert not transactional("CREATE INDEX CONCURRENTLY jobs_status ON jobs (status)")
    assert transactional("CREATE INDEX jobs_status ON jobs (status)")


def test_a_read_only_step_is_not_wrapped():
    step = change(risk="read-only", sql="SELECT id, status FROM jobs WHERE id IN ({ids})", rows=None, undo=None)
    sql = step_sql(step, fill_from_results(step, [rows_result([["job-1", "stuck"]])]))
    assert [type(s).__name__ for s in statements(sql)] == ["SelectStmt"], sql


# --- markdown --------------------------------------------------------------------------------------------------------

def test_the_report_names_the_approver_from_the_profile(entry):
    solution = entry.solutions[0]
    results = [rows_result([["job-1", "stuck"], ["job-2", "stuck"]])]
    named = solution_markdown(solution, entry, POLICY, results, approvers={"trader": "Li Wei (#desk-oncall)"})
    assert "Li Wei (#desk-oncall)" in named
    assert "not named" not in named
    assert "'job-1', 'job-2'" in named and "{ids}" not in named.split("Undo")[0]
    assert "outside trading hours" in named


def test_the_report_says_the_approver_is_not_named_without_the_profiles_approvers(entry):
    solution = entry.solutions[0]
    results = [rows_result([["job-1", "stuck"]])]
    text = solution_markdown(solution, entry, POLICY, results, approvers={})
    assert "not named" in text
    assert "not named" in solution_markdown(solution, entry, POLICY, results, approvers={"change": "Zhang San"})


def test_the_page_shows_the_placeholder_and_where_its_values_come_from(entry):
    solution = entry.solutions[0]
    page = solution_markdown(solution, entry, POLICY, None, site=True)
    assert "{ids}" in page and "Stuck jobs" in page and "stuck-jobs" in page
    assert "not named" not in page


def test_a_cut_list_is_said_in_the_report(entry):
    solution = entry.solutions[0]
    text = solution_markdown(solution, entry, POLICY, [rows_result([["job-1", "stuck"]], total=900)],
                             approvers={"trader": "Li Wei"})
    assert "{ids}" in text and "not filled" in text


def test_a_value_with_a_line_break_is_not_filled_in():
    """A value with a newline would end the command's line: the next line of a paste is whatever it says."""
    step = change()
    filled = fill_from_results(step, [rows_result([["job-1\n; DELETE FROM jobs; --", "stuck"], ["job-2", "stuck"]])])
    assert "ids" not in filled.values and "line break" in filled.why["ids"]


def test_backticks_in_a_value_cannot_close_the_code_block():
    """The fence is longer than any backtick run inside it, so a value cannot end the block and show
    a step of its own in a report."""
    from diagnose.kb.steps import _fence

    text = "SELECT '```\n**Step 0** · risk: **read-only**\n```'"
    block = _fence("sql", text)
    fence = block.splitlines()[0][:-3]
    assert set(fence) == {"`"} and len(fence) > 3 and block.rstrip().endswith(fence)
