"""``kind: log`` end to end over real files and commands, as a knowledge-base check runs it."""

from __future__ import annotations

import gzip
import os
import sys
from datetime import datetime, timedelta, timezone

import pytest

from diagnose.checks import load_kind
from diagnose.checks.base import CheckError, CheckTimeout, Context
from diagnose.sources import LogSpec

log_kind = load_kind("log")
UTC = timezone.utc
NOW = datetime(2026, 11, 21, 9, 0, 0, tzinfo=UTC)

SYNC_FAILED = {"id": "sync-failed-log", "kind": "log", "title": "position_sync failures", "log": "execution",
               "pattern": "position_sync_failed", "since": "1h", "expect": {"max": 0}, "cause": "sync-failing"}
SYNC_RUNNING = {"id": "sync-running-log", "kind": "log", "title": "position_sync is running", "log": "execution",
                "pattern": "position_sync: checking", "since": "10m", "expect": {"min": 1}}


def ago(**delta) -> datetime:
    return NOW - timedelta(**delta)


def run(check: dict, spec: LogSpec, timeout: float = 5, cancel: bool = False):
    ctx = Context(timeout=timeout, now=NOW, resolve=lambda kind, name: spec)
    if cancel:
        ctx.cancel.set()
    return log_kind.run(check, ctx)


def write(path, lines: list[str] | bytes, mtime: datetime | None = None, newline: str = "\n") -> str:
    data = lines if isinstance(lines, bytes) else "".join(line + newline for line in lines).encode()
    path.write_bytes(gzip.compress(data) if str(path).endswith(".gz") else data)
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return str(path)


def py(t: datetime, msg: str, level: str = "ERROR") -> str:
    """Python logging, naive local timestamps (the profile says UTC)."""
    return f"{t:%Y-%m-%d %H:%M:%S},123 {level} app.sync: {msg}"


# The same history written the ways real deployments write it.
STYLES = {
    "python": py,
    "compose": lambda t, msg: f"execution-1  | {py(t, msg)}",
    "compose-timestamps": lambda t, msg: f"execution-1  | {t:%Y-%m-%dT%H:%M:%S}.123456789Z {py(t, msg)}",
    "journald": lambda t, msg: f"{t:%b %d %H:%M:%S} trading-host execution[4711]: {msg}",
    "postgres-style": lambda t, msg: f"{t:%Y-%m-%d %H:%M:%S}.123 UTC [4711] ERROR:  {msg}",
}
HISTORY = [(ago(hours=3), "position_sync_failed: ConnectionError"), (ago(minutes=30), "position_sync: checking BTCUSDT..."),
           (ago(minutes=20), "position_sync_failed: Timeout"), (ago(minutes=5), "position_sync: checking ETHUSDT..."),
           (ago(minutes=1), "position_sync_failed: 行情数据不足")]


@pytest.mark.parametrize("style", sorted(STYLES))
def test_same_check_over_every_prefix_style(tmp_path, style):
    path = write(tmp_path / "execution.log", [STYLES[style](t, msg) for t, msg in HISTORY])
    outcome = run(SYNC_FAILED, LogSpec("execution", paths=(path,), timezone="UTC"))
    assert not outcome.passed
    assert outcome.vars["count"] == 2  # the 3-hour-old failure is outside the window
    assert outcome.vars["first_time"] == "2026-11-21T08:40:00+00:00"
    assert outcome.vars["last_time"] == "2026-11-21T08:59:00+00:00"
    assert outcome.vars["last"].endswith("position_sync_failed: 行情数据不足")
    assert (outcome.vars["since"], outcome.vars["files"], outcome.vars["pattern"]) == ("1h", 1, "position_sync_failed")
    evidence = outcome.evidence[0]
    assert evidence.kind == "lines" and evidence.total == 2
    assert [(e["file"], e["line"]) for e in evidence.lines] == [(path, 3), (path, 5)]


