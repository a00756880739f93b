"""What the three registries (check kinds, source types, report formats) share about plugins: the
entry points of another installed package, imported on demand, and one error for any that cannot be
used.

A plugin is found by its entry point (``[project.entry-points."diagnose.kinds"] logsize =
"diagnose_disk.logsize"``); a built-in name is never replaced. Whatever goes wrong with one (it does
not import, it lacks part of its protocol, a hook raises) is a :class:`PluginError` whose message
names the entry point: the command line prints it as one line and exits 2, never a traceback.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Collection
from dataclasses import dataclass
from types import ModuleType


class PluginError(Exception):
    """A plugin that cannot be used; the message names its entry point and says why, on one line."""


@dataclass(frozen=True)
class Installed:
    """An installed distribution with entry points in a ``diagnose.*`` group."""

    name: str
    version: str
    points: tuple[tuple[str, str, str], ...]     # (group, name, value)


@functools.cache
def installed() -> tuple[Installed, ...]:
    """The distributions on ``sys.path`` that declare ``diagnose.*`` entry points, the first of a name winning
    (as :mod:`importlib.metadata` finds them). Read straight from each ``*.dist-info/entry_points.txt``:
    importlib.metadata parses every distribution's metadata as e-mail headers, some 20 ms that every
    command would pay at start-up."""
    found: dict[str, Installed] = {}
    for folder in sys.path:
        try:
            entries = sorted(os.scandir(folder or "."), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            stem, dot, suffix = entry.name.rpartition(".")
            if suffix not in ("dist-info", "egg-info") or not dot:
                continue
            name, _, version = stem.partition("-")
            key = name.lower().replace("-", "_").replace(".", "_")
            if key in found:
                continue
            try:
                text = open(os.path.join(entry.path, "entry_points.txt"), encoding="utf-8").read()
            except OSError:
                continue
            if "[diagnose." in text:
                found[key] = Installed(name, version, tuple(_points(text)))
    return tuple(found.values())


def _points(text: str) -> list[tuple[str, str, str]]:
    """``(group, name, value)`` of the ``diagnose.*`` sections of an ``entry_points.txt`` (an INI file)."""
    out, group = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
        elif group.startswith("diagnose.") and "=" in line:
            name, _, value = line.partition("=")
            out.append((group, name.strip(), value.strip()))
    return out


def entry_points_of(group: str, builtin: Collection[str]) -> dict[str, str]:
    """Name -> module of every installed entry point of ``group``, sorted by name, leaving out the
    names in ``builtin`` (those stay the built-in ones)."""
    found: dict[str, str] = {}
    for dist in installed():
        for point_group, name, value in dist.points:
            if point_group == group and name not in builtin:
                found.setdefault(name, value)
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
    return ";".join(sorted(f"{d.name}=={d.version}[" + ",".join(f"{g}:{n}={_stamp(v)}" for g, n, v in d.points) + "]"
                           for d in installed()))


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
