"""``kind: websocket``: handshake, optionally send one text, expect a reply in time.

::

    - id: ws-roundtrip
      kind: websocket
      endpoint: backend           # http(s):// base URLs become ws(s)://; host:port -> ws://
      path: /ws/positions
      send: "ping"                # optional text sent after the handshake
      expect: {reply: {matches: 'Connected'}, within: 5}

A reply is awaited when ``expect`` has ``reply`` or ``within`` (default ``within``: 5 s);
otherwise a completed handshake passes. The reply is the first *text* frame (binary frames
are skipped).

Outcomes (the rules of :mod:`diagnose.checks.http`, applied to WebSocket):

* **fail** - refused / unknown host / no route; handshake rejected (HTTP 403, 404...) or
  malformed; connection closed before a reply (the close code and reason, or "dropped
  without a close frame" when the TCP connection died mid-stream); no reply within
  ``within`` seconds (``error: no reply within 5s``); a reply outside the expectation.
* **timeout** - the check's whole budget ran out first: the handshake never completed (a
  host that accepts TCP but never answers), or the budget was shorter than ``within``.
* **error** - an endpoint that cannot be parsed or is not http(s)/ws(s).

``websockets`` is imported only when a check runs; no proxy from the environment is used,
pings are off (the futures-desk backend does not answer them) and replies are capped at
1 MiB.
"""

from __future__ import annotations

import time
from typing import Any, Required, TypedDict

from diagnose.clip import keep

from . import expect as expectations
from .base import CheckError, CheckTimeout, Context, Evidence, Outcome
from .expect import Expectation
from .netaddr import (EndpointError, Unreachable, describe_os_error, display_url, endpoint_variable, join_path,
                      open_socket, parse_endpoint)

KIND = "websocket"
SOURCE = "endpoint"

DEFAULT_WITHIN = 5.0
REPLY_CAP = 1024 * 1024       # bytes of one message at most
_WS_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}

SCHEMA: dict[str, Any] = {
    "properties": {
        "endpoint": {"type": "string", "description": "Name of the endpoint in the target profile "
                     "(`http://host:8000` becomes `ws://host:8000`; `ws://`, `wss://` and `host:port` work too)."},
        "path": {"type": "string", "pattern": "^/", "description": "Path joined to the endpoint, e.g. `/ws/positions`."},
        "send": {"type": "string", "description": "Text message sent once the handshake is done."},
        "expect": {
            "type": "object",
            "additionalProperties": False,
            "description": "What must come back. Without `reply` and `within` the handshake alone passes.",
            "properties": {
                "reply": {**expectations.SCHEMA, "description": "Expectation on the first text frame received."},
                "within": {"type": "number", "exclusiveMinimum": 0,
                           "description": f"Seconds to wait for that reply (default {DEFAULT_WITHIN:g}); "
                                          "silence this long is a failure."},
            },
        },
    },
    "required": ["endpoint"],
}


class WebsocketExpect(TypedDict, total=False):
    """``expect`` of a websocket check: the reply and how long to wait for it."""

    reply: Expectation
    within: float


class WebsocketCheck(TypedDict, total=False):
    """A ``websocket`` check as :data:`SCHEMA` validates it (tests/checks/test_kind_types.py keeps the two alike)."""

    endpoint: Required[str]
    path: str
    send: str
    expect: WebsocketExpect


def lint(check: WebsocketCheck) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    path = check.get("path")
    if path is not None and (not isinstance(path, str) or not path.startswith("/")):
        problems.append(("path", f"path must start with '/': {path!r}"))
    if "send" in check and not isinstance(check["send"], str):
        problems.append(("send", "send must be a text (quote it in YAML)"))
    spec = check.get("expect")
    if spec is None:
        return problems
    if not isinstance(spec, dict):
        return problems + [("expect", "expect must be a mapping with reply and/or within")]
    problems += [(f"expect.{k}", "unknown expectation: use reply or within") for k in spec
                 if k not in ("reply", "within")]
    within = spec.get("within")
    if within is not None and (isinstance(within, bool) or not isinstance(within, (int, float)) or within <= 0):
        problems.append(("expect.within", f"within must be a positive number of seconds, not {within!r}"))
    return problems + expectations.lint(spec.get("reply"), "expect.reply")


def manual(check: WebsocketCheck) -> str:
    """``python -m websockets "${ENDPOINT_backend/http/ws}/ws/positions"``, then type the text."""
    variable = endpoint_variable(check.get("endpoint", "?"))[1:]
    command = f'python -m websockets "${{{variable}/http/ws}}{check.get("path") or ""}"'
    if check.get("send") is not None:
        command += f"   # then type: {check['send']}"
    return command


def _close_description(exc: Any) -> str:
    """Why a connection closed: the peer's close frame, or none (dropped mid-stream)."""
    frame = getattr(exc, "rcvd", None)
    sent = getattr(exc, "sent", None)
    if sent is not None and sent.code == 1009:
        return f"the reply was larger than {REPLY_CAP // (1024 * 1024)} MiB"
    if frame is None:
        return "the connection was dropped without a close frame"
    reason = f" ({frame.reason})" if frame.reason else ""
    return f"the server closed the connection: code {frame.code}{reason}"


