"""One pass per log per run: the log checks of one ``run_probes`` read each file once.

An audit hook counts the opens of the log (Python engine, ``DIAGNOSE_LOGSCAN=plain``) and the
ripgrep processes started (fast engine, which opens the file in its own process). Results must
equal those of the same checks run one per ``run_probes`` call, and errors must be shared
exactly by the checks that share a pass, and only by them.
"""

from __future__ import annotations

import gzip
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from diagnose.checks.base import Status
from diagnose.kb.model import Check
from diagnose.logscan import ripgrep
from diagnose.probes import run_probes
from diagnose.sources import LogSpec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from auditlog import recording  # noqa: E402

UTC = timezone.utc
NOW = datetime(2026, 11, 21, 9, 0, 0, tzinfo=UTC)

def opens(events, path: str) -> int:
    return sum(1 for kind, name in events if kind == "open" and name == path)


def rg_runs(events) -> int:
    return sum(1 for kind, name in events if kind == "popen" and os.path.basename(name) in ("rg", "rg.exe"))


def check(cid: str, log: str = "app", **raw) -> Check:
    return Check(id=cid, kind="log", title=cid, expects="", causes=(), messages={}, manual=None, timeout=None,
                 weight=1.0, raw={"id": cid, "kind": "log", "log": log, **raw})


def probe(checks: list[Check], specs: dict[str, LogSpec]) -> list[tuple]:
    results = run_probes(checks, lambda kind, name: specs[name], now=NOW, default_timeout=30)
    return [(results[i].status, results[i].detail, results[i].vars, [e.to_dict() for e in results[i].evidence])
            for i in range(len(checks))]


def one_by_one(checks: list[Check], specs: dict[str, LogSpec]) -> list[tuple]:
    return [probe([c], specs)[0] for c in checks]


def py(minutes: int, msg: str) -> str:
    return f"{NOW - timedelta(minutes=minutes):%Y-%m-%d %H:%M:%S},123 ERROR app.sync: {msg}"


@pytest.fixture
def app_log(tmp_path) -> tuple[str, dict[str, LogSpec]]:
    lines = [py(m, msg) for m in range(300, 0, -1)
             for msg in (["position_sync_failed account=7"] if m % 7 == 0 else []) +
             (["WebSocket DISCONNECTED"] if m % 11 == 0 else []) + ["position_sync: checking 行情数据不足"]]
    path = tmp_path / "app.log"
    path.write_bytes("\r\n".join(lines).encode() + b"\r\n")
    return str(path), {"app": LogSpec("app", paths=(str(path),), timezone="UTC")}


WHOLE = [{"pattern": "position_sync_failed"}, {"pattern": "position_sync_failed", "last": 1},
         {"pattern": "websocket disconnected", "ignore_case": True},
         {"pattern": "行情数据不足", "expect": {"min": 1}}, {"pattern": "(?i)POSITION_SYNC: checking", "last": 0}]
WINDOWED = [{"pattern": "position_sync_failed", "since": "1h"}, {"pattern": "position_sync_failed", "since": "10m"},
            {"pattern": "websocket disconnected", "ignore_case": True, "since": "2h"}]


def checks_of(specs: list[dict], prefix: str) -> list[Check]:
    return [check(f"{prefix}{i}", **s) for i, s in enumerate(specs)]


def test_whole_file_checks_read_the_file_once(app_log, monkeypatch):
    path, specs = app_log
    monkeypatch.setenv("DIAGNOSE_LOGSCAN", "plain")
    checks = checks_of(WHOLE, "whole")
    with recording() as events:
        together = probe(checks, specs)
    assert opens(events, path) == 1 and rg_runs(events) == 0
    assert together == one_by_one(checks, specs)
    assert [r[2]["count"] for r in together] == [42, 42, 27, 300, 300]


