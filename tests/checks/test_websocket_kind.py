"""``kind: websocket`` against real ``websockets`` servers on 127.0.0.1 (see netservers.py)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from netservers import HttpServer, Route, SilentTcpServer, WsServer, free_port, self_signed_cert  # noqa: E402

from diagnose.checks import websocket  # noqa: E402
from diagnose.checks.base import CheckError, CheckTimeout, Context, SkipCheck  # noqa: E402

ROUNDTRIP = {"id": "ws-roundtrip", "kind": "websocket", "endpoint": "backend", "path": "/ws/positions",
             "send": "ping", "expect": {"reply": {"matches": "Connected"}, "within": 1}}


def context(url: str, timeout: float = 3) -> Context:
    return Context(timeout=timeout, now=datetime.now(timezone.utc), resolve=lambda kind, name: url)


def http_base(server: WsServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def test_roundtrip_with_the_backend_reply_passes():
    with WsServer("reply") as server:
        outcome = websocket.run(ROUNDTRIP, context(http_base(server)))
    assert outcome.passed
    assert server.received == ["ping"]
    assert outcome.vars["reply"] == '{"message": "Connected"}'
    assert outcome.vars["url"] == f"ws://127.0.0.1:{server.port}/ws/positions"
    assert outcome.vars["error"] is None and outcome.vars["elapsed_ms"] >= 0
    values = outcome.evidence[0].values
    assert values["sent"] == "ping" and values["reply"] == '{"message": "Connected"}'
    assert outcome.evidence[1].kind == "text" and "Connected" in outcome.evidence[1].text


def test_reply_outside_the_expectation_fails():
    with WsServer("reply", reply='{"error": "unauthorized"}') as server:
        outcome = websocket.run(ROUNDTRIP, context(http_base(server)))
    assert not outcome.passed
    assert outcome.vars["reply"] == '{"error": "unauthorized"}'
    assert outcome.vars["reason"] == "reply does not satisfy: matches /Connected/"


def test_binary_frames_are_skipped_for_the_first_text_reply():
    with WsServer("reply", binary_first=True) as server:
        outcome = websocket.run(ROUNDTRIP, context(http_base(server)))
    assert outcome.passed and outcome.vars["reply"] == '{"message": "Connected"}'


def test_greeting_without_send_is_the_reply():
    check = {"endpoint": "backend", "path": "/ws", "expect": {"reply": "hello"}}
    with WsServer("reply", greeting="hello") as server:
        outcome = websocket.run(check, context(server.url))
    assert outcome.passed and server.received == []


def test_handshake_only_when_no_reply_is_expected():
    with WsServer("silent") as server:
        outcome = websocket.run({"endpoint": "backend", "path": "/ws"}, context(server.url))
    assert outcome.passed and outcome.vars["reply"] is None


def test_no_reply_within_the_window_fails():
    check = {**ROUNDTRIP, "expect": {"reply": {"matches": "Connected"}, "within": 0.3}}
    with WsServer("silent") as server:
        outcome = websocket.run(check, context(http_base(server)))
    assert not outcome.passed
    assert outcome.vars["error"] == "no reply within 0.3s"


def test_no_reply_before_the_budget_ends_times_out():
    with WsServer("silent") as server:
        with pytest.raises(CheckTimeout, match="budget"):
            websocket.run(ROUNDTRIP, context(http_base(server), timeout=0.3))


def test_server_closing_before_a_reply_fails_with_code_and_reason():
    with WsServer("close", close_code=1011, close_reason="db down") as server:
        outcome = websocket.run(ROUNDTRIP, context(http_base(server)))
    assert not outcome.passed
    assert outcome.vars["error"] == "closed before a reply: the server closed the connection: code 1011 (db down)"


def test_connection_cut_mid_frame_fails():
    with WsServer("cut") as server:
        outcome = websocket.run(ROUNDTRIP, context(http_base(server)))
    assert not outcome.passed
    assert outcome.vars["error"] == "closed before a reply: the connection was dropped without a close frame"


def test_oversized_reply_fails_and_says_so():
    with WsServer("reply", reply="x" * (websocket.REPLY_CAP + 1)) as server:
        outcome = websocket.run(ROUNDTRIP, context(http_base(server)))
    assert not outcome.passed
    assert outcome.vars["error"] == "closed before a reply: the reply was larger than 1 MiB"


def test_rejected_handshake_fails_with_status():
    with WsServer("refuse", refuse_status=403) as server:
        outcome = websocket.run(ROUNDTRIP, context(http_base(server)))
    assert not outcome.passed and outcome.vars["error"] == "handshake rejected: HTTP 403"


def test_plain_http_server_is_a_rejected_handshake():
    with HttpServer({"/ws/positions": Route(200, "not a websocket")}) as server:
        outcome = websocket.run(ROUNDTRIP, context(server.url))
    assert not outcome.passed and outcome.vars["error"] == "handshake rejected: HTTP 200"


def test_garbage_answer_is_a_bad_handshake():
    with SilentTcpServer(greeting=b"SSH-2.0-OpenSSH_9.6\r\n", close_after_greeting=True) as server:
        outcome = websocket.run(ROUNDTRIP, context(server.url))
    assert not outcome.passed and outcome.vars["error"].startswith("bad handshake")


def test_untrusted_tls_certificate_fails(tmp_path):
    pair = self_signed_cert(str(tmp_path))
    if pair is None:
        pytest.skip("needs the openssl command to make a certificate")
    with HttpServer({}, tls=pair) as server:
        outcome = websocket.run(ROUNDTRIP, context(server.url))
    assert not outcome.passed and outcome.vars["error"] == "TLS failed: self-signed certificate"
    assert outcome.vars["url"].startswith("wss://")


def test_refused_port_fails():
    port = free_port()
    outcome = websocket.run(ROUNDTRIP, context(f"http://127.0.0.1:{port}"))
    assert not outcome.passed and outcome.vars["error"] == f"connection refused by 127.0.0.1:{port}"


def test_accepting_but_silent_host_times_out():
    with SilentTcpServer() as server:
        with pytest.raises(CheckTimeout):
            websocket.run(ROUNDTRIP, context(server.url, timeout=0.5))
    assert server.accepted == 1


@pytest.mark.parametrize("value", ["redis://127.0.0.1:6379", "http://host:notaport"])
def test_unusable_endpoint_is_a_check_error(value):
    with pytest.raises(CheckError, match="endpoint backend"):
        websocket.run(ROUNDTRIP, context(value))


def test_unconfigured_endpoint_skips():
    def resolve(kind, name):
        raise SkipCheck(f"no endpoint named {name}")

    with pytest.raises(SkipCheck):
        websocket.run(ROUNDTRIP, Context(timeout=1, now=datetime.now(timezone.utc), resolve=resolve))


def test_lint():
    assert websocket.lint(ROUNDTRIP) == []
    problems = dict(websocket.lint({"endpoint": "b", "path": "ws", "send": 5,
                                    "expect": {"reply": {"matches": "("}, "within": 0, "other": 1}}))
    assert set(problems) == {"path", "send", "expect.reply.matches", "expect.within", "expect.other"}


def test_manual_command():
    assert websocket.manual(ROUNDTRIP) == \
        'python -m websockets "${ENDPOINT_backend/http/ws}/ws/positions"   # then type: ping'


def test_schema_documents_every_field():
    for name, prop in websocket.SCHEMA["properties"].items():
        assert prop.get("description"), name
