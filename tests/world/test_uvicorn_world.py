"""The seed's backend under real uvicorn, real clients, and `diagnose` reading what uvicorn wrote.

Each world runs ``diagnose/world/seed_backend.py`` (the desk's own ``/ws/positions`` handler)
with ``python -m uvicorn``, connects real WebSocket clients that leave politely, abruptly (no
close frame) or by sending what the handler cannot take, and points the profile's ``backend`` log
at uvicorn's own output: its default format (no time) or the profile page's ``--log-config``
(timed). ``diagnose ws-disconnect`` and ``diagnose backend-start-failed`` then run through the
CLI on it, fresh and, with the same file untouched for three days, old.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from diagnose.kb.loader import load_pack
from diagnose.kb.model import Example
from diagnose.world.build import World

PACK = load_pack()
ROOT = Path(__file__).resolve().parents[2]


def backend_world(**uvicorn) -> Example:
    return Example("uvicorn", "problem", (), {"endpoints": {"backend": {"uvicorn": {"log": "backend", **uvicorn}}}})


def triage(symptom: str, profile: Path, out: Path) -> tuple[int, dict]:
    env = {k: v for k, v in os.environ.items() if k not in ("DIAGNOSE_PROFILE", "DIAGNOSE_CHECKS")}
    proc = subprocess.run([sys.executable, "-m", "diagnose", symptom, "--profile", str(profile), "--format", "json",
                           "-o", str(out), "-q"], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
                          stdin=subprocess.DEVNULL)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(out.read_text())


def checks(doc: dict) -> dict[str, dict]:
    return {c["id"]: c for c in doc["checks"]}


def aged(world: World, tmp_path: Path, days: int = 3) -> Path:
    """The world's profile with its backend log copied and untouched for ``days`` (as `touch -d`)."""
    old = tmp_path / "old-backend.log"
    shutil.copyfile(world.profile.sources["logs"]["backend"], old)
    when = time.time() - days * 86400
    os.utime(old, (when, when))
    world.profile.sources["logs"]["backend"] = str(old)
    return world.profile_file()


def test_untimed_uvicorn_output_fresh_is_counted_and_said_so_then_nothing_once_old(pg_server, tmp_path):
    example = backend_world(clients={"polite": 2, "abrupt": 40, "error": 1})
    with World(PACK, example, pg_server, tmp_path / "w") as world:
        log = Path(world.profile.sources["logs"]["backend"]).read_text()
        assert log.count("WebSocket disconnected") == 42 and "Exception in ASGI application" in log
        assert "INFO:     connection open" in log and not log[:4].isdigit()      # uvicorn's own, untimed
        code, doc = triage("ws-disconnect", world.profile_file(), tmp_path / "fresh.json")
        found = checks(doc)
        assert found["ws-roundtrip"]["status"] == "pass"          # the real handler answers
        rate = found["disconnect-rate"]
        assert rate["status"] == "fail" and rate["conclusive"] is False
        assert "no timestamps in backend.log: counted the whole file" in rate["message"]
        assert "could not be applied to 42 of the 42" in rate["message"]
        assert found["handler-error-log"]["status"] == "fail" and found["handler-error-log"]["conclusive"] is False
        assert (code, doc["verdict"]) == (3, "inconclusive")
        code, doc = triage("ws-disconnect", aged(world, tmp_path), tmp_path / "old.json")
        found = checks(doc)
        assert [found[c]["status"] for c in ("disconnect-rate", "handler-error-log", "restart-log")] == ["pass"] * 3
        assert "last written 3 days ago, before the window" in found["disconnect-rate"]["evidence"][0]["title"]
        assert (code, doc["verdict"]) == (0, "healthy")


def test_timed_uvicorn_output_fresh_is_a_problem_and_old_is_healthy(pg_server, tmp_path):
    """With the profile page's log config, uvicorn's lines carry a time and the handler's print()
    takes the time of the line before it: the window applies, and 40 abrupt disconnects are the symptom."""
    example = backend_world(timestamps=True, clients={"abrupt": 40, "error": 1})
    with World(PACK, example, pg_server, tmp_path / "w") as world:
        log = Path(world.profile.sources["logs"]["backend"]).read_text()
        assert log[:4].isdigit() and "WebSocket disconnected" in log
        code, doc = triage("ws-disconnect", world.profile_file(), tmp_path / "fresh.json")
        found = checks(doc)
        rate = found["disconnect-rate"]
        assert rate["status"] == "fail" and rate["conclusive"] is True and rate["caveat"] is None
        assert rate["message"].startswith("40 WebSocket disconnects in the last 15m")
        assert found["handler-error-log"]["status"] == "fail" and found["handler-error-log"]["conclusive"]
        assert (code, doc["verdict"]) == (1, "problem")
        code, doc = triage("ws-disconnect", aged(world, tmp_path), tmp_path / "old.json")
        assert checks(doc)["disconnect-rate"]["status"] == "pass" and (code, doc["verdict"]) == (0, "healthy")


@pytest.mark.parametrize("timestamps", [False, True], ids=["untimed", "timed"])
def test_a_backend_that_cannot_start_is_found_by_its_startup_failure(pg_server, tmp_path, timestamps):
    example = backend_world(timestamps=timestamps, database_host="db.diagnose-test.invalid")
    with World(PACK, example, pg_server, tmp_path / "w") as world:
        log = Path(world.profile.sources["logs"]["backend"]).read_text()
        assert "Application startup failed. Exiting." in log and "gaierror" in log
        code, doc = triage("backend-start-failed", world.profile_file(), tmp_path / "r.json")
        found = checks(doc)
        assert found["backend-health"]["status"] == "fail" and found["backend-port"]["status"] == "fail"
        unreachable = found["database-unreachable-log"]
        assert unreachable["status"] == "fail"
        assert unreachable["conclusive"] is timestamps   # untimed: the 1h window could not be applied
        assert (code, doc["verdict"]) == (1, "problem")
        assert doc["causes"][0]["id"] == "database-unreachable"
