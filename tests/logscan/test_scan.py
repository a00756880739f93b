"""The streaming matcher against a plain line-by-line reference, over many random inputs."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from diagnose.logscan.scan import compile_pattern, line_text, scan
from diagnose.logscan.timestamps import TimestampParser

UTC = timezone.utc
NOW = datetime(2026, 11, 21, 9, 0, 0, tzinfo=UTC)
STAMPS = TimestampParser(UTC, NOW)


def chunked(data: bytes, size: int):
    return [data[i:i + size] for i in range(0, len(data), size)]


def reference(data: bytes, pattern, stamps=None, since=None):
    """What grep -c would count, line by line: (count, [(line, text, time)]) - slow but obvious."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    found, last_time = [], None
    for number, line in enumerate(lines, 1):
        stamp = stamps.parse(line) if stamps else None
        if stamp is not None:
            last_time = stamp
        subject = line.decode("utf-8", "surrogateescape") if pattern.decodes else line
        if pattern.regex.search(subject):
            stamp = stamp or last_time
            if since is not None and stamp is not None and stamp < since:
                continue
            found.append((number, line_text(line), stamp))
    return len(found), found


def fast(data: bytes, pattern, chunk: int, keep: int = 10_000, **kw):
    result = scan(chunked(data, chunk), pattern, keep_last=keep, **kw)
    return result.count, [(m.line, m.text, m.time) for m in result.last]


# -- building blocks of random logs ---------------------------------------------------------------
def stamp_prefix(rng: random.Random) -> bytes:
    t = NOW - timedelta(seconds=rng.randrange(0, 7200))
    return rng.choice([
        t.strftime("%Y-%m-%d %H:%M:%S,123 ERROR app: ").encode(),
        ("execution-1  | " + t.strftime("%Y-%m-%dT%H:%M:%S.123456789Z ")).encode(),
        t.strftime("%b %d %H:%M:%S host trading[42]: ").encode(),
        b"", b"  ", b"Traceback: ",
    ])


WORDS = [b"position_sync_failed", b"ok", b"fail", "行情数据不足".encode(), "持仓不足".encode(), b"\xff\xfe",
         b"\r", b"a", b"b", b" ", b"xxx", b"FAIL", "锁仓下单接口未实现".encode(), b"2026", b"sync"]


def random_log(rng: random.Random, lines: int, long_lines: bool = False) -> bytes:
    out = []
    for _ in range(lines):
        words = [rng.choice(WORDS) for _ in range(rng.randrange(0, 6))]
        if long_lines and rng.random() < 0.2:
            words.insert(rng.randrange(len(words) + 1), b"y" * rng.randrange(100, 400))
        out.append(stamp_prefix(rng) + b"".join(words))
    data = b"\n".join(out)
    return data if rng.random() < 0.5 else data + b"\n"


SHORT_LINE_PATTERNS = ["position_sync_failed", "fail", "^2026", "ok$", "行情", "[行情]数据", r"\w+不足",
                       r"a\sb", "x{3}", "^$", ".", "sync.*ok", "(?i)FAIL", r"\bfail", "锁仓.*未实现", r"ok\r$"]
BOUNDED_PATTERNS = ["position_sync_failed", "fail", "^2026", "ok$", "行情", "[行情]数据", r"a\sb", "x{3}",
                    "^$", "(?i)FAIL", r"\bfail", "y{5}ok", r"ok\r$"]


@pytest.mark.parametrize("pattern_text", SHORT_LINE_PATTERNS)
def test_chunked_scan_equals_line_by_line(pattern_text):
    rng = random.Random(pattern_text)
    pattern = compile_pattern(pattern_text)
    for _ in range(60):
        data = random_log(rng, rng.randrange(0, 25))
        chunk = rng.randrange(1, 80)
        assert fast(data, pattern, chunk, max_line=1024) == reference(data, pattern), (data, chunk)


@pytest.mark.parametrize("pattern_text", BOUNDED_PATTERNS)
def test_over_long_lines_scanned_in_pieces_equal_line_by_line(pattern_text):
    rng = random.Random("long" + pattern_text)
    pattern = compile_pattern(pattern_text)
    for _ in range(60):
        data = random_log(rng, rng.randrange(0, 15), long_lines=True)
        chunk = rng.randrange(1, 90)
        assert fast(data, pattern, chunk, max_line=64, overlap=32) == reference(data, pattern), (data, chunk)


