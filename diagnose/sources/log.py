"""``logs``: log files and log commands, named with ``log: NAME``: a path, a glob, a list of them, or
``{paths, command, timezone, rotated, window}`` (the output of ``command`` is the log)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from diagnose.sources.base import Masker, Place, expand, expanded

SECTION = "logs"
FIELD = "log"
NOUN = "log"
FLAG = "--log"
METAVAR = "NAME=PATH"
HELP = "Override one log: a file, glob or rotated set, e.g. --log execution=/var/log/x.log."
_PATHS = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
SCHEMA: dict[str, Any] = {
    "description": "a path, glob, list of them, or {paths, command, timezone, rotated, window}",
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}},
              {"type": "object", "additionalProperties": False, "properties": {
                  "paths": _PATHS, "command": _PATHS, "timezone": {"type": "string"}, "rotated": {"type": "boolean"},
                  "window": {"type": "boolean", "description": (
                      "false: never add --since/--timestamps to a known log command "
                      "(docker/podman/kubectl logs, journalctl)")}}}]}


@dataclass(frozen=True)
class LogSpec:
    """A named log: file paths/globs (rotated and ``.gz`` siblings included), a command, or both
    (the files for whole-log checks, the command for windowed ones: it can apply the window).

    ``paths`` are as the user wrote them (``~`` and globs not yet expanded); ``command`` is
    an argv list whose standard output is the log (``docker compose logs --timestamps x``).
    ``timezone`` names the zone of timestamps that carry none (default: local time).
    """

    name: str
    paths: tuple[str, ...] = ()
    command: tuple[str, ...] | None = None
    timezone: str | None = None
    rotated: bool = True
    #: a known log command takes a check's window itself (:mod:`diagnose.logscan.commands`)
    window: bool = True
    extra: dict = field(default_factory=dict, compare=False, hash=False)


def resolve(name: str, value: Any, where: str, place: Place) -> LogSpec:
    spec = value if isinstance(value, dict) else {"paths": value}
    paths = spec.get("paths") or []
    paths = [paths] if isinstance(paths, str) else list(paths)
    command = spec.get("command")
    if isinstance(command, str):
        command = shlex.split(expand(command, where))
    return LogSpec(name=name, paths=tuple(str(place.path(expand(p, where))) for p in paths),
                   command=tuple(command) if command else None,
                   timezone=spec.get("timezone") or place.timezone, rotated=spec.get("rotated", True),
                   window=spec.get("window", True))


def secrets(value: Any, masker: Masker, path_of: Callable[[str], Path] | None) -> None:
    """Credentials on a log command's line (``--password=...``, a URL with one)."""
    command = value.get("command") if isinstance(value, dict) else None
    if isinstance(command, list):
        masker.add_command([expanded(c) or "" for c in command])
    elif line := expanded(command):
        masker.add_command(line)
