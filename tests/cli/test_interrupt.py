"""Ctrl-C during a run: the checks done so far are reported, marked incomplete, exit 130."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

ENTRY = {
    "id": "slow-thing", "title": "Something hangs", "category": "service", "severity": "low",
    "summary": "A service that accepts connections and never answers.",
    "causes": [{"id": "hung", "title": "The service hangs", "text": "It accepts and never answers."}],
    "checks": [
        {"id": "mode", "kind": "env", "title": "MODE is set", "expects": "MODE present", "env": "app",
         "key": "MODE"},
        {"id": "hangs-1", "kind": "http", "title": "Health 1", "expects": "200", "endpoint": "svc", "path": "/a",
         "cause": "hung", "timeout": 60},
        {"id": "hangs-2", "kind": "http", "title": "Health 2", "expects": "200", "endpoint": "svc", "path": "/b",
         "cause": "hung", "timeout": 60},
    ],
    "solutions": [{"id": "restart", "title": "Restart it", "steps": [{"do": "`systemctl restart svc`", "risk": "read-only"}]}],
    "examples": [{"name": "broken", "verdict": "problem", "causes": ["hung"], "fails": ["hangs-1", "hangs-2"],
                  "world": {}},
                 {"name": "healthy", "verdict": "healthy", "world": {}}],
}


def slow_pack(tmp_path: Path, entry: dict) -> Path:
    """A knowledge base holding ``entry``, and the app env file its env check reads."""
    kb = tmp_path / "kb"
    (kb / "service").mkdir(parents=True)
    (kb / "pack.yaml").write_text(yaml.safe_dump({"name": "t", "version": "1", "sources": {
        "env": {"app": {"description": "app env"}}, "endpoints": {"svc": {"description": "svc"}}}}))
    (kb / "service" / "slow-thing.yaml").write_text(yaml.safe_dump(entry))
    (tmp_path / "app.env").write_text("MODE=live\n")
    return kb


def silent_listener(backlog: int) -> socket.socket:
    """A port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(backlog)
    return listener


def command(tmp_path: Path, kb: Path, port: int, report: Path, *extra: str) -> tuple[list[str], dict]:
    argv = [sys.executable, "-m", "diagnose", "slow-thing", "--checks", str(kb), "--env-file",
            f"app={tmp_path}/app.env", "--endpoint", f"svc=http://127.0.0.1:{port}", "--format", "json",
            "-o", str(report), *extra]
    return argv, dict(os.environ, DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))


def interrupted(tmp_path: Path, signum: int, when: str = "mid-run") -> tuple[subprocess.Popen, str, str, Path]:
    """Run the slow entry and send ``signum``: ``mid-run`` once both slow checks wait on us, ``first``
    as soon as diagnose handles signals. -> (process, stdout, stderr, report path)."""
    kb = slow_pack(tmp_path, ENTRY)
    listener = silent_listener(8)
    report = tmp_path / "r.json"
    argv, env = command(tmp_path, kb, listener.getsockname()[1], report)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        if when == "first":
            deadline = time.monotonic() + 20
            while not handles(proc.pid, signal.SIGTERM) and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.0005)
        else:
            accepted = []
            listener.settimeout(20)
            while len(accepted) < 2:          # both slow checks are waiting on us: the run is mid-way
                accepted.append(listener.accept()[0])
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        listener.close()
    return proc, out, err, report


def handles(pid: int, signum: int) -> bool:
    """Has the process installed a handler for ``signum`` yet (its SigCgt mask in /proc)?"""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    except (FileNotFoundError, ProcessLookupError):
        return False
    return False


def test_ctrl_c_writes_the_partial_report_and_exits_130(tmp_path):
    proc, out, err, report = interrupted(tmp_path, signal.SIGINT)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    doc = json.loads(report.read_text())
    assert doc["interrupted"] is True and doc["incomplete"] is True and doc["exit_code"] == 130
    status = {c["id"]: (c["status"], c["message"]) for c in doc["checks"]}
    assert status["mode"][0] == "pass"
    assert status["hangs-1"] == ("skip", "did not run: the run was interrupted (Ctrl-C) before this check finished")
    assert "(interrupted)" in out and f"Report: {report}" in out


def test_deadline_bounds_the_whole_run_and_the_report_lists_what_did_not_finish(tmp_path):
    entry = copy.deepcopy(ENTRY)    # the examples below are changed: ENTRY stays as the other test wants it
    entry["checks"] += [
        {"id": f"later-{i}", "kind": "http", "title": f"Later {i}", "expects": "200", "endpoint": "svc",
         "path": f"/l{i}", "cause": "hung", "timeout": 60} for i in range(20)]
    entry["examples"][0]["fails"] = [c["id"] for c in entry["checks"] if c["kind"] == "http"]
    kb = slow_pack(tmp_path, entry)
    listener = silent_listener(64)
    report = tmp_path / "r.json"
    argv, env = command(tmp_path, kb, listener.getsockname()[1], report, "--deadline", "1.5")
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=30)
    finally:
        listener.close()
    assert proc.returncode == 3, proc.stderr    # nothing failed; what did not finish makes it inconclusive
    doc = json.loads(report.read_text())
    assert doc["deadline_reached"] == 1.5 and doc["incomplete"] is True and doc["interrupted"] is False
    status = {c["id"]: (c["status"], c["message"]) for c in doc["checks"]}
    assert status["mode"][0] == "pass"
    assert status["hangs-1"] == ("timeout", "did not finish before the run's deadline (1.5s)")
    assert "(deadline of 1.5s reached)" in proc.stdout
    assert all(s in ("pass", "timeout", "skip") for s, _ in status.values())


