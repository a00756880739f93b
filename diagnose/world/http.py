"""A tiny HTTP server on 127.0.0.1 that plays an endpoint of an example world.

Behaviour comes from the example's YAML::

    endpoints:
      backend:
        routes:                                   # GET and HEAD
          /v1/config: {json: {EXECUTION_MODE: LIVE}}
          /health: {status: 503, body: "db down", delay: 3}    # delay: seconds before answering
          /login: {status: 302, headers: {Location: /sso}}      # headers: sent as they are
        websocket:                                # upgrades on the same port (see world.websocket)
          /ws/positions: {reply: '{"message": "Connected"}'}

Unknown paths answer 404 ``{"detail": "Not Found"}`` and an upgrade to a path without a
WebSocket route answers 403, as the FastAPI/uvicorn services of the reference stack do.
Every connection a client leaves open (a delayed answer, a silent WebSocket) is cut by
:meth:`WorldHTTPServer.stop`, so a world never outlives its ``close()``.
"""

from __future__ import annotations

import json
import socket
import socketserver
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from diagnose.world import websocket
from diagnose.world.specs import fail, integer, known_keys, mapping, number, text, url_path

SECTIONS = ("routes", "websocket")
ROUTE_KEYS = ("json", "status", "body", "content_type", "delay", "headers")
NOT_FOUND = b'{"detail": "Not Found"}'
POLL_INTERVAL = 0.05           # how fast serve_forever notices stop()
JOIN_TIMEOUT = 2.0


@dataclass(frozen=True)
class Route:
    status: int
    body: bytes
    content_type: str
    delay: float
    headers: tuple[tuple[str, str], ...] = ()


def validate(name: str, spec: Any) -> tuple[dict[str, Route], dict[str, dict[str, Any]]]:
    """``(routes, websocket behaviours)`` of an endpoint spec, or a one-line WorldSpecError."""
    where = f"endpoint {name}"
    spec = mapping(where, spec)
    known_keys(where, spec, SECTIONS)
    routes = {url_path(f"{where}: routes", path): _route(f"{where}: routes {path}", route)
              for path, route in mapping(f"{where}: routes", spec.get("routes")).items()}
    sockets = {path: websocket.validate(name, path, behaviour)
               for path, behaviour in mapping(f"{where}: websocket", spec.get("websocket")).items()}
    return routes, sockets


def _route(where: str, spec: Any) -> Route:
    spec = mapping(where, spec, "a mapping such as {json: {status: ok}}")
    known_keys(where, spec, ROUTE_KEYS)
    if "json" in spec and ("body" in spec or "content_type" in spec):
        raise fail(where, "give json, or body (with content_type), not both")
    if "json" in spec:
        try:
            body, ctype = json.dumps(spec["json"]).encode(), "application/json"
        except (TypeError, ValueError) as exc:
            raise fail(where, f"json cannot be sent as JSON: {exc}") from None
    else:
        body = text(where, "body", spec.get("body", "")).encode()
        ctype = text(where, "content_type", spec.get("content_type", "text/plain"))
    headers = tuple((text(where, "headers", k), text(where, f"headers.{k}", v))
                    for k, v in mapping(f"{where}: headers", spec.get("headers")).items())
    return Route(status=integer(where, "status", spec.get("status", 200), 200, 599), body=body, content_type=ctype,
                 delay=number(where, "delay", spec.get("delay", 0), maximum=3600), headers=headers)


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        path = self.path.split("?", 1)[0]
        if websocket.is_upgrade(self.headers):
            behaviour = self.server.sockets.get(path)
            if behaviour is None:
                websocket.respond(self, 403)
            else:
                websocket.serve(self, behaviour, self.server.stopping)
            return
        route = self.server.routes.get(path)
        if route is None:
            self._send(404, NOT_FOUND, "application/json")
            return
        if route.delay and self.server.stopping.wait(route.delay):
            return
        self._send(route.status, route.body, route.content_type, route.headers)

    do_HEAD = do_GET

    def _send(self, status: int, body: bytes, ctype: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, *args: Any) -> None:  # keep the terminal quiet
        pass


def _host_port(address: Any) -> tuple[str, int]:
    """An AF_INET server's ``(host, port)`` (typeshed types a server's address for every socket family)."""
    return address[0], address[1]


class _Server(ThreadingHTTPServer):
    """Threads per connection, remembered so that :meth:`cut_all` can end them."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, routes: dict[str, Route], sockets: dict[str, dict[str, Any]]):
        self.routes, self.sockets = routes, sockets
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._handlers: list[threading.Thread] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)     # skips HTTPServer's reverse DNS lookup
        self.server_name, self.server_port = _host_port(self.server_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._serve_one, args=(request, client_address), daemon=True)
        with self._lock:
            self._open.add(request)
            self._handlers = [t for t in self._handlers if t.is_alive()] + [thread]
        thread.start()

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._open.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):   # a client hanging up is not news
            super().handle_error(request, client_address)

    def cut_all(self) -> None:
        """Stop waiting answers and end every open connection, then wait for their threads."""
        self.stopping.set()
        with self._lock:
            sockets, threads = list(self._open), list(self._handlers)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in threads:
            thread.join(JOIN_TIMEOUT)


class WorldHTTPServer:
    """HTTP routes and WebSocket routes of one endpoint on one port. Bound on creation."""

    def __init__(self, spec: dict[str, Any], name: str = "endpoint"):
        routes, sockets = validate(name, spec)
        self._server = _Server(routes, sockets)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = _host_port(self._server.server_address)
        return f"http://{host}:{port}"

    def start(self) -> "WorldHTTPServer":
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_INTERVAL,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Idempotent; safe before :meth:`start` (then only the socket is closed)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(JOIN_TIMEOUT)
            self._thread = None
        self._server.server_close()
        self._server.cut_all()
