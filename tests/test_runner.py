"""The runner: concurrency, per-check timeouts, and isolation of failing checks.

Kinds here are tiny real modules registered for the test (sleep, crash, hang), so the runner's
own behaviour is tested without a database; the SQL and TCP timeouts against real servers are
in tests/checks and tests/cli.
"""

import sys
import threading
import time
import types
from datetime import datetime, timezone
from pathlib import Path

import pytest

from diagnose.checks import BUILTIN_KINDS
from diagnose.checks.base import CheckError, Outcome, SkipCheck, Status
from diagnose.kb.model import Cause, Check, Entry
from diagnose.runner import rank_causes, render_message, run_checks, verdict_of


def _kind(name, fn):
    module = types.ModuleType(f"diagnose_test_kind_{name}")
    module.run = fn
    sys.modules[module.__name__] = module
    return module.__name__


@pytest.fixture(autouse=True)
def test_kinds(monkeypatch):
    release = threading.Event()

    def sleepy(check, ctx):
        time.sleep(check["seconds"])
        return Outcome(passed=check.get("pass", True), vars={"slept": check["seconds"]})

    def crashy(check, ctx):
        raise ZeroDivisionError("boom")

    def hangs(check, ctx):  # ignores its budget entirely, like a stuck C call
        release.wait(30)
        return Outcome(passed=True)

    def skippy(check, ctx):
        raise SkipCheck("database 'desk' is not configured")

    def broken(check, ctx):
        raise CheckError("connection refused")

    for name, fn in [("sleepy", sleepy), ("crashy", crashy), ("hangs", hangs), ("skippy", skippy),
                     ("broken", broken)]:
        monkeypatch.setitem(BUILTIN_KINDS, name, _kind(name, fn))
    yield
    release.set()


def check(id, kind, timeout=None, cause=(), **raw):
    return Check(id=id, kind=kind, title=id, expects="", causes=tuple(cause),
                 messages={"pass": "ok after {slept}s", "fail": "failed after {slept}s"},
                 manual=None, timeout=timeout, weight=1.0, raw={"id": id, "kind": kind, **raw})


def run(checks, **kw):
    return run_checks(checks, lambda k, n: None, now=datetime.now(timezone.utc), **kw)


def test_checks_run_concurrently_and_keep_their_order():
    checks = [check(f"c{i}", "sleepy", seconds=0.4) for i in range(5)]
    started = time.monotonic()
    results = run(checks)
    elapsed = time.monotonic() - started
    assert [r.id for r in results] == [f"c{i}" for i in range(5)]
    assert all(r.status is Status.PASS for r in results)
    assert elapsed < 5 * 0.4  # serial would take 2 s; concurrent takes ~0.4 s
    assert results[0].message == "ok after 0.4s"


def test_a_crash_a_hang_and_an_error_do_not_stop_the_others():
    checks = [check("crash", "crashy"), check("hang", "hangs", timeout=0.3), check("err", "broken"),
              check("skip", "skippy"), check("fine", "sleepy", seconds=0.05, **{"pass": False})]
    started = time.monotonic()
    results = {r.id: r for r in run(checks)}
    assert time.monotonic() - started < 5  # the hang is abandoned after timeout + grace
    assert results["crash"].status is Status.ERROR
    assert "internal error in the crashy check: ZeroDivisionError: boom" in results["crash"].message
    assert results["hang"].status is Status.TIMEOUT and "0.3s" in results["hang"].message
    assert results["err"].status is Status.ERROR and results["err"].message == "connection refused"
    assert results["skip"].status is Status.SKIP
    assert results["fine"].status is Status.FAIL and results["fine"].message == "failed after 0.05s"


def test_default_timeout_applies_when_the_check_sets_none():
    results = run([check("hang", "hangs")], default_timeout=0.2)
    assert results[0].status is Status.TIMEOUT


