"""`diagnose stale-positions` end to end: real PostgreSQL, files and a fake api, every example world."""

import json

import pytest

from diagnose.kb.loader import load_pack

ENTRY = load_pack().get("stale-positions")


@pytest.mark.parametrize("example", [x for x in ENTRY.examples], ids=lambda x: x.name)
def test_each_example_world_gets_its_verdict_and_cause(diagnose, world, tmp_path, example):
    profile = world("stale-positions", example.name)
    out = tmp_path / "report.json"
    result = diagnose("stale-positions", "--profile", str(profile), "--format", "json", "-o", str(out))
    expected = {"problem": 1, "healthy": 0, "inconclusive": 3, "risk": 4}[example.verdict]
    report = json.loads(out.read_text())
    assert result.code == expected, (result.out, result.err, [(c["id"], c["status"], c["message"]) for c in report["checks"]])
    assert report["verdict"] == example.verdict
    assert all(c["status"] in ("pass", "fail") for c in report["checks"]), report["checks"]
    if example.causes:
        ranked = [c["id"] for c in report["causes"]]
        assert ranked[0] == example.causes[0], ranked
        assert set(example.causes) <= set(ranked)
    else:
        assert report["causes"] == []
    assert f"Report: {out}" in result.out


def test_secrets_of_the_world_never_reach_report_or_terminal(diagnose, world, tmp_path):
    profile = world("stale-positions", "mode-switch")
    for fmt in ("md", "html", "json"):
        out = tmp_path / f"r.{fmt}"
        result = diagnose("stale-positions", "--profile", str(profile), "--format", fmt, "-o", str(out))
        text = out.read_text()
        for secret in ("k7Hq2vXw9LmN4pRt", "s3cr3tVa1ue-Zx81Qw77Lp0"):
            assert secret not in text and secret not in result.out and secret not in result.err
        assert "pos-paper-btc-1h" in text  # ordinary evidence is still there


def test_markdown_report_carries_evidence_causes_solutions_and_link(diagnose, world, tmp_path):
    profile = world("stale-positions", "mode-switch")
    out = tmp_path / "r.md"
    assert diagnose("stale-positions", "--profile", str(profile), "-o", str(out)).code == 1
    text = out.read_text()
    for needle in ("position_mutex_blocked", "pos-paper-btc-1h", "Switched from PAPER/BACKTEST to LIVE",
                   "MANUAL_CLEANUP", "/faq/stale-positions/", "execution.log:"):
        assert needle in text, needle


def test_default_report_path_and_no_overwrite(diagnose, world, tmp_path):
    profile = world("stale-positions", "healthy")
    first = diagnose("stale-positions", "--profile", str(profile))
    second = diagnose("stale-positions", "--profile", str(profile))
    assert first.code == second.code == 0
    reports = sorted((tmp_path / "diagnose-reports").glob("stale-positions-*.md"))
    assert len(reports) == 2  # same second: the second run does not clobber the first


def test_overrides_on_the_command_line(diagnose, world, tmp_path):
    profile = world("stale-positions", "healthy")
    (tmp_path / "paper.env").write_text("EXECUTION_MODE=PAPER\nBYBIT_API_KEY=abcd1234efgh\nBYBIT_API_SECRET=zzzz9999yyyy\n")
    out = tmp_path / "r.json"
    result = diagnose("stale-positions", "--profile", str(profile), "--env-file", f"trading={tmp_path / 'paper.env'}",
                      "--format", "json", "-o", str(out))
    # the .env now says PAPER while a LIVE position is open: nothing is blocked yet, a risk (exit 4)
    assert result.code == 4
    report = json.loads(out.read_text())
    assert report["verdict"] == "risk"
    assert [c["id"] for c in report["causes"]][0] == "sync-not-running"


def test_without_a_profile_everything_is_skipped_and_inconclusive(diagnose, tmp_path):
    out = tmp_path / "r.json"
    result = diagnose("stale-positions", "--format", "json", "-o", str(out))
    assert result.code == 3
    report = json.loads(out.read_text())
    assert report["verdict"] == "inconclusive"
    assert {c["status"] for c in report["checks"]} == {"skip"}
    assert any("is not configured" in c["message"] for c in report["checks"])


