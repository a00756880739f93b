"""``{now-50m}`` placeholders in example logs: timestamps relative to the moment a world is built."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

PLACEHOLDER = re.compile(r"\{now(?:([+-])(\d+)([smhd]))?(?::(\w+))?\}")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
FORMATS = {
    "log": lambda t: t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}",   # Python logging
    "iso": lambda t: t.isoformat(timespec="microseconds"),                                # docker --timestamps
    "pg": lambda t: t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d} " + (t.strftime("%Z") or "UTC"),
    "syslog": lambda t: t.strftime("%b %d %H:%M:%S"),
}


def fill(text: str, now: datetime, zone: tzinfo | None = None) -> str:
    """Replace each ``{now[-+]N[smhd][:format]}`` with a timestamp in ``zone`` (default: this host's
    local time; formats: log, iso, pg, syslog)."""

    def sub(match: re.Match) -> str:
        sign, amount, unit, fmt = match.groups()
        moment = now
        if amount:
            delta = timedelta(**{UNITS[unit]: int(amount)})
            moment = now - delta if sign == "-" else now + delta
        return FORMATS.get(fmt or "log", FORMATS["log"])(moment.astimezone(zone))

    return PLACEHOLDER.sub(sub, text)