@pytest.mark.parametrize("pattern_text", ["fail", "行情", "^2026", "position_sync_failed"])
def test_window_equals_line_by_line(pattern_text):
    rng = random.Random("window" + pattern_text)
    pattern = compile_pattern(pattern_text)
    for _ in range(60):
        data = random_log(rng, rng.randrange(0, 25), long_lines=rng.random() < 0.3)
        since = NOW - timedelta(seconds=rng.randrange(0, 7200))
        chunk = rng.randrange(1, 120)
        got = fast(data, pattern, chunk, max_line=64, overlap=32, stamps=STAMPS, since=since)
        assert got == reference(data, pattern, STAMPS, since), (data, chunk, since)


def test_ascii_patterns_run_over_bytes_and_character_patterns_over_text():
    assert not compile_pattern("position_sync_failed").decodes
    assert not compile_pattern(r"status=5\d\d").decodes
    assert compile_pattern("行情数据不足").decodes
    assert compile_pattern(r"\w+ failed").decodes
    assert compile_pattern("a.b").decodes


def test_character_class_of_chinese_characters_matches_characters_not_bytes():
    data = "2026-11-21 08:00:00,000 WARNING tq: 行情数据不足\n2026-11-21 08:00:01,000 INFO 换月平仓接口未实现\n".encode()
    assert fast(data, compile_pattern("[行换]"), 7)[0] == 2
    # one character, not one byte: '.' stands for a whole Chinese character
    assert fast(data, compile_pattern("行.数据"), 7)[0] == 1
    assert fast(data, compile_pattern("(锁仓|换月平仓|换月开仓)接口未实现"), 5)[0] == 1


def test_a_match_spanning_a_newline_is_not_a_line_match():
    data = b"position\nsync\n"
    assert fast(data, compile_pattern(r"position\ssync"), 1 << 20) == (0, [])


def test_line_numbers_are_one_based_and_lines_counted_once():
    data = b"fail fail fail\nok\nfail\n"
    assert fast(data, compile_pattern("fail"), 4) == (2, [(1, "fail fail fail", None), (3, "fail", None)])


def test_last_line_without_newline_counts():
    assert fast(b"ok\nfail", compile_pattern("fail$"), 3) == (1, [(2, "fail", None)])


def test_crlf_is_stripped_from_evidence_and_invalid_utf8_is_replaced():
    data = b"2026-11-21 08:00:00,000 ERROR \xff position_sync_failed\r\nok\r\n"
    count, found = fast(data, compile_pattern("position_sync_failed"), 9)
    assert count == 1
    assert found[0][1] == "2026-11-21 08:00:00,000 ERROR \ufffd position_sync_failed"
    count, found = fast(data, compile_pattern("行|position_sync_failed"), 9)
    assert found[0][1].endswith("\ufffd position_sync_failed")


def test_multi_megabyte_line_without_newline_is_found_with_bounded_carry():
    huge = b"2026-11-21 08:59:00,000 ERROR dump: " + b"z" * (3 << 20) + b" position_sync_failed " + b"z" * (2 << 20)
    data = b"first line\n" + huge + b"\nlast line\n"
    pattern = compile_pattern("position_sync_failed")
    chunks = chunked(data, 64 * 1024)
    from diagnose.logscan import scan as scan_module

    scanner = scan_module._Scanner([scan_module.Want(pattern, None, 5)], STAMPS, max_line=256 * 1024, overlap=4096)
    biggest = 0
    for chunk in chunks:
        scanner.feed(chunk)
        biggest = max(biggest, len(scanner.pending))
    result = scanner.finish()[0]
    assert result.count == 1
    assert result.last[0].line == 2
    assert result.last[0].text == "2026-11-21 08:59:00,000 ERROR dump: …"  # the unbroken token is not kept in part
    assert result.last[0].time == datetime(2026, 11, 21, 8, 59, tzinfo=UTC)
    assert result.lines == 3
    assert biggest <= 256 * 1024 + 64 * 1024  # the carry never holds the whole 5 MB line


