"""Durations as knowledge packs write them (``90s``, ``15m``, ``1h``, ``2d``): log windows, SQL
window params, world file ages and ``--since``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

SINCE_PATTERN = r"^[0-9]+(s|m|h|d)$"
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: Any) -> timedelta | None:
    """``"15m"`` -> 15 minutes; ``None`` -> no window; ValueError for anything else."""
    if text is None:
        return None
    m = re.match(SINCE_PATTERN, str(text))
    if not m:
        raise ValueError(f"since {text!r} is not a duration like 90s, 15m, 1h or 2d")
    return timedelta(**{_UNITS[m.group(1)]: int(str(text)[:-1])})


def ago(delta: timedelta) -> str:
    """``3 days``, ``12 minutes``, ``40 seconds``: how long ago, as an operator says it."""
    seconds = max(0, int(delta.total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def since_note(window: timedelta, nominal: str) -> str:
    """What ``--since`` did to a window, said with the result it gave: ``counted over 12 minutes from
    --since, not 1h``."""
    return f"counted over {ago(window)} from --since, not {nominal}"


def interval_text(text: str) -> str:
    """``"7d"`` -> ``"7 days"``: a window as a PostgreSQL interval a person reads (manual commands)."""
    m = re.match(SINCE_PATTERN, str(text))
    if not m:
        raise ValueError(f"{text!r} is not a duration like 90s, 15m, 1h or 2d")
    n = int(str(text)[:-1])
    unit = _UNITS[m.group(1)]
    return f"{n} {unit if n != 1 else unit[:-1]}"
