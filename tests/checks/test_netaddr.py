"""Endpoint parsing, URL helpers and the one TCP opener, against real sockets on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from netservers import SilentTcpServer, free_port  # noqa: E402

from diagnose.checks.netaddr import (  # noqa: E402
    EndpointError,
    Unreachable,
    display_url,
    endpoint_variable,
    http_to_ws,
    join_path,
    open_socket,
    parse_endpoint,
)


@pytest.mark.parametrize(
    ("value", "scheme", "host", "port", "base"),
    [
        ("http://127.0.0.1:8000", "http", "127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("https://desk.example/api/", "https", "desk.example", 443, "https://desk.example:443/api"),
        ("ws://127.0.0.1:9000/ws", "ws", "127.0.0.1", 9000, "ws://127.0.0.1:9000/ws"),
        ("redis://user:pass@cache:6379/0", "redis", "cache", 6379, "redis://cache:6379/0"),
        ("redis://cache", "redis", "cache", 6379, "redis://cache:6379"),
        ("postgresql://app:secret@db/trading", "postgresql", "db", 5432, "postgresql://db:5432/trading"),
        ("  HTTP://Api:8000  ", "http", "api", 8000, "http://api:8000"),
        ("[::1]:8080", "", "::1", 8080, "[::1]:8080"),
    ],
)
def test_parse_endpoint_urls_and_default_ports(value, scheme, host, port, base):
    endpoint = parse_endpoint(value)
    assert (endpoint.scheme, endpoint.host, endpoint.port) == (scheme, host, port)
    assert endpoint.base_url() == base


def test_host_port_takes_the_default_scheme():
    endpoint = parse_endpoint("127.0.0.1:8000", default_scheme="http")
    assert endpoint.base_url() == "http://127.0.0.1:8000"
    assert parse_endpoint("api", default_scheme="https").port == 443


def test_bare_host_without_scheme_has_no_port():
    assert parse_endpoint("cache").port is None


def test_credentials_are_parsed_but_never_in_the_base_url():
    endpoint = parse_endpoint("http://alice:s3cret@127.0.0.1:8000/api")
    assert (endpoint.username, endpoint.password) == ("alice", "s3cret")
    assert "s3cret" not in endpoint.base_url()
    assert endpoint.base_url("ws") == "ws://127.0.0.1:8000/api"


@pytest.mark.parametrize("value", ["", "   ", "http://", "http://host:notaport", "http://host:99999", None])
def test_unusable_endpoint_values_raise_endpoint_error(value):
    with pytest.raises(EndpointError):
        parse_endpoint(value)


def test_join_path_keeps_one_slash_and_the_query():
    assert join_path("http://h:1", "/v1/config") == "http://h:1/v1/config"
    assert join_path("http://h:1/api/", "/v1/positions?limit=10") == "http://h:1/api/v1/positions?limit=10"
    assert join_path("http://h:1", None) == "http://h:1"


def test_http_to_ws():
    assert http_to_ws("http://h:8000/ws") == "ws://h:8000/ws"
    assert http_to_ws("HTTPS://h/ws") == "wss://h/ws"
    assert http_to_ws("ws://h/ws") == "ws://h/ws"


def test_display_url_hides_credentials_and_secret_query_values():
    shown = display_url("http://alice:s3cret@h:1/x?token=abc&limit=10&api_key=zzz")
    assert "s3cret" not in shown and "alice" not in shown
    assert "abc" not in shown and "zzz" not in shown
    assert "limit=10" in shown and shown.startswith("http://h:1/x?")


def test_endpoint_variable_is_a_shell_name():
    assert endpoint_variable("api") == "$ENDPOINT_api"
    assert endpoint_variable("futures-desk.backend") == "$ENDPOINT_futures_desk_backend"


def test_open_socket_connects_to_a_listener():
    with SilentTcpServer() as server:
        sock = open_socket("127.0.0.1", server.port, 2)
        sock.close()


def test_open_socket_refused_is_unreachable():
    with pytest.raises(Unreachable, match="connection refused"):
        open_socket("127.0.0.1", free_port(), 2)


def test_open_socket_unknown_host_is_unreachable():
    with pytest.raises(Unreachable, match="cannot resolve host no-such-host.invalid"):
        open_socket("no-such-host.invalid", 80, 2)
