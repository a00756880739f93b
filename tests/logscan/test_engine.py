"""The fast paths through ``kind: log`` end to end: the same outcome as ``DIAGNOSE_LOGSCAN=plain``.

Each scenario runs the same checks twice over the same real files, fast (ripgrep for whole
files, binary search for windows, rotated files skipped by mtime) and plain, and compares the
outcomes: vars exactly; evidence exactly, except that a window skipping the start of a file
reports ``line: None`` and a byte offset, which must point at the plain line's start. An
audit hook records which files are opened, and which processes started.
"""

from __future__ import annotations

import gzip
import inspect
import os
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from diagnose.checks import load_kind
from diagnose.checks.base import CheckError, Context
from diagnose.logscan import engine, files, ripgrep, window
from diagnose.logscan.scan import line_text
from diagnose.sources import LogSpec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from auditlog import recording  # noqa: E402

log_kind = load_kind("log")
UTC = timezone.utc
NOW = datetime(2026, 11, 21, 9, 0, 0, tzinfo=UTC)

def set_defaults(monkeypatch, fn, **values) -> None:
    """Thresholds are bound as parameter defaults: change them there (for small test files)."""
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.default is not p.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
    assert set(values) <= {p.name for p in params}
    monkeypatch.setattr(fn, "__defaults__", tuple(values.get(p.name, p.default) for p in params))


def small_chunks(monkeypatch, size: int) -> None:
    monkeypatch.setattr(files, "CHUNK", size)
    set_defaults(monkeypatch, files.file_chunks, chunk_size=size)
    set_defaults(monkeypatch, files.command_chunks, chunk_size=size)


def small_windows(monkeypatch, granule: int = 64) -> None:
    monkeypatch.setattr(window, "SMALL", 0)
    monkeypatch.setattr(window, "GRANULE", granule)
    set_defaults(monkeypatch, window.window_start, small=0, granule=granule)


def outcome(check: dict, spec: LogSpec):
    ctx = Context(timeout=30, now=NOW, resolve=lambda kind, name: spec)
    try:
        result = log_kind.run(check, ctx)
    except CheckError as exc:
        return ("error", str(exc))
    return (result.passed, result.vars, [e.to_dict() for e in result.evidence])


def fast_and_plain(monkeypatch, checks: list[dict], spec: LogSpec):
    monkeypatch.delenv("DIAGNOSE_LOGSCAN", raising=False)
    with recording() as events:
        fast = [outcome(c, spec) for c in checks]
        fast_events = list(events)
    monkeypatch.setenv("DIAGNOSE_LOGSCAN", "plain")
    with recording() as events:
        plain = [outcome(c, spec) for c in checks]
        plain_events = list(events)
    monkeypatch.delenv("DIAGNOSE_LOGSCAN")
    assert not any(kind == "popen" for kind, _ in plain_events)
    return fast, plain, fast_events, plain_events


def same_but_offsets(fast, plain) -> int:
    """Equal outcomes, where a windowed line (``line: None``) gives the byte offset of the plain
    line; returns how many such lines there were."""
    assert fast[:2] == plain[:2]
    windowed = 0
    for f_ev, p_ev in zip(fast[2], plain[2], strict=True):
        assert {k: v for k, v in f_ev.items() if k != "lines"} == {k: v for k, v in p_ev.items() if k != "lines"}
        for f_line, p_line in zip(f_ev["lines"], p_ev["lines"], strict=True):
            if f_line["line"] is not None:
                assert f_line == p_line
                continue
            windowed += 1
            assert (f_line["file"], f_line["text"]) == (p_line["file"], p_line["text"])
            with open(f_line["file"], "rb") as f:
                head = f.read(f_line["offset"])
                assert head.count(b"\n") + 1 == p_line["line"] and head[-1:] in (b"", b"\n")
                assert line_text(f.readline()) == p_line["text"]
    return windowed