@pytest.mark.skipif(ripgrep.rg_binary() is None, reason="ripgrep is not installed")
def test_whole_file_checks_run_one_ripgrep(app_log, monkeypatch):
    path, specs = app_log
    checks = checks_of(WHOLE, "whole")
    with recording() as events:
        together = probe(checks, specs)
    assert rg_runs(events) == 1 and opens(events, path) == 1  # opened once, handed to ripgrep as stdin
    assert together == one_by_one(checks, specs)
    monkeypatch.setenv("DIAGNOSE_LOGSCAN", "plain")
    assert together == probe(checks, specs)


def test_windowed_and_whole_file_checks_make_two_passes(app_log, monkeypatch):
    path, specs = app_log
    checks = checks_of(WINDOWED, "window") + checks_of(WHOLE, "whole")
    monkeypatch.setenv("DIAGNOSE_LOGSCAN", "plain")
    with recording() as events:
        plain = probe(checks, specs)
    assert opens(events, path) == 2
    assert plain == one_by_one(checks, specs)
    assert [r[2]["count"] for r in plain[:3]] == [8, 1, 10]
    monkeypatch.delenv("DIAGNOSE_LOGSCAN")
    with recording() as events:
        fast = probe(checks, specs)
    assert fast == plain   # a small file: the window starts at 0 and keeps line numbers
    if ripgrep.rg_binary() is not None:
        assert rg_runs(events) == 1


@pytest.mark.parametrize("mode", ["plain", "fast"])
def test_unreadable_file_fails_every_check_sharing_its_pass(tmp_path, app_log, monkeypatch, mode):
    _, specs = app_log
    if mode == "plain":
        monkeypatch.setenv("DIAGNOSE_LOGSCAN", "plain")
    broken = tmp_path / "broken.log"
    broken.write_text(py(5, "position_sync_failed") + "\n")
    (tmp_path / "broken.log.1.gz").write_bytes(gzip.compress(b"position_sync_failed\n" + bytes(range(256)) * 64)[:300])
    specs = {**specs, "broken": LogSpec("broken", paths=(str(broken),), timezone="UTC")}
    on_broken = [check(f"broken{i}", "broken", **s) for i, s in enumerate(WHOLE + WINDOWED)]
    bad_pattern = check("bad-pattern", "broken", pattern="(unclosed")
    healthy = checks_of(WHOLE + WINDOWED, "app")
    together = probe(on_broken + [bad_pattern] + healthy, specs)
    details = {r[1] for r in together[:len(on_broken)]}
    assert {r[0] for r in together[:len(on_broken)]} == {Status.ERROR} and len(details) == 1
    (detail,) = details
    assert detail.startswith(f"log 'broken': cannot read {broken}.1.gz: ")
    assert together[:len(on_broken)] == one_by_one(on_broken, specs)
    unterminated = "invalid pattern '(unclosed': missing ), unterminated subpattern at position 0"
    assert together[len(on_broken)][:2] == (Status.ERROR, unterminated)
    assert together[len(on_broken) + 1:] == one_by_one(healthy, specs)
    assert {r[0] for r in together[len(on_broken) + 1:]} <= {Status.PASS, Status.FAIL}


def test_invalid_checks_report_their_own_error_and_the_others_share_the_pass(app_log, monkeypatch):
    path, specs = app_log
    monkeypatch.setenv("DIAGNOSE_LOGSCAN", "plain")
    invalid = [check("bad-pattern", pattern="([a-"), check("bad-since", pattern="ok", since="1 hour"),
               check("bad-last", pattern="ok", last="many")]
    good = checks_of(WHOLE + WINDOWED, "good")
    mixed = [invalid[0]] + good[:4] + invalid[1:] + good[4:]
    with recording() as events:
        together = probe(mixed, specs)
    assert opens(events, path) == 2   # one whole-file pass, one windowed pass
    by_id = dict(zip((c.id for c in mixed), together))
    assert [by_id[c.id][0] for c in invalid] == [Status.ERROR] * 3
    assert by_id["bad-pattern"][1].startswith("invalid pattern '([a-'")
    assert by_id["bad-since"][1] == "log 'app': since '1 hour' is not a duration like 90s, 15m, 1h or 2d"
    assert by_id["bad-last"][1] == "last must be a whole number, not 'many'"
    assert [by_id[c.id] for c in good] == one_by_one(good, specs)
