"""What the three registries (check kinds, source types, report formats) share about plugins: the
entry points of another installed package, imported on demand, and one error for any that cannot be
used.

A plugin is found by its entry point (``[project.entry-points."diagnose.kinds"] logsize =
"diagnose_disk.logsize"``); a built-in name is never replaced. Whatever goes wrong with one (it does
not import, it lacks part of its protocol, a hook raises) is a :class:`PluginError` whose message
names the entry point: the command line prints it as one line and exits 2, never a traceback.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection
from types import ModuleType


class PluginError(Exception):
    """A plugin that cannot be used; the message names its entry point and says why, on one line."""


def entry_points_of(group: str, builtin: Collection[str]) -> dict[str, str]:
    """Name -> module of every installed entry point of ``group``, sorted by name, leaving out the
    names in ``builtin`` (those stay the built-in ones)."""
    from importlib.metadata import entry_points

    found: dict[str, str] = {}
    for point in entry_points(group=group):
        if point.name not in builtin:
            found.setdefault(point.name, point.value)
    return dict(sorted(found.items()))


def where(what: str, name: str, group: str, target: str) -> str:
    """``kind 'logsize' (entry point diagnose.kinds -> diagnose_disk.logsize)``: how messages name a plugin."""
    return f"{what} {name!r} (entry point {group} -> {target})"


def import_plugin(what: str, name: str, group: str, target: str) -> ModuleType:
    """The module of an entry point (``module`` or ``module:attr``, the module is what counts)."""
    try:
        return importlib.import_module(target.split(":", 1)[0])
    except Exception as exc:  # whatever a plugin raises while importing, the user gets one line
        raise PluginError(f"{where(what, name, group, target)} cannot be imported: {type(exc).__name__}: "
                          f"{first_line(exc)}") from None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def signature() -> str:
    """Which plugins are installed, at which versions, with which module files as of when (for caches of
    what they validate: a plugin installed, removed, upgraded or edited in place changes it). Nothing
    of a plugin is run: its module file is found, not imported."""
    from importlib.metadata import distributions

    found = []
    for dist in distributions():
        points = sorted((p.group, p.name, p.value) for p in dist.entry_points if p.group.startswith("diagnose."))
        if points:
            files = ",".join(f"{group}:{name}={_stamp(value)}" for group, name, value in points)
            found.append(f"{dist.metadata['Name']}=={dist.version}[{files}]")
    return ";".join(sorted(found))


def _stamp(target: str) -> str:
    """``module@mtime`` of an entry point's module file (``module@?`` when it cannot be found)."""
    import importlib.util
    import os

    module = target.split(":", 1)[0]
    try:
        spec = importlib.util.find_spec(module)
        origin = spec.origin if spec is not None else None
        return f"{module}@{os.stat(origin).st_mtime_ns}" if origin else f"{module}@?"
    except Exception:  # a parent package that fails to import, a vanished file: the key still differs
        return f"{module}@?"
