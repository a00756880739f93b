"""``kind: http``: one GET or HEAD against a named endpoint, with expectations on the answer.

::

    - id: api-config
      kind: http
      endpoint: api                 # base URL (or host:port) from the target profile
      path: /v1/config
      expect:
        status: 200                 # default {min: 200, max: 399}
        json: {path: EXECUTION_MODE, equals: LIVE}
        body: {matches: 'ok'}

How outcomes are decided (the network kinds share these rules):

* **fail** - anything the service itself did or failed to do is a *finding*: connection
  refused, unknown host, no route, TLS failure, a connection dropped without an answer, a
  malformed HTTP response, a status or body outside the expectation, a body that is not
  JSON when a ``json`` expectation is given (``error: body is not JSON``). The ``error``
  var says what went wrong at the protocol level, ``reason`` summarises every failed
  expectation in one line.
* **timeout** (:class:`CheckTimeout`) - no answer within the check's budget (a host that
  accepts TCP but never speaks): we cannot tell "slow" from "dead", so no verdict.
* **error** (:class:`CheckError`) - the probe is meaningless as configured: the endpoint
  value cannot be parsed or is not http(s), or the method would write (only GET and HEAD
  exist here: diagnose never changes the system it diagnoses).

The standard library does the HTTP (no new dependency). Every socket operation is bounded
by the time the check has left. Bodies are read up to 64 KiB. Redirects are followed only
within the same scheme, host and port (at most three); a redirect elsewhere is reported as
received, never followed. Environment proxies are not used: the probe goes straight to the
endpoint, which is what "is the service up" means.
"""

from __future__ import annotations

import time
from typing import Any, Required, TypedDict

from diagnose.clip import keep

from . import expect as expectations
from .base import CheckError, CheckTimeout, Context, Evidence, Outcome
from .http_transport import BODY_CAP, fetch
from .expect import Expectation, Operators
from .params import PARAM_SCHEMA, Param, bind_expectation, lint_params, placeholders_in, resolve_params
from .netaddr import (EndpointError, Unreachable, describe_os_error, display_url, endpoint_variable, join_path,
                      parse_endpoint)

KIND = "http"
SOURCE = "endpoint"
#: imported when a check runs (diagnose.probes.preload starts it early)
PRELOAD = ("http.client",)

ALLOWED_METHODS = ("GET", "HEAD")
DEFAULT_STATUS = {"min": 200, "max": 399}

_JSON_EXPECT = {
    "type": "object",
    "description": "A dotted path into the JSON body (`a.b.0.c`) and an expectation on the value "
                   "found there (the other keys; only `path` means: must be present).",
    "required": ["path"],
    "additionalProperties": False,
    "properties": {"path": {"type": "string", "description": "dotted path; list items by index"},
                   **expectations.SCHEMA["anyOf"][1]["properties"]},
}

SCHEMA: dict[str, Any] = {
    "properties": {
        "endpoint": {"type": "string", "description": "Name of the endpoint in the target profile "
                     "(a base URL such as `http://127.0.0.1:8000`, or `host:port`)."},
        "path": {"type": "string", "pattern": "^/", "description": "Path (and query) joined to the "
                 "endpoint's base URL, e.g. `/v1/config`."},
        "method": {"type": "string", "enum": ["GET", "HEAD", "get", "head"], "description":
                   "GET (default) or HEAD; methods that write are refused."},
        "headers": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]},
                    "description": "Extra request headers, e.g. `{Accept: application/json}`."},
        "params": {"type": "object", "additionalProperties": PARAM_SCHEMA, "description": (
            "Values written into the expectation at `%(name)s`: a value of the deployment itself, e.g. "
            "`json: {path: EXECUTION_MODE, equals: '%(mode)s'}` with `mode: {env: trading, key: EXECUTION_MODE}`.")},
        "expect": {
            "type": "object",
            "additionalProperties": False,
            "description": "What a healthy answer looks like; every given part must hold.",
            "properties": {
                "status": {**expectations.SCHEMA, "description": "Expectation on the status code "
                           "(default: 200 to 399)."},
                "json": _JSON_EXPECT,
                "body": {**expectations.SCHEMA, "description": "Expectation on the body text."},
            },
        },
    },
    "required": ["endpoint"],
}


class JsonExpect(Operators, total=False):
    """``expect.json``: a dotted path into the JSON body and the operators on the value found there."""

    path: Required[str]


