"""``diagnose lint`` on solution steps: each rule refuses its mistake at the step's field, and accepts
the form the rule asks for (diagnose.kb.fixlint)."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from diagnose.kb.fixlint import check_solutions

ROOT = Path(__file__).resolve().parents[2]

MANIFEST = {
    "name": "tiny", "version": "1", "require_provenance": True,
    "approvers": {"trader": "the head trader", "change": "the change manager"},
    "windows": {"quiet": "outside trading hours"},
    "preconditions": {"no-task-running": {"title": "No task runs", "database": "db",
                                          "sql": "SELECT id FROM tasks WHERE status = 'running'",
                                          "why": "a restart leaves it running for ever"}},
    "restarts": {"backend": ["no-task-running"]},
    "commands": {"host": ["docker", "psql", "echo", "curl", "grep"], "container": ["sh", "echo", "python"]},
    "sources": {"databases": {"db": {"description": "the database"}},
                "logs": {"app": {"description": "the app log"}}},
}

STEP = ("solutions", 0, "steps", 0)


def change(**over) -> dict:
    """A change step every rule accepts: scoped by the ids the check found, RETURNING, rows, undo, verify."""
    step = {
        "do": "Release the stuck jobs the diagnosis found.", "risk": "reversible", "where": "database:db",
        "scope": "the stuck jobs, by id", "fill": {"ids": {"check": "stuck-jobs", "column": "id"}},
        "sql": "UPDATE jobs SET status = 'queued' WHERE id IN ({ids}) AND status = 'stuck' RETURNING id",
        "rows": "ids", "undo": "UPDATE jobs SET status = 'stuck' WHERE id IN ({ids}) RETURNING id",
        "verify": ["stuck-jobs"],
    }
    step.update(over)
    return {k: v for k, v in step.items() if v is not None}


def host(shell: str, **over) -> dict:
    step = {"do": "Look.", "risk": "read-only", "where": "host", "shell": shell}
    step.update(over)
    return step


def outage(shell: str, **over) -> dict:
    return host(shell, risk="outage", scope="the backend service", verify="the backend answers /health",
                approve="change", when="quiet", **over)


def entry(*steps: dict, proven: bool = True) -> dict:
    data = {
        "id": "stuck-jobs", "causes": [{"id": "stuck", "title": "Stuck", "text": "t",
                                        "provenance": {"from": "assumed"}}],
        "checks": [
            {"id": "stuck-jobs", "kind": "sql", "database": "db", "cause": "stuck",
             "query": "SELECT id, status, updated_at FROM jobs WHERE status = 'stuck'", "expect": {"rows": 0}},
            {"id": "worker-errors", "kind": "log", "log": "app", "pattern": "job failed", "since": "1h",
             "provenance": {"from": "assumed", "note": "the worker's wording"}},
        ],
        "solutions": [{"id": "release", "title": "Release them", "steps": list(steps or [change()])}],
        "examples": [{"name": "broken", "verdict": "problem", "world": {}},
                     {"name": "healthy", "verdict": "healthy", "world": {}}],
    }
    if proven:
        data["examples"][0]["fix"] = {"solution": "release"}
    return data


def problems(data: dict, manifest: dict | None = None) -> list[tuple[tuple, str]]:
    out: list[tuple[tuple, str]] = []
    check_solutions(data, MANIFEST if manifest is None else manifest, lambda path, msg: out.append((tuple(path), msg)))
    return out


def paths(data: dict) -> set[tuple]:
    return {p for p, _ in problems(data)}


def refused_at(data: dict, path: tuple, *words: str) -> None:
    """``data`` has a problem at ``path`` whose message names each of ``words`` (any case)."""
    found = problems(data)
    at = [msg for p, msg in found if p == path]
    assert at, f"nothing refused at {path}: {found}"
    assert any(all(w.lower() in msg.lower() for w in words) for msg in at), at


def accepted(data: dict) -> None:
    assert problems(data) == []


def test_the_good_forms_are_accepted():
    accepted(entry())
    accepted(entry(host("curl -fsS http://127.0.0.1:8000/health | grep ok")))


# --- SQL ------------------------------------------------------------------------------------------------------

def test_an_update_by_symbol_is_refused_and_by_the_filled_ids_accepted():
    by_symbol = change(fill=None, rows=1, undo="UPDATE jobs SET status = 'stuck' WHERE kind = 'sync' RETURNING id",
                       sql="UPDATE jobs SET status = 'queued' WHERE kind = 'sync' RETURNING id")
    refused_at(entry(by_symbol), STEP + ("sql",), "where")
    assert paths(entry(by_symbol)) == {STEP + ("sql",)}
    accepted(entry(change()))


@pytest.mark.parametrize("where", ["id IN ({ids}) OR status = 'stuck'", "id NOT IN ({ids})"])
def test_a_where_that_mentions_the_ids_but_is_not_limited_to_them_is_refused(where):
    """The rule is that a change touches only the rows the diagnosis found: an OR, or NOT IN, reaches others."""
    refused_at(entry(change(sql=f"UPDATE jobs SET status = 'queued' WHERE {where} RETURNING id")), STEP + ("sql",))


def test_a_delete_without_where_is_refused():
    refused_at(entry(change(sql="DELETE FROM jobs RETURNING id", fill=None, rows=1, undo="restore the backup")),
               STEP + ("sql",))


def test_a_change_without_returning_is_refused():
    data = entry(change(sql="UPDATE jobs SET status = 'queued' WHERE id IN ({ids})"))
    refused_at(data, STEP + ("sql",), "returning")
    assert paths(data) == {STEP + ("sql",)}


def test_a_change_without_rows_is_refused():
    data = entry(change(rows=None))
    refused_at(data, STEP + ("rows",))
    assert paths(data) == {STEP + ("rows",)}
    accepted(entry(change(rows=3)))


def test_rows_naming_no_fill_is_refused():
    refused_at(entry(change(rows="pids")), STEP + ("rows",))


def test_transaction_control_inside_the_step_is_refused():
    data = entry(change(sql="BEGIN;\nUPDATE jobs SET status = 'queued' WHERE id IN ({ids}) RETURNING id;\nCOMMIT;"))
    refused_at(data, STEP + ("sql",), "begin")
    assert paths(data) == {STEP + ("sql",)}


def test_a_read_only_step_that_terminates_backends_is_refused():
    kill = {"do": "Look at the sessions.", "risk": "read-only", "where": "database:db",
            "sql": "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle in transaction'"}
    refused_at(entry(change(), kill), ("solutions", 0, "steps", 1, "sql"), "pg_terminate_backend")
    look = {**kill, "sql": "SELECT pid, state, xact_start FROM pg_stat_activity WHERE state = 'idle in transaction'"}
    accepted(entry(change(), look))


def test_sql_that_postgres_cannot_read_is_refused():
    refused_at(entry(change(sql="UPDATE jobs SET WHERE id IN ({ids}) RETURNING id")), STEP + ("sql",))


def test_sql_outside_a_database_is_refused():
    refused_at(entry(change(where="host")), STEP + ("where",))
    refused_at(entry(change(where="database:nosuch")), STEP + ("where",), "nosuch")


# --- risk, approval, undo --------------------------------------------------------------------------------------

def test_a_trading_step_needs_an_approver_and_a_window():
    trading = change(risk="trading")
    found = problems(entry(trading))
    risk = [msg for p, msg in found if p == STEP + ("risk",)]
    assert any("approve" in m for m in risk) and any("when" in m for m in risk), found
    assert {p for p, _ in found} == {STEP + ("risk",)}
    accepted(entry(change(risk="trading", approve="trader", when="quiet")))


def test_an_outage_step_needs_an_approver_and_a_window():
    data = entry(change(), host("docker compose up -d worker", risk="outage", scope="the worker",
                                verify="it answers"))
    assert ("solutions", 0, "steps", 1, "risk") in paths(data)
    accepted(entry(change(), outage("docker compose up -d worker")))


def test_a_reversible_step_needs_its_undo():
    data = entry(change(undo=None))
    refused_at(data, STEP + ("risk",), "undo")
    assert paths(data) == {STEP + ("risk",)}


def test_a_change_needs_scope_and_verify():
    refused_at(entry(change(scope=None)), STEP + ("risk",), "scope")
    refused_at(entry(change(verify=None)), STEP + ("risk",), "verify")


def test_verify_names_checks_of_the_entry():
    refused_at(entry(change(verify=["stuck-jobs", "no-such-check"])), STEP + ("verify", 1), "no-such-check")


def test_an_unknown_approver_role_or_window_is_refused():
    data = entry(change(risk="trading", approve="ceo", when="quiet"))
    refused_at(data, STEP + ("approve",), "ceo")
    assert paths(data) == {STEP + ("approve",)}
    refused_at(entry(change(risk="trading", approve="trader", when="someday")), STEP + ("when",), "someday")


def test_an_unknown_precondition_is_refused():
    refused_at(entry(change(), outage("docker compose up -d backend", requires=["no-task-running", "nope"])),
               ("solutions", 0, "steps", 1, "requires", 1), "nope")


# --- shell ----------------------------------------------------------------------------------------------------

def test_compose_exec_without_T_is_refused():
    data = entry(host("docker compose exec backend python -c 'print(1)'"))
    refused_at(data, STEP + ("shell",), "-T")
    assert paths(data) == {STEP + ("shell",)}
    accepted(entry(host("docker compose exec -T backend python -c 'print(1)'")))
    accepted(entry(host("docker compose --project-name desk exec --no-TTY backend python -c 'print(1)'")))


def test_a_variable_in_exec_arguments_is_refused():
    refused_at(entry(host("docker compose exec -T backend echo $API_JWT_SECRET")), STEP + ("shell",), "$")
    refused_at(entry(host('docker compose exec -T backend echo "${API_JWT_SECRET}"')), STEP + ("shell",), "$")


def test_a_variable_the_container_expands_in_single_quotes_is_accepted():
    """The rule's own advice: ``sh -c '... $VAR ...'`` in single quotes expands in the container."""
    accepted(entry(host("docker compose exec -T backend sh -c 'echo $API_JWT_SECRET'")))


