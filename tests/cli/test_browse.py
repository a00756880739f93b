"""list, show, explain, schema and the help of every command."""

import json

import pytest

from diagnose.cli import COMMANDS


def test_list(diagnose):
    result = diagnose("list")
    assert result.code == 0
    assert result.out.index("connection:") < result.out.index("service:") < result.out.index("data:")
    assert "stale-positions" in result.out and "14 symptom(s)" in result.out
    listed = json.loads(diagnose("list", "--json").out)
    assert list(listed) == ["connection", "service", "data"]
    assert sum(len(v) for v in listed.values()) == 14
    assert "stale-positions" in {e["id"] for e in listed["data"]}


def test_show_prints_the_entry(diagnose):
    result = diagnose("show", "stale-positions")
    assert result.code == 0
    for needle in ("# Orders blocked by an OPEN position", "diagnose stale-positions", "## Causes",
                   "Switched from PAPER/BACKTEST to LIVE", "psql", "MANUAL_CLEANUP", "## Prevention"):
        assert needle in result.out, needle
    assert diagnose("show", "ghost-positions").code == 0  # by alias


def test_explain_ranks_the_entry(diagnose):
    result = diagnose("explain", "order rejected: position_mutex_blocked (BTCUSDT 1h)")
    assert result.code == 0
    assert result.out.startswith("1. stale-positions")
    assert "next: diagnose stale-positions" in result.out
    assert diagnose("explain", "qqqq zzzz").code == 1


def test_schema_is_json_schema_that_validates_the_builtin_entry(diagnose):
    import yaml
    from jsonschema import Draft202012Validator

    from diagnose.kb.loader import builtin_root

    schema = json.loads(diagnose("schema").out)
    Draft202012Validator.check_schema(schema)
    entry = yaml.safe_load((builtin_root() / "data" / "stale-positions.yaml").read_text())
    assert list(Draft202012Validator(schema).iter_errors(entry)) == []
    entry["checks"][0]["kind"] = "sqll"
    assert list(Draft202012Validator(schema).iter_errors(entry))


@pytest.mark.parametrize("command", [c for c in COMMANDS])
def test_every_command_has_complete_help(diagnose, command):
    result = diagnose(command, "--help")
    assert result.code == 0
    assert "Usage: diagnose" in result.out
    assert len(result.out.splitlines()) >= 5


def test_top_level_help_lists_commands_and_exit_codes(diagnose):
    result = diagnose("--help")
    assert result.code == 0
    for command in COMMANDS:
        assert f"  {command} " in result.out
    assert "Exit codes" in result.out and "diagnose stale-positions" in result.out


def test_lint_clean_builtin_pack(diagnose):
    result = diagnose("lint")
    assert result.code == 0 and "no problems" in result.out


def test_demo_by_default_triages_a_stack_with_several_faults(diagnose, tmp_path):
    from diagnose.kb.loader import load_pack
    from diagnose.world.stack import load_stack

    stack = load_stack(load_pack())
    result = diagnose("demo", "-o", str(tmp_path / "demo.md"), timeout=180)
    assert result.code == 0, result.err + result.out
    assert result.out.startswith("TRIAGE: ")
    for name in stack.default:
        assert f" {stack.fault(name).symptom}: " in result.out
    assert "running: diagnose triage" in result.err
    assert "throwaway database and files are gone" in result.err
    assert (tmp_path / "demo.md").read_text().startswith("# diagnose triage")


def test_demo_one_fault_runs_its_symptom(diagnose, tmp_path):
    result = diagnose("demo", "--fault", "paper-leftovers", "-o", str(tmp_path / "one.md"), timeout=120)
    assert result.code == 0, result.err
    assert result.out.startswith("PROBLEM stale-positions")
    assert "Switched from PAPER/BACKTEST to LIVE" in result.out


def test_demo_healthy_stack_triages_healthy(diagnose, tmp_path):
    result = diagnose("demo", "--healthy", "-q", "-o", str(tmp_path / "h.md"), timeout=120)
    assert result.code == 0, result.err + result.out
    assert "0 symptom(s) with a problem, 0 at risk, 0 inconclusive" in result.out


def test_demo_lists_faults_and_refuses_unknown_ones(diagnose):
    listed = diagnose("demo", "--list")
    assert listed.code == 0 and len(listed.out.splitlines()) >= 5
    bad = diagnose("demo", "--fault", "nope")
    assert bad.code == 2
    assert bad.err.startswith("diagnose: --fault nope: no such fault (known: ")


def test_demo_builds_an_entry_example(diagnose, tmp_path):
    result = diagnose("demo", "--example", "stale-positions/sync-failing", "-q", "-o", str(tmp_path / "x.md"))
    assert result.code == 0, result.err
    assert result.out.startswith("PROBLEM stale-positions")


#: what reading an entry never needs: a run's drivers, parser, scanner and report builder, the explain index,
#: the translations of an English page, sockets (a check's command by hand is text), the encoders that spell a
#: learned secret (none is learned without a profile) (each costs `diagnose show` time: bench/cli_speed.py)
NOT_FOR_READING = ("psycopg", "pglast", "diagnose.logscan", "diagnose.runner", "diagnose.probes",
                   "diagnose.reports.document", "diagnose.kb.search", "diagnose.kb.translations", "socket", "base64",
                   "html")


def test_show_and_list_import_nothing_a_run_needs(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = ("import atexit, sys\n"
              f"atexit.register(lambda: print('LOADED', *[m for m in {NOT_FOR_READING!r} if m in sys.modules],"
              " file=sys.stderr))\n"
              "from diagnose.console import main\n"
              "sys.argv = ['diagnose', *sys.argv[1:]]\n"
              "main()\n")
    env = dict(os.environ, DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    env.pop("DIAGNOSE_CHECKS", None)
    for argv in (["show", "stale-positions"], ["list"]):
        subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, env=env, cwd=tmp_path, timeout=60)
        warm = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=60)
        assert warm.returncode == 0, warm.stderr
        loaded = warm.stderr.split("LOADED", 1)[1].split()
        assert loaded == [], f"diagnose {' '.join(argv)} imported {loaded}"
