"""The example-world HTTP server, probed by the real http kind (HTTP/1.0, connection close)."""

from datetime import datetime, timezone

from diagnose.checks import http
from diagnose.checks.base import Context
from diagnose.world.http import WorldHTTPServer


def probe(url, **check):
    ctx = Context(timeout=3, now=datetime.now(timezone.utc), resolve=lambda kind, name: url)
    return http.run({"endpoint": "api", **check}, ctx)


def test_json_route_and_status_route():
    server = WorldHTTPServer({"routes": {"/v1/config": {"json": {"EXECUTION_MODE": "PAPER"}},
                                         "/health": {"status": 503, "body": "db down"}}}).start()
    try:
        out = probe(server.url, path="/v1/config", expect={"status": 200, "json": {"path": "EXECUTION_MODE", "equals": "LIVE"}})
        assert not out.passed and out.vars["value"] == "PAPER" and out.vars["status"] == 200
        out = probe(server.url, path="/health", expect={"status": 200})
        assert not out.passed and out.vars["status"] == 503
        out = probe(server.url, path="/nope", expect={"status": 404})
        assert out.passed
    finally:
        server.stop()
