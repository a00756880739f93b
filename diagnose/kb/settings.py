"""Settings: an entry's thresholds, named, with defaults that a deployment's profile may override.

An entry declares them::

    settings:
      stuck_after: {default: 1 hour, type: interval, description: how long a task may execute before it is stuck}

its checks bind them like any other parameter (``params: {stuck_after: {setting: stuck_after}}``, then
``%(stuck_after)s`` in the query and ``{stuck_after}`` in its messages), a profile overrides them per
deployment (``settings: {rollover-task-stuck: {stuck_after: 2 hours}}``), and every report says which
value each setting had and where it came from (``default`` or ``profile``).

The value is bound into the check itself (``{setting: stuck_after, value: 1 hour}`` in the check's
mapping): what a check probes, its manual command and triage's "same probe" all follow the value used.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from typing import Any, Iterable

from diagnose.kb.model import Check, Entry, Setting

TYPES = ("integer", "number", "string", "interval", "boolean")
NAME_PATTERN = r"^[a-z_][a-z0-9_]*$"
#: a PostgreSQL interval as people write it: ``10 minutes``, ``1 hour 30 minutes``, ``2 days``, ``90 s``
_UNITS = (r"microseconds?|usecs?|us|milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|hours?|hrs?|h|"
          r"days?|d|weeks?|w|months?|mons?|years?|yrs?")
INTERVAL = re.compile(rf"(?i)^\s*(?:\d+(?:\.\d+)?\s*(?:{_UNITS})\b\s*)+$")

SETTING_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["default", "description"],
    "properties": {
        "default": {"type": ["string", "number", "boolean"],
                    "description": "the value used unless the deployment's profile overrides it"},
        "description": {"type": "string", "minLength": 1, "maxLength": 2000,
                        "description": "what the setting decides, in words (shown on the page and in reports)"},
        "type": {"enum": list(TYPES), "description": (
            "what a value must be: `integer`, `number`, `string`, `boolean`, or `interval` (a PostgreSQL interval "
            "such as `10 minutes` or `1 hour`, for `%(name)s::interval`). Default: the type of `default` "
            "(text is `string`)")},
        "unit": {"type": "string", "minLength": 1, "maxLength": 40,
                 "description": "what a number counts (`days`, `rows`, `percent`), shown beside its value"},
        "minimum": {"type": "number", "description": "the smallest value a profile may set (numbers only)"},
        "maximum": {"type": "number", "description": "the largest value a profile may set (numbers only)"},
    },
}

ENTRY_FIELD: dict[str, Any] = {
    "type": "object", "propertyNames": {"pattern": NAME_PATTERN},
    "additionalProperties": SETTING_SCHEMA,
    "description": (
        "named thresholds of this entry's checks: name -> default, description (and type, unit, minimum, "
        "maximum). A check binds one with `params: {NAME: {setting: SETTING}}`; a deployment's profile "
        "overrides it (`settings: {<entry id>: {SETTING: value}}`); every report shows the value used"),
}

#: how a type is named in a message
_WORDS = {"integer": "a whole number", "number": "a number", "string": "text", "boolean": "true or false",
          "interval": "an interval such as '10 minutes' or '2 hours'"}


def type_of(spec: dict[str, Any]) -> str:
    """The declared ``type``, else the type of the default (``True`` is a boolean, ``3`` an integer...)."""
    if spec.get("type") in TYPES:
        return spec["type"]
    default = spec.get("default")
    if isinstance(default, bool):
        return "boolean"
    if isinstance(default, int):
        return "integer"
    if isinstance(default, float):
        return "number"
    return "string"


def value_problem(value: Any, spec: dict[str, Any]) -> str | None:
    """Why ``value`` cannot be the setting ``spec`` describes (``None``: it can)."""
    kind = type_of(spec)
    ok = {"integer": isinstance(value, int) and not isinstance(value, bool),
          "number": isinstance(value, (int, float)) and not isinstance(value, bool),
          "string": isinstance(value, str),
          "boolean": isinstance(value, bool),
          "interval": isinstance(value, str) and bool(INTERVAL.match(value))}[kind]
    if not ok:
        return f"expected {_WORDS[kind]}, got {_shown(value)}"
    if kind in ("integer", "number"):
        if spec.get("minimum") is not None and value < spec["minimum"]:
            return f"{value:g} is below the minimum {spec['minimum']:g}"
        if spec.get("maximum") is not None and value > spec["maximum"]:
            return f"{value:g} is above the maximum {spec['maximum']:g}"
    return None


def _shown(value: Any) -> str:
    return f"{type(value).__name__} {value!r:.60}" if not isinstance(value, str) else f"{value!r:.60}"


def setting_params(raw: dict[str, Any]) -> dict[str, str]:
    """param name -> the setting it binds, for one check mapping."""
    params = raw.get("params") if isinstance(raw, dict) else None
    if not isinstance(params, dict):
        return {}
    return {name: p["setting"] for name, p in params.items() if isinstance(p, dict) and isinstance(p.get("setting"), str)}


def lint(data: dict[str, Any]) -> list[tuple[tuple, str]]:
    """``(path, message)`` problems of an entry's settings: a bound setting that is not declared, a declared
    one no check binds, a default that is not of the setting's type or outside its range."""
    declared = data.get("settings") or {}
    problems: list[tuple[tuple, str]] = []
    used: set[str] = set()
    for i, check in enumerate(data.get("checks") or []):
        for param, name in setting_params(check).items():
            used.add(name)
            if name not in declared:
                close = difflib.get_close_matches(name, list(declared), n=1)
                hint = (f"did you mean '{close[0]}'?" if close else
                        f"declared: {', '.join(sorted(declared))}" if declared else "the entry declares none")
                problems.append((("checks", i, "params", param, "setting"),
                                 f"setting '{name}' is not declared under the entry's `settings:` ({hint})"))
    for name, spec in declared.items():
        if not isinstance(spec, dict):
            continue
        if name not in used:
            problems.append((("settings", name), f"setting '{name}' is not used by any check (bind it with "
                                                 f"`params: {{{name}: {{setting: {name}}}}}`, or remove it)"))
        if "default" in spec:
            wrong = value_problem(spec["default"], spec)
            if wrong:
                problems.append((("settings", name, "default"), f"default: {wrong}"))
        if type_of(spec) not in ("integer", "number"):
            for bound in ("minimum", "maximum"):
                if bound in spec:
                    problems.append((("settings", name, bound),
                                     f"{bound} applies to numbers only; this setting is {type_of(spec)}"))
    return problems