def test_compose_restart_is_refused_and_up_d_accepted():
    data = entry(change(), outage("docker compose restart backend", requires=["no-task-running"]))
    refused_at(data, ("solutions", 0, "steps", 1, "shell"), "restart")
    assert paths(data) == {("solutions", 0, "steps", 1, "shell")}
    accepted(entry(change(), outage("docker compose up -d backend", requires=["no-task-running"])))


def test_stopping_a_service_is_an_outage():
    data = entry(host("docker compose up -d worker", risk="reversible", scope="the worker", verify="it runs",
                      undo="nothing to undo"))
    refused_at(data, STEP + ("risk",), "outage")


def test_recreating_a_service_needs_its_preconditions():
    data = entry(change(), outage("docker compose up -d backend"))
    refused_at(data, ("solutions", 0, "steps", 1, "requires"), "no-task-running")
    assert paths(data) == {("solutions", 0, "steps", 1, "requires")}
    accepted(entry(change(), outage("docker compose up -d backend", requires=["no-task-running"])))
    # a service the pack declares no preconditions for needs none
    accepted(entry(change(), outage("docker compose up -d worker")))


def test_every_service_at_once_needs_every_precondition():
    refused_at(entry(change(), outage("docker compose up -d")), ("solutions", 0, "steps", 1, "requires"),
               "no-task-running")