# --- every signal, at the first moment and mid-run --------------------------------------------------

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


@pytest.mark.parametrize("signum", SIGNALS, ids=[s.name for s in SIGNALS])
def test_a_signal_at_the_first_moment_it_can_be_caught_still_writes_the_report(tmp_path, signum):
    """The earliest moment after start: as soon as diagnose handles signals (its first lines; Python's own
    start-up, a few milliseconds, is before that), before the command line, the knowledge base or the
    profile is loaded (Ctrl-C there once printed ``Aborted!`` and exit 1). SIGTERM's handler tells that
    moment: Python itself installs one for SIGINT at start-up, and none for SIGTERM."""
    proc, out, err, report = interrupted(tmp_path, signum, when="first")
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err and "Aborted" not in err
    doc = json.loads(report.read_text())
    assert doc["interrupted"] is True and doc["signal"] == signum.name and doc["exit_code"] == 128 + signum
    how = "Ctrl-C" if signum == signal.SIGINT else signum.name
    assert {c["status"] for c in doc["checks"]} == {"skip"}
    assert all(c["message"] == f"did not run: the run was interrupted ({how}) before this check finished"
               for c in doc["checks"])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_supervisors_signal_mid_run_ends_like_ctrl_c(tmp_path, signum):
    proc, out, err, report = interrupted(tmp_path, signum)
    assert proc.returncode == 128 + signum, err
    doc = json.loads(report.read_text())
    status = {c["id"]: c["status"] for c in doc["checks"]}
    assert status["mode"] == "pass" and status["hangs-1"] == "skip"
    assert f"(interrupted by {signum.name})" in out and f"Report: {report}" in out


def test_which_commands_write_a_report_is_known_before_the_command_line_is_imported():
    from diagnose.cli import COMMANDS
    from diagnose.cli.signals import NOT_REPORTING, REPORTING

    assert REPORTING | NOT_REPORTING >= set(COMMANDS) and not REPORTING & NOT_REPORTING


# --- a log command outlives nothing: it runs in a session of its own, so diagnose must end it -------

LOG_ENTRY = {
    "id": "slow-log", "title": "A log command hangs", "category": "service", "severity": "low",
    "summary": "A log source whose command never ends.",
    "causes": [{"id": "hung", "title": "It hangs", "text": "It never ends."}],
    "checks": [{"id": "errors", "kind": "log", "title": "Errors in the app log", "expects": "no ERROR line",
                "log": "app", "pattern": "ERROR", "cause": "hung", "timeout": 60}],
    "solutions": [{"id": "restart", "title": "Restart it", "steps": [{"do": "`systemctl restart svc`", "risk": "read-only"}]}],
    "examples": [{"name": "broken", "verdict": "problem", "causes": ["hung"], "fails": ["errors"], "world": {}},
                 {"name": "healthy", "verdict": "healthy", "world": {}}],
}

#: the log command: starts a grandchild (same process group), writes both pids, then waits as `docker logs -f` does
LOG_COMMAND = """import os, subprocess, sys, time
grandchild = subprocess.Popen(["sleep", "37"])
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(f"{os.getpid()} {grandchild.pid}")
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(37)
"""


def running(pid: int) -> bool:
    """Is ``pid`` alive (a zombie waiting for a parent that is gone is not)?"""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


@pytest.mark.parametrize("signum", SIGNALS, ids=[s.name for s in SIGNALS])
def test_a_signal_ends_the_log_command_with_the_run(tmp_path, signum):
    """A `command:` log source runs in a session of its own (a terminal's Ctrl-C never reaches it): a run
    stopped by a signal reported and exited at once, and `sleep 37` went on, re-parented to PID 1."""
    kb = tmp_path / "kb"
    (kb / "service").mkdir(parents=True)
    (kb / "pack.yaml").write_text(yaml.safe_dump({"name": "t", "version": "1", "sources": {
        "logs": {"app": {"description": "app log"}}}}))
    (kb / "service" / "slow-log.yaml").write_text(yaml.safe_dump(LOG_ENTRY))
    script, pids = tmp_path / "logs.py", tmp_path / "pids"
    script.write_text(LOG_COMMAND)
    profile = tmp_path / "diagnose.yaml"
    profile.write_text(yaml.safe_dump({"logs": {"app": {"command": f"{sys.executable} {script} {pids}"}}}))
    report = tmp_path / "r.json"
    argv = [sys.executable, "-m", "diagnose", "slow-log", "--checks", str(kb), "--profile", str(profile),
            "--format", "json", "-o", str(report)]
    env = dict(os.environ, DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    started: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while not pids.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        assert pids.exists(), proc.communicate(timeout=5)
        started = [int(p) for p in pids.read_text().split()]
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 128 + signum, err
        assert "Traceback" not in err
        doc = json.loads(report.read_text())
        assert doc["interrupted"] is True and doc["signal"] == signum.name
        deadline = time.monotonic() + 5
        while any(running(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not [pid for pid in started if running(pid)], "the log command outlived the run"
    finally:
        proc.kill()
        proc.wait()
        for pid in started:  # never leave them behind, even when the test fails
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
