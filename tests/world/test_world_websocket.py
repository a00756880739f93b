"""WebSocket routes of an example world: every behaviour through the real ``websocket`` check kind
and through the ``websockets`` client itself, plus the RFC 6455 details a client relies on."""

from __future__ import annotations

import base64
import os
import socket

import pytest
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.sync.client import connect

from diagnose.world.http import WorldHTTPServer
from diagnose.world.websocket import accept_key

CONNECTED = '{"message": "Connected"}'
ROUNDTRIP = {"path": "/ws/positions", "send": "ping", "expect": {"reply": {"matches": "Connected"}, "within": 2}}


@pytest.fixture
def backend():
    """``backend({path: behaviour})`` -> a started server with /health and those WebSocket routes."""
    servers = []

    def start(sockets, routes=None):
        server = WorldHTTPServer({"routes": routes or {"/health": {"json": {"status": "ok"}}},
                                  "websocket": sockets}, "backend").start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def ws_url(server, path="/ws/positions"):
    return server.url.replace("http://", "ws://") + path


# --- each behaviour through the check kind ---------------------------------------------------

def test_reply_passes_the_roundtrip_check_on_the_same_port_as_http(backend, probe):
    server = backend({"/ws/positions": {"reply": CONNECTED}})
    out = probe("websocket", server.url, **ROUNDTRIP)
    assert out.passed and out.vars["reply"] == CONNECTED
    assert probe("http", server.url, path="/health", expect={"status": 200, "json": {"path": "status", "equals": "ok"}}).passed


def test_reply_with_delay_arrives_late(backend, probe):
    server = backend({"/ws/positions": {"reply": CONNECTED, "delay": 0.2}, "/ws/slow": {"reply": CONNECTED, "delay": 30}})
    assert probe("websocket", server.url, **ROUNDTRIP).passed
    out = probe("websocket", server.url, **{**ROUNDTRIP, "path": "/ws/slow", "expect": {"reply": "x", "within": 0.3}})
    assert not out.passed and out.vars["error"] == "no reply within 0.3s"


def test_reject_fails_the_handshake_with_its_status(backend, probe):
    server = backend({"/ws/positions": {"reject": 403}})
    out = probe("websocket", server.url, **ROUNDTRIP)
    assert not out.passed and out.vars["error"] == "handshake rejected: HTTP 403"


def test_close_sends_code_and_reason(backend, probe):
    server = backend({"/ws/positions": {"close": 1011, "reason": "db down"}})
    out = probe("websocket", server.url, **ROUNDTRIP)
    assert not out.passed
    assert out.vars["error"] == "closed before a reply: the server closed the connection: code 1011 (db down)"


def test_silent_completes_the_handshake_but_never_replies(backend, probe):
    server = backend({"/ws/positions": {"silent": True}})
    assert probe("websocket", server.url, path="/ws/positions").passed          # handshake only
    out = probe("websocket", server.url, **{**ROUNDTRIP, "expect": {"reply": "x", "within": 0.3}})
    assert not out.passed and out.vars["error"] == "no reply within 0.3s"


def test_drop_cuts_tcp_without_a_close_frame(backend, probe):
    server = backend({"/ws/positions": {"drop": True}})
    out = probe("websocket", server.url, **ROUNDTRIP)
    assert not out.passed
    assert out.vars["error"] == "closed before a reply: the connection was dropped without a close frame"


# --- each behaviour through the websockets client ---------------------------------------------

def test_client_reply_answers_every_text_and_pings_but_not_binary(backend):
    server = backend({"/ws/positions": {"reply": CONNECTED}})
    with connect(ws_url(server), ping_interval=None) as ws:
        ws.send(b"\x00binary")
        ws.send("one")
        assert ws.recv(timeout=2) == CONNECTED
        ws.send("two" * 30000)                      # a 90 kB frame: 64-bit length
        assert ws.recv(timeout=2) == CONNECTED
        assert ws.ping(b"are you there").wait(2)
        with pytest.raises(TimeoutError):           # the binary frame got no answer
            ws.recv(timeout=0.2)
    assert ws.close_code == 1000                    # our close frame was echoed


def test_client_delayed_replies_while_pings_and_close_are_answered_at_once(backend):
    server = backend({"/ws/positions": {"reply": CONNECTED, "delay": 0.5}})
    with connect(ws_url(server), ping_interval=None, close_timeout=5) as ws:
        ws.send("one")
        ws.send("two")
        assert ws.ping().wait(2)
        with pytest.raises(TimeoutError):           # the replies are still waiting their delay
            ws.recv(timeout=0)
        assert [ws.recv(timeout=3), ws.recv(timeout=3)] == [CONNECTED, CONNECTED]
        ws.send("three")                            # left pending: the close below must not wait for it
    assert ws.close_code == 1000


def test_client_reject(backend):
    server = backend({"/ws/positions": {"reject": 401}})
    with pytest.raises(InvalidStatus) as caught:
        connect(ws_url(server))
    assert caught.value.response.status_code == 401