def test_the_report_fills_the_ids_it_found_into_the_fix_and_names_the_approvers(diagnose, world, tmp_path):
    """The cleanup is scoped by the rows this run found (a symbol filter would also close a real LIVE
    position on another timeframe), wrapped in a transaction with the count to expect; the trading step
    names the people the profile maps its role to."""
    import yaml

    profile = world("stale-positions", "mode-switch")
    data = yaml.safe_load(profile.read_text())
    data["approvers"] = {"trader": "Li Wei (#desk-ops)"}
    profile.write_text(yaml.safe_dump(data))
    out = tmp_path / "r.json"
    assert diagnose("stale-positions", "--profile", str(profile), "--format", "json", "-o", str(out)).code == 1
    report = json.loads(out.read_text())
    close = next(s for s in report["solutions"] if s["id"] == "close-simulated-rows")
    change = next(step for step in close["steps"] if step["risk"] == "reversible")
    assert change["filled"] == {"ids": ["pos-paper-btc-1h", "pos-paper-eth-4h"]}
    assert "position_id IN ('pos-paper-btc-1h', 'pos-paper-eth-4h')" in change["sql"]
    # the block opens the transaction and stops: the operator commits after reading the rows
    assert change["sql"].startswith("BEGIN;") and "COMMIT;" not in change["sql"].splitlines()
    assert change["expect_rows"] == 2 and "exactly 2 row(s)" in change["sql"]
    assert "symbol = 'BTCUSDT'" not in json.dumps(report)
    trading = [step for s in report["solutions"] for step in s["steps"] if step["risk"] == "trading"]
    assert trading and all(step["approve"]["who"] == "Li Wei (#desk-ops)" for step in trading
                           if step["approve"]["role"] == "trader")
    md = tmp_path / "r.md"
    diagnose("stale-positions", "--profile", str(profile), "-o", str(md))
    assert "Li Wei (#desk-ops)" in md.read_text() and "'pos-paper-eth-4h'" in md.read_text()


def _required(report: dict, precondition: str) -> list[dict]:
    return [pre for s in report["solutions"] for step in s["steps"] for pre in step["requires"]
            if pre["id"] == precondition]


def test_a_restart_step_says_whether_its_preconditions_hold_now(diagnose, world, tmp_path):
    """Before a backend restart: a rollover task executing right now makes the run say "wait" under the
    step (a restart is what leaves it stuck); with none, it says the step is clear."""
    stuck = world("rollover-task-stuck", "oom-killed-mid-rollover")
    out = tmp_path / "stuck.json"
    assert diagnose("rollover-task-stuck", "--profile", str(stuck), "--format", "json", "-o", str(out)).code == 1
    found = _required(json.loads(out.read_text()), "no-rollover-executing")
    assert found and all(pre["checked"]["status"] == "fail" for pre in found)
    assert "row(s)" in found[0]["checked"]["message"] and "first: id=" in found[0]["checked"]["message"]
    md = tmp_path / "stuck.md"
    diagnose("rollover-task-stuck", "--profile", str(stuck), "-o", str(md))
    assert "NOT CLEAR: wait" in md.read_text()

    down = world("backend-start-failed", "missing-settings")
    out = tmp_path / "down.json"
    assert diagnose("backend-start-failed", "--profile", str(down), "--format", "json", "-o", str(out)).code == 1
    found = _required(json.loads(out.read_text()), "no-rollover-executing")
    assert found and all(pre["checked"]["status"] == "pass" for pre in found)


def test_a_healthy_run_asks_no_precondition_and_none_is_a_check(diagnose, world, tmp_path):
    profile = world("rollover-task-stuck", "healthy")
    out = tmp_path / "r.json"
    assert diagnose("rollover-task-stuck", "--profile", str(profile), "--format", "json", "-o", str(out)).code == 0
    report = json.loads(out.read_text())
    # nothing to fix: no precondition is asked (a fix is not due), and none ever shows as a check
    found = _required(report, "no-rollover-executing")
    assert found and all(pre["checked"] is None for pre in found)
    assert not [c for c in report["checks"] if c["id"].startswith("precondition")]


def test_a_desk_database_that_never_answers_changes_no_verdict_and_holds_no_run(diagnose, world, tmp_path):
    """The preconditions only annotate the fix: a desk database that accepts TCP and never speaks must not
    turn the backend's problem into something else, nor hold the run past its deadline."""
    import socket
    import time

    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(8)       # the kernel accepts, nobody answers
    try:
        profile = world("backend-start-failed", "database-not-up")
        out = tmp_path / "r.json"
        started = time.monotonic()
        result = diagnose("backend-start-failed", "--profile", str(profile), "--format", "json", "-o", str(out),
                          "--dsn", f"desk=postgresql://postgres@127.0.0.1:{mute.getsockname()[1]}/desk",
                          "--deadline", "6")
        elapsed = time.monotonic() - started
    finally:
        mute.close()
    report = json.loads(out.read_text())
    assert result.code == 1 and report["verdict"] == "problem", [(c["id"], c["status"]) for c in report["checks"]]
    assert not report["incomplete"]
    assert elapsed < 12
    assert all(pre["checked"] is None or pre["checked"]["status"] != "pass"
               for pre in _required(report, "no-rollover-executing"))
