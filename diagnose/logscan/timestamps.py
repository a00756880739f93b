"""The time of a log line, found near its start whatever prefix comes first.

Real deployments vary the prefix (``backend-1  | ``, a hostname, a level) and the format, so
the formats below are searched for anywhere in the first :data:`HEAD_BYTES` bytes:

* Python logging ``2026-11-21 08:15:02,123`` and ISO 8601 ``2026-11-21T08:15:02.123456789Z``,
  ``...+08:00`` or without a zone (docker ``--timestamps``, journald ``short-iso``);
  ``2026/11/21 08:15:02`` (nginx error log, Go) too;
* PostgreSQL ``2026-11-21 08:15:02.123 UTC``;
* syslog / journald ``Nov 21 08:15:02`` (no year: the year of *now*, or the one before when
  that would put the line in the future);
* nginx / apache access logs ``[21/Nov/2026:08:15:02 +0000]``.

Times without a zone are read in the log's configured zone (``LogSpec.timezone``) or, by
default, local time. Everything returned is timezone-aware.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo

#: how far into a line a timestamp is looked for
HEAD_BYTES = 160

_MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1)}
_MON = b"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"

_STAMP = re.compile(
    rb"(?<!\d)(?P<Y>\d{4})[-/](?P<m>\d{2})[-/](?P<d>\d{2})[T ](?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2})"
    rb"(?:[.,](?P<f>\d{1,9}))?(?:\s?(?P<z>Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)(?![A-Za-z0-9]))?"
    rb"|\[(?P<cd>\d{2})/(?P<cb>" + _MON + rb")/(?P<cY>\d{4}):(?P<cH>\d{2}):(?P<cM>\d{2}):(?P<cS>\d{2})"
    rb"\s(?P<cz>[+-]\d{4})\]"
    rb"|(?<![A-Za-z])(?P<sb>" + _MON + rb")\s{1,2}(?P<sd>\d{1,2})\s(?P<sH>\d{2}):(?P<sM>\d{2}):(?P<sS>\d{2})(?!\d)"
)

_FRACTION = _STAMP.groupindex["f"] - 1   # position of the fraction in ``Match.groups()``
_CACHE_SIZE = 4096

#: how far in the future a year-less (syslog) time may be before it is taken as last year's
_SYSLOG_SLACK = timedelta(days=1)


class UnknownTimezone(ValueError):
    """The configured zone name is not a known IANA zone."""


def zone(name: str | None) -> tzinfo | None:
    """The tzinfo for a zone name (``Asia/Shanghai``, ``UTC``); ``None`` means local time."""
    if not name:
        return None
    if name.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimezone(f"unknown timezone {name!r} (use an IANA name such as Asia/Shanghai)") from exc


def _offset(text: bytes) -> tzinfo:
    """``Z``/``UTC``/``GMT``, ``+08``, ``+0800`` or ``+08:00`` as a fixed offset."""
    if text in (b"Z", b"UTC", b"GMT"):
        return timezone.utc
    digits = text[1:].replace(b":", b"")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
    return timezone(timedelta(minutes=-minutes if text[:1] == b"-" else minutes))


class TimestampParser:
    """Finds and parses line timestamps; naive ones are read in ``tz`` (None = local time).

    ``now`` (aware) decides the year of syslog lines, which carry none.
    """

    def __init__(self, tz: tzinfo | None, now: datetime):
        self.tz = tz
        self.now = now
        self._cache: dict[tuple, datetime | None] = {}

    def _aware(self, naive: datetime, zone_text: bytes | None) -> datetime:
        if zone_text:
            return naive.replace(tzinfo=_offset(zone_text))
        if self.tz is None:
            return naive.astimezone()  # a naive datetime is taken as local time
        return naive.replace(tzinfo=self.tz)

    def parse(self, head: bytes) -> datetime | None:
        """The first timestamp in the first :data:`HEAD_BYTES` of ``head``, or ``None``.

        Times are cached to the second (consecutive lines share them): building an aware
        datetime is what costs, not finding it."""
        m = _STAMP.search(head, 0, HEAD_BYTES)
        if m is None:
            return None
        groups = m.groups()
        key = groups[:_FRACTION] + groups[_FRACTION + 1:]
        try:
            stamp = self._cache[key]
        except KeyError:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            stamp = self._cache[key] = self._to_second(m)
        fraction = groups[_FRACTION]
        if stamp is not None and fraction and fraction.strip(b"0"):
            stamp = stamp.replace(microsecond=int(fraction[:6].ljust(6, b"0")))
        return stamp

    def _to_second(self, m: re.Match) -> datetime | None:
        try:
            if m.group("Y") is not None:
                naive = datetime(int(m["Y"]), int(m["m"]), int(m["d"]), int(m["H"]), int(m["M"]), int(m["S"]))
                return self._aware(naive, m.group("z"))
            if m.group("cY") is not None:
                naive = datetime(int(m["cY"]), _MONTHS[m["cb"].decode()], int(m["cd"]), int(m["cH"]),
                                 int(m["cM"]), int(m["cS"]))
                return self._aware(naive, m.group("cz"))
            return self._syslog(m)
        except ValueError:  # 2026-13-45 and friends: not a time after all
            return None

    def _syslog(self, m: re.Match) -> datetime | None:
        month, day = _MONTHS[m["sb"].decode()], int(m["sd"])
        clock = (int(m["sH"]), int(m["sM"]), int(m["sS"]))
        local_now = self.now.astimezone(self.tz) if self.tz else self.now.astimezone()
        for year in (local_now.year, local_now.year - 1):
            try:
                stamp = self._aware(datetime(year, month, day, *clock), None)
            except ValueError:  # 29 Feb in a year without one
                continue
            if stamp <= self.now + _SYSLOG_SLACK:
                return stamp
        return None
