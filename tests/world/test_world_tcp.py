"""Endpoints about TCP itself: a refused port, a silent listener, a bare TCP port; probed by the
real tcp, http and websocket check kinds and by plain sockets."""

from __future__ import annotations

import socket
import time

import pytest

from diagnose.checks.base import CheckTimeout
from diagnose.world import endpoints
from diagnose.world.tcp import RefusedPort, TcpListener, address


def started(name, spec):
    return endpoints.make(name, spec).start()


def port_of(url):
    return int(url.rsplit(":", 1)[1].split("/")[0])


def test_refused_port_is_refused_for_every_kind(probe):
    stand_in = started("ntfy", {"refuse": True})
    try:
        port = port_of(stand_in.url)
        assert stand_in.url == f"http://127.0.0.1:{port}"
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2)
        out = probe("tcp", stand_in.url)
        assert not out.passed and out.vars["error"] == f"connection refused by 127.0.0.1:{port}"
        assert not probe("http", stand_in.url, path="/v1/health", expect={"status": 200}).passed
        out = probe("websocket", stand_in.url, path="/ws")
        assert not out.passed and out.vars["error"] == f"connection refused by 127.0.0.1:{port}"
    finally:
        stand_in.stop()


def test_refused_port_keeps_its_scheme():
    stand_in = started("redis", {"refuse": True, "scheme": "redis"})
    try:
        assert stand_in.url == f"redis://127.0.0.1:{port_of(stand_in.url)}/0"
    finally:
        stand_in.stop()


def test_silent_listener_accepts_but_http_and_websocket_time_out(probe):
    stand_in = started("backend", {"silent": True})
    try:
        assert stand_in.url.startswith("http://127.0.0.1:")
        assert probe("tcp", stand_in.url).vars["reachable"] is True
        with pytest.raises(CheckTimeout):
            probe("http", stand_in.url, timeout=0.3, path="/health", expect={"status": 200})
        with pytest.raises(CheckTimeout):
            probe("websocket", stand_in.url, timeout=0.3, path="/ws/positions")
        assert stand_in.accepted == 3
    finally:
        stand_in.stop()


def test_tcp_port_with_redis_scheme_is_reachable_and_holds_connections_until_stop(probe):
    stand_in = started("redis", {"tcp": True, "scheme": "redis"})
    port = port_of(stand_in.url)
    assert stand_in.url == f"redis://127.0.0.1:{port}/0"
    assert probe("tcp", stand_in.url, expect={"reachable": True}).passed
    client = socket.create_connection(("127.0.0.1", port), timeout=3)
    client.sendall(b"PING\r\n")                         # read and thrown away, never answered
    client.settimeout(0.1)
    with pytest.raises(TimeoutError):
        client.recv(10)
    stand_in.stop()
    client.settimeout(3)
    assert client.recv(10) == b""                       # closed by stop(), not left hanging
    client.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


def test_listener_lets_go_of_connections_the_client_closes():
    listener = TcpListener().start()
    try:
        for _ in range(3):
            socket.create_connection(("127.0.0.1", listener.port), timeout=2).close()
        deadline = time.monotonic() + 5
        while len(listener._selector.get_map()) > 2 or listener.accepted < 3:   # listener + wake-up pipe
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        listener.stop()
        listener.stop()


def test_stop_before_start_releases_everything():
    refused, listener = RefusedPort(), TcpListener()
    refused.stop()
    listener.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", listener.port), timeout=2)


@pytest.mark.parametrize("scheme, expected", [(None, "127.0.0.1:5"), ("redis", "redis://127.0.0.1:5/0"),
                                              ("rediss", "rediss://127.0.0.1:5/0"), ("amqp", "amqp://127.0.0.1:5")])
def test_address_per_scheme(scheme, expected):
    assert address(scheme, 5) == expected


def test_tcp_without_scheme_is_host_and_port(probe):
    stand_in = started("cache", {"tcp": True})
    try:
        assert stand_in.url == f"127.0.0.1:{stand_in.port}"
        assert probe("tcp", stand_in.url).passed
    finally:
        stand_in.stop()


@pytest.mark.parametrize("spec, message", [
    ({"refuse": True, "silent": True}, "give only one of refuse, silent, tcp (found refuse, silent)"),
    ({"refuse": "yes"}, "refuse must be true, not a text ('yes') (leave the key out instead)"),
    ({"tcp": True, "routes": {}}, "'routes' does not go with 'tcp' (an endpoint that is a bare TCP port takes only scheme)"),
    ({"tcp": True, "scheme": "redis://"}, "scheme must be a URL scheme such as redis or http, not 'redis://'"),
    ({"tcp": True, "scheme": 6379}, "scheme must be a text (quote it in YAML), not a number (6379)"),
    ({"scheme": "redis"}, "scheme goes only with refuse, silent or tcp (routes are served over http)"),
    ({"refused": True}, "unknown key 'refused' (use routes, websocket, refuse, silent, tcp, scheme or uvicorn)"),
    ({}, "say what it does: routes, websocket, refuse, silent, tcp, scheme, uvicorn"),
    ("refuse", "must be a mapping such as {routes: {...}} or {refuse: true}, not a text ('refuse')"),
])
def test_bad_endpoint_specs_name_endpoint_and_key(spec, message):
    with pytest.raises(ValueError) as caught:
        endpoints.validate("redis", spec)
    assert str(caught.value) == f"endpoint redis: {message}"