# -- random logs ---------------------------------------------------------------------------------
STYLES = [lambda t: t.strftime("%Y-%m-%d %H:%M:%S,000 ERROR app.sync: ").encode(),
          lambda t: ("execution-1  | " + t.strftime("%Y-%m-%dT%H:%M:%S.000000000Z ")).encode(),
          lambda t: t.strftime("%b %d %H:%M:%S host execution[7]: ").encode()]
BODIES = [b"position_sync_failed account=7", b"position_sync: checking", b"ok", "行情数据不足 ".encode() + b"\xff", b"WebSocket DISCONNECTED", b"fail \xff\xfe\x00", b"", b"took 120 ms"]
UNTIMED = [b"Traceback (most recent call last):", b"PositionSyncError: position_sync_failed", "  行情数据不足".encode()]
CHECKS = [{"pattern": "position_sync_failed"}, {"pattern": "行情数据", "last": 2}, {"pattern": r"\d{3} ms"},
          {"pattern": "websocket disconnected", "ignore_case": True, "last": 1}, {"pattern": "(?i)FAIL"},
          {"pattern": "^$", "expect": {"min": 1}}, {"pattern": r"\w+不足", "last": 0}, {"pattern": "ok\r?$"}]


def timed_log(rng: random.Random, lines: int, start: datetime) -> bytes:
    out, t = [], start
    for i in range(lines):
        if i and rng.random() < 0.2:
            line = rng.choice(UNTIMED)
        else:
            t += timedelta(seconds=rng.choice([0, 1, 20, 60]))
            line = rng.choice(STYLES)(t) + rng.choice(BODIES)
        out.append(line + (b"\r\n" if rng.random() < 0.3 else b"\n"))
    data = b"".join(out)
    return data[:-1] if rng.random() < 0.3 else data


def log_checks(**extra) -> list[dict]:
    return [{"id": f"c{i}", "kind": "log", "log": "app", **c, **extra} for i, c in enumerate(CHECKS)]


@pytest.mark.parametrize("chunk", [7, 64, None])
def test_whole_file_scans(tmp_path, monkeypatch, chunk):
    if chunk:
        small_chunks(monkeypatch, chunk)
        assert max(len(c) for c in files.file_chunks("app", __file__)) == chunk
    for seed in range(6):
        rng = random.Random(seed)
        path = tmp_path / f"app{seed}.log"
        path.write_bytes(timed_log(rng, rng.randrange(1, 200), NOW - timedelta(hours=3)))
        spec = LogSpec("app", paths=(str(path),), timezone="UTC")
        fast, plain, events, _ = fast_and_plain(monkeypatch, log_checks(), spec)
        assert fast == plain, seed
        if ripgrep.rg_binary() is not None:
            assert any(kind == "popen" and name.endswith(("rg", "rg.exe")) for kind, name in events)


@pytest.mark.parametrize("chunk", [7, 64, None])
def test_since_windows_by_binary_search(tmp_path, monkeypatch, chunk):
    small_windows(monkeypatch)
    if chunk:
        small_chunks(monkeypatch, chunk)
    windowed = 0
    for seed in range(8):
        rng = random.Random(seed)
        path = tmp_path / f"app{seed}.log"
        path.write_bytes(timed_log(rng, rng.randrange(1, 300), NOW - timedelta(hours=rng.choice([1, 3]))))
        spec = LogSpec("app", paths=(str(path),), timezone="UTC")
        since = rng.choice(["1m", "10m", "30m", "1h", "2h", "4h"])
        fast, plain, _, _ = fast_and_plain(monkeypatch, log_checks(since=since), spec)
        windowed += sum(same_but_offsets(f, p) for f, p in zip(fast, plain))
    assert windowed > 20   # the binary search really skipped the start of files