def declared(data: dict[str, Any]) -> tuple[Setting, ...]:
    """The entry's settings from its validated mapping, each at its default."""
    return tuple(Setting(name=name, default=spec["default"], description=spec["description"], type=type_of(spec),
                         unit=spec.get("unit", ""), minimum=spec.get("minimum"), maximum=spec.get("maximum"),
                         value=spec["default"], source="default")
                 for name, spec in (data.get("settings") or {}).items())


def bind_raw(raw: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of a check's mapping whose ``{setting: NAME}`` params carry the value in force
    (``{setting: NAME, value: V}``); the mapping itself when it binds no setting."""
    bound = setting_params(raw)
    if not bound:
        return raw
    params = dict(raw["params"])
    for param, name in bound.items():
        if name in values:
            params[param] = {"setting": name, "value": values[name]}
    return {**raw, "params": params}


def bind_checks(checks: Iterable[Check], settings: Iterable[Setting]) -> tuple[Check, ...]:
    values = {s.name: s.value for s in settings}
    return tuple(dataclasses.replace(c, raw=bind_raw(c.raw, values)) if setting_params(c.raw) else c for c in checks)


def apply(entry: Entry, overrides: dict[str, Any] | None) -> Entry:
    """``entry`` with the profile's values of its settings (``overrides``: name -> value, already validated;
    a name the entry does not declare is ignored) bound into its checks."""
    if not overrides or not entry.settings:
        return entry
    settings = tuple(dataclasses.replace(s, value=overrides[s.name], source="profile") if s.name in overrides else s
                     for s in entry.settings)
    return dataclasses.replace(entry, settings=settings, checks=bind_checks(entry.checks, settings))


def apply_all(entries: Iterable[Entry], settings: dict[str, dict[str, Any]] | None) -> list[Entry]:
    """Every entry with the profile's ``settings`` (entry id -> name -> value) applied."""
    settings = settings or {}
    return [apply(e, settings.get(e.id)) for e in entries]


def _spec(setting: Setting) -> dict[str, Any]:
    return {"type": setting.type, "minimum": setting.minimum, "maximum": setting.maximum}


def profile_problems(entries: Iterable[Entry], settings: dict[str, dict[str, Any]],
                     where: Any = lambda path: "") -> list[str]:
    """What is wrong with a profile's ``settings`` for these entries: an entry that does not exist or declares
    no settings, a setting it does not declare, a value of the wrong type or outside the range. Each message
    starts with ``where(path)`` (the profile's ``file:line: ``)."""
    by_id = {e.id: e for e in entries}
    problems = []
    for entry_id, values in (settings or {}).items():
        entry = by_id.get(entry_id)
        at = f"{where(('settings', entry_id))}settings.{entry_id}: "
        if entry is None:
            close = difflib.get_close_matches(str(entry_id), list(by_id), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else " (`diagnose list` shows them)"
            problems.append(f"{at}no entry '{entry_id}' in the knowledge base{hint}")
            continue
        known = {s.name: s for s in entry.settings}
        if not known:
            problems.append(f"{at}entry '{entry_id}' has no settings")
            continue
        for name, value in (values or {}).items():
            at = f"{where(('settings', entry_id, name))}settings.{entry_id}.{name}: "
            setting = known.get(name)
            if setting is None:
                close = difflib.get_close_matches(str(name), list(known), n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"its settings: {', '.join(known)}"
                problems.append(f"{at}entry '{entry_id}' has no setting '{name}' ({hint})")
                continue
            wrong = value_problem(value, _spec(setting))
            if wrong:
                problems.append(f"{at}{wrong}")
    return problems


def shown(value: Any, setting: Setting) -> str:
    """A value as a report shows it: ``1 hour``, ``18 days``, ``true``."""
    text = ("true" if value else "false") if isinstance(value, bool) else f"{value:g}" if isinstance(value, float) \
        else str(value)
    return f"{text} {setting.unit}" if setting.unit else text


def report_view(entry: Entry) -> list[dict[str, Any]]:
    """What a report says of each setting of the entry: the value used, the default, where it came from."""
    return [{"name": s.name, "value": s.value, "default": s.default, "from": s.source, "type": s.type,
             "unit": s.unit or None, "description": s.description} for s in entry.settings]