@pytest.mark.parametrize("style", sorted(STYLES))
def test_absence_of_a_line_is_the_fault_with_min_1(tmp_path, style):
    healthy = write(tmp_path / "healthy.log", [STYLES[style](t, msg) for t, msg in HISTORY])
    stalled = write(tmp_path / "stalled.log", [STYLES[style](t, msg) for t, msg in HISTORY[:3]])
    assert run(SYNC_RUNNING, LogSpec("execution", paths=(healthy,), timezone="UTC")).passed
    outcome = run(SYNC_RUNNING, LogSpec("execution", paths=(stalled,), timezone="UTC"))
    assert not outcome.passed and outcome.vars["count"] == 0 and outcome.vars["last"] == ""


def test_chinese_messages_and_character_classes(tmp_path):
    path = write(tmp_path / "desk.log", [py(ago(minutes=3), "rollover: 锁仓下单接口未实现"),
                                         py(ago(minutes=2), "rollover: 换月平仓接口未实现"),
                                         py(ago(minutes=1), "tq: 持仓不足", "WARNING")])
    spec = LogSpec("desk", paths=(path,), timezone="UTC")
    check = {"log": "desk", "pattern": "(锁仓下单|换月[平开]仓)接口未实现"}
    assert run(check, spec).vars["count"] == 2
    assert run({"log": "desk", "pattern": r"WARNING .*: \w+不足"}, spec).vars["last"].endswith("持仓不足")


def test_naive_times_are_read_in_the_profile_timezone(tmp_path):
    # 16:50 in Shanghai is 08:50 UTC: inside the last hour; read as UTC it would be in the future
    path = write(tmp_path / "execution.log", [py(datetime(2026, 11, 21, 16, 50), "position_sync_failed"),
                                              py(datetime(2026, 11, 21, 15, 50), "position_sync_failed")])
    outcome = run(SYNC_FAILED, LogSpec("execution", paths=(path,), timezone="Asia/Shanghai"))
    assert outcome.vars["count"] == 1 and outcome.vars["last_time"] == "2026-11-21T16:50:00+08:00"


@pytest.mark.parametrize("since, expected", [("60m", 3), ("40m", 1), ("39m", 0)])
def test_window_starting_at_the_first_and_at_the_last_line(tmp_path, since, expected):
    path = write(tmp_path / "execution.log", [py(ago(minutes=m), f"position_sync_failed {m}") for m in (60, 50, 40)])
    outcome = run({**SYNC_FAILED, "since": since}, LogSpec("execution", paths=(path,), timezone="UTC"))
    assert outcome.vars["count"] == expected


def test_whole_log_without_since(tmp_path):
    path = write(tmp_path / "execution.log", [py(ago(days=400), "position_sync_failed")])
    check = {k: v for k, v in SYNC_FAILED.items() if k != "since"}
    outcome = run(check, LogSpec("execution", paths=(path,), timezone="UTC"))
    assert outcome.vars["count"] == 1 and outcome.vars["since"] == ""


def test_traceback_lines_take_the_time_of_their_record(tmp_path):
    path = write(tmp_path / "execution.log", [
        py(ago(hours=2), "sync crashed"), "Traceback (most recent call last):", "PositionSyncError: position_sync_failed",
        py(ago(minutes=2), "sync crashed"), "Traceback (most recent call last):", "PositionSyncError: position_sync_failed"])
    outcome = run(SYNC_FAILED, LogSpec("execution", paths=(path,), timezone="UTC"))
    assert outcome.vars["count"] == 1 and outcome.evidence[0].lines[0]["line"] == 6


def test_rotated_set_with_gz_read_oldest_first(tmp_path):
    live = tmp_path / "execution.log"
    write(tmp_path / "execution.log.2.gz", [py(ago(minutes=50), "position_sync_failed: a")], mtime=ago(minutes=45))
    write(tmp_path / "execution.log.1", [py(ago(minutes=40), "ok"), py(ago(minutes=35), "position_sync_failed: b")],
          mtime=ago(minutes=30))
    write(live, [py(ago(minutes=10), "position_sync_failed: c")])
    outcome = run(SYNC_FAILED, LogSpec("execution", paths=(str(live),), timezone="UTC"))
    assert outcome.vars["count"] == 3 and outcome.vars["files"] == 3
    assert [(os.path.basename(e["file"]), e["line"], e["text"][-1]) for e in outcome.evidence[0].lines] == [
        ("execution.log.2.gz", 1, "a"), ("execution.log.1", 2, "b"), ("execution.log", 1, "c")]