@pytest.mark.parametrize("since, count", [("60m", 3), ("59m", 2), ("40m", 1), ("39m", 0)])
def test_window_starting_in_the_first_or_the_last_line(tmp_path, monkeypatch, since, count):
    small_windows(monkeypatch, granule=1)
    minutes = [60] + [50] * 40 + [40]
    data = b"".join(STYLES[0](NOW - timedelta(minutes=m)) + (b"ok" if m == 50 and i > 1 else b"position_sync_failed")
                    + b"\r\n" for i, m in enumerate(minutes))
    path = tmp_path / "app.log"
    path.write_bytes(data)
    spec = LogSpec("app", paths=(str(path),), timezone="UTC")
    check = {"log": "app", "pattern": "position_sync_failed", "since": since}
    fast, plain, _, _ = fast_and_plain(monkeypatch, [check], spec)
    same_but_offsets(fast[0], plain[0])
    assert fast[0][1]["count"] == count


def test_five_megabytes_with_the_real_thresholds(tmp_path, monkeypatch):
    lines = 60_000
    start = NOW - timedelta(hours=10)
    step = 10 * 3600 / lines
    data = b"".join(STYLES[0](start + timedelta(seconds=i * step)) + b"sync loop %06d position_sync%s\n" % (
        i, b"_failed" if i % 997 == 0 else b": checking") for i in range(lines))
    assert len(data) > window.SMALL
    path = tmp_path / "app.log"
    path.write_bytes(data)
    spec = LogSpec("app", paths=(str(path),), timezone="UTC")
    checks = [{"log": "app", "pattern": "position_sync_failed", "since": s} for s in ("30m", "2h")]
    fast, plain, _, _ = fast_and_plain(monkeypatch, checks, spec)
    assert [f[1]["count"] for f in fast] == [3, 12]
    assert sum(same_but_offsets(f, p) for f, p in zip(fast, plain)) == 3 + 5


def old(path, lines: list[str] | bytes, minutes: int) -> str:
    data = lines if isinstance(lines, bytes) else "".join(x + "\n" for x in lines).encode()
    path.write_bytes(gzip.compress(data) if str(path).endswith(".gz") else data)
    stamp = (NOW - timedelta(minutes=minutes)).timestamp()
    os.utime(path, (stamp, stamp))
    return str(path)


def py(minutes: int, msg: str) -> str:
    return f"{NOW - timedelta(minutes=minutes):%Y-%m-%d %H:%M:%S},123 ERROR app: {msg}"


def test_rotated_files_older_than_the_window_are_never_opened(tmp_path, monkeypatch):
    small_windows(monkeypatch)
    one = old(tmp_path / "app.log.1", [py(m, "position_sync_failed") for m in (180, 150, 122)], 121)
    two = old(tmp_path / "app.log.2.gz", b"\x1f\x8b\x08\x00 corrupt: opening it would fail", 300)
    live = old(tmp_path / "app.log", [py(m, "position_sync_failed") for m in range(119, 0, -1)], 0)
    spec = LogSpec("app", paths=(live,), timezone="UTC")
    checks = [{"log": "app", "pattern": "position_sync_failed", "since": s} for s in ("10m", "1h", "2h")]
    fast, plain, fast_events, plain_events = fast_and_plain(monkeypatch, checks, spec)
    for events in (fast_events, plain_events):
        opened = {name for kind, name in events if kind == "open"}
        assert live in opened and one not in opened and two not in opened
    assert [f[1]["count"] for f in fast] == [10, 60, 119]
    for f, p in zip(fast, plain):
        same_but_offsets(f, p)
    old(tmp_path / "app.log.1", [py(m, "position_sync_failed") for m in (180, 150, 110)], 100)  # now in "2h"
    fast, plain, _, _ = fast_and_plain(monkeypatch, checks[2:], spec)
    assert fast == plain and fast[0][1]["count"] == 119 + 1


