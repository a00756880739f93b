"""Source types: one module each behind :class:`~diagnose.sources.base.SourceType`, and the one list that
registers them.

A source type of another installed package registers itself with an entry point in the
``diagnose.sources`` group (``[project.entry-points."diagnose.sources"] metrics =
"diagnose_prom.source"``): the name is its profile section. It then has its profile section (validated
with its schema), its ``pack.yaml`` ``sources:`` key, its override flag on every command that reads a
profile, its field in checks and lint, its secrets masked, and its rows on the pages, with nothing else
to change. Built-in sections win; a plugin that cannot be imported or is not a source type is an error
naming its entry point (:class:`SourceTypeError`).
"""

from __future__ import annotations

import functools
import importlib
import re
from types import ModuleType

from diagnose.plugins import PluginError, entry_points_of, import_plugin, where
from diagnose.sources.log import LogSpec

__all__ = ["LogSpec", "SourceTypeError", "source_types", "fields", "by_field"]

#: profile section -> module (relative to this package), in the order pages and flags list them
BUILTIN_SOURCES: dict[str, str] = {
    "databases": ".database",
    "logs": ".log",
    "env": ".env",
    "endpoints": ".endpoint",
}
ENTRY_POINT_GROUP = "diagnose.sources"
_REQUIRED = ("SECTION", "FIELD", "NOUN", "FLAG", "METAVAR", "HELP", "SCHEMA")
#: the options of diagnose's own commands, which no source type's flag may take
TAKEN_FLAGS = frozenset({"--profile", "--checks", "--no-builtin", "--format", "--output", "--bundle", "--timeout",
                         "--deadline", "--quiet", "--since", "--help", "--version", "--verbose", "--jobs",
                         "--example", "--config-file", "--site-dir", "--strict", "--json", "--limit"})
_FLAG = re.compile(r"--[a-z][a-z0-9]*(-[a-z0-9]+)*")
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class SourceTypeError(PluginError):
    """A plugin source type that cannot be used; the message names its entry point and what is wrong."""


@functools.cache
def source_types() -> dict[str, ModuleType]:
    """Profile section -> module of every source type: the built-in ones, then the plugins' (SourceTypeError
    for one that cannot be used: the profile and every command's flags depend on them all)."""
    found = {section: importlib.import_module(module, __name__) for section, module in BUILTIN_SOURCES.items()}
    for name, target in entry_points_of(ENTRY_POINT_GROUP, BUILTIN_SOURCES).items():
        try:
            module = import_plugin("source type", name, ENTRY_POINT_GROUP, target)
        except PluginError as exc:
            raise SourceTypeError(str(exc)) from None
        problems = protocol_problems(module, name, found)
        if problems:
            raise SourceTypeError(f"{where('source type', name, ENTRY_POINT_GROUP, target)} is not a source type: "
                                  + "; ".join(problems))
        found[name] = module
    return found


def protocol_problems(module: ModuleType, section: str, others: dict[str, ModuleType]) -> list[str]:
    """What ``module`` lacks of the SourceType protocol, or clashes with in ``others``."""
    problems = [f"{name} is missing" for name in _REQUIRED if not hasattr(module, name)]
    if problems:
        return problems
    if module.SECTION != section:
        problems.append(f"SECTION must be {section!r} (its entry point's name), not {module.SECTION!r}")
    if not isinstance(module.FIELD, str) or not _NAME.fullmatch(module.FIELD):
        problems.append(f"FIELD must be a lower-case name, not {module.FIELD!r}")
    if not isinstance(module.FLAG, str) or not _FLAG.fullmatch(module.FLAG) or module.FLAG in TAKEN_FLAGS:
        problems.append(f"FLAG must be a long option of its own (--dir), not {module.FLAG!r}")
    for attr in ("SCHEMA", "WORLD_SCHEMA"):
        schema = getattr(module, attr, {})
        if not isinstance(schema, dict):
            problems.append(f"{attr} must be a JSON Schema (a mapping)")
            continue
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            problems.append(f"{attr} is not a valid JSON Schema: {exc.message}")
    for other in others.values():
        for attr in ("FIELD", "FLAG"):
            if getattr(other, attr) == getattr(module, attr):
                problems.append(f"{attr} {getattr(module, attr)!r} is already {other.SECTION}'s")
    for hook in ("resolve", "secrets"):
        if not callable(getattr(module, hook, None)):
            problems.append(f"{hook} must be a function")
    return problems


def fields() -> dict[str, str]:
    """A check's source field -> its profile section (``database`` -> ``databases``)."""
    return {m.FIELD: section for section, m in source_types().items()}


def by_field(field: str) -> ModuleType:
    return source_types()[fields()[field]]
