"""Timestamp parsing over the formats real deployments write (see reference-stack "Log formats")."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from diagnose.logscan.timestamps import TimestampParser, UnknownTimezone, zone

UTC = timezone.utc
NOW = datetime(2026, 11, 21, 9, 0, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))


def parse(line: str, tz: str | None = "UTC", now: datetime = NOW) -> datetime | None:
    return TimestampParser(zone(tz), now).parse(line.encode())


@pytest.mark.parametrize("line, expected", [
    # Python logging
    ("2026-11-21 08:15:02,123 ERROR app.sync: position_sync_failed: boom",
     datetime(2026, 11, 21, 8, 15, 2, 123000, tzinfo=UTC)),
    # ISO 8601 with nanoseconds and Z, as docker compose --timestamps writes it
    ("backend-1  | 2026-11-21T08:15:02.123456789Z position_sync: checking BTCUSDT...",
     datetime(2026, 11, 21, 8, 15, 2, 123456, tzinfo=UTC)),
    # ISO with an offset
    ("2026-11-21T16:15:02+08:00 WebSocket disconnected", datetime(2026, 11, 21, 8, 15, 2, tzinfo=UTC)),
    ("2026-11-21T16:15:02.5+0800 x", datetime(2026, 11, 21, 8, 15, 2, 500000, tzinfo=UTC)),
    # PostgreSQL default prefix
    ("2026-11-21 08:15:02.123 UTC [4711] FATAL:  sorry, too many clients already",
     datetime(2026, 11, 21, 8, 15, 2, 123000, tzinfo=UTC)),
    # nginx / apache access log
    ('127.0.0.1 - - [21/Nov/2026:16:15:02 +0800] "GET /health HTTP/1.1" 200 2',
     datetime(2026, 11, 21, 8, 15, 2, tzinfo=UTC)),
    # nginx error log
    ("2026/11/21 08:15:02 [error] 7#7: upstream timed out", datetime(2026, 11, 21, 8, 15, 2, tzinfo=UTC)),
    # syslog / journald short
    ("Nov 21 08:15:02 host trading[123]: position_sync_failed: x", datetime(2026, 11, 21, 8, 15, 2, tzinfo=UTC)),
    ("Nov  1 08:15:02 host trading[123]: x", datetime(2026, 11, 1, 8, 15, 2, tzinfo=UTC)),
    # Chinese message after a compose prefix
    ("desk-1  | 2026-11-21 08:15:02,123 WARNING tq: 行情数据不足", datetime(2026, 11, 21, 8, 15, 2, 123000, tzinfo=UTC)),
])
def test_formats(line, expected):
    assert parse(line) == expected


def test_naive_time_is_read_in_the_configured_zone():
    assert parse("2026-11-21 16:15:02,000 INFO x", tz="Asia/Shanghai") == datetime(2026, 11, 21, 8, 15, 2, tzinfo=UTC)


def test_explicit_zone_wins_over_the_configured_one():
    assert parse("2026-11-21T08:15:02Z x", tz="Asia/Shanghai") == datetime(2026, 11, 21, 8, 15, 2, tzinfo=UTC)


def test_naive_time_without_a_zone_is_local_time():
    stamp = parse("2026-11-21 08:15:02,000 INFO x", tz=None)
    assert stamp == datetime(2026, 11, 21, 8, 15, 2).astimezone()
    assert stamp.tzinfo is not None


def test_syslog_year_is_the_previous_one_when_this_year_would_be_in_the_future():
    new_year = datetime(2027, 1, 1, 0, 5, tzinfo=UTC)
    assert parse("Dec 31 23:59:58 host x: y", now=new_year) == datetime(2026, 12, 31, 23, 59, 58, tzinfo=UTC)
    assert parse("Jan  1 00:04:00 host x: y", now=new_year) == datetime(2027, 1, 1, 0, 4, tzinfo=UTC)


def test_syslog_year_follows_the_configured_zone():
    # 2026-12-31 20:00 UTC is already 2027-01-01 04:00 in Shanghai
    now = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    stamp = parse("Jan  1 03:00:00 host x: y", tz="Asia/Shanghai", now=now)
    assert stamp == datetime(2027, 1, 1, 3, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize("line", [
    'INFO:     127.0.0.1:50412 - "GET /health HTTP/1.1" 200 OK',
    "Traceback (most recent call last):",
    "  File \"/app/sync.py\", line 12, in run",
    "2026-13-45 08:15:02,123 not a date",
    "",
])
def test_lines_without_a_timestamp(line):
    assert parse(line) is None


def test_timestamp_far_into_the_line_is_not_taken():
    assert parse("x" * 200 + " 2026-11-21 08:15:02,123 quoted later") is None


def test_invalid_utf8_around_a_timestamp():
    parser = TimestampParser(zone("UTC"), NOW)
    assert parser.parse(b"\xff\xfe 2026-11-21 08:15:02,123 \xc3") == datetime(2026, 11, 21, 8, 15, 2, 123000, tzinfo=UTC)


def test_unknown_zone_name_is_a_clear_error():
    with pytest.raises(UnknownTimezone, match="Mars/Olympus"):
        zone("Mars/Olympus")