def multi_member(path, data: bytes, rng: random.Random) -> None:
    """``data`` gzipped as several members (as ``cat a.gz b.gz`` or a parallel gzip write it),
    with zero padding after the last (as tape tools leave it)."""
    cuts = sorted(rng.sample(range(1, len(data)), 5))
    bounds = [0, *cuts, len(data)]
    path.write_bytes(b"".join(gzip.compress(data[a:b]) for a, b in zip(bounds, bounds[1:])) + b"\0" * 100)


@pytest.mark.parametrize("gunzip", ["isal", "zlib"])
@pytest.mark.parametrize("chunk", [7, None])
def test_gz_rotated_files_read_like_plain(tmp_path, monkeypatch, chunk, gunzip):
    small_windows(monkeypatch)
    if chunk:
        small_chunks(monkeypatch, chunk)
    if gunzip == "zlib":
        monkeypatch.setenv("DIAGNOSE_GUNZIP", "zlib")
    assert files.inflater_module().__name__ == {"isal": "isal.isal_zlib", "zlib": "zlib"}[gunzip]
    rng = random.Random(chunk)
    old(tmp_path / "app.log.3.gz", timed_log(rng, 150, NOW - timedelta(hours=8)), 40)
    multi_member(tmp_path / "app.log.2.gz", timed_log(rng, 150, NOW - timedelta(hours=6)), rng)
    os.utime(tmp_path / "app.log.2.gz", ((NOW - timedelta(minutes=30)).timestamp(),) * 2)
    old(tmp_path / "app.log.1", timed_log(rng, 150, NOW - timedelta(hours=4)), 20)
    live = old(tmp_path / "app.log", timed_log(rng, 150, NOW - timedelta(hours=2)), 0)
    spec = LogSpec("app", paths=(live,), timezone="UTC")
    everything = {"log": "app", "pattern": "^"}
    for extra in ({}, {"since": "3h"}):
        fast, plain, _, _ = fast_and_plain(monkeypatch, log_checks(**extra) + [{**everything, **extra}], spec)
        for f, p in zip(fast, plain):
            same_but_offsets(f, p)
        assert fast[0][1]["files"] == 4
        assert fast[-1][1]["count"] == (150 if extra else 4 * 150)   # rotated lines are 3-8 hours old


def test_since_skips_every_rotated_gz_that_ends_before_the_window(tmp_path, monkeypatch):
    """A rotated ``.gz`` last written before the window opened is neither opened nor inflated, in
    the fast and in the plain scan; one written inside the window is inflated once per pass."""
    inflated: list[str] = []
    real = files.gz_chunks

    def counting(log, path, *args, **kw):
        inflated.append(os.path.basename(path))
        return real(log, path, *args, **kw)

    monkeypatch.setattr(files, "gz_chunks", counting)
    rng = random.Random(5)
    for n, hours in ((4, 30), (3, 24), (2, 12)):   # whole days of lines, each file ended long ago
        old(tmp_path / f"app.log.{n}.gz", timed_log(rng, 300, NOW - timedelta(hours=hours)), (hours - 4) * 60)
    old(tmp_path / "app.log.1.gz", timed_log(rng, 300, NOW - timedelta(hours=3)), 90)
    live = old(tmp_path / "app.log", timed_log(rng, 300, NOW - timedelta(minutes=80)), 0)
    spec = LogSpec("app", paths=(live,), timezone="UTC")
    checks = [{"log": "app", "pattern": "^", "since": s} for s in ("1h", "2h")]
    fast, plain, fast_events, plain_events = fast_and_plain(monkeypatch, checks, spec)
    assert fast == plain
    for events in (fast_events, plain_events):
        opened = {os.path.basename(name) for kind, name in events if kind == "open"}
        assert not opened & {"app.log.4.gz", "app.log.3.gz", "app.log.2.gz"}
    # 2 passes (fast, plain) x 1 check whose window includes app.log.1.gz's last write (2h; 1h not)
    assert inflated == ["app.log.1.gz"] * 2
    assert [f[1]["files"] for f in fast] == [1, 2]
    inflated.clear()
    fast, plain, _, _ = fast_and_plain(monkeypatch, [{"log": "app", "pattern": "^", "since": "2d"}], spec)
    assert fast == plain and fast[0][1]["files"] == 5
    assert sorted(inflated) == sorted(["app.log.4.gz", "app.log.3.gz", "app.log.2.gz", "app.log.1.gz"] * 2)


