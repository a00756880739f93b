"""The transport of ``kind: http``: connection, request, same-origin redirects, capped body reading.

Split out of :mod:`diagnose.checks.http` so that module keeps the check itself (schema, lint,
manual, expectations and outcomes) and stays within the project's module size limit. Only the
standard library is used; every socket operation is bounded by the time the check has left.
"""

from __future__ import annotations

from typing import Any

from .base import Context
from .netaddr import open_socket

BODY_CAP = 64 * 1024          # bytes read from a body at most
MAX_REDIRECTS = 3


def _connection(scheme: str, host: str, port: int, ctx: Context) -> Any:
    """An http.client connection over a socket opened within the budget."""
    import http.client

    ctx.check_time()
    sock = open_socket(host, port, ctx.remaining())
    if scheme == "https":
        import ssl

        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        conn: Any = http.client.HTTPSConnection(host, port, timeout=ctx.remaining())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=ctx.remaining())
    conn.sock = sock
    return conn


def fetch(method: str, url: str, headers: dict[str, str], ctx: Context) -> dict[str, Any]:
    """Send the request, follow same-origin redirects, read the body up to the cap."""
    from urllib.parse import urljoin, urlsplit

    redirects: list[str] = []
    while True:
        parts = urlsplit(url)
        conn = _connection(parts.scheme, parts.hostname or "", parts.port or 0, ctx)
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            conn.request(method, target, headers=headers)
            conn.sock.settimeout(ctx.remaining())
            response = conn.getresponse()
            location = response.getheader("Location")
            if response.status in (301, 302, 303, 307, 308) and location and len(redirects) < MAX_REDIRECTS:
                following = urljoin(url, location)
                if _origin(following) == _origin(url):
                    redirects.append(url)
                    url = following
                    continue
            body = b"" if method == "HEAD" else _read_capped(response, conn, ctx)
            return {"url": url, "status": response.status, "headers": response.headers,
                    "body": body, "redirects": redirects}
        finally:
            conn.close()


def _origin(url: str) -> tuple:
    """(scheme, host, port) of a URL: redirects are followed only within one origin."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def _read_capped(response: Any, conn: Any, ctx: Context) -> bytes:
    """At most BODY_CAP bytes, each read bounded by the time left."""
    chunks: list[bytes] = []
    size = 0
    while size < BODY_CAP:
        ctx.check_time()
        # An HTTP/1.0 (or Connection: close) answer detaches the socket from the connection;
        # the timeout set when connecting still bounds each read then.
        if conn.sock is not None:
            conn.sock.settimeout(ctx.remaining())
        chunk = response.read(min(16384, BODY_CAP - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
