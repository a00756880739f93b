"""``kind: tcp`` against real listeners (and free, refused ports) on 127.0.0.1."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from netservers import SilentTcpServer, free_port  # noqa: E402

from diagnose.checks import tcp  # noqa: E402
from diagnose.checks.base import CheckError, Context, SkipCheck  # noqa: E402


def context(url: str, timeout: float = 2) -> Context:
    return Context(timeout=timeout, now=datetime.now(timezone.utc), resolve=lambda kind, name: url)


def test_open_port_passes_with_host_and_port_vars():
    with SilentTcpServer() as server:
        outcome = tcp.run({"endpoint": "redis"}, context(f"redis://user:pass@127.0.0.1:{server.port}/0"))
    assert outcome.passed
    assert outcome.vars["host"] == "127.0.0.1" and outcome.vars["port"] == server.port
    assert outcome.vars["reachable"] is True and outcome.vars["error"] is None
    assert outcome.evidence[0].kind == "values" and outcome.evidence[0].values["reachable"] is True
    assert "pass" not in repr(outcome.evidence[0].values)


def test_refused_port_fails_with_error():
    port = free_port()
    outcome = tcp.run({"endpoint": "redis"}, context(f"127.0.0.1:{port}"))
    assert not outcome.passed
    assert outcome.vars["reachable"] is False
    assert outcome.vars["error"] == f"connection refused by 127.0.0.1:{port}"
    assert outcome.vars["reason"] == outcome.vars["error"]


def test_unknown_host_fails():
    outcome = tcp.run({"endpoint": "redis"}, context("no-such-host.invalid:6379"))
    assert not outcome.passed and "cannot resolve host" in outcome.vars["error"]


def test_expect_unreachable_passes_on_a_closed_port_and_fails_on_an_open_one():
    check = {"endpoint": "db", "expect": {"reachable": False}}
    assert tcp.run(check, context(f"127.0.0.1:{free_port()}")).passed
    with SilentTcpServer() as server:
        outcome = tcp.run(check, context(f"127.0.0.1:{server.port}"))
    assert not outcome.passed and "accepts connections, expected it closed" in outcome.vars["reason"]


def test_port_override_wins_over_the_endpoint_port():
    with SilentTcpServer() as server:
        outcome = tcp.run({"endpoint": "api", "port": server.port}, context(f"http://127.0.0.1:{free_port()}"))
    assert outcome.passed and outcome.vars["port"] == server.port


def test_scheme_default_port_is_used():
    outcome = tcp.run({"endpoint": "db"}, context("postgresql://app@127.0.0.1/trading"))
    assert outcome.vars["port"] == 5432


def test_endpoint_without_port_is_a_check_error():
    with pytest.raises(CheckError, match="has no port"):
        tcp.run({"endpoint": "cache"}, context("cache-host"))


def test_unparsable_endpoint_is_a_check_error():
    with pytest.raises(CheckError, match="endpoint cache"):
        tcp.run({"endpoint": "cache"}, context("redis://host:port"))


def test_unconfigured_endpoint_skips():
    def resolve(kind, name):
        raise SkipCheck(f"no endpoint named {name}")

    with pytest.raises(SkipCheck):
        tcp.run({"endpoint": "redis"}, Context(timeout=1, now=datetime.now(timezone.utc), resolve=resolve))


def test_lint():
    assert tcp.lint({"endpoint": "redis", "port": 6379, "expect": {"reachable": True}}) == []
    problems = dict(tcp.lint({"endpoint": "redis", "port": 70000, "expect": {"reachable": "yes", "open": 1}}))
    assert set(problems) == {"port", "expect.reachable", "expect.open"}
    assert tcp.lint({"endpoint": "redis", "expect": "up"}) == [
        ("expect", "expect must be {reachable: true} or {reachable: false}")]


def test_manual_command():
    assert tcp.manual({"endpoint": "redis"}) == 'nc -vz "$ENDPOINT_redis_HOST" "$ENDPOINT_redis_PORT"'
    assert tcp.manual({"endpoint": "redis", "port": 6379}) == 'nc -vz "$ENDPOINT_redis_HOST" 6379'


def test_schema_documents_every_field():
    for name, prop in tcp.SCHEMA["properties"].items():
        assert prop.get("description"), name