class HttpExpect(TypedDict, total=False):
    """``expect`` of an http check: every given part must hold."""

    status: Expectation
    json: JsonExpect
    body: Expectation


class HttpCheck(TypedDict, total=False):
    """An ``http`` check as :data:`SCHEMA` validates it (tests/checks/test_kind_types.py keeps the two alike)."""

    endpoint: Required[str]
    path: str
    method: str
    headers: dict[str, str | float | bool]
    params: dict[str, Param]
    expect: HttpExpect


def _method(check: HttpCheck) -> str:
    return str(check.get("method") or "GET").upper()


def lint(check: HttpCheck) -> list[tuple[str, str]]:
    """Method read-only, path absolute, expectation regexes compile, json has a path."""
    problems: list[tuple[str, str]] = []
    method = _method(check)
    if method not in ALLOWED_METHODS:
        problems.append(("method", f"{method} is not allowed: only GET and HEAD "
                                   "(diagnose never writes to the system it diagnoses)"))
    path = check.get("path")
    if path is not None and (not isinstance(path, str) or not path.startswith("/")):
        problems.append(("path", f"path must start with '/': {path!r}"))
    headers = check.get("headers")
    if headers is not None and not isinstance(headers, dict):
        problems.append(("headers", "headers must be a mapping of header name to value"))
    spec = check.get("expect") or {}
    if not isinstance(spec, dict):
        return problems + [("expect", "expect must be a mapping with status, json and/or body")]
    for key in spec:
        if key not in ("status", "json", "body"):
            problems.append((f"expect.{key}", "unknown expectation: use status, json or body"))
    if "params" in check:
        problems += lint_params(check["params"], placeholders_in(spec), "expect", "expectation")
    problems += expectations.lint(spec.get("status"), "expect.status")
    problems += expectations.lint(spec.get("body"), "expect.body")
    json_spec = spec.get("json")
    if json_spec is not None:
        if not isinstance(json_spec, dict) or not isinstance(json_spec.get("path"), str):
            problems.append(("expect.json", "json needs a `path` (e.g. EXECUTION_MODE or data.0.id)"))
        else:
            unknown = [k for k in json_spec if k != "path" and k not in expectations.OPERATORS]
            problems += [(f"expect.json.{k}", f"unknown operator {k}") for k in unknown]
            problems += expectations.lint(json_spec, "expect.json")
        if method == "HEAD":
            problems.append(("expect.json", "a HEAD answer has no body to read JSON from"))
    return problems


def manual(check: HttpCheck) -> str:
    """``curl -sS -i "$ENDPOINT_api/v1/config"`` (with the check's method and headers)."""
    flag = "-I" if _method(check) == "HEAD" else "-i"
    parts = ["curl", "-sS", flag]
    for name, value in (check.get("headers") or {}).items():
        parts.append(f"-H '{name}: {value}'")
    parts.append(f'"{endpoint_variable(check.get("endpoint", "?"))}{check.get("path") or ""}"')
    return " ".join(parts)


_MISSING = object()


def json_path(document: Any, path: str) -> Any:
    """The value at dotted ``path`` (``a.b.0.c``), or ``_MISSING``."""
    node = document
    for step in [p for p in path.split(".") if p != ""]:
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and step.lstrip("-").isdigit() and -len(node) <= int(step) < len(node):
            node = node[int(step)]
        else:
            return _MISSING
    return node


def _request_headers(check: HttpCheck, endpoint: Any) -> dict[str, str]:
    headers = {"User-Agent": "diagnose", "Accept": "*/*", "Connection": "close"}
    headers.update({str(k): str(v) for k, v in (check.get("headers") or {}).items()})
    auth = endpoint.basic_auth()
    if auth and not any(k.lower() == "authorization" for k in headers):
        headers["Authorization"] = auth
    return headers


