"""The server side of WebSocket (RFC 6455) for example worlds, inside the http.server handler.

The futures-desk backend serves ``GET /health`` and ``WebSocket /ws/positions`` on one port,
so a world's endpoint must too: :class:`diagnose.world.http.WorldHTTPServer` hands upgrade
requests to :func:`serve`. About a hundred lines of framing instead of a server library
keeps the world builder dependency-free and lets a world misbehave in ways a library would
not allow (dropping the TCP connection without a close frame). Behaviours per path::

    websocket:
      /ws/positions: {reply: '{"message": "Connected"}', delay: 1}   # answer every text frame
      # {reject: 403}                   handshake refused with that HTTP status
      # {close: 1011, reason: db down}  handshake, then a close frame with that code
      # {silent: true}                  handshake, then never a reply
      # {drop: true}                    handshake, then the TCP connection dropped (no close frame)

Every behaviour answers pings and a client's close frame, as any real server's protocol
layer does. Client frames must be masked (RFC 6455 5.1); messages are capped at 1 MiB.
"""

from __future__ import annotations

import base64
import hashlib
import queue
import socket
import threading
import time
from typing import Any

from diagnose.world.specs import fail, flag, integer, known_keys, mapping, number, text, url_path

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
BEHAVIOURS = ("reply", "reject", "close", "silent", "drop")
OPTIONS = {"reply": ("delay",), "close": ("reason",)}
MESSAGE_CAP = 1024 * 1024
CLOSE_WAIT = 2.0               # seconds to wait for the client's close frame after ours
TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


def validate(endpoint: str, path: Any, spec: Any) -> dict[str, Any]:
    """One path's behaviour, checked: exactly one of :data:`BEHAVIOURS` and its options."""
    where = f"endpoint {endpoint}: websocket {path}"
    url_path(f"endpoint {endpoint}: websocket", path)
    spec = mapping(where, spec, "a mapping such as {reply: TEXT}")
    chosen = [b for b in BEHAVIOURS if b in spec]
    known_keys(where, spec, list(BEHAVIOURS) + ["delay", "reason"])
    if len(chosen) != 1:
        raise fail(where, f"give exactly one of {', '.join(BEHAVIOURS)}"
                   + (f" (found {', '.join(chosen)})" if chosen else ""))
    behaviour = chosen[0]
    for key in spec:
        if key != behaviour and key not in OPTIONS.get(behaviour, ()):
            raise fail(where, f"'{key}' does not go with '{behaviour}'")
    out: dict[str, Any] = {"behaviour": behaviour}
    if behaviour == "reply":
        out["reply"] = text(where, "reply", spec["reply"])
        out["delay"] = number(where, "delay", spec.get("delay", 0), maximum=3600)
    elif behaviour == "reject":
        out["status"] = integer(where, "reject", spec["reject"], 400, 599)
    elif behaviour == "close":
        # 1005, 1006 and 1015 are reserved: they may never be sent in a close frame (RFC 6455 7.4.1)
        out["code"] = integer(where, "close", spec["close"], 1000, 4999)
        if out["code"] in (1004, 1005, 1006, 1015) or 1015 < out["code"] < 3000:
            raise fail(where, f"close code {out['code']} may not be sent (use 1000-1003, 1007-1014 or 3000-4999)")
        out["reason"] = text(where, "reason", spec.get("reason", ""))
        if len(out["reason"].encode()) > 123:
            raise fail(where, "reason must be at most 123 bytes (a close frame holds 125)")
    else:
        flag(where, behaviour, spec[behaviour])
    return out


def is_upgrade(headers: Any) -> bool:
    return headers.get("Upgrade", "").strip().lower() == "websocket"


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key`` (RFC 6455 4.2.2)."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def respond(handler: Any, status: int, body: str = "") -> None:
    """A plain HTTP/1.1 answer that ends the connection (websockets requires HTTP/1.1)."""
    from http import HTTPStatus

    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    data = body.encode()
    handler.wfile.write(f"HTTP/1.1 {status} {phrase}\r\nContent-Type: text/plain\r\nContent-Length: {len(data)}\r\n"
                        f"Connection: close\r\n\r\n".encode() + data)
    handler.close_connection = True


def serve(handler: Any, behaviour: dict[str, Any], stopping: threading.Event) -> None:
    """Answer one upgrade request on ``handler`` (a BaseHTTPRequestHandler) as ``behaviour`` says."""
    handler.close_connection = True
    if behaviour["behaviour"] == "reject":
        respond(handler, behaviour["status"], "WebSocket connection rejected")
        return
    key = handler.headers.get("Sec-WebSocket-Key", "").strip()
    if not key or handler.headers.get("Sec-WebSocket-Version", "").strip() != "13":
        respond(handler, 400, "a WebSocket handshake needs Sec-WebSocket-Key and Sec-WebSocket-Version: 13")
        return
    handler.wfile.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n").encode())
    peer = Peer(handler.rfile, handler.connection)
    kind = behaviour["behaviour"]
    if kind == "drop":
        peer.drop()
    elif kind == "close":
        peer.close(behaviour["code"], behaviour["reason"])
    elif kind == "reply" and behaviour["delay"]:
        _reply_later(peer, behaviour["reply"].encode(), behaviour["delay"])
    else:
        while not stopping.is_set():
            message = peer.receive()
            if message is None:
                return
            if kind == "reply" and isinstance(message, str):
                peer.send(TEXT, behaviour["reply"].encode())