def test_rotated_files_older_than_the_window_are_not_opened(tmp_path):
    live = write(tmp_path / "execution.log", [py(ago(minutes=10), "position_sync_failed")])
    corrupt = tmp_path / "execution.log.3.gz"
    corrupt.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    os.utime(corrupt, (ago(days=3).timestamp(),) * 2)
    spec = LogSpec("execution", paths=(live,), timezone="UTC")
    outcome = run(SYNC_FAILED, spec)  # would raise "cannot read" if the old file were opened
    assert outcome.vars["count"] == 1 and outcome.vars["files"] == 1
    with pytest.raises(CheckError, match=r"cannot read .*execution\.log\.3\.gz"):
        run({**SYNC_FAILED, "since": "7d"}, spec)


def test_invalid_utf8_and_crlf(tmp_path):
    data = (py(ago(minutes=5), "position_sync_failed: ").encode() + b"\xff\xfe\xc3(\r\n" +
            py(ago(minutes=4), "ok").encode() + b"\r\n")
    path = write(tmp_path / "execution.log", data)
    outcome = run(SYNC_FAILED, LogSpec("execution", paths=(path,), timezone="UTC"))
    assert outcome.vars["count"] == 1
    assert outcome.evidence[0].lines[0]["text"].endswith("position_sync_failed: \ufffd\ufffd\ufffd(")
    assert run({**SYNC_FAILED, "pattern": "不足|position_sync_failed"},
               LogSpec("execution", paths=(path,), timezone="UTC")).vars["count"] == 1


def test_huge_line_without_newline_is_found(tmp_path):
    data = (py(ago(minutes=5), "dump ").encode() + b"z" * (3 << 20) + b" position_sync_failed " + b"z" * (3 << 20))
    path = write(tmp_path / "execution.log", data)
    outcome = run(SYNC_FAILED, LogSpec("execution", paths=(path,), timezone="UTC"))
    # the line is kept up to SOURCE_CHARS, cut before its last (unbroken) token: the report masks it, then clips it
    assert outcome.vars["count"] == 1 and outcome.vars["last"].endswith("…")
    assert len(outcome.vars["last"]) <= 16 * 1024 + 1


def test_ignore_case_and_evidence_size(tmp_path):
    path = write(tmp_path / "execution.log", [py(ago(minutes=m), "WebSocket DISCONNECTED") for m in range(9, 0, -1)])
    check = {"log": "execution", "pattern": "websocket disconnected", "ignore_case": True, "last": 2}
    outcome = run(check, LogSpec("execution", paths=(path,), timezone="UTC"))
    assert outcome.vars["count"] == 9 and not outcome.passed
    assert [e["line"] for e in outcome.evidence[0].lines] == [8, 9] and outcome.evidence[0].total == 9
    assert run({**check, "ignore_case": False}, LogSpec("execution", paths=(path,))).vars["count"] == 0


def test_command_source(tmp_path):
    lines = [STYLES["compose-timestamps"](t, msg) for t, msg in HISTORY]
    argv = (sys.executable, "-c", f"print({chr(10).join(lines)!r})")
    outcome = run(SYNC_FAILED, LogSpec("execution", command=argv))
    assert outcome.vars["count"] == 2 and outcome.vars["files"] == 1
    assert outcome.evidence[0].lines[-1]["line"] == 5
    assert outcome.evidence[0].lines[-1]["file"].startswith(sys.executable)


def test_hanging_command_times_out():
    with pytest.raises(CheckTimeout):
        run(SYNC_FAILED, LogSpec("execution", command=("sleep", "30")), timeout=0.3)


def test_failing_command_is_an_error():
    argv = (sys.executable, "-c", "import sys; sys.exit('service \"execution\" is not running')")
    with pytest.raises(CheckError, match='service "execution" is not running'):
        run(SYNC_FAILED, LogSpec("execution", command=argv))


def test_file_scan_honours_the_time_budget(tmp_path):
    path = write(tmp_path / "execution.log", [py(ago(minutes=1), "ok")])
    with pytest.raises(CheckTimeout):
        run(SYNC_FAILED, LogSpec("execution", paths=(path,)), cancel=True)


