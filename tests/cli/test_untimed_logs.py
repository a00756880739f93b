"""`diagnose SYMPTOM` on a log without timestamps (uvicorn's default output): the window is never
claimed where it could not be applied, and a file untouched since before the window has nothing in it."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

NOW = datetime.now(timezone.utc)
UVICORN = (["INFO:     Started server process [1]", "INFO:     Application startup complete."]
           + [line for i in range(40) for line in (f'INFO:     127.0.0.1:{42000 + i} - "WebSocket /ws/positions" [accepted]',
                                                  "INFO:     connection open", "WebSocket disconnected",
                                                  "INFO:     connection closed")])


def write(path: Path, lines: list[str]) -> str:
    path.write_text("".join(line + "\n" for line in lines))
    return str(path)


def test_the_cli_says_it_and_exits_inconclusive_then_healthy_once_the_file_is_old(diagnose, tmp_path):
    import json

    log = write(tmp_path / "backend.log", UVICORN + ["INFO:     Shutting down", "INFO:     Finished server process [1]"])
    profile = tmp_path / "diagnose.yaml"
    profile.write_text(f"logs:\n  backend: {log}\n")
    report = tmp_path / "r.json"
    fresh = diagnose("ws-disconnect", "--profile", str(profile), "--format", "json", "-o", str(report))
    doc = json.loads(report.read_text())
    rate = next(c for c in doc["checks"] if c["id"] == "disconnect-rate")
    assert fresh.code == 3 and doc["verdict"] == "inconclusive"
    assert rate["status"] == "fail" and rate["conclusive"] is False
    assert "no timestamps in backend.log: counted the whole file" in rate["message"] and rate["caveat"]
    assert "no timestamps in backend.log" in fresh.out
    assert "Next step: give the logs timestamps" in fresh.out    # not a fix: nothing concluded
    old = NOW - timedelta(days=3)
    os.utime(log, (old.timestamp(), old.timestamp()))
    diagnose("ws-disconnect", "--profile", str(profile), "--format", "json", "-o", str(report))
    doc = json.loads(report.read_text())
    windowed = [c for c in doc["checks"] if c["kind"] == "log" and c["id"] in ("disconnect-rate", "restart-log")]
    assert [c["status"] for c in windowed] == ["pass", "pass"]
    assert all("last written 3 days ago, before the window" in c["evidence"][0]["title"] for c in windowed)


def test_triage_shows_what_rests_on_lines_without_a_time_in_every_format(diagnose, tmp_path):
    log = write(tmp_path / "backend.log", UVICORN)
    profile = tmp_path / "diagnose.yaml"
    profile.write_text(f"logs:\n  backend: {log}\n")
    texts = {}
    for fmt in ("md", "html"):
        result = diagnose("triage", "--profile", str(profile), "--format", fmt, "-o", str(tmp_path / f"t.{fmt}"))
        texts[fmt] = (tmp_path / f"t.{fmt}").read_text()
        assert result.code == 3 and "on log lines without a time" in result.out      # the terminal names it
    for fmt, text in texts.items():
        assert "What did not conclude" in text and "no timestamps in backend.log" in text, fmt
    import json

    diagnose("triage", "--profile", str(profile), "--format", "json", "-o", str(tmp_path / "t.json"))
    ws = next(s for s in json.loads((tmp_path / "t.json").read_text())["symptoms"] if s["id"] == "ws-disconnect")
    assert ws["verdict"] == "inconclusive" and ws["causes"] == []   # lines of unknown time implicate no cause
