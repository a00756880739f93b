"""ripgrep finds the candidates, Python decides: results equal the Python engine's, exactly.

Compared on real files: the count, the last N (line number, text, offset, time), the first
and last time, for several patterns at once. Both are also held to a line-by-line reference
(the pattern searched in each line without its newline, grep's meaning of a match).
"""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta, timezone

import pytest

from diagnose.checks.base import CheckError, Context
from diagnose.logscan import files, ripgrep
from diagnose.logscan.engine import scan_log
from diagnose.logscan.literals import prefilter_literals
from diagnose.logscan.scan import MAX_LINE, Want, compile_pattern, line_text, scan_many
from diagnose.logscan.timestamps import TimestampParser
from diagnose.sources import LogSpec

RG = ripgrep.rg_binary()
pytestmark = pytest.mark.skipif(RG is None, reason="ripgrep is not installed (or DIAGNOSE_LOGSCAN=plain)")

UTC = timezone.utc
NOW = datetime(2026, 11, 21, 9, 0, 0, tzinfo=UTC)
STAMPS = TimestampParser(UTC, NOW)

# (pattern, ignore_case): each has a prefilter literal, so ripgrep may take it
PATTERNS = [("position_sync_failed", False), ("fail", False), ("(?i)FAIL", False), ("(?i)FRAME", False), ("websocket down", True),
            ("行情数据", False), (r"行情数\w+", False), (r"\bfail\w*", False), ("sync.*ok", False),
            ("(Connection reset|ECONNRESET)", False), (r"ok\r$", False), (r"^\s+at ", False),
            ("x12", False), ("Traceback", False), ("fail$", False), (r"fail \d+", False)]

PREFIXES = [lambda t: t.strftime("%Y-%m-%d %H:%M:%S,123 ERROR app: ").encode(),
            lambda t: ("execution-1  | " + t.strftime("%Y-%m-%dT%H:%M:%S.123456789Z ")).encode(),
            lambda t: t.strftime("%b %d %H:%M:%S host trading[42]: ").encode()]
WORDS = [b"position_sync_failed", b"ok", b"fail", b"FAIL", b"Fail", "行情数据不足".encode(), "行情".encode(),
         b"\xff\xfe", b"\x00", b"\x00\x00x", b"\r", b" ", b"sync", b"WebSocket DOWN", b"websocket down",
         b"Connection reset", b"ECONNRESET", b"  at frame", b"\xe8\xa1", b"x", b"12", b":", b"Traceback"]


def random_log(rng: random.Random, lines: int) -> bytes:
    out = []
    for _ in range(lines):
        words = b"".join(rng.choice(WORDS) for _ in range(rng.randrange(0, 6)))
        head = rng.choice(PREFIXES)(NOW - timedelta(seconds=rng.randrange(7200))) if rng.random() < 0.7 else b""
        out.append(head + words + (b"\r\n" if rng.random() < 0.3 else b"\n"))
    data = b"".join(out)
    return data[:-1] if data and rng.random() < 0.3 else data


def wants_of(patterns, keep: int) -> list[Want]:
    return [Want(compile_pattern(p, i), None, keep) for p, i in patterns]


def context() -> Context:
    return Context(timeout=30, now=NOW, resolve=lambda kind, name: None)


def rg_scan(path: str, wants: list[Want]):
    literals = [prefilter_literals(w.pattern) for w in wants]
    assert all(literals)
    ctx = context()
    return ripgrep.scan_file(RG, path, wants, literals, STAMPS,
                             lambda argv, **kw: files.command_chunks("app", argv, ctx, **kw))


def plain_scan(path: str, wants: list[Want]):
    return scan_many(files.file_chunks("app", path), wants, stamps=STAMPS)


def summary(results):
    return [(r.count, [(m.line, m.text, m.offset, m.time) for m in r.last], r.first_time, r.last_time)
            for r in results]


