"""Expectations: the small comparison language shared by every check kind.

An expectation is either a bare value (``equals``) or a mapping of operators, all of which
must hold::

    rows: 0                    # equals 0
    rows: {max: 0}             # at most 0
    value: {in: [LIVE]}        # one of
    value: {matches: '^LIVE$'} # regex search
    value: {present: true}     # set and non-empty

``SCHEMA`` is the JSON-Schema fragment for one expectation, reused by the kinds' schemas.
"""

from __future__ import annotations

import re
from typing import Any, TypeAlias, TypedDict

from diagnose import safe_regex

OPERATORS = ("equals", "not_equals", "min", "max", "in", "not_in", "matches", "not_matches", "present")

SCHEMA: dict[str, Any] = {
    "description": "A bare value (must equal) or a mapping of operators that must all hold.",
    "anyOf": [
        {"type": ["string", "number", "boolean", "null"]},
        {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "equals": {"description": "equal to this value"},
                "not_equals": {"description": "different from this value"},
                "min": {"type": "number", "description": "at least this number"},
                "max": {"type": "number", "description": "at most this number"},
                "in": {"type": "array", "description": "one of these values"},
                "not_in": {"type": "array", "description": "none of these values"},
                "matches": {"type": "string", "format": "regex", "description": "regex found in the value"},
                "not_matches": {"type": "string", "format": "regex", "description": "regex not found in the value"},
                "present": {"type": "boolean", "description": "true: set and non-empty; false: unset or empty"},
            },
        },
    ],
}

#: the operators of an expectation, as the object form of :data:`SCHEMA` declares them (the functional
#: form of TypedDict, since ``in`` is a keyword)
Operators = TypedDict("Operators", {
    "equals": Any, "not_equals": Any, "min": float, "max": float, "in": list[Any], "not_in": list[Any],
    "matches": str, "not_matches": str, "present": bool}, total=False)

#: one expectation as :data:`SCHEMA` allows it (how a kind's check TypedDict types such a field)
Expectation: TypeAlias = str | float | bool | None | Operators


def _norm(value: Any) -> Any:
    """Compare numbers as numbers and everything else as text (env files are all text)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return str(value)


def _eq(a: Any, b: Any) -> bool:
    return _norm(a) == _norm(b)


def holds(actual: Any, spec: Any) -> bool:
    """True when ``actual`` satisfies the expectation ``spec``."""
    if not isinstance(spec, dict):
        return _eq(actual, spec)
    for op, want in spec.items():
        if op == "equals" and not _eq(actual, want):
            return False
        if op == "not_equals" and _eq(actual, want):
            return False
        if op in ("min", "max"):
            try:
                number = float(actual)
            except (TypeError, ValueError):
                return False
            if (op == "min" and number < want) or (op == "max" and number > want):
                return False
        if op == "in" and not any(_eq(actual, w) for w in want):
            return False
        if op == "not_in" and any(_eq(actual, w) for w in want):
            return False
        if op == "matches" and (actual is None or not safe_regex.search(want, str(actual))):
            return False
        if op == "not_matches" and actual is not None and safe_regex.search(want, str(actual)):
            return False
        if op == "present" and bool(actual not in (None, "")) != bool(want):
            return False
    return True


def describe(spec: Any) -> str:
    """Human text of an expectation, for ``diagnose show``, docs and reports."""
    if not isinstance(spec, dict):
        return f"= {spec}"
    words = {
        "equals": "= {}", "not_equals": "≠ {}", "min": "≥ {}", "max": "≤ {}",
        "in": "one of {}", "not_in": "none of {}", "matches": "matches /{}/",
        "not_matches": "does not match /{}/",
    }
    parts = []
    for op, want in spec.items():
        if op == "present":
            parts.append("is set" if want else "is not set")
        elif op in ("in", "not_in"):
            parts.append(words[op].format(", ".join(str(w) for w in want)))
        else:
            parts.append(words[op].format(want))
    return " and ".join(parts)


def lint(spec: Any, path: str) -> list[tuple[str, str]]:
    """Regexes inside an expectation must compile."""
    problems = []
    if isinstance(spec, dict):
        for op in ("matches", "not_matches"):
            if op in spec and isinstance(spec[op], str):   # other types: the schema says so
                try:
                    safe_regex.compile(spec[op])
                except re.error as exc:
                    problems.append((f"{path}.{op}", f"invalid regex: {exc}"))
    return problems
