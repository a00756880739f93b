"""``directories``: folders on this host, named in a check with ``directory: NAME`` and given in the
profile as a path (``directories: {uploads: /srv/app/uploads}``) or with ``--dir NAME=PATH``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from diagnose.failures import CheckError
from diagnose.sources.base import Masker, Place, expand

SECTION = "directories"
FIELD = "directory"
NOUN = "directory"
FLAG = "--dir"
METAVAR = "NAME=PATH"
HELP = "Override one directory, e.g. --dir uploads=/srv/app/uploads."
SCHEMA: dict[str, Any] = {"type": "string", "description": "a folder's path (~ and ${VAR} expanded)"}


def resolve(name: str, value: Any, where: str, place: Place) -> Path:
    path = place.path(expand(value, where))
    if not path.is_dir():
        raise CheckError(f"{where}: {path} is not a folder")
    return path


def secrets(value: Any, masker: Masker, path_of: Callable[[str], Path] | None) -> None:
    """A path holds no secret."""


WORLD_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "properties": {"files": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
                             "description": "file name -> size in bytes"}}}


def world(name: str, spec: Any, workdir: Path) -> str:
    """An example world's folder: ``{files: {name: size in bytes}}`` written under ``workdir``."""
    folder = workdir / "directories" / name
    folder.mkdir(parents=True, exist_ok=True)
    for file, size in (spec or {}).get("files", {}).items():
        (folder / file).write_bytes(b"x" * int(size))
    return str(folder)


def close_world(value: str) -> None:
    """The example world's folder goes with the world."""
    import shutil

    shutil.rmtree(value, ignore_errors=True)
