"""``env`` checks: keys and values in ``.env`` files or the process environment.

Typical questions: is ``EXECUTION_MODE`` LIVE? are the Bybit keys set at all? does the
backend's ``API_JWT_SECRET`` equal the realtime container's? Values of secret-looking keys
reach the report only masked (the report masks every secret the run has read).
"""

from __future__ import annotations

from typing import Any, Required, TypedDict

from diagnose.checks import expect
from diagnose.checks.base import Context, Evidence, Outcome
from diagnose.checks.expect import Expectation
from diagnose.checks.params import (PARAM_SCHEMA, Param, bind_expectation, lint_params, placeholders_in,
                                    resolve_params)

KIND = "env"
SOURCE = "env"

SCHEMA: dict[str, Any] = {
    "properties": {
        "env": {"type": "string", "description": "name of the env source (profile: env.NAME = path of a .env file)"},
        "key": {"type": "string", "description": "the key to read"},
        "keys": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                 "description": "several keys, each of which must meet the expectation"},
        "expect": {**expect.SCHEMA, "description": "expectation on each value (default: present: true)"},
        "params": {"type": "object", "additionalProperties": PARAM_SCHEMA, "description": (
            "Values written into the expectation at `%(name)s` (regex-escaped under matches/not_matches): "
            "a value of the deployment itself, e.g. `not_matches: '/%(topic)s/?$'` with "
            "`topic: {env: backend, key: NTFY_TOPIC}`.")},
        "same_as": {"type": "object", "additionalProperties": False, "required": ["env", "key"],
                    "description": "the value must equal this key of another env source",
                    "properties": {"env": {"type": "string"}, "key": {"type": "string"}}},
    },
    "required": ["env"],
}


class SameAs(TypedDict, total=False):
    """``same_as``: the key of another env source the value must equal."""

    env: Required[str]
    key: Required[str]


class EnvCheck(TypedDict, total=False):
    """An ``env`` check as :data:`SCHEMA` validates it (tests/checks/test_kind_types.py keeps the two alike)."""

    env: Required[str]
    key: str
    keys: list[str]
    expect: Expectation
    params: dict[str, Param]
    same_as: SameAs


def keys_of(check: EnvCheck) -> list[str]:
    return list(check.get("keys") or []) + ([check["key"]] if "key" in check else [])


def run(check: EnvCheck, ctx: Context) -> Outcome:
    values = ctx.env(check["env"])
    spec = check.get("expect", {"present": True})
    bound = resolve_params(check["params"], ctx) if check.get("params") else {}
    spec = bind_expectation(spec, bound) if bound else spec
    keys = keys_of(check)
    other = None
    if "same_as" in check:
        other = ctx.env(check["same_as"]["env"]).get(check["same_as"]["key"])
    shown: dict[str, Any] = {}
    failing: list[str] = []
    missing: list[str] = []
    for key in keys:
        value = values.get(key)
        shown[f"{check['env']}:{key}"] = value if value is not None else "(not set)"
        ok = expect.holds(value, spec) if value is not None or _accepts_missing(spec) else False
        if "same_as" in check:
            ok = ok and value is not None and value == other
        if value in (None, ""):
            missing.append(key)
        if not ok:
            failing.append(key)
    if "same_as" in check:
        ref = check["same_as"]
        shown[f"{ref['env']}:{ref['key']}"] = other if other is not None else "(not set)"
    first = keys[0] if keys else ""
    variables = {
        **bound,   # the deployment's own values it compared with; the kind's variables win over them
        "key": first, "value": values.get(first, ""), "keys": ", ".join(keys),
        "failing": ", ".join(failing), "missing": ", ".join(missing), "count": len(failing),
        "env": check["env"], "expected": expect.describe(spec),
    }
    return Outcome(passed=not failing and bool(keys), vars=variables,
                   evidence=[Evidence(kind="values", title=f"env '{check['env']}'", values=shown)])


def _accepts_missing(spec: Any) -> bool:
    return isinstance(spec, dict) and (spec.get("present") is False or "not_equals" in spec or "not_in" in spec)


def lint(check: EnvCheck) -> list[tuple[str, str]]:
    problems = expect.lint(check.get("expect"), "expect")
    if "params" in check:
        problems += lint_params(check["params"], placeholders_in(check.get("expect")), "expect", "expectation")
    if not keys_of(check):
        problems.append(("", "an env check needs 'key' or 'keys'"))
    return problems


def manual(check: EnvCheck) -> str:
    keys = "|".join(keys_of(check))
    cmd = f"grep -E '^({keys})=' <{check['env']} .env file>"
    if "same_as" in check:
        ref = check["same_as"]
        cmd += f"\ngrep -E '^{ref['key']}=' <{ref['env']} .env file>"
    return cmd
