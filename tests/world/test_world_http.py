"""The example-world HTTP server, probed by the real http kind (HTTP/1.0, connection close)."""

import socket
import time
import http.client
from datetime import datetime, timezone

import pytest

from diagnose.checks import http as http_kind
from diagnose.checks.base import CheckTimeout, Context
from diagnose.world.http import WorldHTTPServer


def probe(url, **check):
    ctx = Context(timeout=3, now=datetime.now(timezone.utc), resolve=lambda kind, name: url)
    return http_kind.run({"endpoint": "api", **check}, ctx)


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


def serving(spec):
    return WorldHTTPServer(spec, "backend").start()


def test_head_and_content_type_route(probe):
    server = serving({"routes": {"/v1/health": {"body": "healthy", "content_type": "text/html"}}})
    try:
        out = probe("http", server.url, path="/v1/health", method="HEAD", expect={"status": 200})
        assert out.passed
        conn = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=3)
        conn.request("GET", "/v1/health")
        answer = conn.getresponse()
        assert answer.getheader("Content-Type") == "text/html" and answer.read() == b"healthy"
        conn.close()
    finally:
        server.stop()


def test_delayed_route_answers_after_the_delay_and_a_short_budget_times_out(probe):
    server = serving({"routes": {"/health": {"json": {"status": "ok"}, "delay": 0.2},
                                 "/slow": {"json": {"status": "ok"}, "delay": 30}}})
    try:
        assert probe("http", server.url, path="/health", expect={"status": 200}).passed
        with pytest.raises(CheckTimeout):
            probe("http", server.url, timeout=0.3, path="/slow", expect={"status": 200})
    finally:
        server.stop()


def test_stop_cuts_a_connection_waiting_for_a_delayed_answer():
    server = serving({"routes": {"/slow": {"status": 200, "delay": 60}}})
    sock = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=5)
    sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    wait_until(lambda: server._server._open)
    server.stop()
    assert sock.recv(100) == b""          # ended by stop(), not after the 60 s delay
    sock.close()


def test_stop_before_start_releases_the_port():
    server = WorldHTTPServer({"routes": {}})
    port = int(server.url.rsplit(":", 1)[1])
    server.stop()
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


@pytest.mark.parametrize("spec, message", [
    ({"routes": {"/h": {"jsn": {}}}}, "endpoint backend: routes /h: unknown key 'jsn' (use json, status, body, content_type, delay or headers)"),
    ({"routes": {"/h": {"status": "503"}}}, "endpoint backend: routes /h: status must be a whole number, not a text ('503')"),
    ({"routes": {"/h": {"status": 99}}}, "endpoint backend: routes /h: status must be between 200 and 599, not 99"),
    ({"routes": {"/h": {"delay": -1}}}, "endpoint backend: routes /h: delay must be at least 0, not -1"),
    ({"routes": {"/h": {"delay": True}}}, "endpoint backend: routes /h: delay must be a number, not a boolean (True)"),
    ({"routes": {"/h": {"body": 5}}}, "endpoint backend: routes /h: body must be a text (quote it in YAML), not a number (5)"),
    ({"routes": {"/h": {"json": {}, "body": "x"}}}, "endpoint backend: routes /h: give json, or body (with content_type), not both"),
    ({"routes": {"h": {}}}, "endpoint backend: routes: path must start with '/': 'h'"),
    ({"routes": {"/h": "ok"}}, "endpoint backend: routes /h: must be a mapping such as {json: {status: ok}}, not a text ('ok')"),
    ({"routes": [1]}, "endpoint backend: routes: must be a mapping, not a list"),
    ({"route": {}}, "endpoint backend: unknown key 'route' (use routes or websocket)"),
])
def test_bad_route_specs_name_endpoint_and_key(spec, message):
    with pytest.raises(ValueError) as caught:
        WorldHTTPServer(spec, "backend")
    assert str(caught.value) == message


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.01)


def test_a_route_sends_its_headers_a_redirect_for_instance():
    import urllib.request

    spec = {"routes": {"/old": {"status": 302, "headers": {"Location": "/new", "X-Trace": "t1"}}}}
    server = WorldHTTPServer(spec, "backend")
    server.start()
    try:
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(f"{server.url}/old", timeout=5)
            raise AssertionError("a 302 was expected")
        except urllib.error.HTTPError as answer:
            assert answer.code == 302 and answer.headers["Location"] == "/new" and answer.headers["X-Trace"] == "t1"
    finally:
        server.stop()
