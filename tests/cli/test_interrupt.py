"""Ctrl-C during a run: the checks done so far are reported, marked incomplete, exit 130."""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

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
    "solutions": [{"id": "restart", "title": "Restart it", "steps": "`systemctl restart svc`"}],
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


def test_ctrl_c_writes_the_partial_report_and_exits_130(tmp_path):
    kb = slow_pack(tmp_path, ENTRY)
    listener = silent_listener(8)
    report = tmp_path / "r.json"
    argv, env = command(tmp_path, kb, listener.getsockname()[1], report)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        accepted = []
        listener.settimeout(20)
        while len(accepted) < 2:          # both slow checks are waiting on us: the run is mid-way
            accepted.append(listener.accept()[0])
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
        listener.close()
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