def test_psql_with_the_backends_database_url_is_refused():
    data = entry(host('psql "$DATABASE_URL" -c "SELECT 1"'))
    refused_at(data, STEP + ("shell",), "DATABASE_URL")
    assert paths(data) == {STEP + ("shell",)}
    accepted(entry(host('psql "$DESK_DSN" -c "SELECT 1"')))


def test_a_dated_contract_is_refused_and_the_main_contract_accepted():
    data = entry(host("echo SHFE.rb2605"))
    refused_at(data, STEP + ("shell",), "SHFE.rb2605")
    assert paths(data) == {STEP + ("shell",)}
    accepted(entry(host("echo KQ.m@SHFE.rb")))
    refused_at(entry(host("echo ok", do="Subscribe to DCE.m2609 and watch the quotes.")), STEP + ("do",))


def test_a_command_not_in_the_table_is_refused():
    data = entry(host("rm -rf /tmp/cache"))
    refused_at(data, STEP + ("shell",), "rm")
    assert paths(data) == {STEP + ("shell",)}
    # the table is per place: python runs in the container, not on the host
    refused_at(entry(host("python -c 'print(1)'")), STEP + ("shell",), "python")
    accepted(entry(host("python -c 'print(1)'", where="container:backend")))


def test_a_shell_syntax_error_is_refused():
    data = entry(host("echo ok |"))
    refused_at(data, STEP + ("shell",))
    assert paths(data) == {STEP + ("shell",)}
    refused_at(entry(host("echo ok &&\n")), STEP + ("shell",))
    accepted(entry(host("echo ok | grep ok && curl -fsS http://127.0.0.1:8000/health")))


