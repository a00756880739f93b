"""Endpoints of an example world that are about TCP itself, not about what a service says.

::

    endpoints:
      ntfy: {refuse: true}                 # nothing listens: connections are refused
      backend: {silent: true}              # accepts connections and never answers
      redis: {tcp: true, scheme: redis}    # accepts connections (a port that is up)

The profile value is ``scheme://127.0.0.1:PORT`` (``redis://127.0.0.1:PORT/0`` for redis, a
bare ``127.0.0.1:PORT`` for ``tcp`` without ``scheme``); ``refuse`` and ``silent`` default to
``http`` because they usually stand for a web service that is down or hung.

A refused port is a socket bound to port 0 but never listening: the kernel refuses
connections to it, and holding it until the world closes means no other program can take
the port meanwhile (closing it at once would leave a window for that).
"""

from __future__ import annotations

import re
import selectors
import socket
import threading
from typing import Any, cast

from diagnose.world.specs import fail, flag, mapping, text

MODES = ("refuse", "silent", "tcp")
DEFAULT_SCHEME = {"refuse": "http", "silent": "http", "tcp": None}
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")


def is_tcp_spec(spec: Any) -> bool:
    return isinstance(spec, dict) and any(mode in spec for mode in MODES)


def validate(name: str, spec: Any) -> tuple[str, str | None]:
    """``(mode, scheme)`` of a refuse/silent/tcp endpoint, or a one-line WorldSpecError."""
    where = f"endpoint {name}"
    spec = mapping(where, spec)
    modes = [m for m in MODES if m in spec]
    if len(modes) != 1:
        raise fail(where, f"give only one of {', '.join(MODES)} (found {', '.join(modes) or 'none'})")
    mode = modes[0]
    for key in spec:
        if key not in (mode, "scheme"):
            raise fail(where, f"'{key}' does not go with '{mode}' (an endpoint that is {_what(mode)} "
                              "takes only scheme)")
    flag(where, mode, spec[mode])
    scheme = DEFAULT_SCHEME[mode]
    if "scheme" in spec:
        scheme = text(where, "scheme", spec["scheme"]).lower()
        if not _SCHEME.match(scheme):
            raise fail(where, f"scheme must be a URL scheme such as redis or http, not {spec['scheme']!r}")
    return mode, scheme


def address(scheme: str | None, port: int) -> str:
    """What the profile gets for a port on 127.0.0.1 reached with ``scheme``."""
    if not scheme:
        return f"127.0.0.1:{port}"
    return f"{scheme}://127.0.0.1:{port}" + ("/0" if scheme in ("redis", "rediss") else "")


def _what(mode: str) -> str:
    return {"refuse": "refused", "silent": "silent", "tcp": "a bare TCP port"}[mode]


class RefusedPort:
    """A port on 127.0.0.1 where nothing listens, reserved until :meth:`stop`."""

    def __init__(self, scheme: str | None = "http"):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.url = address(scheme, self.port)

    def start(self) -> "RefusedPort":
        return self

    def stop(self) -> None:
        self._sock.close()


class TcpListener:
    """Accepts connections and never writes a byte; each is held until the client closes it.

    What arrives is read and thrown away (so a client's close is noticed). One thread and a
    selector serve every connection; :meth:`stop` wakes it, and closes everything.
    """

    def __init__(self, scheme: str | None = None):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self.url = address(scheme, self.port)
        self.accepted = 0
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, "accept")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "TcpListener":
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stopping.is_set():
            for key, _ in self._selector.select():
                if key.data == "accept":
                    self._accept()
                elif key.data == "conn":
                    self._discard(cast(socket.socket, key.fileobj))   # registered as "conn": a socket

    def _accept(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except (BlockingIOError, OSError):
            return
        conn.setblocking(False)
        self.accepted += 1
        self._selector.register(conn, selectors.EVENT_READ, "conn")

    def _discard(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._selector.unregister(conn)
            conn.close()

    def stop(self) -> None:
        """Idempotent; closes the listener and every held connection."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread is not None:
            try:
                self._wake_w.send(b"x")
            except OSError:
                pass
            self._thread.join(2.0)
            self._thread = None
        for key in list(self._selector.get_map().values()):
            cast(socket.socket, key.fileobj).close()   # every one registered is a socket
        self._selector.close()
        self._wake_w.close()


def make(name: str, spec: dict[str, Any]) -> RefusedPort | TcpListener:
    """The (not yet started) stand-in for a refuse/silent/tcp endpoint."""
    mode, scheme = validate(name, spec)
    return RefusedPort(scheme) if mode == "refuse" else TcpListener(scheme)
