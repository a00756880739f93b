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
from types import ModuleType

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


class SourceTypeError(Exception):
    """A plugin source type that cannot be used; the message names its entry point and what is wrong."""


@functools.cache
def source_types() -> dict[str, ModuleType]:
    """Profile section -> module of every source type: the built-in ones, then the plugins'."""
    from importlib.metadata import entry_points

    found = {section: importlib.import_module(module, __name__) for section, module in BUILTIN_SOURCES.items()}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name in found:
            continue
        try:
            module = importlib.import_module(point.value.split(":", 1)[0])
        except Exception as exc:  # whatever a plugin raises while importing, one line names it
            raise SourceTypeError(f"source type {point.name!r} (entry point {ENTRY_POINT_GROUP} -> {point.value}) "
                                  f"cannot be imported: {type(exc).__name__}: {exc}") from None
        problems = protocol_problems(module, point.name, found)
        if problems:
            raise SourceTypeError(f"source type {point.name!r} ({point.value}) is not a source type: "
                                  + "; ".join(problems))
        found[point.name] = module
    return found


def protocol_problems(module: ModuleType, section: str, others: dict[str, ModuleType]) -> list[str]:
    """What ``module`` lacks of the SourceType protocol, or clashes with in ``others``."""
    problems = [f"{name} is missing" for name in _REQUIRED if not hasattr(module, name)]
    if problems:
        return problems
    if module.SECTION != section:
        problems.append(f"SECTION must be {section!r} (its entry point's name), not {module.SECTION!r}")
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
