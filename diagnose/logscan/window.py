"""Where a time window begins in a log file, found by binary search instead of reading it all.

Logs are written in time order, so ``since: 1h`` over a 7-day file needs its last hour only:
:func:`window_start` seeks to the middle, resyncs to the next line start, reads that line's
time and halves the range until it is small (~20 reads of 64 KiB for a gigabyte). The scan
then starts at a line known to be older than the window and still filters every line by
time, so the lines it counts are exactly those a full scan counts.

It answers ``None`` - read the whole file - whenever the shortcut could be wrong: the first
line carries no time (lines before any time count in a full scan), a probe finds no time
(no timestamps the parser knows), or the times it samples are out of order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from .timestamps import HEAD_BYTES, TimestampParser

#: files smaller than this are read whole: seeking would not save anything worth having
SMALL = 4 << 20
#: the search stops when the window's start is known to within this many bytes
GRANULE = 64 << 10
#: bytes read at each probe; a probe that finds no line start in this many gives up
PROBE = 64 << 10
MAX_PROBE = 1 << 20


@dataclass(frozen=True)
class Stamped:
    """A line with a time: where it starts in the file, and the time."""

    offset: int
    time: datetime | None   # None only for offset 0: no line comes before


def window_start(source, since: datetime, stamps: TimestampParser,
                 small: int = SMALL, granule: int = GRANULE) -> Stamped | None:
    """A line start before which every line is older than ``since``, with its time (the time
    of the lines before it); offset 0 means "from the start". ``None``: scan the whole file
    and filter by time (it cannot be trusted to be in order). ``small``/``granule`` are
    parameters so tests can exercise the search on small files. ``source``: a path, or a
    binary file open for reading (the one the scan will then read)."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            return window_start(f, since, stamps, small, granule)
    f = source
    size = os.fstat(f.fileno()).st_size
    if size < small:
        return Stamped(0, None)
    first = _stamped_at(f, 0, stamps)
    last = _last_stamped(f, size, stamps)
    if first is None or first.offset != 0 or last is None:
        return None
    lo_time, hi_time = first.time, last.time
    assert lo_time is not None and hi_time is not None   # both found by their time
    if lo_time > hi_time:
        return None
    if since <= lo_time:
        return Stamped(0, None)
    if hi_time < since:
        return last
    lo, hi_pos = first, size
    while hi_pos - lo.offset > granule:
        mid = (lo.offset + hi_pos) // 2
        probe = _stamped_at(f, mid, stamps)
        if probe is None or probe.offset >= hi_pos:
            hi_pos = mid   # nothing timed between here and hi: the start stays at lo, safely
            continue
        probe_time = probe.time
        assert probe_time is not None   # found by its time
        if probe_time < lo_time or probe_time > hi_time:
            return None    # out of order: the search would not be exact
        if probe_time < since:
            lo, lo_time = probe, probe_time
        else:
            hi_pos, hi_time = mid, probe_time
    return lo


def _stamped_at(f, pos: int, stamps: TimestampParser) -> Stamped | None:
    """The first timed line starting at or after ``pos`` (resynced to a line start), if one
    begins within :data:`PROBE` bytes of the first line start."""
    f.seek(pos)
    data = f.read(PROBE)
    start = 0
    if pos > 0:
        cut = data.find(b"\n")
        while cut < 0 and len(data) < MAX_PROBE:
            more = f.read(PROBE)
            if not more:
                return None
            data += more
            cut = data.find(b"\n")
        if cut < 0:
            return None
        start = cut + 1
        if len(data) - start < PROBE:
            data += f.read(PROBE)
    limit = min(len(data), start + PROBE)
    while start < limit:
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        stamp = stamps.parse(data[start:min(end, start + HEAD_BYTES)])
        if stamp is not None:
            return Stamped(pos + start, stamp)
        start = end + 1
    return None


def _last_stamped(f, size: int, stamps: TimestampParser) -> Stamped | None:
    """The last timed line of the file, if it starts within the last :data:`PROBE` bytes."""
    begin = max(0, size - PROBE)
    f.seek(begin)
    data = f.read(size - begin)
    found = None
    start = 0 if begin == 0 else data.find(b"\n") + 1
    if begin and start == 0:
        return None    # one line fills the tail: no line start to trust
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        stamp = stamps.parse(data[start:min(end, start + HEAD_BYTES)])
        if stamp is not None:
            found = Stamped(begin + start, stamp)
        start = end + 1
    return found
