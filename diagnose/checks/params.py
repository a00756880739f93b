"""Check parameters: values a check takes from the deployment's own sources, not from the KB.

A check that compares with a value of the reference deployment judges every other deployment
wrongly (a Realtime tenant named ``realtime`` is not a fault). So a check may take the value it
compares with from the deployment itself: ``params: {tenant: {env: realtime, key: REALTIME_TENANT}}``
binds ``%(tenant)s`` in a ``sql`` query (a bound parameter) or in a ``log`` pattern (the value,
regex-escaped). A literal or ``{value: X}`` is bound as it is; ``{setting: NAME}`` binds the entry's
setting NAME (:mod:`diagnose.kb.settings`: its default, or the value the deployment's profile gives it).
"""

from __future__ import annotations

from typing import Any, TypeAlias

from .base import CheckError, Context, SkipCheck
from .durations import parse_since, since_note

PARAM_SCHEMA: dict[str, Any] = {
    "description": "A bound parameter: a literal value, {value: X}, {env: NAME, key: KEY, default: X} "
                   "(read from an env source; without a default the check is skipped when it is missing), or "
                   "{window: 1h}: a time window bound as an interval (`now() - %(window)s::interval`) that "
                   "`--since` shortens to start at the fix; or {setting: NAME}: the entry's setting NAME (its "
                   "default, or the value the deployment's profile gives it).",
    "anyOf": [
        {"type": ["string", "number", "boolean", "null", "array"]},
        {"type": "object", "additionalProperties": False, "required": ["value"],
         "properties": {"value": {"description": "the literal value bound to the placeholder"}}},
        {"type": "object", "additionalProperties": False, "required": ["window"],
         "properties": {"window": {"type": "string", "pattern": r"^\d+[smhd]$",
                                   "description": "how far back the window reaches (90s, 15m, 1h, 2d)"}}},
        {"type": "object", "additionalProperties": False, "required": ["setting"],
         "properties": {"setting": {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*$",
                                    "description": "a setting declared under the entry's `settings:`"}}},
        {"type": "object", "additionalProperties": False, "required": ["env", "key"],
         "properties": {
             "env": {"type": "string", "description": "name of the env source (target profile) to read"},
             "key": {"type": "string", "description": "the variable to read from that env source"},
             "default": {"description": "used when the env source or the key is missing"}}},
    ],
}

#: one parameter as :data:`PARAM_SCHEMA` allows it (how a kind's check TypedDict types ``params``:
#: ``dict[str, Param]``)
Param: TypeAlias = str | float | bool | None | list[Any] | dict[str, Any]


def resolve_params(spec: dict, ctx: Context) -> dict[str, Any]:
    """The values to bind: literals as they are, env values read through ``ctx``."""
    values: dict[str, Any] = {}
    for name, param in spec.items():
        if not isinstance(param, dict):
            values[name] = param
        elif "setting" in param:   # bound by the loader: the default, or the profile's value
            if "value" not in param:
                raise CheckError(f"params.{name}: setting {param['setting']!r} has no value (declare it under "
                                 "the entry's settings)")
            values[name] = param["value"]
        elif "value" in param:
            values[name] = param["value"]
        elif "env" in param:
            values[name] = _env_param(param, ctx)
        elif "window" in param:
            values[name] = _window_param(param["window"], ctx)
        else:
            raise CheckError(f"params.{name}: give a literal, {{value: ...}} or {{env: NAME, key: KEY}}")
    return values


def _window_param(text: str, ctx: Context) -> str:
    """An interval PostgreSQL reads (``'3600 seconds'``): the window, shortened by ``--since``."""
    span = parse_since(text)
    if span is None:
        raise CheckError(f"window {text!r} is not a duration like 90s, 15m, 1h or 2d")
    return f"{int(ctx.window(span).total_seconds())} seconds"


def shortened_windows(spec: dict, ctx: Context) -> str | None:
    """What ``--since`` did to a check's ``{window: ...}`` params, said with its result (``counted over
    12 minutes from --since, not 24h``); ``None`` when it shortened none."""
    notes = []
    for param in spec.values():
        if isinstance(param, dict) and "window" in param:
            span = parse_since(param["window"])
            if span is not None and ctx.window(span) < span:
                notes.append(since_note(ctx.window(span), param["window"]))
    return "; ".join(notes) or None


def _env_param(param: dict, ctx: Context) -> Any:
    env_name, key = param["env"], param.get("key")
    try:
        env = ctx.env(env_name)
    except SkipCheck:
        if "default" in param:
            return param["default"]
        raise SkipCheck(f"needs {key} from env '{env_name}', which is not configured") from None
    if key in env:
        return env[key]
    if "default" in param:
        return param["default"]
    raise SkipCheck(f"needs {key} from env '{env_name}', which does not set it")


def lint_params(params: Any, used: set[str], field: str, noun: str) -> list[tuple[str, str]]:
    """Placeholders of ``field`` (the ``noun``) without a param, params it does not use, params of the
    wrong shape: ``(path, message)`` problems."""
    if not isinstance(params, dict):
        return [("params", "params must be a mapping of placeholder name to value")]
    problems = [(field, f"%({missing})s has no entry in params") for missing in sorted(used - set(params))]
    problems += [(f"params.{unused}", f"not used by the {noun} (no %({unused})s)") for unused in sorted(set(params) - used)]
    for name, param in params.items():
        if isinstance(param, dict) and not ("value" in param or "window" in param or "setting" in param
                                            or ("env" in param and "key" in param)):
            problems.append((f"params.{name}", "give a literal, {value: X}, {window: 1h}, {setting: NAME} or "
                                               "{env: NAME, key: KEY, default: X}"))
    return problems


def bind_expectation(spec: Any, values: dict[str, Any]) -> Any:
    """An expectation with ``%(name)s`` filled from ``values``: regex-escaped under ``matches`` and
    ``not_matches``, as it is elsewhere (``equals: '%(mode)s'`` compares with the deployment's own value)."""
    import re

    from .sql_text import PERCENT

    def fill(text: str, escape: bool) -> Any:
        whole = PERCENT.fullmatch(text)
        if whole and whole.group("name") in values and not escape:
            return values[whole.group("name")]   # keeps a number a number
        return PERCENT.sub(lambda m: "%" if m.group(1) in ("%", None) else
                           (re.escape(str(values[m.group("name")])) if escape else str(values[m.group("name")]))
                           if m.group("name") in values else m.group(0), text)

    def walk(node: Any, key: str = "") -> Any:
        if isinstance(node, str):
            return fill(node, key in ("matches", "not_matches"))
        if isinstance(node, dict):
            return {k: walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, key) for v in node]
        return node

    return walk(spec)


def placeholders_in(node: Any) -> set[str]:
    """The ``%(name)s`` placeholders of every string in ``node``."""
    from .sql_text import placeholders

    if isinstance(node, str):
        return placeholders(node)
    if isinstance(node, dict):
        return set().union(*(placeholders_in(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(placeholders_in(v) for v in node)) if node else set()
    return set()