def test_match_straddling_pieces_of_a_long_line():
    data = b"y" * 1000 + b"position_sync_failed" + b"y" * 1000 + b"\n"
    pattern = compile_pattern("position_sync_failed")
    for chunk in (7, 64, 1009, 1010, 1011):
        assert fast(data, pattern, chunk, max_line=64, overlap=32)[0] == 1


def test_dollar_at_an_artificial_piece_end_does_not_count():
    for chunk in range(70, 90):  # the first piece ends right after "fail"; the line goes on
        data = b"y" * (chunk - 4) + b"fail" + b"zz\n"
        assert fast(data, compile_pattern("fail$"), chunk, max_line=64, overlap=16)[0] == 0
        assert fast(data, compile_pattern("failz"), chunk, max_line=64, overlap=16)[0] == 1


def test_continuation_line_takes_the_time_of_the_closest_earlier_stamped_line():
    data = (b"2026-11-21 07:00:00,000 ERROR x: boom\nTraceback (most recent call last):\n  position_sync_failed\n"
            b"2026-11-21 08:50:00,000 ERROR x: boom\nTraceback (most recent call last):\n  position_sync_failed\n")
    pattern = compile_pattern("position_sync_failed")
    since = NOW - timedelta(hours=1)
    for chunk in (1, 10, 50, 1 << 20):
        count, found = fast(data, pattern, chunk, stamps=STAMPS, since=since)
        assert count == 1 and found[0][0] == 6
        assert found[0][2] == datetime(2026, 11, 21, 8, 50, tzinfo=UTC)


def test_line_without_any_earlier_time_is_counted():
    result = scan([b"position_sync_failed\n"], compile_pattern("position_sync_failed"), stamps=STAMPS,
                  since=NOW - timedelta(minutes=1))
    assert result.count == 1 and result.first_time is None


def test_window_starting_at_the_first_or_the_last_line():
    lines = [f"2026-11-21 08:{m:02d}:00,000 ERROR x: position_sync_failed {m}" for m in (10, 20, 30)]
    data = "\n".join(lines).encode() + b"\n"
    pattern = compile_pattern("position_sync_failed")
    at_first = scan([data], pattern, stamps=STAMPS, since=datetime(2026, 11, 21, 8, 10, tzinfo=UTC))
    at_last = scan([data], pattern, stamps=STAMPS, since=datetime(2026, 11, 21, 8, 30, tzinfo=UTC))
    after_last = scan([data], pattern, stamps=STAMPS, since=datetime(2026, 11, 21, 8, 30, 1, tzinfo=UTC))
    assert (at_first.count, at_last.count, after_last.count) == (3, 1, 0)
    assert at_first.first_time == datetime(2026, 11, 21, 8, 10, tzinfo=UTC)
    assert at_first.last_time == at_last.first_time == datetime(2026, 11, 21, 8, 30, tzinfo=UTC)


def test_only_the_last_matches_are_kept():
    data = b"".join(b"fail %d\n" % i for i in range(1000))
    result = scan(chunked(data, 100), compile_pattern("fail"), keep_last=3)
    assert result.count == 1000
    assert [m.line for m in result.last] == [998, 999, 1000]


def test_on_chunk_runs_before_every_chunk():
    calls = []
    scan(chunked(b"a\n" * 100, 10), compile_pattern("a"), on_chunk=lambda: calls.append(1))
    assert len(calls) == 20


def test_evidence_text_of_a_long_line_is_cut_at_a_word_boundary():
    """Kept up to TEXT_CHARS (for the report to mask whole, then clip), cut where no token is split."""
    from diagnose.logscan.longlines import TEXT_CHARS

    result = scan([b"fail " + b"q" * 20000 + b"\n"], compile_pattern("fail"))
    assert result.last[0].text == "fail …"  # the unbroken token is not kept in part
    result = scan([b"fail " + b"word " * 5000 + b"\n"], compile_pattern("fail"))
    text = result.last[0].text
    assert text.endswith("word …") and len(text) <= TEXT_CHARS + 1