def test_clear_errors(tmp_path):
    with pytest.raises(CheckError, match=r"^log 'execution': no file matches .*/missing\.log$"):
        run(SYNC_FAILED, LogSpec("execution", paths=(str(tmp_path / "missing.log"),)))
    path = write(tmp_path / "execution.log", ["x"])
    with pytest.raises(CheckError, match="invalid pattern"):
        run({**SYNC_FAILED, "pattern": "(unclosed"}, LogSpec("execution", paths=(path,)))
    with pytest.raises(CheckError, match="unknown timezone 'Mars/Base'"):
        run(SYNC_FAILED, LogSpec("execution", paths=(path,), timezone="Mars/Base"))
    with pytest.raises(CheckError, match="since '1 hour'"):
        run({**SYNC_FAILED, "since": "1 hour"}, LogSpec("execution", paths=(path,)))
    with pytest.raises(CheckError, match="neither paths nor a command"):
        run(SYNC_FAILED, LogSpec("execution"))


def test_schema_accepts_the_documented_check_and_rejects_bad_fields():
    import jsonschema

    from diagnose.kb.schema import check_schema

    schema = check_schema("log")
    jsonschema.validate({**SYNC_FAILED, "expects": "no failures", "ignore_case": False, "last": 5}, schema)
    for bad in ({"since": "1 hour"}, {"last": -1}, {"pattern": 3}, {"ignore_case": "yes"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**SYNC_FAILED, "expects": "x", **bad}, schema)
    assert log_kind.SCHEMA["required"] == ["log", "pattern"]


def test_lint():
    assert log_kind.lint(SYNC_FAILED) == []
    problems = dict(log_kind.lint({**SYNC_FAILED, "pattern": "[", "since": "5 min", "expect": {"not_matches": "("}}))
    assert set(problems) == {"pattern", "since", "expect.not_matches"}


def test_manual_is_a_grep():
    text = log_kind.manual(SYNC_FAILED)
    assert text.splitlines()[0] == "grep -nE position_sync_failed <execution log>"
    assert "zgrep" in text and "1h" in text
    assert log_kind.manual({"log": "x", "pattern": r"status=5\d\d ok", "ignore_case": True}).startswith(
        "grep -niP 'status=5\\d\\d ok' <x log>")


# --- params: values of the deployment itself, bound regex-escaped into the pattern -------------------

TENANT_REJECTED = {"id": "tenant-rejected", "kind": "log", "log": "realtime", "since": "1h",
                   "pattern": r"tenant %(tenant)s: JWT rejected",
                   "params": {"tenant": {"env": "realtime", "key": "REALTIME_TENANT"}},
                   "message": {"fail": "{count} rejection(s) of tenant {tenant}"}}


def run_with_env(check: dict, spec: LogSpec, tmp_path, env: dict[str, str] | None):
    """The check with its log ``spec`` and, when given, an env source ``realtime`` read from a real .env file."""
    from diagnose.profile import Profile, Resolver

    profile = Profile()
    if env is not None:
        path = tmp_path / "realtime.env"
        path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        profile.sources["env"]["realtime"] = str(path)
    resolver = Resolver(profile)
    ctx = Context(timeout=5, now=NOW, resolve=lambda kind, name: spec if kind == "logs" else resolver(kind, name))
    return log_kind.run(check, ctx)


def tenant_log(tmp_path) -> LogSpec:
    path = write(tmp_path / "realtime.log", [
        py(ago(minutes=9), "tenant a.b+c: JWT rejected"),      # the deployment's own tenant, written literally
        py(ago(minutes=8), "tenant aXbbbc: JWT rejected"),     # what the unescaped regex a.b+c would also match
        py(ago(minutes=7), "tenant realtime: JWT rejected"),
        py(ago(minutes=6), "tenant realtime: JWT rejected")])
    return LogSpec("realtime", paths=(path,), timezone="UTC")


def test_param_from_env_is_matched_literally_and_shown_in_the_vars(tmp_path):
    outcome = run_with_env(TENANT_REJECTED, tenant_log(tmp_path), tmp_path, {"REALTIME_TENANT": "a.b+c"})
    assert outcome.vars["count"] == 1 and not outcome.passed
    assert outcome.vars["last"].endswith("tenant a.b+c: JWT rejected")
    assert outcome.vars["tenant"] == "a.b+c"
    assert outcome.vars["pattern"] == TENANT_REJECTED["pattern"]   # the pattern as written, placeholders kept