@pytest.mark.parametrize("pattern", [r"\u884c\u60c5", r"\N{CJK UNIFIED IDEOGRAPH-884C}\u60c5", r"(?u)sync: \u884c"])
def test_unicode_escapes_in_an_ascii_pattern(tmp_path, monkeypatch, pattern):
    """Pure-ASCII patterns valid only as text (\\u, \\N{...}, (?u)) are valid patterns."""
    path = tmp_path / "app.log"
    path.write_bytes(py(1, "sync: 行情数据不足").encode() + b"\n" + py(1, "sync: ok").encode() + b"\n")
    spec = LogSpec("app", paths=(str(path),), timezone="UTC")
    fast, plain, _, _ = fast_and_plain(monkeypatch, [{"log": "app", "pattern": pattern}], spec)
    assert fast == plain and fast[0][1]["count"] == 1


# -- .gz through ripgrep -------------------------------------------------------------------------
def gz_set(tmp_path, rng: random.Random, files_: int, lines: int) -> str:
    """A live log and ``files_`` rotated ``.gz`` siblings (some multi-member), hours of lines each."""
    for n in range(files_, 0, -1):
        data = timed_log(rng, lines, NOW - timedelta(hours=2 * n + 2))
        if n % 2:
            multi_member(tmp_path / f"app.log.{n}.gz", data, rng)
        else:
            (tmp_path / f"app.log.{n}.gz").write_bytes(gzip.compress(data))
    return old(tmp_path / "app.log", timed_log(rng, lines, NOW - timedelta(hours=2)), 0)


@pytest.fixture
def gz_scans(monkeypatch):
    """Every .gz scan through ripgrep: ``calls`` (how many), ``fallbacks`` (how many the plain engine redid),
    ``most`` (the most at once)."""
    seen = {"calls": 0, "fallbacks": 0, "running": 0, "most": 0}
    lock = __import__("threading").Lock()
    real_gz, real_python = ripgrep.scan_gz, engine._python

    def scan_gz(*args, **kw):
        with lock:
            seen["calls"] += 1
            seen["running"] += 1
            seen["most"] = max(seen["most"], seen["running"])
        try:
            return real_gz(*args, **kw)
        except ripgrep.Unavailable:
            with lock:
                seen["fallbacks"] += 1
            raise
        finally:
            with lock:
                seen["running"] -= 1

    monkeypatch.setattr(ripgrep, "scan_gz", scan_gz)
    monkeypatch.setattr(engine, "_python", real_python)
    return seen


@pytest.mark.parametrize("gunzip", ["isal", "zlib"])
def test_gz_through_ripgrep_reads_like_plain(tmp_path, monkeypatch, gz_scans, gunzip):
    """Each rotated .gz is inflated into ripgrep's standard input: the results are the plain scan's, times of
    continuation lines (read back in the inflated tail) included."""
    if ripgrep.rg_binary() is None:
        pytest.skip("no ripgrep")
    if gunzip == "zlib":
        monkeypatch.setenv("DIAGNOSE_GUNZIP", "zlib")
    live = gz_set(tmp_path, random.Random(11), 3, 400)
    spec = LogSpec("app", paths=(live,), timezone="UTC")
    checks = [c for c in log_checks() if c["pattern"] in ("position_sync_failed", "行情数据", "(?i)FAIL")]
    checks.append({"id": "untimed", "kind": "log", "log": "app", "pattern": "PositionSyncError", "last": 3})
    fast, plain, fast_events, _ = fast_and_plain(monkeypatch, checks, spec)
    for f, p in zip(fast, plain):
        assert f == p
    assert gz_scans["calls"] == 3 * len(checks) and gz_scans["fallbacks"] == 0
    assert all(f[1]["files"] == 4 for f in fast) and fast[-1][1]["count"] > 0
    assert sum(1 for kind, name in fast_events if kind == "popen" and "rg" in os.path.basename(name)) == 4 * len(checks)


