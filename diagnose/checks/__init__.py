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


class KindError(Exception):
    """A kind that does not exist, or a plugin kind that cannot be used; the message says which and why."""


@functools.cache
def plugin_kinds() -> dict[str, str]:
    """Kind name -> ``module`` of every installed plugin (a built-in name is never replaced)."""
    from importlib.metadata import entry_points

    found: dict[str, str] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name not in BUILTIN_KINDS:
            found.setdefault(point.name, point.value)
    return found


def kind_names() -> list[str]:
    """Every kind a check may name, sorted: the built-in ones and the installed plugins'."""
    return sorted({*BUILTIN_KINDS, *plugin_kinds()})


def signature() -> str:
    """What decides which kinds exist (for caches of validated packs): names and plugin modules."""
    return ";".join(f"{name}={module}" for name, module in sorted(plugin_kinds().items()))


def load_kind(kind: str) -> ModuleType:
    """The module implementing ``kind``: KindError for an unknown kind or a plugin that is not a kind."""
    if kind in BUILTIN_KINDS:
        return importlib.import_module(BUILTIN_KINDS[kind], __name__)
    return _load_plugin(kind)


@functools.cache
def _load_plugin(kind: str) -> ModuleType:
    """A plugin kind's module, imported and checked against the protocol once per process."""
    target = plugin_kinds().get(kind)
    if target is None:
        raise KindError(f"unknown kind {kind!r} (known: {', '.join(kind_names())})")
    try:
        module = importlib.import_module(target.split(":", 1)[0])
    except Exception as exc:  # whatever a plugin raises while importing, the user gets one line
        raise KindError(f"kind {kind!r} (entry point {ENTRY_POINT_GROUP} -> {target}) cannot be imported: "
                        f"{type(exc).__name__}: {exc}") from None
    problems = protocol_problems(module, kind)
    if problems:
        raise KindError(f"kind {kind!r} ({target}) is not a check kind: {'; '.join(problems)}")
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
    for hook in ("run", "lint", "manual", "prepare"):
        if (hook == "run" or hasattr(module, hook)) and not callable(getattr(module, hook, None)):
            problems.append(f"{hook} must be a function")
    return problems
