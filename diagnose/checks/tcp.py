"""``kind: tcp``: is a port reachable? One TCP connect, nothing sent.

::

    - id: redis-port
      kind: tcp
      endpoint: redis            # any URL (redis://u:p@host:6379/0) or host:port
      port: 6379                 # optional: overrides the endpoint's port
      expect: {reachable: true}  # default; {reachable: false} checks a port is closed

Outcomes:

* connected -> ``reachable`` true; refused, unknown host or no route -> ``reachable``
  false with the reason in ``error``. Either is a verdict: the check passes or fails by
  comparing ``reachable`` with the expectation.
* no answer at all within the budget (packets silently dropped, DNS hanging) ->
  :class:`CheckTimeout`: "filtered" and "slow" look the same, so no verdict is claimed.
* an endpoint value that cannot be parsed, or that has no port when the check gives none
  -> :class:`CheckError` (configuration, not a finding).

The connection is closed immediately: nothing is written to the service.
"""

from __future__ import annotations

import time
from typing import Any, Required, TypedDict

from . import expect as expectations
from .base import CheckError, CheckTimeout, Context, Evidence, Outcome
from .netaddr import EndpointError, Unreachable, endpoint_variable, open_socket, parse_endpoint

KIND = "tcp"
SOURCE = "endpoint"

SCHEMA: dict[str, Any] = {
    "properties": {
        "endpoint": {"type": "string", "description": "Name of the endpoint in the target profile: "
                     "any URL (`redis://host:6379/0`, `postgresql://...`, `http://...`) or `host:port`; "
                     "the port defaults from the scheme."},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535,
                 "description": "Port to probe instead of the endpoint's own."},
        "expect": {
            "type": "object",
            "additionalProperties": False,
            "description": "`{reachable: true}` (default): the port accepts connections; "
                           "`{reachable: false}`: it must not.",
            "properties": {"reachable": {"type": "boolean",
                                         "description": "whether a TCP connection must succeed"}},
        },
    },
    "required": ["endpoint"],
}


class TcpExpect(TypedDict, total=False):
    """``expect`` of a tcp check."""

    reachable: bool


class TcpCheck(TypedDict, total=False):
    """A ``tcp`` check as :data:`SCHEMA` validates it (tests/checks/test_kind_types.py keeps the two alike)."""

    endpoint: Required[str]
    port: int
    expect: TcpExpect


def lint(check: TcpCheck) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    port = check.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        problems.append(("port", f"port must be a number from 1 to 65535, not {port!r}"))
    spec = check.get("expect")
    if spec is not None:
        if not isinstance(spec, dict):
            problems.append(("expect", "expect must be {reachable: true} or {reachable: false}"))
        else:
            problems += [(f"expect.{k}", "unknown expectation: use reachable") for k in spec if k != "reachable"]
            if "reachable" in spec and not isinstance(spec["reachable"], bool):
                problems.append(("expect.reachable", "reachable must be true or false"))
    return problems


def manual(check: TcpCheck) -> str:
    """``nc -vz "$ENDPOINT_redis_HOST" 6379`` (host and port of the endpoint)."""
    variable = endpoint_variable(check.get("endpoint", "?"))
    port = check.get("port") or f'"{variable}_PORT"'
    return f'nc -vz "{variable}_HOST" {port}'


def run(check: TcpCheck, ctx: Context) -> Outcome:
    name = check["endpoint"]   # required by the schema
    value = ctx.endpoint(name)
    try:
        endpoint = parse_endpoint(value)
    except EndpointError as exc:
        raise CheckError(f"endpoint {name}: {exc}") from None
    port = check.get("port") or endpoint.port
    if not port:
        raise CheckError(f"endpoint {name} has no port: write host:port in the profile or add `port:` to the check")
    spec = check.get("expect") or {}
    wanted = spec.get("reachable", True) if isinstance(spec, dict) else True
    ctx.check_time()
    started = time.monotonic()
    error = None
    try:
        open_socket(endpoint.host, int(port), ctx.remaining()).close()
    except TimeoutError:
        raise CheckTimeout(f"no answer from {endpoint.host}:{port} within {ctx.timeout:g}s "
                           "(packets dropped or host too slow)") from None
    except Unreachable as exc:
        error = str(exc)
    elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    reachable = error is None
    where = f"[{endpoint.host}]:{port}" if ":" in endpoint.host else f"{endpoint.host}:{port}"
    passed = expectations.holds(reachable, wanted)
    if passed:
        reason = None
    elif reachable:
        reason = f"{where} accepts connections, expected it closed"
    else:
        reason = error
    values = {"host": endpoint.host, "port": int(port), "reachable": reachable,
              "error": error, "elapsed_ms": elapsed_ms}
    return Outcome(
        passed=passed,
        vars={"host": endpoint.host, "port": int(port), "reachable": reachable,
              "error": error, "elapsed_ms": elapsed_ms, "reason": reason},
        evidence=[Evidence(kind="values", title=f"TCP connect to {where}", values=values)],
    )
