"""Check kinds: one module each behind the :class:`~diagnose.checks.base.CheckKind` protocol, and the
one list that registers them.

A kind of another installed package registers itself with an entry point in the ``diagnose.kinds``
group (``[project.entry-points."diagnose.kinds"] redis = "diagnose_redis.kind"``): the name is the
``kind:`` of the YAML, the value the module. Built-in names win; a plugin that cannot be imported or
does not implement the protocol is an error naming its package, raised where a check uses it (so a
broken plugin costs the checks of that kind only, with a line that says what to fix).

Kinds are imported only when a check of that kind runs (``psycopg`` alone costs ~200 ms of
start-up), so this registry names modules instead of importing them.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from diagnose.plugins import PluginError, entry_points_of, import_plugin, where

if TYPE_CHECKING:   # mypy holds each built-in kind module to the protocol, with the check type it declares
    from . import env, http, log, sql, tcp, websocket
    from .base import CheckKind

    _sql: CheckKind[sql.SqlCheck] = sql
    _log: CheckKind[log.LogCheck] = log
    _env: CheckKind[env.EnvCheck] = env
    _http: CheckKind[http.HttpCheck] = http
    _tcp: CheckKind[tcp.TcpCheck] = tcp
    _websocket: CheckKind[websocket.WebsocketCheck] = websocket

#: kind name -> module (relative to this package). One module per kind: the registration.
BUILTIN_KINDS: dict[str, str] = {
    "sql": ".sql",
    "log": ".log",
    "env": ".env",
    "http": ".http",
    "tcp": ".tcp",
    "websocket": ".websocket",
}
#: the entry-point group through which other packages add kinds
ENTRY_POINT_GROUP = "diagnose.kinds"


class KindError(PluginError):
    """A kind that does not exist, or a plugin kind that cannot be used; the message says which and why."""


@functools.cache
def plugin_kinds() -> dict[str, str]:
    """Kind name -> ``module`` of every installed plugin (a built-in name is never replaced)."""
    return entry_points_of(ENTRY_POINT_GROUP, BUILTIN_KINDS)


def kind_names() -> list[str]:
    """Every kind a check may name, sorted: the built-in ones and the installed plugins'."""
    return sorted({*BUILTIN_KINDS, *plugin_kinds()})


def usable_kind_names() -> list[str]:
    """The kinds that load (for pages and the exported schema: a broken plugin costs its own checks only)."""
    usable = []
    for name in kind_names():
        try:
            load_kind(name)
        except KindError:
            continue
        usable.append(name)
    return usable


def load_kind(kind: str) -> ModuleType:
    """The module implementing ``kind``: KindError for an unknown kind or a plugin that is not a kind."""
    if kind in BUILTIN_KINDS:
        return importlib.import_module(BUILTIN_KINDS[kind], __name__)
    return _load_plugin(kind)


def manual_command(kind: str, check: dict) -> str | None:
    """What a human would type to make the check by hand (psql, grep, curl), from its kind's optional
    ``manual``; None when the kind has none, is unknown, or its ``manual`` fails (a page or a report then
    shows no command, never a crash)."""
    try:
        module = load_kind(kind)
    except KindError:
        return None
    make = getattr(module, "manual", None)
    try:
        return make(check) if make else None
    except Exception:  # a plugin's manual() that fails
        return None


@functools.cache
def _load_plugin(kind: str) -> ModuleType:
    """A plugin kind's module, imported and checked against the protocol once per process."""
    target = plugin_kinds().get(kind)
    if target is None:
        raise KindError(f"unknown kind {kind!r} (known: {', '.join(kind_names())})")
    try:
        module = import_plugin("kind", kind, ENTRY_POINT_GROUP, target)
    except PluginError as exc:
        raise KindError(str(exc)) from None
    problems = protocol_problems(module, kind)
    if problems:
        raise KindError(f"{where('kind', kind, ENTRY_POINT_GROUP, target)} is not a check kind: "
                        f"{'; '.join(problems)}")
    return module


def protocol_problems(module: ModuleType, name: str) -> list[str]:
    """What ``module`` lacks of the :class:`~diagnose.checks.base.CheckKind` protocol (empty: nothing)."""
    from diagnose.sources import fields

    problems = []
    if getattr(module, "KIND", None) != name:
        problems.append(f"KIND must be {name!r}, not {getattr(module, 'KIND', None)!r}")
    source = getattr(module, "SOURCE", "missing")
    if source is not None and source not in fields():
        problems.append(f"SOURCE must be one of {', '.join(fields())} or None, not {source!r}")
    schema = getattr(module, "SCHEMA", None)
    if not isinstance(schema, dict) or not isinstance(schema.get("properties", {}), dict):
        problems.append("SCHEMA must be a JSON-Schema fragment with 'properties'")
    else:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema({"type": "object", **schema})
        except SchemaError as exc:
            problems.append(f"SCHEMA is not a valid JSON Schema: {exc.message}")
    for hook in ("run", "lint", "manual", "prepare"):
        if (hook == "run" or hasattr(module, hook)) and not callable(getattr(module, hook, None)):
            problems.append(f"{hook} must be a function")
    return problems