def test_shell_in_a_database_is_refused():
    refused_at(entry(host("echo ok", where="database:db")), STEP + ("where",))


# --- fill -----------------------------------------------------------------------------------------------------

def test_a_fill_column_the_checks_query_does_not_return_is_refused():
    data = entry(change(fill={"ids": {"check": "stuck-jobs", "column": "job_id"}}))
    refused_at(data, STEP + ("fill", "ids", "column"), "job_id")
    assert paths(data) == {STEP + ("fill", "ids", "column")}


def test_a_fill_from_an_unknown_or_non_sql_check_is_refused():
    refused_at(entry(change(fill={"ids": {"check": "nope", "column": "id"}})), STEP + ("fill", "ids", "check"))
    refused_at(entry(change(fill={"ids": {"check": "worker-errors", "column": "id"}})),
               STEP + ("fill", "ids", "check"))


def test_placeholders_and_fills_must_match():
    refused_at(entry(change(fill={"ids": {"check": "stuck-jobs", "column": "id"},
                                  "spare": {"check": "stuck-jobs", "column": "status"}})),
               STEP + ("fill", "spare"))
    refused_at(entry(change(fill=None, rows=2)), STEP + ("fill",), "{ids}")


# --- proofs and provenance --------------------------------------------------------------------------------------

def test_a_solution_changing_data_with_sql_must_be_proven():
    data = entry(proven=False)
    refused_at(data, ("solutions", 0), "fix")
    assert paths(data) == {("solutions", 0)}
    accepted(entry(proven=True))
    # a read-only solution needs no proof
    accepted(entry(host("curl -fsS http://127.0.0.1:8000/health"), proven=False))


def test_a_fix_naming_no_solution_or_on_a_healthy_example_is_refused():
    data = entry()
    data["examples"][0]["fix"] = {"solution": "nope"}
    data["examples"].append({"name": "other", "verdict": "problem", "fix": {"solution": "release"}, "world": {}})
    refused_at(data, ("examples", 0, "fix", "solution"), "nope")
    data = entry()
    data["examples"][1]["fix"] = {"solution": "release"}
    refused_at(data, ("examples", 1, "fix"))


def test_an_env_edit_with_a_placeholder_needs_a_value_for_the_proof():
    edit = {"do": "Give the new key.", "risk": "reversible", "where": "host", "scope": "API_KEY",
            "env": {"source": "app", "set": {"API_KEY": "<the new key>"}}, "undo": "set the old key back",
            "verify": ["stuck-jobs"]}
    manifest = copy.deepcopy(MANIFEST)
    manifest["sources"]["env"] = {"app": {"description": "the app's .env"}}
    data = entry(change(), edit)
    found = problems(data, manifest)
    assert ("examples", 0, "fix", "values") in {p for p, _ in found}, found
    data["examples"][0]["fix"]["values"] = {"API_KEY": "k-123"}
    assert problems(data, manifest) == []


def test_a_log_check_without_provenance_is_refused():
    data = entry()
    del data["checks"][1]["provenance"]
    refused_at(data, ("checks", 1), "provenance")
    assert paths(data) == {("checks", 1)}
    # a pack that does not require provenance takes it
    assert problems(data, {k: v for k, v in MANIFEST.items() if k != "require_provenance"}) == []


