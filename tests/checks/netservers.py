"""Real network servers on 127.0.0.1 for tests: HTTP, raw TCP and WebSocket.

Each binds port 0 (a free port), serves from a daemon thread, and is a context manager
that tears everything down on exit, so a test owns its server and nothing leaks between
tests. Import with ``from netservers import ...`` after putting this folder on
``sys.path`` (tests run with ``--import-mode=importlib``)::

    sys.path.insert(0, str(Path(__file__).parent))

* :class:`HttpServer` - routes ``path -> Route(status, body, headers, delay)``;
* :class:`SilentTcpServer` - accepts connections, optionally writes ``greeting`` bytes,
  then never answers (the "host that accepts TCP but hangs" case);
* :class:`WsServer` - a ``websockets`` server whose behaviour is one of
  ``reply`` / ``silent`` / ``close`` / ``cut`` / ``refuse`` (see its docstring);
* :func:`free_port` - a port that nothing listens on (connections are refused).
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    """A port on 127.0.0.1 with no listener (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Route:
    """One canned HTTP answer. A dict/list ``body`` is sent as JSON."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def payload(self) -> tuple[bytes, str]:
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body).encode(), "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return bytes(self.body), "application/octet-stream"


class HttpServer:
    """HTTP/1.1 server in a thread. ``requests`` records ``(method, path, headers)``.

    Unknown paths answer 404. ``url`` is ``http://127.0.0.1:PORT`` (``https://`` when
    ``tls`` gives a ``(certfile, keyfile)`` pair, e.g. from :func:`self_signed_cert`).
    """

    def __init__(self, routes: dict[str, Route] | None = None, tls: tuple[str, str] | None = None):
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._stop = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, with_body: bool) -> None:
                owner.requests.append((self.command, self.path, dict(self.headers)))
                route = owner.routes.get(self.path, Route(404, "not found"))
                if route.delay and owner._stop.wait(route.delay):
                    return
                body, content_type = route.payload()
                self.send_response(route.status)
                headers = {"Content-Type": content_type, **route.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                self._answer(True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._answer(False)

            def do_POST(self) -> None:  # noqa: N802
                self._answer(True)

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if tls:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> "HttpServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def self_signed_cert(folder: str) -> tuple[str, str] | None:
    """A certificate for 127.0.0.1 made with the ``openssl`` CLI, or None without it."""
    import shutil
    import subprocess
    from pathlib import Path

    if not shutil.which("openssl"):
        return None
    cert, key = str(Path(folder) / "cert.pem"), str(Path(folder) / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


class SilentTcpServer:
    """Accepts TCP connections and never answers (after an optional ``greeting``).

    With ``close_after_greeting`` it reads what the client sends, writes the greeting and
    closes the connection (a service speaking the wrong protocol, or none). ``accepted`` counts connections.
    """

    def __init__(self, greeting: bytes = b"", close_after_greeting: bool = False):
        self.greeting = greeting
        self.close_after_greeting = close_after_greeting
        self.accepted = 0
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.02)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.accepted += 1
            if self.close_after_greeting:  # read the request first, so closing sends FIN, not RST
                conn.settimeout(1)
                try:
                    conn.recv(65536)
                except OSError:
                    pass
            if self.greeting:
                conn.sendall(self.greeting)
            if self.close_after_greeting:
                conn.close()
            else:
                self._held.append(conn)

    def __enter__(self) -> "SilentTcpServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        for conn in self._held:
            conn.close()


class WsServer:
    """A real ``websockets`` server in a thread. ``url`` is ``ws://127.0.0.1:PORT``.

    ``behaviour``:

    * ``reply`` - answers every text message with ``reply`` (default the futures-desk
      backend's ``{"message": "Connected"}``); ``greeting`` is sent first on connect,
      and ``binary_first`` sends a binary frame before each reply;
    * ``silent`` - completes the handshake, then never sends anything;
    * ``close`` - on the first message, closes with ``close_code`` / ``close_reason``;
    * ``cut`` - on the first message, writes half a frame and drops the TCP connection;
    * ``refuse`` - rejects the handshake with HTTP ``refuse_status``.

    ``received`` records the text messages the server got.
    """

    def __init__(self, behaviour: str = "reply", *, reply: str = '{"message": "Connected"}',
                 greeting: str | None = None, binary_first: bool = False,
                 close_code: int = 1011, close_reason: str = "internal error",
                 refuse_status: int = 403):
        from websockets.sync.server import serve

        self.behaviour = behaviour
        self.reply = reply
        self.greeting = greeting
        self.binary_first = binary_first
        self.close_code = close_code
        self.close_reason = close_reason
        self.refuse_status = refuse_status
        self.received: list[str] = []
        self._stop = threading.Event()
        self._server = serve(self._handle, "127.0.0.1", 0, process_request=self._process_request,
                             ping_interval=None, compression=None)
        self.port = self._server.socket.getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _process_request(self, connection: Any, request: Any) -> Any:
        if self.behaviour == "refuse":
            return connection.respond(self.refuse_status, "go away\n")
        return None

    def _handle(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            if self.behaviour == "silent":
                self._stop.wait(30)
                return
            if self.greeting is not None:
                ws.send(self.greeting)
            for message in ws:
                if isinstance(message, str):
                    self.received.append(message)
                if self.behaviour == "close":
                    ws.close(self.close_code, self.close_reason)
                    return
                if self.behaviour == "cut":
                    # A text frame header announcing 200 bytes, then 5 bytes, then TCP gone.
                    ws.socket.sendall(b"\x81\x7e\x00\xc8hello")
                    ws.socket.shutdown(socket.SHUT_RDWR)
                    return
                if self.binary_first:
                    ws.send(b"\x00\x01")
                ws.send(self.reply)
        except ConnectionClosed:
            pass

    def __enter__(self) -> "WsServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._server.shutdown()
        self._thread.join(5)
