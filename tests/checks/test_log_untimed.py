"""Windows on logs whose lines carry no time: never claimed where they could not be applied.

uvicorn's default output (``INFO:     connection open``), a handler's ``print()``, ``docker
compose logs`` without ``--timestamps``: a windowed check over such lines cannot tell which
are in the window. A file last modified before the window opened has nothing in it (its time
bounds every line); otherwise the lines without a time are counted, the message and evidence
say so, and when the verdict of the count rests on them the result is not conclusive (it alone
makes no problem). A known log command takes the window itself (``--since``): its lines are in
the window by construction. The journal tests use real journal files (systemd-journal-remote)
read by the real ``journalctl``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from diagnose.checks import load_kind
from diagnose.checks.base import Context, Status
from diagnose.logscan.commands import with_window
from diagnose.runner import verdict_of
from diagnose.sources import LogSpec

log_kind = load_kind("log")
UTC = timezone.utc
NOW = datetime.now(UTC).replace(microsecond=0)
DISCONNECTS = {"id": "disconnect-rate", "kind": "log", "title": "WebSocket disconnects", "log": "backend",
               "pattern": "WebSocket disconnected", "since": "15m", "expect": {"max": 5}, "cause": "c"}
HEARTBEAT = {"id": "heartbeat", "kind": "log", "title": "the loop is alive", "log": "backend",
             "pattern": "lock trigger: checked", "since": "10m", "expect": {"min": 1}}
UVICORN = (["INFO:     Started server process [1]", "INFO:     Application startup complete."]
           + [line for i in range(40) for line in (f'INFO:     127.0.0.1:{42000 + i} - "WebSocket /ws/positions" [accepted]',
                                                  "INFO:     connection open", "WebSocket disconnected",
                                                  "INFO:     connection closed")])
JOURNAL_REMOTE = next((p for p in ("/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote")
                       if os.path.exists(p)), None)


def run(check: dict, spec: LogSpec):
    return log_kind.run(check, Context(timeout=10, now=NOW, resolve=lambda kind, name: spec))


def write(path: Path, lines: list[str], modified: datetime | None = None) -> str:
    path.write_text("".join(line + "\n" for line in lines))
    if modified is not None:
        os.utime(path, (modified.timestamp(), modified.timestamp()))
    return str(path)


def test_untimed_lines_are_counted_and_said_to_be_unwindowed(tmp_path):
    path = write(tmp_path / "backend.log", UVICORN)
    outcome = run(DISCONNECTS, LogSpec("backend", paths=(path,)))
    assert outcome.vars["count"] == 40 and outcome.vars["untimed"] == 40 and not outcome.passed
    assert outcome.caveat.startswith("no timestamps in backend.log: counted the whole file, last written")
    assert "the 15m window could not be applied to 40 of the 40 matching line(s)" in outcome.caveat
    assert outcome.conclusive is False
    assert "40 of them without a time" in outcome.evidence[0].title


def test_a_file_untouched_since_before_the_window_has_nothing_in_it(tmp_path):
    path = write(tmp_path / "backend.log", UVICORN, modified=NOW - timedelta(days=3))
    outcome = run(DISCONNECTS, LogSpec("backend", paths=(path,)))
    assert outcome.passed and outcome.vars["count"] == 0 and outcome.caveat is None and outcome.conclusive
    assert "backend.log last written 3 days ago, before the window: nothing in it counted" in outcome.evidence[0].title


def test_timed_lines_that_decide_alone_keep_the_result_conclusive(tmp_path):
    timed = [f"{NOW - timedelta(minutes=m):%Y-%m-%d %H:%M:%S},000 INFO app.ws: WebSocket disconnected" for m in range(6, 0, -1)]
    path = write(tmp_path / "backend.log", ["WebSocket disconnected", "WebSocket disconnected"] + timed)
    outcome = run(DISCONNECTS, LogSpec("backend", paths=(path,), timezone="UTC"))
    assert outcome.vars["count"] == 8 and outcome.vars["untimed"] == 2
    assert not outcome.passed and outcome.conclusive            # 6 timed ones are already more than 5
    assert outcome.caveat and "2 of the 8" in outcome.caveat


def test_lines_after_a_timed_one_take_its_time(tmp_path):
    """A continuation (a traceback, a print between log lines) is as old as the line before it: the
    rule of the issue, and what a traceback is. (A print() long after its predecessor is taken as old
    too: the profile page says to give prints their own time.)"""
    path = write(tmp_path / "backend.log", [f"{NOW - timedelta(hours=2):%Y-%m-%d %H:%M:%S},000 INFO app: started"]
                 + ["WebSocket disconnected"] * 9)
    outcome = run(DISCONNECTS, LogSpec("backend", paths=(path,), timezone="UTC"))
    assert outcome.passed and outcome.vars["count"] == 0 and outcome.caveat is None


def test_a_pass_that_rests_on_untimed_lines_is_not_conclusive(tmp_path):
    path = write(tmp_path / "backend.log", ["lock trigger: checked 3 configs"])
    outcome = run(HEARTBEAT, LogSpec("backend", paths=(path,)))
    assert outcome.passed and outcome.conclusive is False and outcome.caveat


def test_an_unconclusive_failure_alone_is_no_problem():
    def result(status, role="symptom", conclusive=True):
        return type("R", (), {"status": status, "role": role, "conclusive": conclusive})()

    assert verdict_of([result(Status.FAIL, conclusive=False), result(Status.PASS)]) == "inconclusive"
    assert verdict_of([result(Status.PASS, conclusive=False)]) == "inconclusive"
    assert verdict_of([result(Status.FAIL, conclusive=False), result(Status.FAIL)]) == "problem"


# --- a command that takes the window itself -------------------------------------------------------

SINCE = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("argv, expected", [
    (["docker", "compose", "logs", "backend"],
     ["docker", "compose", "logs", "--since", "2026-12-05T10:00:00Z", "--timestamps", "backend"]),
    (["docker", "compose", "-f", "desk.yml", "logs", "--no-color", "backend"],
     ["docker", "compose", "-f", "desk.yml", "logs", "--since", "2026-12-05T10:00:00Z", "--timestamps", "--no-color",
      "backend"]),
    (["/usr/bin/docker", "logs", "-t", "desk-backend-1"],
     ["/usr/bin/docker", "logs", "--since", "2026-12-05T10:00:00Z", "-t", "desk-backend-1"]),
    (["docker-compose", "logs", "backend"], ["docker-compose", "logs", "--since", "2026-12-05T10:00:00Z", "--timestamps",
                                             "backend"]),
    (["kubectl", "-n", "desk", "logs", "deploy/backend"],
     ["kubectl", "-n", "desk", "logs", "--since-time=2026-12-05T10:00:00Z", "--timestamps", "deploy/backend"]),
    # an option's value that happens to be `logs` is not the subcommand
    (["kubectl", "-n", "logs", "logs", "deploy/backend"],
     ["kubectl", "-n", "logs", "logs", "--since-time=2026-12-05T10:00:00Z", "--timestamps", "deploy/backend"]),
    (["docker", "--context", "logs", "compose", "-p", "logs", "logs", "x"],
     ["docker", "--context", "logs", "compose", "-p", "logs", "logs", "--since", "2026-12-05T10:00:00Z", "--timestamps",
      "x"]),
    (["journalctl", "-u", "desk-backend"], ["journalctl", f"--since=@{int(SINCE.timestamp())}", "--output=short-iso",
                                             "-u", "desk-backend"]),
    (["journalctl", "-u", "desk-backend", "-o", "cat"], ["journalctl", f"--since=@{int(SINCE.timestamp())}", "-u",
                                                          "desk-backend", "-o", "cat"]),
])
def test_known_log_commands_take_the_window(argv, expected):
    assert with_window(argv, SINCE).argv == expected and with_window(argv, SINCE).applies_window


@pytest.mark.parametrize("argv", [["docker", "logs", "--since", "1h", "c"], ["docker", "compose", "logs", "--since=2h", "x"],
                                  ["journalctl", "-S", "today"], ["tail", "-n", "100", "backend.log"], ["docker", "ps"],
                                  ["kubectl", "get", "pods"], ["docker", "exec", "backend", "cat", "logs"],
                                  ["sudo", "docker", "logs", "x"]])
def test_a_window_of_the_users_own_or_an_unknown_command_is_left_alone(argv):
    assert with_window(argv, SINCE).argv == argv and not with_window(argv, SINCE).applies_window


def journal(tmp_path: Path, entries: list[tuple[timedelta, str]]) -> Path:
    """A real journal file: entries in journald's export format, written by systemd-journal-remote."""
    if JOURNAL_REMOTE is None or shutil.which("journalctl") is None:
        pytest.fail("systemd-journal-remote and journalctl are needed: python3 dev.py test installs them (as root)")
    export = []
    for i, (before, message) in enumerate(entries):
        stamp = int((NOW - before).timestamp() * 1_000_000)
        export.append(f"__REALTIME_TIMESTAMP={stamp}\n__MONOTONIC_TIMESTAMP={i + 1}\n"
                      f"_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=desk-01\nSYSLOG_IDENTIFIER=backend\n"
                      f"PRIORITY=6\nMESSAGE={message}\n")
    (tmp_path / "export.txt").write_text("\n".join(export) + "\n")
    target = tmp_path / "backend.journal"
    subprocess.run([JOURNAL_REMOTE, f"--output={target}", str(tmp_path / "export.txt")], check=True,
                   capture_output=True, timeout=30)
    return target