# --- `diagnose lint` on a pack ------------------------------------------------------------------------------------

TINY_ENTRY = textwrap.dedent("""\
    id: stuck-jobs
    title: Jobs stay stuck
    category: data
    severity: medium
    summary: Jobs never leave the stuck state.
    causes:
      - id: stuck
        title: A worker died holding them
        text: The worker died and left them stuck.
        provenance: {from: assumed}
    checks:
      - id: stuck-jobs
        kind: sql
        title: stuck jobs
        expects: none
        database: db
        cause: stuck
        query: "SELECT id, status FROM jobs WHERE status = 'stuck'"
        expect: {rows: 0}
    solutions:
      - id: release
        title: Release the stuck jobs
        steps:
          - do: Release the jobs the diagnosis found.
            risk: reversible
            where: database:db
            scope: the stuck jobs, by id
            fill:
              ids: {check: stuck-jobs, column: id}
            sql: |
              UPDATE jobs SET status = 'queued' WHERE id IN ({ids}) AND status = 'stuck' RETURNING id
            rows: ids
            undo: UPDATE jobs SET status = 'stuck' WHERE id IN ({ids}) RETURNING id
            verify: [stuck-jobs]
    examples:
      - name: broken
        verdict: problem
        causes: [stuck]
        fails: [stuck-jobs]
        fix: {solution: release}
        world:
          databases:
            db: |
              CREATE TABLE jobs (id text PRIMARY KEY, status text NOT NULL);
              INSERT INTO jobs VALUES ('job-1', 'stuck'), ('job-2', 'stuck'), ('job-3', 'done');
      - name: healthy
        verdict: healthy
        world:
          databases:
            db: |
              CREATE TABLE jobs (id text PRIMARY KEY, status text NOT NULL);
              INSERT INTO jobs VALUES ('job-3', 'done');
    """)


def tiny_pack(tmp_path: Path, entry_text: str = TINY_ENTRY) -> Path:
    root = tmp_path / "kb"
    (root / "data").mkdir(parents=True)
    (root / "pack.yaml").write_text(yaml.safe_dump(MANIFEST, sort_keys=False))
    (root / "data" / "stuck-jobs.yaml").write_text(entry_text)
    return root