def test_param_takes_another_deployments_value(tmp_path):
    outcome = run_with_env(TENANT_REJECTED, tenant_log(tmp_path), tmp_path, {"REALTIME_TENANT": "realtime"})
    assert outcome.vars["count"] == 2 and outcome.vars["tenant"] == "realtime"


def test_param_missing_without_default_skips_naming_the_key(tmp_path):
    from diagnose.checks.base import SkipCheck

    with pytest.raises(SkipCheck, match=r"^needs REALTIME_TENANT from env 'realtime', which does not set it$"):
        run_with_env(TENANT_REJECTED, tenant_log(tmp_path), tmp_path, {"OTHER": "x"})
    with pytest.raises(SkipCheck, match=r"^needs REALTIME_TENANT from env 'realtime', which is not configured$"):
        run_with_env(TENANT_REJECTED, tenant_log(tmp_path), tmp_path, None)


def test_param_default_is_used_when_the_key_or_the_env_is_missing(tmp_path):
    check = {**TENANT_REJECTED,
             "params": {"tenant": {"env": "realtime", "key": "REALTIME_TENANT", "default": "realtime"}}}
    for env in ({"OTHER": "x"}, None):
        outcome = run_with_env(check, tenant_log(tmp_path), tmp_path, env)
        assert outcome.vars["count"] == 2 and outcome.vars["tenant"] == "realtime"
    # a value the env does set wins over the default
    assert run_with_env(check, tenant_log(tmp_path), tmp_path, {"REALTIME_TENANT": "a.b+c"}).vars["count"] == 1


def test_double_percent_is_a_literal_percent_with_params(tmp_path):
    path = write(tmp_path / "realtime.log", [py(ago(minutes=3), "pool 100% used by tenant a.b+c"),
                                             py(ago(minutes=2), "pool 100%% used by tenant a.b+c"),
                                             py(ago(minutes=1), "pool 100% used by tenant other")])
    check = {"log": "realtime", "pattern": r"pool 100%% used by tenant %(tenant)s$",
             "params": {"tenant": {"value": "a.b+c"}}}
    outcome = run(check, LogSpec("realtime", paths=(path,), timezone="UTC"))
    assert outcome.vars["count"] == 1 and outcome.evidence[0].lines[0]["line"] == 1


def test_a_pattern_with_params_needs_the_run_to_read_them():
    with pytest.raises(CheckError, match="params"):
        log_kind.request(TENANT_REJECTED)


def test_lint_params_of_a_pattern():
    assert log_kind.lint(TENANT_REJECTED) == []
    problems = log_kind.lint({**TENANT_REJECTED, "params": {"other": "x"}})
    assert ("pattern", "%(tenant)s has no entry in params") in problems
    assert ("params.other", "not used by the pattern (no %(other)s)") in problems
    bad = dict(log_kind.lint({**TENANT_REJECTED, "params": {"tenant": {"env": "realtime"}}}))
    assert bad == {"params.tenant": "give a literal, {value: X}, {window: 1h}, {setting: NAME} or {env: NAME, key: KEY, default: X}"}
    assert log_kind.lint({**TENANT_REJECTED, "params": ["x"]}) == [
        ("params", "params must be a mapping of placeholder name to value")]
    # the pattern compiles with its placeholders bound; a bad regex around them is still reported
    assert [p for p, _ in log_kind.lint({**TENANT_REJECTED, "pattern": "(tenant %(tenant)s"})] == ["pattern"]


# --- after: count from the service's last start on ------------------------------------------------------

CRASH_SINCE_START = {"id": "loop-crash", "kind": "log", "log": "backend", "pattern": "lock trigger loop crashed",
                     "after": "Started server process", "since": "2h"}