def _connect(url: str, endpoint: Any, ctx: Context) -> Any:
    """Open the TCP connection within the budget, then the WebSocket handshake."""
    from websockets.sync.client import connect

    auth = endpoint.basic_auth()
    ctx.check_time()
    sock = open_socket(endpoint.host, endpoint.port, ctx.remaining())
    try:
        return connect(url, sock=sock, open_timeout=ctx.remaining(), proxy=None, ping_interval=None,
                       close_timeout=min(1.0, ctx.remaining()), max_size=REPLY_CAP,
                       user_agent_header="diagnose", additional_headers={"Authorization": auth} if auth else None)
    except BaseException:
        sock.close()
        raise


def _handshake_error(exc: Exception) -> str | None:
    """One line for a failed handshake, or None when ``exc`` is not a handshake problem."""
    from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

    if isinstance(exc, InvalidURI):
        return None
    if isinstance(exc, InvalidStatus):
        return f"handshake rejected: HTTP {exc.response.status_code}"
    if isinstance(exc, (InvalidHandshake, EOFError)):
        return f"bad handshake: {' '.join(str(exc).split())[:200] or type(exc).__name__}"
    if isinstance(exc, OSError):
        return describe_os_error(exc)
    return None


def _await_reply(ws: Any, within: float, ctx: Context) -> str | None:
    """The first text frame, or None after ``within`` seconds (CheckTimeout if the budget ends first)."""
    give_up = time.monotonic() + within
    while True:
        ctx.check_time()
        left = give_up - time.monotonic()
        if left <= 0:
            return None
        budget_first = ctx.remaining() < left
        try:
            message = ws.recv(timeout=min(left, ctx.remaining()))
        except TimeoutError:
            if budget_first:
                raise CheckTimeout(f"no reply before the check's {ctx.timeout:g}s budget ran out") from None
            return None
        if isinstance(message, str):
            return message


def run(check: WebsocketCheck, ctx: Context) -> Outcome:
    from websockets.exceptions import ConnectionClosed

    name = check["endpoint"]   # required by the schema
    value = ctx.endpoint(name)
    try:
        endpoint = parse_endpoint(value, default_scheme="ws")
    except EndpointError as exc:
        raise CheckError(f"endpoint {name}: {exc}") from None
    scheme = _WS_SCHEMES.get(endpoint.scheme)
    if scheme is None:
        raise CheckError(f"endpoint {name} is a {endpoint.scheme}:// address, not http(s) or ws(s)")
    if endpoint.port is None:
        raise CheckError(f"endpoint {name} has no port")
    url = join_path(endpoint.base_url(scheme), check.get("path"))
    shown_url = display_url(url)
    spec = check.get("expect") or {}
    wants_reply = "reply" in spec or "within" in spec
    within = float(spec.get("within", DEFAULT_WITHIN))
    send = check.get("send")
    out: dict[str, Any] = {"url": shown_url, "reply": None, "error": None, "elapsed_ms": None, "reason": None}
    values: dict[str, Any] = {"url": shown_url}
    started = time.monotonic()

    def finish(passed: bool, error: str | None = None, reason: str | None = None,
               reply: str | None = None) -> Outcome:
        out["elapsed_ms"] = values["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
        out.update(error=error, reason=reason or error)
        if error:
            values["error"] = error
        evidence = [Evidence(kind="values", title=f"WebSocket {shown_url}", values=values)]
        if reply:  # kept whole up to SOURCE_CHARS: the report masks it, then clips it for display
            evidence.append(Evidence(kind="text", title="first reply", text=keep(reply)))
        return Outcome(passed=passed, vars=out, evidence=evidence)

    try:
        ws = _connect(url, endpoint, ctx)
    except CheckTimeout:
        raise
    except TimeoutError:
        raise CheckTimeout(f"no WebSocket handshake from {shown_url} within {ctx.timeout:g}s") from None
    except Unreachable as exc:
        return finish(False, str(exc))
    except Exception as exc:  # websockets raises several families; classified below
        message = _handshake_error(exc)
        if message is None:
            raise CheckError(f"endpoint {name}: cannot probe {shown_url}: {exc}") from None
        return finish(False, message)
    values["handshake"] = "ok"
    try:
        with ws:
            if send is not None:
                ws.send(str(send))
                values["sent"] = str(send)
            if not wants_reply:
                return finish(True)
            reply = _await_reply(ws, within, ctx)
    except ConnectionClosed as exc:
        return finish(False, f"closed before a reply: {_close_description(exc)}")
    if reply is None:
        return finish(False, f"no reply within {within:g}s")
    out["reply"] = values["reply"] = keep(reply)
    reply_spec = spec.get("reply")
    if reply_spec is not None and not expectations.holds(reply, reply_spec):
        return finish(False, reason=f"reply does not satisfy: {expectations.describe(reply_spec)}", reply=reply)
    return finish(True, reply=reply)