def lint(root: Path, tmp_path: Path, *flags: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    env.pop("DIAGNOSE_CHECKS", None)
    return subprocess.run([sys.executable, "-m", "diagnose", "lint", *flags], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120, stdin=subprocess.DEVNULL)


def test_lint_accepts_the_tiny_pack(tmp_path):
    proc = lint(tiny_pack(tmp_path), tmp_path, str(tmp_path / "kb"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("how", ["path", "--checks"])
def test_lint_refuses_a_step_with_file_line_and_exit_2(tmp_path, how):
    text = TINY_ENTRY.replace("AND status = 'stuck' RETURNING id\n", "AND status = 'stuck'\n")
    root = tiny_pack(tmp_path, text)
    proc = lint(root, tmp_path, *([str(root)] if how == "path" else ["--checks", str(root)]))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    sql_line = next(i for i, line in enumerate(text.splitlines(), 1) if line.strip() == "sql: |")
    out = (proc.stdout + proc.stderr).splitlines()
    wanted = f"data/stuck-jobs.yaml:{sql_line}: solutions[0].steps[0].sql:"
    assert any(wanted in line and "RETURNING" in line for line in out), out


# --- round two: forms an adversarial review found accepted ----------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "UPDATE jobs j SET status = 'queued' FROM tasks t WHERE t.job_id IN ({ids}) RETURNING j.id",
    "DELETE FROM jobs j USING tasks t WHERE t.job_id IN ({ids}) RETURNING j.id",
    "UPDATE jobs SET status = 'queued' WHERE (id IN ({ids})) = false RETURNING id",
    "UPDATE jobs SET status = 'queued' WHERE {ids} = {ids} RETURNING id",
    "UPDATE jobs SET status = 'queued' WHERE id IN ({ids}, id) RETURNING id",
    "UPDATE jobs SET status = 'queued' WHERE id IN ({ids}) OR status = 'stuck' RETURNING id",
])
def test_a_where_that_does_not_limit_the_changed_table_to_the_ids_is_refused(sql):
    refused_at(entry(change(sql=sql)), STEP + ("sql",), "scoped")


def test_a_join_scoped_on_the_changed_tables_own_column_is_accepted():
    accepted(entry(change(sql="UPDATE jobs j SET status = 'queued' FROM tasks t "
                              "WHERE j.id IN ({ids}) AND t.job_id = j.id RETURNING j.id")))


@pytest.mark.parametrize("sql, words", [
    ("WITH u AS (UPDATE jobs SET status = 'queued' RETURNING id) SELECT id FROM u WHERE id IN ({ids})", ("WITH",)),
    ("INSERT INTO jobs (id) SELECT id FROM jobs WHERE id IN ({ids}) ON CONFLICT (id) DO UPDATE SET status = 'x' "
     "RETURNING id", ("ON CONFLICT",)),
    ("TRUNCATE jobs", ("not a statement",)),
    ("UPDATE jobs SET status = 'queued' WHERE id IN ({ids}) RETURNING id -- {ids}", ("stand alone",)),
    ("DO $$ BEGIN UPDATE jobs SET status = '{ids}'; END $$", ("stand alone",)),
])
def test_statements_no_scope_can_hold_are_refused(sql, words):
    refused_at(entry(change(sql=sql)), STEP + ("sql",), *words)


@pytest.mark.parametrize("shell, path, words", [
    ("docker compose --project-directory /srv up -d --force-recreate backend", ("risk",), ("outage",)),
    ("docker compose --ansi never restart backend", ("shell",), ("up -d",)),
    ("docker restart desk-backend-1", ("risk",), ("outage",)),
    ("docker --context prod compose up -d backend", ("risk",), ("outage",)),
    ("docker compose exec -T backend rm -rf /data", ("shell",), ("rm", "commands.container")),
    ("printf 'MODE=LIVE\\n' >> .env", ("shell",), ("env file", "env:")),
    ('docker compose run --rm backend sh -c "echo $NTFY_URL"', ("shell",), ("expands on the host",)),
])
def test_shell_that_stops_services_or_writes_around_the_rules_is_refused(shell, path, words):
    refused_at(entry(host(shell)), STEP + path, *words)


def test_a_placeholder_inside_quotes_of_a_shell_command_is_refused():
    step = host("docker compose exec -T backend sh -c 'echo {ids}'",
                fill={"ids": {"check": "stuck-jobs", "column": "id"}})
    refused_at(entry(step, proven=False), STEP + ("shell",), "whole word")
    accepted(entry(host("docker compose exec -T backend python -m retry {ids}",
                        fill={"ids": {"check": "stuck-jobs", "column": "id"}}), proven=False))


def test_an_env_edit_of_a_trading_key_is_a_trading_action():
    manifest = {**MANIFEST, "trading_keys": ["EXECUTION_MODE"], "sources": {
        **MANIFEST["sources"], "env": {"trading": {"description": "the .env"}}}}
    step = {"do": "Go live.", "risk": "reversible", "where": "host", "scope": "EXECUTION_MODE",
            "env": {"source": "trading", "set": {"EXECUTION_MODE": "LIVE"}}, "undo": "set it back",
            "verify": ["stuck-jobs"]}
    found = problems(entry(step, proven=False), manifest)
    assert any(p == STEP + ("risk",) and "trading_keys" in m for p, m in found), found
    assert not problems(entry({**step, "risk": "trading", "approve": "trader", "when": "quiet"}, proven=False),
                        manifest)


# --- round three -----------------------------------------------------------------------------------------------------

def test_a_do_block_is_refused_whatever_it_holds():
    refused_at(entry(change(sql="DO $$ BEGIN UPDATE jobs SET status = 'queued' WHERE status = 'stuck'; END $$",
                            fill=None, rows=None, undo="nothing")), STEP + ("sql",), "not a statement")


def test_a_server_or_role_change_is_an_outage_the_change_manager_approves():
    step = change(sql="ALTER ROLE app CONNECTION LIMIT 50", fill=None, rows=None, undo="ALTER ROLE app CONNECTION LIMIT -1")
    refused_at(entry(step, proven=False), STEP + ("risk",), "outage", "change")
    accepted(entry({**step, "risk": "outage", "approve": "change", "when": "quiet"}, proven=False))


def test_the_scope_must_be_a_key_of_the_changed_table():
    keys = {"db": {"jobs": {"id"}}}
    found = []
    bad = change(sql="UPDATE jobs SET status = 'queued' WHERE status IN ({ids}) RETURNING id",
                 undo="UPDATE jobs SET status = 'stuck' WHERE id IN ({ids}) RETURNING id")
    check_solutions(entry(bad), MANIFEST, lambda p, m: found.append((tuple(p), m)), keys)
    assert any(p == STEP + ("sql",) and "key" in m for p, m in found), found
    found.clear()
    check_solutions(entry(change()), MANIFEST, lambda p, m: found.append((tuple(p), m)), keys)
    assert found == []


@pytest.mark.parametrize("sql", [
    "UPDATE jobs SET status = 'queued' WHERE id IN ({ids}) RETURNING (SELECT count(pg_terminate_backend(pid)) "
    "FROM pg_stat_activity)",
    "UPDATE jobs SET status = (SELECT set_config('x', 'y', false)) WHERE id IN ({ids}) RETURNING id",
])
def test_a_call_that_changes_the_server_inside_a_scoped_change_is_refused(sql):
    refused_at(entry(change(sql=sql)), STEP + ("sql",), "changes the server")


def test_the_undo_is_held_to_the_same_scope():
    step = change(undo="```sql\nUPDATE jobs SET status = 'stuck' RETURNING id;\n```")
    refused_at(entry(step), STEP + ("undo",), "in the undo", "scoped")
    psql_vars = "```sql\n\\set job_id 'job-1'\nUPDATE jobs SET status = 'stuck' WHERE id = :'job_id' RETURNING id;\n```"
    accepted(entry(change(undo=psql_vars)))


@pytest.mark.parametrize("shell, words", [
    ('psql "$DESK_DSN" -c "UPDATE jobs SET status = \'queued\'"', ("psql -c must only read",)),
    ('psql "$DESK_DSN" -f fix.sql', ("psql -f",)),
    ("curl -X DELETE http://localhost:8000/v1/positions/1", ("not read-only",)),
    ("docker compose exec -T backend sh -c 'kill 1'", ("`kill`",)),
    ("echo `docker compose down`", ("backticks",)),
    ("echo EXECUTION_MODE=LIVE >>/srv/trading/.env", ("env file",)),
    ("curl -o backend/.env http://x/env", ("env file",)),
    ("docker system prune -af --volumes", ("no undo",)),
])
def test_shell_that_writes_behind_a_reading_command_is_refused(shell, words):
    refused_at(entry(host(shell)), STEP + ("shell",), *words)


def test_a_loop_header_is_not_a_command_and_a_read_only_psql_is_accepted():
    accepted(entry(host('for id in a b; do echo "$id"; done')))
    accepted(entry(host('psql "$DESK_DSN" -c "SELECT id FROM jobs WHERE status = \'stuck\'"')))


def test_compose_run_detached_starts_a_service():
    refused_at(entry(host("docker compose run -d backend")), STEP + ("risk",), "outage")


@pytest.mark.parametrize("edit", [{"unset": ["EXECUTION_MODE"]}, {"set": {"execution_mode": "LIVE"}}])
def test_removing_or_lowercasing_a_trading_key_is_still_a_trading_action(edit):
    manifest = {**MANIFEST, "trading_keys": ["EXECUTION_MODE"], "sources": {
        **MANIFEST["sources"], "env": {"trading": {"description": "the .env"}}}}
    step = {"do": "Change the mode.", "risk": "reversible", "where": "host", "scope": "EXECUTION_MODE",
            "env": {"source": "trading", **edit}, "undo": "set it back", "verify": ["stuck-jobs"]}
    found = problems(entry(step, proven=False), manifest)
    assert any(p == STEP + ("risk",) and "trading_keys" in m for p, m in found), found
