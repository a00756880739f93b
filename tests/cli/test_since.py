"""``--since``: confirm a fix by what happened after it. Every windowed check (a log's ``since:``, an SQL
``{window: 1h}`` param) starts no earlier than the given moment; checks without a window are unchanged."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
import psycopg
import pytest
import yaml

from diagnose.checks import load_kind
from diagnose.checks.base import Context, RunResources
from diagnose.checks.params import resolve_params
from diagnose.cli.options import Since
from diagnose.sources import LogSpec

UTC = timezone.utc
NOW = datetime(2026, 11, 21, 9, 0, 0, tzinfo=UTC)
log_kind = load_kind("log")
sql_kind = load_kind("sql")


def convert(text: str) -> datetime:
    return Since().convert(text, None, None)


# --- the Since type ------------------------------------------------------------------------------------------------

def test_a_duration_is_that_long_ago():
    before = datetime.now(UTC) - timedelta(minutes=20)
    moment = convert("20m")
    after = datetime.now(UTC) - timedelta(minutes=20)
    assert before <= moment <= after
    assert moment.tzinfo is not None


def test_a_time_of_day_is_today_in_local_time():
    moment = convert("00:00")       # never in the future: midnight of today
    midnight = datetime.combine(datetime.now().date(), datetime.min.time()).astimezone()
    assert moment == midnight and moment.utcoffset() == timedelta(0)


def test_a_local_date_and_time_and_iso_with_a_zone():
    assert convert("2020-12-05 03:12") == datetime(2020, 12, 5, 3, 12).astimezone().astimezone(UTC)
    assert convert("2020-12-05T03:12:00+08:00") == datetime(2020, 12, 4, 19, 12, tzinfo=UTC)
    assert convert("2020-12-05T03:12:00Z") == datetime(2020, 12, 5, 3, 12, tzinfo=UTC)


def test_a_datetime_passes_through():
    moment = datetime(2020, 1, 1, tzinfo=UTC)
    assert convert(moment) is moment


@pytest.mark.parametrize("text", ["2999-01-01T00:00:00+00:00", "2999-12-05 03:12"])
def test_the_future_is_refused(text):
    with pytest.raises(click.BadParameter):
        convert(text)


@pytest.mark.parametrize("text", ["garbage", "yesterday", "25:99", "20 minutes", "-20m", "2026-13-45", ""])
def test_garbage_is_refused(text):
    with pytest.raises(click.BadParameter):
        convert(text)


# --- {window: 1h} params ------------------------------------------------------------------------------------------

def context(since: datetime | None = None, resolve=lambda kind, name: None, now: datetime = NOW) -> Context:
    return Context(timeout=10, now=now, resolve=resolve, shared=RunResources(since=since))


def test_a_window_param_binds_its_span_in_seconds():
    assert resolve_params({"window": {"window": "1h"}}, context()) == {"window": "3600 seconds"}
    assert resolve_params({"window": {"window": "90s"}}, context()) == {"window": "90 seconds"}


def test_since_shortens_a_window_param_and_never_lengthens_it():
    assert resolve_params({"window": {"window": "1h"}}, context(NOW - timedelta(minutes=10))) == {
        "window": "600 seconds"}
    assert resolve_params({"window": {"window": "1h"}}, context(NOW - timedelta(hours=5))) == {
        "window": "3600 seconds"}
    # a literal is not a window: --since leaves it alone
    assert resolve_params({"w": {"value": "1 hour"}}, context(NOW - timedelta(minutes=10))) == {"w": "1 hour"}


def test_a_window_param_as_postgresql_reads_it(make_db):
    dsn = make_db(None)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE events (id int, at timestamptz NOT NULL)")
        conn.execute("INSERT INTO events VALUES (1, now() - interval '30 minutes'), (2, now() - interval '3 hours')")
    check = {"id": "recent-errors", "kind": "sql", "database": "db",
             "query": "SELECT count(*) AS n FROM events WHERE at > now() - %(window)s::interval",
             "params": {"window": {"window": "1h"}}, "expect": {"value": {"equals": 0}, "column": "n"}}
    now = datetime.now(UTC)
    resolve = lambda kind, name: dsn  # noqa: E731
    whole = context(resolve=resolve, now=now)
    after_fix = context(now - timedelta(minutes=10), resolve=resolve, now=now)
    try:
        first = sql_kind.run(check, whole)
        second = sql_kind.run(check, after_fix)
    finally:
        whole.shared.close()
        after_fix.shared.close()
    assert first.vars["value"] == 1 and not first.passed and first.caveat is None
    assert second.vars["value"] == 0 and second.passed
    assert "from --since, not 1h" in second.caveat   # said with the result: not the hour it was written for


# --- log checks -----------------------------------------------------------------------------------------------------

def py(t: datetime, msg: str) -> str:
    return f"{t:%Y-%m-%d %H:%M:%S},123 ERROR app.worker: {msg}"


FAILED = {"id": "job-failed", "kind": "log", "title": "failed jobs", "log": "app", "pattern": "job failed",
          "since": "1h", "expect": {"max": 0}}


def log_file(tmp_path: Path) -> LogSpec:
    path = tmp_path / "app.log"
    path.write_text("".join(line + "\n" for line in [
        py(NOW - timedelta(days=3), "job failed: 17"),
        py(NOW - timedelta(minutes=30), "job failed: 42"),
        py(NOW - timedelta(minutes=29), "job done: 43"),
    ]))
    return LogSpec("app", paths=(str(path),), timezone="UTC")


def run_log(check: dict, spec: LogSpec, since: datetime | None):
    ctx = context(since, resolve=lambda kind, name: spec)
    try:
        return log_kind.run(check, ctx)
    finally:
        ctx.shared.close()


def test_a_windowed_log_check_counts_only_what_came_after_since(tmp_path):
    spec = log_file(tmp_path)
    before = run_log(FAILED, spec, None)
    assert before.vars["count"] == 1 and not before.passed        # 30 minutes ago is in the last hour
    after = run_log(FAILED, spec, NOW - timedelta(minutes=10))
    assert after.vars["count"] == 0 and after.passed
    # a --since before the window changes nothing
    assert run_log(FAILED, spec, NOW - timedelta(hours=3)).vars["count"] == 1


def test_a_log_check_without_since_is_unchanged_by_since(tmp_path):
    spec = log_file(tmp_path)
    whole = {k: v for k, v in FAILED.items() if k != "since"}
    assert run_log(whole, spec, None).vars["count"] == 2
    assert run_log(whole, spec, NOW - timedelta(minutes=10)).vars["count"] == 2


# --- end to end: diagnose SYMPTOM --since and diagnose triage --since -----------------------------------------------

ENTRY = textwrap.dedent("""\
    id: failing-jobs
    title: Jobs fail
    category: service
    severity: medium
    summary: The worker logs failed jobs.
    causes:
      - {id: worker-broken, title: The worker is broken, text: It fails every job.}
    checks:
      - id: job-failed
        kind: log
        title: failed jobs in the last hour
        expects: no failed job
        log: app
        pattern: 'job failed'
        since: 1h
        cause: worker-broken
        symptom: true
    solutions:
      - id: restart-worker
        title: Look at the worker
        steps:
          - do: Read the worker's last lines.
            risk: read-only
            where: host
            shell: tail -n 50 /var/log/app.log
    examples:
      - name: broken
        verdict: problem
        causes: [worker-broken]
        fails: [job-failed]
        world:
          logs:
            app: |
              {now-30m} ERROR app.worker: job failed: 42
      - name: healthy
        verdict: healthy
        world:
          logs:
            app: |
              {now-30m} INFO app.worker: job done: 42
    """)


@pytest.fixture
def small_pack(tmp_path) -> Path:
    root = tmp_path / "pack"
    (root / "service").mkdir(parents=True)
    (root / "pack.yaml").write_text(yaml.safe_dump({
        "name": "small", "version": "1",
        "sources": {"logs": {"app": {"description": "the worker's log"}}}}))
    (root / "service" / "failing-jobs.yaml").write_text(ENTRY)
    return root


@pytest.fixture
def app_log(tmp_path) -> tuple[Path, datetime]:
    """A log whose last error is 20 minutes old, in local time without a zone (as Python logging writes it)."""
    now = datetime.now().astimezone()
    last_error = now - timedelta(minutes=20)
    path = tmp_path / "app.log"
    path.write_text("".join(f"{t.replace(tzinfo=None):%Y-%m-%d %H:%M:%S},123 {level} app.worker: {msg}\n" for t, level, msg in [
        (now - timedelta(minutes=40), "ERROR", "job failed: 41"),
        (last_error, "ERROR", "job failed: 42"),
        (now - timedelta(minutes=5), "INFO", "job done: 43"),
    ]))
    return path, last_error


def test_diagnose_symptom_since_the_fix_is_healthy(diagnose, small_pack, app_log, tmp_path):
    path, last_error = app_log
    common = ["failing-jobs", "--checks", str(small_pack), "--log", f"app={path}", "-o", str(tmp_path / "r.md")]
    assert diagnose(*common).code == 1
    fixed_at = (last_error + timedelta(minutes=1)).astimezone(UTC).isoformat()
    after = diagnose(*common, "--since", fixed_at)
    assert after.code == 0, after.out + after.err
    assert diagnose(*common, "--since", "10m").code == 0
    # a --since before the last error still finds it
    assert diagnose(*common, "--since", (last_error - timedelta(minutes=1)).isoformat()).code == 1


def test_diagnose_triage_since_the_fix_finds_nothing(diagnose, small_pack, app_log, tmp_path):
    path, _ = app_log
    common = ["triage", "--no-builtin", "--checks", str(small_pack), "--log", f"app={path}", "-o", str(tmp_path / "t.md")]
    assert diagnose(*common).code == 1
    assert diagnose(*common, "--since", "10m").code == 0


@pytest.mark.parametrize("value", ["garbage", "2999-01-01T00:00:00Z"])
@pytest.mark.parametrize("command", [["failing-jobs"], ["triage"]])
def test_a_bad_since_is_exit_2_with_one_error_line(diagnose, small_pack, app_log, tmp_path, command, value):
    path, _ = app_log
    result = diagnose(*command, "--checks", str(small_pack), "--log", f"app={path}", "--since", value,
                      "-o", str(tmp_path / "r.md"))
    assert result.code == 2
    errors = [line for line in result.err.splitlines() if value in line]
    assert len(errors) == 1 and "--since" in errors[0], result.err
    assert not (tmp_path / "r.md").exists()


def test_the_report_says_where_its_windows_start(diagnose, small_pack, app_log, tmp_path):
    """A healthy run after a fix must not read like a healthy system: every format says the windows
    started at --since, and a plain run says nothing of it."""
    import json

    path, _ = app_log
    common = ["failing-jobs", "--checks", str(small_pack), "--log", f"app={path}"]
    out = tmp_path / "r.json"
    assert diagnose(*common, "--since", "10m", "--format", "json", "-o", str(out)).code == 0
    since = json.loads(out.read_text())["since"]
    assert since and datetime.fromisoformat(since.replace("Z", "+00:00")) < datetime.now(UTC)
    md = tmp_path / "r.md"
    result = diagnose(*common, "--since", "10m", "-o", str(md))
    assert f"counting from {since[:16]}" in md.read_text() and "counting from" in result.out
    plain = tmp_path / "p.json"
    diagnose(*common, "--format", "json", "-o", str(plain))
    assert json.loads(plain.read_text())["since"] is None


@pytest.mark.parametrize("value", ["0s", "0m"])
def test_a_since_of_no_time_ago_is_refused(diagnose, small_pack, app_log, tmp_path, value):
    path, _ = app_log
    result = diagnose("failing-jobs", "--checks", str(small_pack), "--log", f"app={path}", "--since", value)
    assert result.code == 2 and "--since" in result.err


def test_a_time_of_day_later_than_now_is_yesterdays():
    from diagnose.cli.options import Since

    ahead = (datetime.now() + timedelta(minutes=30)).strftime("%H:%M")
    moment = Since().convert(ahead, None, None)
    assert timedelta(hours=23) < datetime.now(UTC) - moment < timedelta(hours=24)


def test_a_log_message_names_the_window_since_shortened(diagnose, small_pack, app_log, tmp_path):
    """`--since 10m` on a check of the last hour: its message says ten minutes, not "the last 1h"."""
    import json

    path, _ = app_log
    out = tmp_path / "r.json"
    diagnose("failing-jobs", "--checks", str(small_pack), "--log", f"app={path}", "--since", "10m",
             "--format", "json", "-o", str(out))
    messages = [c["message"] for c in json.loads(out.read_text())["checks"] if c["kind"] == "log"]
    assert messages and all("from --since" in m for m in messages), messages