def test_verdicts():
    def r(status, role="symptom"):
        return types.SimpleNamespace(status=status, role=role, conclusive=True)

    assert verdict_of([r(Status.PASS), r(Status.FAIL), r(Status.ERROR)]) == "problem"
    assert verdict_of([r(Status.PASS), r(Status.SKIP)]) == "inconclusive"
    assert verdict_of([r(Status.PASS), r(Status.TIMEOUT)]) == "inconclusive"
    assert verdict_of([r(Status.PASS)]) == "healthy"
    # a cause without the symptom is a risk; a past event or context alone changes nothing
    assert verdict_of([r(Status.PASS), r(Status.FAIL, "cause")]) == "risk"
    assert verdict_of([r(Status.FAIL, "cause"), r(Status.SKIP)]) == "risk"
    assert verdict_of([r(Status.PASS), r(Status.FAIL, "history")]) == "healthy"
    assert verdict_of([r(Status.PASS), r(Status.FAIL, "context")]) == "healthy"
    assert verdict_of([r(Status.FAIL, "history"), r(Status.FAIL, "symptom")]) == "problem"


def test_a_checks_role_follows_from_symptom_cause_and_history():
    def role(**raw):
        causes = tuple(raw.pop("causes", ()))
        return Check(id="c", kind="sql", title="t", expects="e", causes=causes, messages={}, manual=None,
                     timeout=None, weight=1.0, raw=raw).role

    assert role() == "symptom"                                   # no cause: it confirms the symptom
    assert role(causes=["a"]) == "cause"
    assert role(causes=["a"], symptom=True) == "symptom"         # shows the symptom and says why
    assert role(causes=["a"], history=True) == "history"
    assert role(symptom=False) == "context"


def test_causes_ranked_by_weight_of_failed_checks():
    entry = Entry(id="e", title="", category="data", severity="low", aliases=(), summary="", error_patterns=(),
                  causes=(Cause("a", "A", ""), Cause("b", "B", "")),
                  checks=(check("x", "sleepy", cause=["a"]), check("y", "sleepy", cause=["b"]),
                          check("z", "sleepy", cause=["b"])),
                  solutions=(), prevention="", related=(), examples=(), path=Path("e.yaml"))
    results = run([check("x", "sleepy", cause=["a"], seconds=0, **{"pass": False}),
                   check("y", "sleepy", cause=["b"], seconds=0, **{"pass": False}),
                   check("z", "sleepy", cause=["b"], seconds=0, **{"pass": False})])
    ranked = rank_causes(entry, results)
    assert [c.id for c in ranked] == ["b", "a"]
    assert ranked[0].checks == ["y", "z"] and ranked[0].score == 2


def test_message_templates_cannot_reach_attributes():
    assert render_message("{count} rows, first {symbol}", {"count": 2, "symbol": "BTCUSDT"}) == "2 rows, first BTCUSDT"
    assert render_message("{count.__class__} {missing}", {"count": 1}) == "{count.__class__} {missing}"
    assert render_message("next contract {next} has {days}", {"next": None, "days": 0}) == "next contract (none) has 0"


def test_slow_probes_do_not_make_the_queue_wait_for_them(tmp_path):
    """Three times WORKERS checks that hang on a silent port all end up waiting at once.

    A fixed pool would hold the queue back until the first ones time out; stalled workers
    make the runner add workers, so every probe is connected while the first still waits.
    """
    import select
    import socket
    import threading as _threading

    from diagnose.kb.loader import build_entry
    from diagnose.runner import WORKERS, run_checks

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    stop, peak, open_conns = _threading.Event(), [0], []

    def serve() -> None:  # accept, never answer, notice when a client gives up
        while not stop.is_set():
            readable, _, _ = select.select([listener, *open_conns], [], [], 0.05)
            for sock in readable:
                if sock is listener:
                    open_conns.append(listener.accept()[0])
                elif not sock.recv(4096):
                    open_conns.remove(sock)
                    sock.close()
            peak[0] = max(peak[0], len(open_conns))

    server = _threading.Thread(target=serve, daemon=True)
    server.start()
    checks = [{"id": f"slow-{i}", "kind": "http", "title": "t", "expects": "e", "endpoint": "x", "path": f"/{i}",
               "timeout": 2} for i in range(WORKERS * 3)]
    entry = build_entry(tmp_path / "e.yaml", {
        "id": "e", "title": "t", "category": "service", "severity": "low", "summary": "s",
        "causes": [{"id": "c", "title": "c", "text": "c"}], "checks": checks,
        "solutions": [{"id": "s", "title": "s", "steps": [{"do": "s", "risk": "read-only"}]}], "examples": []})
    results = run_checks(list(entry.checks), lambda kind, name: f"http://127.0.0.1:{port}")
    stop.set()
    server.join()
    listener.close()
    assert [r.status.value for r in results] == ["timeout"] * len(checks)
    assert peak[0] == len(checks)