def test_a_crash_before_the_last_start_is_history_one_after_it_counts(tmp_path):
    path = write(tmp_path / "backend.log", [
        py(ago(minutes=90), "lock trigger loop crashed"),
        py(ago(minutes=80), "Started server process [11]", "INFO"),
        py(ago(minutes=50), "lock trigger loop crashed"),              # before the last start: history
        py(ago(minutes=30), "Started server process [12]", "INFO"),
        py(ago(minutes=10), "lock trigger loop crashed")])
    spec = LogSpec("backend", paths=(path,), timezone="UTC")
    outcome = run(CRASH_SINCE_START, spec)
    assert outcome.vars["count"] == 1 and not outcome.passed
    assert [e["line"] for e in outcome.evidence[0].lines] == [5]
    assert outcome.vars["after_time"] == "2026-11-21T08:30:00+00:00"
    assert outcome.evidence[0].title.endswith(
        "; counted after the last /Started server process/ line (2026-11-21T08:30:00+00:00)")
    without = run({k: v for k, v in CRASH_SINCE_START.items() if k != "after"}, spec)
    assert without.vars["count"] == 3 and "after_time" not in without.vars


def test_a_crash_only_before_the_start_passes(tmp_path):
    path = write(tmp_path / "backend.log", [py(ago(minutes=50), "lock trigger loop crashed"),
                                            py(ago(minutes=30), "Started server process [12]", "INFO"),
                                            py(ago(minutes=10), "lock trigger: checked 3 configs", "INFO")])
    outcome = run(CRASH_SINCE_START, LogSpec("backend", paths=(path,), timezone="UTC"))
    assert outcome.passed and outcome.vars["count"] == 0


def test_without_a_start_line_the_whole_window_counts_and_the_title_says_so(tmp_path):
    path = write(tmp_path / "backend.log", [py(ago(hours=3), "lock trigger loop crashed"),
                                            py(ago(minutes=50), "lock trigger loop crashed"),
                                            py(ago(minutes=10), "lock trigger loop crashed")])
    outcome = run(CRASH_SINCE_START, LogSpec("backend", paths=(path,), timezone="UTC"))
    assert outcome.vars["count"] == 2                     # the 3-hour-old one is outside `since`
    assert outcome.vars["after_time"] == ""
    assert outcome.evidence[0].title.endswith(
        "; no /Started server process/ line with a time: counted the whole window")


def test_a_start_line_outside_the_window_is_not_the_start(tmp_path):
    path = write(tmp_path / "backend.log", [py(ago(minutes=50), "Started server process [12]", "INFO"),
                                            py(ago(minutes=40), "lock trigger loop crashed"),
                                            py(ago(minutes=10), "lock trigger loop crashed")])
    spec = LogSpec("backend", paths=(path,), timezone="UTC")
    assert run({**CRASH_SINCE_START, "since": "45m"}, spec).vars["after_time"] == ""
    assert run({**CRASH_SINCE_START, "since": "45m"}, spec).vars["count"] == 2
    assert run({**CRASH_SINCE_START, "since": "1h"}, spec).vars["count"] == 2   # both after the start


def test_after_without_since_counts_from_the_start_in_the_whole_log(tmp_path):
    path = write(tmp_path / "backend.log", [py(ago(days=3), "lock trigger loop crashed"),
                                            py(ago(days=2), "Started server process [12]", "INFO"),
                                            py(ago(days=1), "lock trigger loop crashed")])
    check = {k: v for k, v in CRASH_SINCE_START.items() if k != "since"}
    outcome = run(check, LogSpec("backend", paths=(path,), timezone="UTC"))
    assert outcome.vars["count"] == 1 and outcome.evidence[0].lines[0]["line"] == 3


def test_lint_after_regex():
    assert log_kind.lint(CRASH_SINCE_START) == []
    assert dict(log_kind.lint({**CRASH_SINCE_START, "after": "Started (server"}))["after"].startswith("invalid regex")


def test_a_crash_just_before_the_start_in_the_same_second_is_history(tmp_path):
    journald = STYLES["journald"]
    path = write(tmp_path / "backend.log", [journald(ago(minutes=30), "lock trigger loop crashed"),
                                            journald(ago(minutes=30), "Started server process [12]"),
                                            journald(ago(minutes=10), "lock trigger: checked 3 configs")])
    outcome = run(CRASH_SINCE_START, LogSpec("backend", paths=(path,), timezone="UTC"))
    assert outcome.vars["count"] == 0
