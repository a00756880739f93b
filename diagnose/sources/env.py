"""``env``: key/value settings, named with ``env: NAME``: a ``.env`` file as docker compose reads it
(:mod:`diagnose.envfile`), or ``{process: true}`` for the environment diagnose runs in."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from diagnose.failures import CheckError
from diagnose.sources.base import Masker, Place, expand, expanded

SECTION = "env"
FIELD = "env"
NOUN = "env file"
FLAG = "--env-file"
METAVAR = "NAME=PATH"
HELP = "Override one env file, e.g. --env-file trading=/srv/trading/.env."
SCHEMA: dict[str, Any] = {"description": "a .env file path, or {process: true} for this process's environment",
                          "anyOf": [{"type": "string"}, {"type": "object", "additionalProperties": False,
                                                         "properties": {"process": {"const": True}}}]}


def resolve(name: str, value: Any, where: str, place: Place) -> dict[str, str]:
    """The file's (or the process's) key/value pairs, read once per run."""
    if isinstance(value, dict) and value.get("process"):
        return place.once((SECTION, name), lambda: dict(os.environ))
    path = place.path(expand(value, where))
    return place.once((SECTION, name), lambda: parse_env_file(path))


def secrets(value: Any, masker: Masker, path_of: Callable[[str], Path] | None) -> None:
    """Secret-looking keys of the file (all that can be read of a file that does not parse: the failure
    itself is the check's to report)."""
    from diagnose.envfile import parse
    from diagnose.files import read_regular_text

    if isinstance(value, dict) and value.get("process"):
        masker.add_env(dict(os.environ))
    elif path_of is not None and (path := expanded(value)):
        try:
            parsed = parse(read_regular_text(path_of(path), errors="replace"))
        except OSError:   # missing, unreadable, or a FIFO that would block for ever
            return
        masker.add_env(parsed.values, parsed.unterminated)


def preflight(name: str, value: Any, place: Place) -> str | None:
    """Before any check runs: a FIFO would block the run for ever (deaf to signals), a device or a folder
    is no env file; the path and why, else None (a missing file is the check's to report)."""
    from diagnose.failures import SkipCheck
    from diagnose.files import NOT_REGULAR, NotRegularFile, refuse_unless_regular

    if not isinstance(value, str):
        return None
    try:
        path = place.path(expand(value, f"env file '{name}'"))
        refuse_unless_regular(path)
    except SkipCheck:
        return None
    except NotRegularFile:
        return f"{path}: {NOT_REGULAR}"
    return None


def parse_env_file(path: Path) -> dict[str, str]:
    """A ``.env`` file as docker compose reads it; errors name file and line."""
    from diagnose.envfile import EnvFileError, read
    from diagnose.files import NOT_REGULAR, NotRegularFile

    try:
        return read(path)
    except FileNotFoundError:
        raise CheckError(f"env file {path} does not exist") from None
    except NotRegularFile:
        raise CheckError(f"env file {path}: {NOT_REGULAR}") from None
    except EnvFileError as exc:
        raise CheckError(str(exc)) from None
    except OSError as exc:
        raise CheckError(f"env file {path}: cannot read ({exc.strerror})") from None