def test_gz_through_ripgrep_falls_back_when_a_time_lies_beyond_the_tail(tmp_path, monkeypatch, gz_scans):
    """A continuation line whose timed line was inflated too long ago to read back: the plain engine scans that
    file again, and the result is still the plain scan's."""
    if ripgrep.rg_binary() is None:
        pytest.skip("no ripgrep")
    monkeypatch.setattr(ripgrep, "GZ_TAIL", 16)
    live = gz_set(tmp_path, random.Random(12), 2, 300)
    spec = LogSpec("app", paths=(live,), timezone="UTC")
    checks = [{"id": "untimed", "kind": "log", "log": "app", "pattern": "PositionSyncError", "last": 3}]
    fast, plain, _, _ = fast_and_plain(monkeypatch, checks, spec)
    assert fast == plain and fast[0][1]["count"] > 0
    assert gz_scans["fallbacks"] >= 1


def test_rotated_gz_files_are_scanned_at_the_same_time(tmp_path, monkeypatch, gz_scans):
    if ripgrep.rg_binary() is None:
        pytest.skip("no ripgrep")
    monkeypatch.setattr(engine, "workers", lambda: 3)
    real = ripgrep.scan_gz

    def slow(*args, **kw):   # long enough for the others to start
        __import__("time").sleep(0.3)
        return real(*args, **kw)

    monkeypatch.setattr(ripgrep, "scan_gz", slow)
    live = gz_set(tmp_path, random.Random(13), 4, 200)
    spec = LogSpec("app", paths=(live,), timezone="UTC")
    check = {"id": "c", "kind": "log", "log": "app", "pattern": "position_sync_failed", "last": 4}
    fast, plain, _, _ = fast_and_plain(monkeypatch, [check], spec)
    assert fast == plain and fast[0][1]["files"] == 5
    assert gz_scans["most"] == 3, "three workers: three .gz files at once"
    monkeypatch.setattr(engine, "workers", lambda: 1)
    gz_scans["most"] = 0
    assert fast_and_plain(monkeypatch, [check], spec)[0] == fast and gz_scans["most"] == 1


def test_a_damaged_gz_through_ripgrep_is_the_plain_error(tmp_path, monkeypatch, gz_scans):
    if ripgrep.rg_binary() is None:
        pytest.skip("no ripgrep")
    good = gzip.compress(b"".join(py(m, "position_sync_failed").encode() + b"\n" for m in range(300, 200, -1)))
    (tmp_path / "app.log.1.gz").write_bytes(good[:len(good) // 2])
    (tmp_path / "app.log.2.gz").write_bytes(good[:-8] + b"\0\0\0\0" + good[-4:])
    live = old(tmp_path / "app.log", [py(m, "position_sync_failed") for m in range(100, 0, -1)], 0)
    spec = LogSpec("app", paths=(live,), timezone="UTC")
    check = {"id": "c", "kind": "log", "log": "app", "pattern": "position_sync_failed"}
    fast, plain, _, _ = fast_and_plain(monkeypatch, [check], spec)
    assert fast == plain and fast[0][0] == "error" and "app.log.2.gz" in fast[0][1]
    assert gz_scans["calls"] >= 1 and gz_scans["fallbacks"] == 0


@pytest.mark.parametrize("value, expected", [("1", 1), ("3", 3), ("0", None), ("many", None), ("", None)])
def test_gz_workers_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("DIAGNOSE_GZ_WORKERS", value)
    assert engine.workers() == (expected or min(len(os.sched_getaffinity(0)), engine.MOST_WORKERS))
