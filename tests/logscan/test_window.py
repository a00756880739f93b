"""Where a ``since`` window starts, by binary search, and that starting there changes nothing.

``small``/``granule`` are set tiny so the search really runs on files of a few kilobytes.
The key property: a scan begun at the returned offset, with its carried time, finds exactly
the lines (text, time, byte offset), count and first/last times of a full scan with ``since``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from diagnose.logscan.scan import Want, compile_pattern, scan_many
from diagnose.logscan.timestamps import TimestampParser
from diagnose.logscan.window import Stamped, window_start

UTC = timezone.utc
NOW = datetime(2026, 11, 21, 9, 0, 0, tzinfo=UTC)
STAMPS = TimestampParser(UTC, NOW)
T0 = datetime(2026, 11, 21, 6, 0, 0, tzinfo=UTC)

STYLES = [  # whole seconds only, so that lines written in time order parse in time order
    lambda t: t.strftime("%Y-%m-%d %H:%M:%S,000 ERROR app.sync: ").encode(),
    lambda t: ("execution-1  | " + t.strftime("%Y-%m-%dT%H:%M:%S.000000000Z INFO ")).encode(),
    lambda t: t.strftime("%b %d %H:%M:%S trading-host execution[4711]: ").encode(),
    lambda t: t.strftime("%Y-%m-%d %H:%M:%S UTC [42] LOG:  ").encode(),
    lambda t: t.strftime('10.0.0.1 - - [%d/%b/%Y:%H:%M:%S +0000] "GET /').encode(),
]
BODIES = [b"position_sync_failed account=7", b"position_sync: checking BTCUSDT", b"ok", b"fail \xff\xfe",
          "行情数据不足".encode(), "持仓不足 fail".encode(), b"sync ok", b"", b"\xc3( invalid", b"FAIL twice fail"]
CONTINUATIONS = [b"Traceback (most recent call last):", b'  File "sync.py", line 7, in run',
                 b"PositionSyncError: position_sync_failed", "  行情数据不足".encode(), b"\xff\xfe\x00 fail", b""]
PATTERNS = ["position_sync_failed", "fail", "(?i)FAIL", "行情", r"\w+不足", "sync.*ok", "^$", r"^\s", r"ok\r?$"]


def timed_log(rng: random.Random, lines: int, continuation: float = 0.2) -> tuple[bytes, list[datetime]]:
    """Lines in time order (equal times too), some continuation lines, some CRLF; and the times."""
    out, times, t = [], [], T0
    for i in range(lines):
        if i and rng.random() < continuation:
            line = rng.choice(CONTINUATIONS)
        else:
            t += timedelta(seconds=rng.choice([0, 0, 1, 7, 60, 300]))
            times.append(t)
            line = rng.choice(STYLES)(t) + rng.choice(BODIES)
        out.append(line + (b"\r\n" if rng.random() < 0.3 else b"\n"))
    data = b"".join(out)
    return (data[:-1] if rng.random() < 0.3 else data), times


def write(tmp_path, data: bytes, name: str = "app.log") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def chunked(data: bytes, size: int):
    return [data[i:i + size] for i in range(0, len(data), size)]


def summary(results):
    return [(r.count, [(m.text, m.time, m.offset) for m in r.last], r.first_time, r.last_time) for r in results]


def full_scan(data: bytes, wants, chunk: int = 1 << 20):
    return scan_many(chunked(data, chunk), wants, stamps=STAMPS)


def from_window(data: bytes, start: Stamped, wants, chunk: int = 1 << 20):
    return scan_many(chunked(data[start.offset:], chunk), wants, stamps=STAMPS, offset=start.offset,
                     carried_time=start.time)


def wants_since(since: datetime, rng: random.Random | None = None):
    later = (lambda: timedelta(seconds=rng.choice([0, 0, 30, 600]))) if rng else (lambda: timedelta(0))
    return [Want(compile_pattern(p), since + later(), 10_000) for p in PATTERNS]


def test_window_scan_equals_full_scan_on_random_logs(tmp_path):
    searched = 0
    for seed in range(100):
        rng = random.Random(seed)
        data, times = timed_log(rng, rng.randrange(1, 300), continuation=rng.choice([0, 0.2, 0.6]))
        path = write(tmp_path, data)
        since = rng.choice([rng.choice(times), times[0], times[-1], times[0] - timedelta(minutes=1),
                            times[-1] + timedelta(seconds=1), T0 + timedelta(seconds=rng.randrange(0, 30000))])
        granule = rng.choice([1, 16, 64, 512])
        start = window_start(path, since, STAMPS, small=0, granule=granule)
        assert start is not None, seed   # the first line is timed and the file is in order
        assert start.offset == 0 or data[start.offset - 1:start.offset] == b"\n", seed
        wants = wants_since(since, rng)
        chunk = rng.choice([7, 64, 4096, 1 << 20])
        full = full_scan(data, wants, rng.choice([13, 1 << 20]))
        assert summary(from_window(data, start, wants, chunk)) == summary(full), seed
        searched += start.offset > 0
    assert searched > 35   # most runs really skipped a part of the file


def lines_of(minutes: list[int], body: bytes = b"position_sync_failed", eol: bytes = b"\n") -> bytes:
    return b"".join(STYLES[0](T0 + timedelta(minutes=m)) + body + eol for m in minutes)


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"])
def test_window_in_the_first_line_before_the_file_and_after_it(tmp_path, eol):
    data = lines_of(list(range(200)), eol=eol)
    path = write(tmp_path, data)
    wants = [Want(compile_pattern("position_sync_failed"), None, 3)]
    for since, count in ((at(0), 200), (at(-5), 200), (at(200), 0), (at(199) + timedelta(seconds=1), 0)):
        start = window_start(path, since, STAMPS, small=0, granule=32)
        wants = [Want(compile_pattern("position_sync_failed"), since, 3)]
        result = from_window(data, start, wants)
        assert result[0].count == count
        assert summary(result) == summary(full_scan(data, wants))
        if since <= at(0):
            assert start == Stamped(0, None)


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"])
def test_window_in_the_last_line_and_in_the_middle(tmp_path, eol):
    data = lines_of(list(range(400)), eol=eol)
    path = write(tmp_path, data)
    size = len(data) // 400
    for minute in (399, 398, 200, 1, 37):
        since = at(minute)
        start = window_start(path, since, STAMPS, small=0, granule=64)
        true_start = minute * size
        assert true_start - 64 - 2 * size <= start.offset < true_start   # the search narrowed it down
        assert start.time == at(start.offset // size)
        wants = [Want(compile_pattern("position_sync_failed"), since, 2)]
        result = from_window(data, start, wants)
        assert result[0].count == 400 - minute and result[0].first_time == since
        assert [m.offset for m in result[0].last] == [size * i for i in range(max(398, minute), 400)]
        assert summary(result) == summary(full_scan(data, wants))


def test_continuation_lines_between_the_probes(tmp_path):
    """Each record is one timed line and many untimed ones: probes land in the untimed ones."""
    record = [b"Traceback (most recent call last):", b"  position_sync_failed \xff", "  行情数据不足".encode()] * 5
    data = b"".join(STYLES[0](at(m)) + b"boom\n" + b"\n".join(record) + b"\r\n" for m in range(120))
    path = write(tmp_path, data)
    for minute in (0, 1, 59, 60, 119, 120):
        since = at(minute) - timedelta(seconds=30)
        start = window_start(path, since, STAMPS, small=0, granule=16)
        assert start is not None
        wants = [Want(compile_pattern(p), since, 50) for p in ("position_sync_failed", "行情", "boom")]
        assert summary(from_window(data, start, wants, 64)) == summary(full_scan(data, wants, 64))


def test_tail_of_untimed_lines_after_the_last_timed_line(tmp_path):
    data = lines_of(list(range(100))) + b"  position_sync_failed in a traceback\n" * 30
    path = write(tmp_path, data)
    for since in (at(99), at(99) + timedelta(seconds=1), at(50)):
        start = window_start(path, since, STAMPS, small=0, granule=16)
        wants = [Want(compile_pattern("position_sync_failed"), since, 5)]
        assert summary(from_window(data, start, wants)) == summary(full_scan(data, wants))
    assert from_window(data, start, wants)[0].count == 50 + 30


def test_small_files_are_read_from_the_start(tmp_path):
    path = write(tmp_path, lines_of(list(range(50))))
    assert window_start(path, at(40), STAMPS, small=1 << 20) == Stamped(0, None)
    assert window_start(path, at(40), STAMPS) == Stamped(0, None)   # the real threshold: megabytes


@pytest.mark.parametrize("first", [b"starting up, no time here\n", b"\n", "启动\n".encode()])
def test_untimed_first_line_means_full_scan(tmp_path, first):
    path = write(tmp_path, first + lines_of(list(range(100))))
    assert window_start(path, at(50), STAMPS, small=0, granule=16) is None


def test_no_timestamps_at_all_means_full_scan(tmp_path):
    path = write(tmp_path, b"position_sync_failed\n" * 500)
    assert window_start(path, at(50), STAMPS, small=0, granule=16) is None


@pytest.mark.parametrize("middle", [-120, 600])   # older than the first line / newer than the last
def test_out_of_order_samples_mean_full_scan(tmp_path, middle):
    data = lines_of([0] * 10 + [middle] * 300 + [100] * 10)
    path = write(tmp_path, data)
    assert window_start(path, at(50), STAMPS, small=0, granule=16) is None


def test_first_line_newer_than_the_last_means_full_scan(tmp_path):
    path = write(tmp_path, lines_of([100] * 50 + [0] * 50))
    assert window_start(path, at(50), STAMPS, small=0, granule=16) is None


def test_one_line_filling_the_tail_means_full_scan(tmp_path):
    data = lines_of(list(range(100))) + STYLES[0](at(100)) + b"dump " + b"z" * (200 << 10)
    path = write(tmp_path, data)
    assert window_start(path, at(50), STAMPS, small=0, granule=16) is None


def test_lines_straddling_the_probe_reads(tmp_path):
    """Lines longer than a probe's read: the search must still land on line starts."""
    rng = random.Random(7)
    data = b"".join(STYLES[0](at(m)) + b"position_sync_failed " + b"y" * rng.randrange(0, 150_000) + b"\n"
                    for m in range(40))
    path = write(tmp_path, data)
    searched = 0
    for minute in (1, 20, 39):
        start = window_start(path, at(minute), STAMPS, small=0, granule=1024)
        if start is not None:
            searched += start.offset > 0
            assert start.offset == 0 or data[start.offset - 1:start.offset] == b"\n"
            wants = [Want(compile_pattern("position_sync_failed"), at(minute), 5)]
            assert summary(from_window(data, start, wants, 1 << 16)) == summary(full_scan(data, wants, 1 << 16))
    assert searched