HISTORY = [(timedelta(days=2), "WebSocket disconnected")] * 20 + [(timedelta(minutes=m), "WebSocket disconnected")
                                                                   for m in (9, 7, 3)]


def test_journalctl_takes_the_window_so_untimed_output_is_exact(tmp_path):
    path = journal(tmp_path, HISTORY)
    spec = LogSpec("backend", command=("journalctl", f"--file={path}", "--no-pager", "-o", "cat"))
    outcome = run(DISCONNECTS, spec)
    assert outcome.vars["count"] == 3 and outcome.passed and outcome.caveat is None and outcome.conclusive
    assert "--since=@" in outcome.evidence[0].lines[0]["file"]      # the command as it ran


def test_without_the_rule_the_same_output_is_counted_whole_and_said_so(tmp_path):
    path = journal(tmp_path, HISTORY)
    spec = LogSpec("backend", command=("journalctl", f"--file={path}", "--no-pager", "-o", "cat"), window=False)
    outcome = run(DISCONNECTS, spec)
    assert outcome.vars["count"] == 23 and not outcome.passed and outcome.conclusive is False
    assert "no timestamps in the output of journalctl" in outcome.caveat


def test_a_file_paired_with_a_command_reads_the_command_for_windows_and_the_file_for_the_rest(tmp_path):
    path = journal(tmp_path, HISTORY)
    untimed = write(tmp_path / "backend.log", ["WebSocket disconnected"] * 50)
    spec = LogSpec("backend", paths=(untimed,), command=("journalctl", f"--file={path}", "--no-pager"))
    assert run(DISCONNECTS, spec).vars["count"] == 3
    whole = {**DISCONNECTS, "since": None, "expect": {"max": 100}}
    assert run(whole, spec).vars["count"] == 50


