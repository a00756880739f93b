"""Endpoint values -> host, port, scheme and base URL, shared by the network check kinds.

A target profile names endpoints by whatever its author had at hand: a base URL
(``http://127.0.0.1:8000``, ``wss://desk.example/api``), a connection URL of another
protocol (``redis://user:pass@cache:6379/0``, ``postgresql://...``) or a bare ``host:port``.
:func:`parse_endpoint` accepts all of them so one ``endpoints:`` entry serves the ``http``,
``tcp`` and ``websocket`` kinds alike.

It also holds the one place that opens a TCP connection (:func:`open_socket`), so every
kind classifies network trouble the same way: an unreachable service (refused, unknown
host, no route) is :class:`Unreachable` - a finding - while silence is ``TimeoutError``.
Name resolution runs in a helper thread because ``getaddrinfo`` ignores socket timeouts
and a dead DNS server must not outlive the check's budget.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:  # imported where a connection is opened: `show` and lint only write commands by hand
    import socket

#: Port used when the endpoint value names a scheme but no port.
DEFAULT_PORTS: dict[str, int] = {
    "http": 80, "https": 443, "ws": 80, "wss": 443,
    "redis": 6379, "rediss": 6379, "postgresql": 5432, "postgres": 5432,
    "mysql": 3306, "mongodb": 27017, "amqp": 5672, "amqps": 5671,
    "nats": 4222, "mqtt": 1883, "ftp": 21, "ssh": 22, "smtp": 25,
}

#: Query parameters whose values are masked whenever a URL is shown.
_SECRET_PARAM = re.compile(r"pass|secret|token|key|auth|sig|credential", re.IGNORECASE)


class EndpointError(ValueError):
    """The endpoint value cannot be understood (a configuration problem, not a finding)."""


class Unreachable(Exception):
    """Nothing usable at the address: refused, unknown host, no route. Message is one line."""


@dataclass(frozen=True)
class Endpoint:
    """One parsed endpoint value. ``scheme`` is lower case ("" when the value had none)."""

    scheme: str
    host: str
    port: int | None
    path: str = ""
    username: str | None = None
    password: str | None = None

    @property
    def netloc(self) -> str:
        """``host:port`` as it appears in a URL (IPv6 literals bracketed), no credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    def basic_auth(self) -> str | None:
        """The ``Authorization`` header value for credentials in the URL, if any."""
        if self.username is None:
            return None
        import base64
        from urllib.parse import unquote

        pair = f"{unquote(self.username)}:{unquote(self.password or '')}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    def base_url(self, scheme: str | None = None) -> str:
        """``scheme://host:port/path`` without credentials, query or trailing slash.

        Without any scheme (a bare ``host:port`` value) it is just ``host:port/path``.
        """
        scheme = scheme or self.scheme
        prefix = f"{scheme}://" if scheme else ""
        return f"{prefix}{self.netloc}{self.path.rstrip('/')}"


def parse_endpoint(value: str, default_scheme: str = "") -> Endpoint:
    """Parse an endpoint value; a value without ``scheme://`` gets ``default_scheme``.

    The port is the explicit one, else the scheme's default, else ``None``. A query or
    fragment in the value is dropped (base URLs carry none; DSN options are not ours).
    Raises :class:`EndpointError` with a one-line reason for anything unusable.
    """
    if not isinstance(value, str) or not value.strip():
        raise EndpointError("endpoint is empty")
    text = value.strip()
    if "://" not in text:
        text = f"{default_scheme}://{text}" if default_scheme else f"//{text}"
    try:
        parts = urlsplit(text)
        explicit_port = parts.port
    except ValueError as exc:
        raise EndpointError(f"cannot parse endpoint {display_url(value)!r}: {exc}") from None
    if not parts.hostname:
        raise EndpointError(f"endpoint {display_url(value)!r} names no host")
    scheme = parts.scheme.lower()
    return Endpoint(
        scheme=scheme,
        host=parts.hostname,
        port=explicit_port if explicit_port is not None else DEFAULT_PORTS.get(scheme),
        path=parts.path if parts.path not in ("", "/") else "",
        username=parts.username,
        password=parts.password,
    )


def join_path(base_url: str, path: str | None) -> str:
    """``base_url`` + ``path`` (which may carry a query), with exactly one slash between."""
    if not path:
        return base_url
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def http_to_ws(url: str) -> str:
    """``http(s)://`` -> ``ws(s)://``; other URLs unchanged."""
    lower = url.lower()
    if lower.startswith("http://"):
        return "ws://" + url[len("http://"):]
    if lower.startswith("https://"):
        return "wss://" + url[len("https://"):]
    return url


def display_url(url: str) -> str:
    """The URL safe to print: credentials removed, secret-looking query values masked."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return re.sub(r"//[^/@]*@", "//", url)
    masked = [(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in query]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(masked, safe="*"), parts.fragment))


def _resolve(host: str, port: int, timeout: float) -> list[tuple]:
    """``getaddrinfo`` bounded by ``timeout`` (it has no timeout of its own)."""
    import socket

    result: dict[str, object] = {}

    # an ASCII name as bytes: the same lookup, without importing the IDNA codec (and stringprep) for it
    name: str | bytes = host.encode("ascii") if host.isascii() else host

    def lookup() -> None:
        try:
            result["infos"] = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            result["error"] = exc

    worker = threading.Thread(target=lookup, name=f"resolve-{host}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"resolving {host} took longer than {timeout:.3g}s")
    if "error" in result:
        raise Unreachable(f"cannot resolve host {host}: {result['error']}")
    return cast("list[tuple]", result["infos"])   # set by lookup(), as getaddrinfo returns it


def open_socket(host: str, port: int, timeout: float) -> socket.socket:
    """A connected TCP socket to ``host:port``, every step bounded by ``timeout`` seconds.

    Raises :class:`Unreachable` (refused, unknown host, no route: the service is not
    there) or ``TimeoutError`` (no answer in time: we cannot tell). The returned socket
    keeps ``timeout`` as its timeout; callers lower it as their budget shrinks.
    """
    import socket
    import time

    deadline = time.monotonic() + timeout
    infos = _resolve(host, port, timeout)
    last: OSError | None = None
    for family, kind, proto, _name, address in infos:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock = socket.socket(family, kind, proto)
        sock.settimeout(left)
        try:
            sock.connect(address)
            return sock
        except (TimeoutError, socket.timeout):
            sock.close()
            raise TimeoutError(f"no answer from {host}:{port} within {timeout:.3g}s") from None
        except OSError as exc:
            sock.close()
            last = exc
    if last is None:
        raise TimeoutError(f"no answer from {host}:{port} within {timeout:.3g}s")
    if isinstance(last, ConnectionRefusedError):
        raise Unreachable(f"connection refused by {host}:{port}")
    raise Unreachable(f"cannot connect to {host}:{port}: {last.strerror or last}")


def endpoint_variable(name: str) -> str:
    """The shell variable standing for an endpoint in manual commands: ``$ENDPOINT_api``.

    Manual commands are written from the check alone (the profile is not known there),
    so they name the endpoint by a variable the reader sets to the profile's value.
    """
    return "$ENDPOINT_" + re.sub(r"\W", "_", str(name))


def describe_os_error(exc: OSError) -> str:
    """One line for a network error after connecting: TLS trouble or a reset connection."""
    import ssl

    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {getattr(exc, 'verify_message', None) or exc.reason or exc}"
    return f"connection failed: {exc.strerror or exc}"