def _reply_later(peer: "Peer", reply: bytes, delay: float) -> None:
    """Each text answered ``delay`` seconds after it came, while frames keep being read: a slow
    application behind a protocol layer that still answers pings and close frames at once."""
    due: queue.Queue[float | None] = queue.Queue()

    def sender() -> None:
        while (when := due.get()) is not None:
            if peer.ended.wait(max(0.0, when - time.monotonic())):
                return
            peer.send(TEXT, reply)

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    try:
        while (message := peer.receive()) is not None:
            if isinstance(message, str):
                due.put(time.monotonic() + delay)
    finally:
        peer.ended.set()
        due.put(None)
        thread.join()


class ProtocolError(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class Peer:
    """One upgraded connection: reads masked client frames, sends unmasked server frames."""

    def __init__(self, rfile: Any, sock: socket.socket):
        self.rfile, self.sock = rfile, sock
        self.ended = threading.Event()      # set once a close frame went out: nothing may follow
        self._lock = threading.Lock()

    def send(self, opcode: int, payload: bytes = b"") -> None:
        """One unmasked frame; silently nothing once the connection is closing or gone."""
        size = len(payload)
        if size < 126:
            head = bytes([0x80 | opcode, size])
        elif size < 1 << 16:
            head = bytes([0x80 | opcode, 126]) + size.to_bytes(2, "big")
        else:
            head = bytes([0x80 | opcode, 127]) + size.to_bytes(8, "big")
        with self._lock:
            if self.ended.is_set():
                return
            if opcode == CLOSE:
                self.ended.set()
            try:
                self.sock.sendall(head + payload)
            except OSError:
                self.ended.set()

    def receive(self) -> str | bytes | None:
        """The next text (str) or binary (bytes) message; None once the connection is over.

        Pings are answered, pongs ignored, a close frame echoed; protocol violations are
        answered with the close code RFC 6455 asks for.
        """
        parts: list[bytes] = []
        first = None
        try:
            while True:
                frame = self._frame()
                if frame is None:
                    return None
                fin, opcode, payload = frame
                if opcode == PING:
                    self.send(PONG, payload)
                elif opcode == PONG:
                    continue
                elif opcode == CLOSE:
                    self.send(CLOSE, payload[:2])
                    return None
                elif opcode in (TEXT, BINARY, CONTINUATION):
                    if (opcode == CONTINUATION) != (first is not None):
                        raise ProtocolError(1002)
                    first = first or opcode
                    parts.append(payload)
                    if sum(map(len, parts)) > MESSAGE_CAP:
                        raise ProtocolError(1009)
                    if fin:
                        data = b"".join(parts)
                        return data if first == BINARY else _utf8(data)
                else:
                    raise ProtocolError(1002)
        except ProtocolError as exc:
            self.close(exc.code, "")
            return None
        except OSError:
            return None

    def close(self, code: int, reason: str) -> None:
        """Send a close frame, then wait (briefly) for the client's answer before the TCP close."""
        try:
            self.send(CLOSE, code.to_bytes(2, "big") + reason.encode())
            self.sock.settimeout(CLOSE_WAIT)
            while True:
                frame = self._frame()
                if frame is None or frame[1] == CLOSE:
                    return
        except (OSError, ProtocolError):
            return

    def drop(self) -> None:
        """End TCP without a close frame: what a crashed or killed server looks like."""
        self.ended.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _frame(self) -> tuple[bool, int, bytes] | None:
        head = self._exactly(2)
        if head is None:
            return None
        fin, opcode, masked, size = bool(head[0] & 0x80), head[0] & 0x0F, head[1] & 0x80, head[1] & 0x7F
        if head[0] & 0x70 or not masked or (opcode >= 0x8 and (size > 125 or not fin)):
            raise ProtocolError(1002)
        if size >= 126:
            extended = self._exactly(2 if size == 126 else 8)
            if extended is None:
                return None
            size = int.from_bytes(extended, "big")
        if size > MESSAGE_CAP:
            raise ProtocolError(1009)
        mask, data = self._exactly(4), self._exactly(size)
        if mask is None or data is None:
            return None
        key = int.from_bytes((mask * (size // 4 + 1))[:size], "big")
        return fin, opcode, (int.from_bytes(data, "big") ^ key).to_bytes(size, "big")

    def _exactly(self, count: int) -> bytes | None:
        data = self.rfile.read(count) if count else b""
        return data if len(data) == count else None


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(1007) from None