def reference(data: bytes, wants: list[Want]):
    """Line by line, a line's time its own or the closest earlier one's (whole file, no window)."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    out = []
    for want in wants:
        found, last_time, offset = [], None, 0
        for number, line in enumerate(lines, 1):
            last_time = STAMPS.parse(line) or last_time
            if want.pattern.search_line(line):
                found.append((number, line_text(line), offset, last_time))
            offset += len(line) + 1
        times = [t for *_, t in found if t is not None]
        out.append((len(found), found[-want.keep:] if want.keep else [],
                    times[0] if times else None, times[-1] if times else None))
    return out


def test_random_logs_equal_the_python_engine_and_the_reference(tmp_path):
    path = str(tmp_path / "app.log")
    for seed in range(80):
        rng = random.Random(seed)
        data = random_log(rng, rng.randrange(0, 60))
        with open(path, "wb") as f:
            f.write(data)
        wants = wants_of(rng.sample(PATTERNS, rng.randrange(1, 6)), rng.choice([0, 1, 3, 1000]))
        fast = summary(rg_scan(path, wants))
        assert fast == summary(plain_scan(path, wants)), seed
        assert fast == reference(data, wants), seed


@pytest.mark.parametrize("data", [b"", b"\n", b"\r\n\r\n", b"no match here\n", b"fail", b"x\nfail",
                                  b"2026-11-21 08:00:00,000 x\n\n  fail in a traceback\r\nfail\r",
                                  "行情数据不足\n".encode() + b"\xe8\xa1\xfffail\x00\n"])
def test_edge_files(tmp_path, data):
    path = tmp_path / "app.log"
    path.write_bytes(data)
    wants = wants_of([("fail", False), ("行情数据", False), ("(?i)FAIL IN A", False)], 5)
    assert summary(rg_scan(str(path), wants)) == summary(plain_scan(str(path), wants)) == reference(data, wants)


def test_continuation_line_times_are_read_back_from_the_file(tmp_path):
    data = (b"2026-11-21 07:00:00,000 ERROR x: boom\r\nTraceback (most recent call last):\n" + b"  at frame\n" * 50 +
            b"PositionSyncError: position_sync_failed\n2026-11-21 08:50:00,000 ERROR x: position_sync_failed\n")
    path = tmp_path / "app.log"
    path.write_bytes(data)
    wants = wants_of([("position_sync_failed", False), ("Traceback", False)], 5)
    fast = summary(rg_scan(str(path), wants))
    assert fast == summary(plain_scan(str(path), wants)) == reference(data, wants)
    assert fast[1][2] == datetime(2026, 11, 21, 7, 0, tzinfo=UTC)


def engine(path: str, wants: list[Want]):
    """Through :func:`scan_log`, which picks ripgrep or the Python engine and falls back."""
    spec = LogSpec("app", paths=(path,), timezone="UTC")
    return [[(label, summary([r])[0]) for label, r in per_want] for per_want in scan_log("app", spec, wants,
                                                                                             STAMPS, context())]


def test_matching_line_longer_than_max_line_falls_back_and_equals_plain(tmp_path, monkeypatch):
    huge = b"2026-11-21 08:59:00,000 ERROR dump: position_sync_failed " + b"z" * (2 * MAX_LINE) + b"\n"
    data = b"2026-11-21 08:58:00,000 position_sync_failed first\n" + huge + b"position_sync_failed last\n"
    path = str(tmp_path / "app.log")
    with open(path, "wb") as f:
        f.write(data)
    wants = wants_of([("position_sync_failed", False), ("dump", False)], 5)
    with pytest.raises(ripgrep.Unavailable, match="longer than"):
        rg_scan(path, wants)
    fast = engine(path, wants)
    monkeypatch.setenv("DIAGNOSE_LOGSCAN", "plain")
    assert ripgrep.rg_binary() is None
    assert fast == engine(path, wants)
    assert fast[0][0][1][0] == 3 and fast[1][0][1][0] == 1


def test_ripgrep_failure_falls_back_to_the_python_engine_and_its_error(tmp_path, monkeypatch):
    with pytest.raises(ripgrep.Unavailable, match="status 2"):
        rg_scan(str(tmp_path / "missing.log"), wants_of([("fail", False)], 5))
    if not os.path.isfile("/proc/self/mem"):
        pytest.skip("needs Linux /proc: a file that exists but cannot be read, even by root")
    wants = wants_of([("fail", False)], 5)
    with pytest.raises(CheckError) as fast:
        engine("/proc/self/mem", wants)
    monkeypatch.setenv("DIAGNOSE_LOGSCAN", "plain")
    with pytest.raises(CheckError) as plain:
        engine("/proc/self/mem", wants)
    assert str(fast.value) == str(plain.value) == "log 'app': cannot read /proc/self/mem: Input/output error"


def test_literal_with_a_newline_falls_back(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(b"abc\ndef\nabcdef\n")
    wants = wants_of([(r"abc\ndef", False), ("abcdef", False)], 5)
    assert engine(str(path), wants) == [[(str(path), r)] for r in reference(path.read_bytes(), wants)]


# -- disagreements these tests found (since fixed in the engine): kept as regression tests ----------
def three_ways(tmp_path, data: bytes, patterns):
    path = tmp_path / "app.log"
    path.write_bytes(data)
    wants = wants_of(patterns, 5)
    return summary(rg_scan(str(path), wants)), summary(plain_scan(str(path), wants)), reference(data, wants)


@pytest.mark.parametrize("pattern", [r"(?<=\s)fail", r"(fail|okay)(?=\s)", r"(fail|okay)\Z", r"(?<=\n)fail"])
def test_lookaround_at_line_edges(tmp_path, pattern):
    """A line is matched without its newline: lookarounds and \\Z at its edges see nothing."""
    fast, plain, ref = three_ways(tmp_path, b"x fail\nfail y\nxfail\n", [(pattern, False)])
    assert fast == ref and plain == ref


def test_same_literal_in_two_cases(tmp_path):
    """'fail' and caseless 'FAIL' each contain the other: ripgrep must still look for one."""
    data = b"x fail\nFAIL y\nok\n"
    fast, plain, ref = three_ways(tmp_path, data, [("fail", False), ("(?i)FAIL", False)])
    assert [r[0] for r in ref] == [1, 2] and fast == ref and plain == ref


def test_untimed_matches_before_the_first_timed_line(tmp_path):
    """first_time is the first match that has a time, not the time of the first match."""
    data = b"fail: banner before any time\n2026-11-21 08:00:00,000 ERROR fail\n"
    fast, plain, ref = three_ways(tmp_path, data, [("fail", False)])
    assert ref[0][2] == datetime(2026, 11, 21, 8, 0, tzinfo=UTC) and fast == ref and plain == ref


def test_byte_escape_above_ascii(tmp_path):
    """r'caf\\xe9' means the character é: its UTF-8 bytes match, a Latin-1 byte does not."""
    fast, plain, ref = three_ways(tmp_path, b"caf\xe9 ok\ncaf\xc3\xa9 ok\n", [(r"caf\xe9 ok", False)])
    assert ref[0][0] == 1 and fast == ref and plain == ref


def test_nul_in_a_literal(tmp_path):
    """A literal with NUL cannot be a command-line argument: the Python engine scans instead."""
    path = tmp_path / "app.log"
    path.write_bytes(b"ab\x00cd\n")
    wants = wants_of([(r"ab\x00cd", False)], 5)
    assert engine(str(path), wants) == [[(str(path), r)] for r in reference(path.read_bytes(), wants)]


def test_continuation_line_far_from_its_timed_line(tmp_path):
    """Hundreds of untimed lines (a long traceback) still take the time of their record."""
    data = b"2026-11-21 07:00:00,000 ERROR start\n" + b"  at frame\n" * 250 + b"  position_sync_failed\n"
    fast, plain, ref = three_ways(tmp_path, data, [("position_sync_failed", False)])
    assert fast == ref and plain == ref
