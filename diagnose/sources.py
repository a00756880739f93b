"""Resolved data sources: what a name in a check (``log: execution``) points to.

The target profile maps names to places; these small value types are what check kinds
receive from :meth:`diagnose.checks.base.Context.log` and friends.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