def test_a_command_that_fails_with_the_window_added_says_how_to_turn_it_off(tmp_path):
    spec = LogSpec("backend", command=("journalctl", f"--file={tmp_path / 'missing.journal'}", "--no-pager"))
    from diagnose.checks.base import CheckError

    with pytest.raises(CheckError) as caught:
        run(DISCONNECTS, spec)
    assert "diagnose added `--since=@" in str(caught.value) and "set `window: false` on log 'backend'" in str(caught.value)


@pytest.mark.parametrize("expect", [1, {"equals": 1}, {"min": 1, "max": 2}, {"in": [1, 2]}])
def test_an_expectation_a_count_in_between_could_meet_is_not_conclusive(tmp_path, expect):
    """3 lines without a time: the true count in the window is anything from 0 to 3."""
    path = write(tmp_path / "backend.log", ["WebSocket disconnected"] * 3)
    outcome = run({**DISCONNECTS, "expect": expect}, LogSpec("backend", paths=(path,)))
    assert not outcome.passed and outcome.conclusive is False


def test_a_start_line_without_a_time_cannot_separate_what_came_before(tmp_path):
    check = {"id": "loop-crash", "kind": "log", "log": "backend", "pattern": "lock trigger loop crashed",
             "after": "Started server process", "expect": {"max": 0}}
    path = write(tmp_path / "backend.log", ["lock trigger loop crashed", "INFO:     Started server process [1]"])
    outcome = run(check, LogSpec("backend", paths=(path,)))
    assert outcome.conclusive is False and "Started server process/ line has no time" in outcome.caveat
    assert "counted the whole log" in outcome.evidence[0].title