def test_client_close(backend):
    server = backend({"/ws/positions": {"close": 4001, "reason": "token expired"}})
    with connect(ws_url(server), ping_interval=None) as ws:
        with pytest.raises(ConnectionClosedError) as caught:
            ws.recv(timeout=2)
    assert caught.value.rcvd.code == 4001 and caught.value.rcvd.reason == "token expired"


def test_client_silent_answers_close(backend):
    server = backend({"/ws/positions": {"silent": True}})
    with connect(ws_url(server), ping_interval=None) as ws:
        ws.send("anyone?")
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.2)
        assert ws.ping().wait(2)                    # the protocol layer still answers
    assert ws.close_code == 1000


def test_client_drop(backend):
    server = backend({"/ws/positions": {"drop": True}})
    with connect(ws_url(server), ping_interval=None) as ws:
        with pytest.raises(ConnectionClosedError) as caught:
            ws.recv(timeout=2)
    assert caught.value.rcvd is None


def test_stop_ends_open_websocket_connections(backend):
    server = backend({"/ws/positions": {"silent": True}})
    with connect(ws_url(server), ping_interval=None) as ws:
        server.stop()
        with pytest.raises(ConnectionClosedError):
            ws.recv(timeout=2)


# --- protocol details, with a raw socket ------------------------------------------------------

def raw_handshake(server, path="/ws/positions", key=None, version="13"):
    sock = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=3)
    lines = [f"GET {path} HTTP/1.1", "Host: x", "Upgrade: websocket", "Connection: Upgrade"]
    lines += [f"Sec-WebSocket-Key: {key}"] if key else []
    lines += [f"Sec-WebSocket-Version: {version}"]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    return sock, head.decode()


def masked(opcode, payload, fin=True):
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([(0x80 if fin else 0) | opcode, 0x80 | len(payload)]) + mask + body


def read_frame(sock):
    head = sock.recv(2)
    size = head[1] & 0x7F
    return head[0] & 0x0F, sock.recv(size) if size else b""


def test_accept_key_is_the_rfc_example():
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_fragmented_text_is_one_message(backend):
    server = backend({"/ws/positions": {"reply": "got it"}})
    key = base64.b64encode(os.urandom(16)).decode()
    sock, head = raw_handshake(server, key=key)
    assert head.startswith("HTTP/1.1 101") and f"Sec-WebSocket-Accept: {accept_key(key)}" in head
    sock.sendall(masked(0x1, b"hel", fin=False) + masked(0x0, b"lo"))
    assert read_frame(sock) == (0x1, b"got it")
    sock.close()


def test_unmasked_client_frame_is_closed_with_1002(backend):
    server = backend({"/ws/positions": {"reply": "x"}})
    sock, head = raw_handshake(server, key=base64.b64encode(os.urandom(16)).decode())
    sock.sendall(bytes([0x81, 2]) + b"hi")
    assert read_frame(sock) == (0x8, (1002).to_bytes(2, "big"))
    sock.close()


def test_handshake_without_key_is_400(backend):
    server = backend({"/ws/positions": {"reply": "x"}})
    sock, head = raw_handshake(server)
    assert head.startswith("HTTP/1.1 400")
    sock.close()


def test_upgrade_to_a_path_without_websocket_route_is_403_and_plain_get_of_a_ws_path_is_404(backend, probe):
    server = backend({"/ws/positions": {"reply": "x"}})
    out = probe("websocket", server.url, **{**ROUNDTRIP, "path": "/ws/other"})
    assert not out.passed and out.vars["error"] == "handshake rejected: HTTP 403"
    assert probe("http", server.url, path="/ws/positions", expect={"status": 404}).passed


@pytest.mark.parametrize("spec, message", [
    ({"replay": "x"}, "unknown key 'replay' (use reply, reject, close, silent, drop, delay or reason)"),
    ({"reply": "x", "drop": True}, "give exactly one of reply, reject, close, silent, drop (found reply, drop)"),
    ({"delay": 1}, "give exactly one of reply, reject, close, silent, drop"),
    ({"reply": {"message": "Connected"}}, "reply must be a text (quote it in YAML), not a mapping"),
    ({"reply": "x", "reason": "r"}, "'reason' does not go with 'reply'"),
    ({"close": 1011, "delay": 1}, "'delay' does not go with 'close'"),
    ({"reject": 101}, "reject must be between 400 and 599, not 101"),
    ({"close": 1006}, "close code 1006 may not be sent (use 1000-1003, 1007-1014 or 3000-4999)"),
    ({"close": 1000, "reason": "x" * 124}, "reason must be at most 123 bytes (a close frame holds 125)"),
    ({"silent": "yes"}, "silent must be true, not a text ('yes') (leave the key out instead)"),
    ({"reply": "x", "delay": "2s"}, "delay must be a number, not a text ('2s')"),
])
def test_bad_websocket_specs_name_endpoint_path_and_key(spec, message):
    with pytest.raises(ValueError) as caught:
        WorldHTTPServer({"websocket": {"/ws": spec}}, "backend")
    assert str(caught.value) == f"endpoint backend: websocket /ws: {message}"
