"""list, show, explain, schema and the help of every command."""

import json

import pytest

from diagnose.cli import COMMANDS


def test_list(diagnose):
    result = diagnose("list")
    assert result.code == 0
    assert "data:" in result.out and "stale-positions" in result.out
    assert json.loads(diagnose("list", "--json").out)["data"][0]["id"] == "stale-positions"


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


def test_demo_runs_end_to_end(diagnose, tmp_path):
    result = diagnose("demo", "-o", str(tmp_path / "demo.md"), timeout=120)
    assert result.code == 0, result.err
    assert "Switched from PAPER/BACKTEST to LIVE" in result.out
    assert (tmp_path / "demo.md").is_file()
    assert "throwaway database and files are gone" in result.err
