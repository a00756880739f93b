"""A world at another moment: Saturday afternoon, 04:00 at night, just before midnight UTC.

Whether "no tick for an hour" is a fault depends on when it is: a healthy desk is silent on a
Saturday. To prove that a deployment is judged against the exchange's own schedule, a world
can be built at a chosen moment, whatever the real clock says, with libfaketime (Debian's
``libfaketime``): the throwaway PostgreSQL server and the ``diagnose`` process both run with
the same offset from the real time (``FAKETIME=+Ns``), so their clocks agree with each other
and with the world's ``{now-N}`` times, and both keep ticking. The monotonic clock is left
alone (``DONT_FAKE_MONOTONIC``), so timeouts measure real time.

A world names its moment in ``clock: {at: "2026-12-05 14:00", timezone: Asia/Shanghai}``;
:class:`FakeClock` gives the environment a server or a process needs to live at it.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

LIBRARY_GLOBS = ("/usr/lib/*/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1",
                 "/usr/local/lib/faketime/libfaketime.so.1")
INSTALL_HINT = "install Debian's libfaketime (apt-get install libfaketime)"


class ClockUnavailable(RuntimeError):
    """libfaketime is not installed: a world at another moment cannot be built here."""


def library() -> str | None:
    """Where libfaketime is, if it is installed."""
    found = sorted(p for pattern in LIBRARY_GLOBS for p in glob.glob(pattern))
    return found[0] if found else None


def moment(spec: dict) -> datetime | None:
    """The aware moment a world's ``clock:`` names (``at`` is a local time in ``timezone``), or None."""
    if not spec or not spec.get("at"):
        return None
    zone = ZoneInfo(spec.get("timezone") or "UTC")
    return datetime.fromisoformat(str(spec["at"])).replace(tzinfo=zone)


@dataclass(frozen=True)
class FakeClock:
    """Processes that live at ``at``: the offset from the real clock, fixed when this is made."""

    at: datetime
    offset: int          # whole seconds added to the real time

    @classmethod
    def at_moment(cls, at: datetime) -> FakeClock:
        if library() is None:
            raise ClockUnavailable(f"a world at {at.isoformat()} needs libfaketime: {INSTALL_HINT}")
        return cls(at, round((at - datetime.now(timezone.utc)).total_seconds()))

    @property
    def env(self) -> dict[str, str]:
        """Environment of a process (a server, the CLI) that must live at this moment."""
        return {"LD_PRELOAD": library() or "", "FAKETIME": f"{self.offset:+d}s", "DONT_FAKE_MONOTONIC": "1",
                "FAKETIME_DONT_RESET": "1"}

    def now(self) -> datetime:
        """The faked moment now, as those processes see it."""
        from datetime import timedelta

        return datetime.now(timezone.utc) + timedelta(seconds=self.offset)