def run(check: HttpCheck, ctx: Context) -> Outcome:
    name = check["endpoint"]   # required by the schema
    method = _method(check)
    if method not in ALLOWED_METHODS:
        raise CheckError(f"method {method} is not allowed: only GET and HEAD (diagnose never writes)")
    value = ctx.endpoint(name)
    try:
        endpoint = parse_endpoint(value, default_scheme="http")
    except EndpointError as exc:
        raise CheckError(f"endpoint {name}: {exc}") from None
    if endpoint.scheme not in ("http", "https"):
        raise CheckError(f"endpoint {name} is a {endpoint.scheme}:// address, not http(s): "
                         "give the service's base URL in the profile")
    import http.client

    url = join_path(endpoint.base_url(), check.get("path"))
    bound = resolve_params(check["params"], ctx) if check.get("params") else {}
    spec = bind_expectation(check.get("expect") or {}, bound)
    out = {**bound, "status": None, "url": display_url(url), "value": None, "error": None,
           "elapsed_ms": None, "reason": None}
    started = time.monotonic()

    elapsed = lambda: round((time.monotonic() - started) * 1000, 1)  # noqa: E731
    try:
        answer = fetch(method, url, _request_headers(check, endpoint), ctx)
    except CheckTimeout:
        raise
    except TimeoutError:
        raise CheckTimeout(f"no answer from {display_url(url)} within {ctx.timeout:g}s") from None
    except Unreachable as exc:
        return _failed(out, str(exc), elapsed(), method)
    except (http.client.HTTPException, OSError) as exc:
        return _failed(out, _describe_error(exc), elapsed(), method)

    out.update(status=answer["status"], url=display_url(answer["url"]))
    problems: list[str] = []
    status_spec = spec.get("status", DEFAULT_STATUS)
    if not expectations.holds(answer["status"], status_spec):
        problems.append(f"status {answer['status']}, expected {expectations.describe(status_spec)}")
    charset = answer["headers"].get_content_charset() or "utf-8"
    text = answer["body"].decode(charset, errors="replace")
    values: dict[str, Any] = {"method": method, "url": out["url"], "status": answer["status"],
                              "content_type": answer["headers"].get("Content-Type")}
    if answer["redirects"]:
        values["redirected_from"] = [display_url(u) for u in answer["redirects"]]
    if answer["status"] in (301, 302, 303, 307, 308):
        values["location"] = answer["headers"].get("Location")
    json_spec = spec.get("json")
    if json_spec is not None:
        problems += _check_json(text, len(answer["body"]) >= BODY_CAP, json_spec, out, values)
    body_spec = spec.get("body")
    if body_spec is not None and not expectations.holds(text, body_spec):
        problems.append(f"body does not satisfy: {expectations.describe(body_spec)}")
    values["elapsed_ms"] = out["elapsed_ms"] = elapsed()
    out["reason"] = "; ".join(problems) or None
    evidence = [Evidence(kind="values", title=f"{method} {out['url']}", values=values)]
    if text:  # kept whole up to SOURCE_CHARS: the report masks it, then clips it for display
        cut = f" (truncated: the first {len(answer['body'])} bytes were read)" if len(answer["body"]) >= BODY_CAP else ""
        evidence.append(Evidence(kind="text", title=f"response body{cut}", text=keep(text)))
    return Outcome(passed=not problems, vars=out, evidence=evidence)


def _check_json(text: str, truncated: bool, json_spec: JsonExpect, out: dict, values: dict) -> list[str]:
    """Evaluate the ``json`` expectation; records the value found in vars and evidence."""
    import json

    path = str(json_spec.get("path", ""))
    ops = {k: v for k, v in json_spec.items() if k != "path"} or {"present": True}
    try:
        document = json.loads(text)
    except ValueError:
        out["error"] = "body is not JSON"
        return ["body is not JSON" + (" (larger than 64 KiB, truncated)" if truncated else "")]
    found = json_path(document, path)
    value = None if found is _MISSING else found
    out["value"] = values[f"json {path}"] = value
    if expectations.holds(value, ops):
        return []
    if found is _MISSING:
        return [f"{path} is missing from the JSON body (expected {expectations.describe(ops)})"]
    return [f"{path} is {value!r}, expected {expectations.describe(ops)}"]


def _describe_error(exc: Exception) -> str:
    """One line for a protocol-level failure (the service answered, but not with HTTP)."""
    import http.client

    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(exc, http.client.HTTPException):
        detail = " ".join(str(exc).split())[:200]
        return f"malformed HTTP response: {type(exc).__name__}: {detail!r}"
    return describe_os_error(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"


def _failed(out: dict, error: str, elapsed_ms: float, method: str) -> Outcome:
    out.update(error=error, reason=error, elapsed_ms=elapsed_ms)
    values = {"method": method, "url": out["url"], "error": error, "elapsed_ms": elapsed_ms}
    return Outcome(passed=False, vars=out,
                   evidence=[Evidence(kind="values", title=f"{method} {out['url']}", values=values)])
