"""The one small interface every source type implements, and what they share.

A source type is a module (``diagnose/sources/database.py``, or another package's, registered through
the ``diagnose.sources`` entry point) that implements :class:`SourceType`: how a profile names such a
source, how a check refers to it, the command-line flag that overrides one, how a profile value
becomes what a check kind reads, and which of its parts are secrets. Everything that handles sources
in general (the profile schema and loader, the resolver, the flags, ``pack.yaml`` ``sources:``, lint,
the pages) asks the registry (:mod:`diagnose.sources`) instead of naming the types.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Protocol

from diagnose.failures import SkipCheck

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class Masker(Protocol):
    """What a source type may teach the report's masker (:class:`diagnose.masking.Masker`)."""

    def add_dsn(self, dsn: str) -> None: ...
    def add_url(self, url: str) -> None: ...
    def add_command(self, command: str | list[str]) -> None: ...
    def add_env(self, values: dict[str, str], unterminated: Any = ...) -> None: ...


class Place(Protocol):
    """What a source type's ``resolve`` may ask of the resolver it is called from."""

    def path(self, text: str) -> Path:
        """A path of the profile: ``~`` expanded, relative to the profile's folder."""
        ...

    def once(self, key: tuple[str, str], make: Callable[[], Any]) -> Any:
        """``make()`` the first time ``key`` is asked for in this run, the same value after (thread-safe)."""
        ...

    def secret(self, how: str, value: str) -> None:
        """Remember a secret read while resolving (``how``: ``dsn`` or ``url``) for the report's masker."""
        ...

    @property
    def timezone(self) -> str | None:
        """The profile's ``timezone``."""
        ...


class SourceType(Protocol):
    """A kind of data source (databases, logs, env files, endpoints...).

    Optional, looked up with ``getattr``: ``preflight(name, value, place) -> str | None`` (a reason to
    refuse the run before any check starts, such as an env file that is a FIFO), and for a plugin's
    type ``world(name, spec, workdir) -> value`` with ``WORLD_SCHEMA`` (the example worlds of its
    section: what to build, and the profile value that points at it; the built-in types' worlds are
    built by :mod:`diagnose.world.build`) and ``close_world(value)``, called when the world closes,
    also after a later part failed (a ``world()`` that fails itself cleans up what it started).
    """

    #: the profile's section and ``pack.yaml``'s ``sources`` key: ``databases``
    SECTION: str
    #: the field a check names one with: ``database: trading``
    FIELD: str
    #: one of them in a sentence: ``database``, ``env file``
    NOUN: str
    #: the flag that gives or overrides one: ``--dsn`` (``NAME=VALUE``), and its help
    FLAG: str
    METAVAR: str
    HELP: str
    #: JSON Schema of one value in the profile (``databases: {trading: <this>}``)
    SCHEMA: dict[str, Any]

    def resolve(self, name: str, value: Any, where: str, place: Place) -> Any:
        """What check kinds read for the profile ``value`` of source ``name`` (SkipCheck when it cannot be
        used here, CheckError when it is broken); ``where`` names it in messages."""
        ...

    def secrets(self, value: Any, masker: Masker, path_of: Callable[[str], Path] | None) -> None:
        """Teach ``masker`` every secret ``value`` holds (also for a profile that failed validation)."""
        ...


def expand(value: str, where: str) -> str:
    """Expand ``${VAR}`` and ``${VAR:-default}``; an unset variable skips the check that needs it."""

    def sub(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise SkipCheck(f"{where} uses ${{{name}}}, which is not set in the environment")

    return _VAR.sub(sub, value)


def expanded(value: Any) -> str | None:
    """``value`` expanded when it is text whose variables are all set, else None (for learning secrets)."""
    try:
        return expand(value, "profile") if isinstance(value, str) else None
    except SkipCheck:
        return None
