#!/usr/bin/env python3
"""Synthetic logs for bench/log_speed.py, written to bench/data/logs/ (gitignored, never committed).

    python bench/log_data.py [--size 1G] [--nonl-size 2000000000] [--regen]

* ``week.log``: about ``--size`` bytes of Python-logging lines
  (``2026-11-16 00:00:00,123 INFO execution.sync: ...``), seven days in time order, the last
  line just before :data:`NOW`. About 1 line in 1000 is ``position_sync_failed account=N
  error=...``, about 1 in 1000 says ``Connection Reset by peer`` in mixed case; there are
  multi-line tracebacks (continuation lines carry no timestamp, one ends in
  ``ConnectionResetError: ... connection reset by peer``) and Chinese lines (``行情数据不足``).
* ``gz/week.log.gz``: the same bytes at gzip level 1 (in its own directory, so it is not taken
  as a rotated sibling of ``week.log``).
* ``nonl.log``: ``--nonl-size`` bytes of ``abcdefgh`` repeated, not one newline.
* ``rotated/app.log`` and ``rotated/app.log.1.gz`` .. ``app.log.6.gz``: ``week.log`` cut at midnight as
  logrotate leaves a week (the live file the last day, one ``.gz`` per earlier day, gzip level 1), each
  file's modification time that of its last line.

Why it is fast (about 15 s per GiB, the .gz compressed by a thread on the second core): a pool
of "one second of log" blocks is built once, with a NUL byte where each timestamp goes; each
second of the week then costs one ``bytes.replace`` of that NUL by the second's 19-byte prefix. Random but reproducible (fixed seed). A
``manifest.json`` records what was generated; other sizes regenerate.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "logs"
NOW = datetime(2026, 11, 23, 0, 0, 0, tzinfo=timezone.utc)
DAYS = 7
SEED = 20261123
FORMAT = 2                 # bump when the generator changes, so old data is rebuilt
POOL = 8192                # distinct one-second blocks
RARE = 1 / 1000            # share of position_sync_failed lines, and of connection-reset lines
TRACEBACK = 1 / 2500       # share of lines followed by a traceback
CHINESE = 1 / 300          # share of Chinese lines
NONL_UNIT = b"abcdefgh"

SYMBOLS = ("BTCUSDT", "ETHUSDT", "rb2501", "au2412", "IF2412", "SOLUSDT", "cu2501", "m2501")
LOGGERS = ("execution.sync", "execution.orders", "market.feed", "api.http", "risk.engine", "notify.push")
RESET_SPELLINGS = ("Connection Reset by peer", "connection reset by peer", "CONNECTION RESET BY PEER",
                   "Connection reset By Peer", "connection RESET by Peer")
CHINESE_TEXT = ("行情数据不足", "持仓不足", "锁仓下单接口未实现", "换月平仓接口未实现")


def parse_size(text: str) -> int:
    """``"1G"`` -> 2**30, ``"256M"`` -> 256 * 2**20, ``"2000000000"`` as is."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMG]i?B?)?\s*", text, re.IGNORECASE)
    if not m:
        raise argparse.ArgumentTypeError(f"size {text!r} is not like 1G, 256M or 2000000000")
    unit = (m.group(2) or "")[:1].upper()
    return int(float(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[unit])


def _body(rng: random.Random) -> list[str]:
    """One log record without its timestamp: the first line, then continuation lines if any."""
    ms = f",{rng.randrange(1000):03d} "
    r = rng.random()
    if r < RARE:
        error = rng.choice(("timeout", "timeout", "timeout", "refused", "rate_limited"))
        return [(f"{ms}ERROR execution.sync: position_sync_failed account={rng.randrange(1, 99999)} "
                 f"error={error} symbol={rng.choice(SYMBOLS)} attempt={rng.randrange(1, 6)}")]
    r -= RARE
    if r < RARE:
        return [(f"{ms}WARNING api.http: upstream {rng.choice(SYMBOLS)} read failed: "
                 f"{rng.choice(RESET_SPELLINGS)} (host=10.0.{rng.randrange(256)}.{rng.randrange(256)})")]
    r -= RARE
    if r < TRACEBACK:
        return [f"{ms}ERROR notify.push: delivery failed for order {rng.randrange(10**8)}",
                "Traceback (most recent call last):",
                '  File "/app/notify/push.py", line 88, in deliver',
                "    response = session.post(url, json=payload, timeout=5)",
                '  File "/usr/lib/python3.11/http/client.py", line 1390, in getresponse',
                "ConnectionResetError: [Errno 104] connection reset by peer"]
    r -= TRACEBACK
    if r < CHINESE:
        return [(f"{ms}WARNING market.feed: {rng.choice(CHINESE_TEXT)} symbol={rng.choice(SYMBOLS)} "
                 f"需要 {rng.randrange(20, 300)} 根K线")]
    logger = rng.choice(LOGGERS)
    symbol = rng.choice(SYMBOLS)
    kind = rng.randrange(5)
    if kind == 0:
        text = f"position_sync: checking {symbol}... {rng.randrange(1, 40)} open position(s)"
    elif kind == 1:
        text = f"order {rng.randrange(10**9)} {rng.choice(('FILLED', 'NEW', 'CANCELED'))} {symbol} qty={rng.randrange(1, 500)} px={rng.uniform(1, 90000):.2f}"
    elif kind == 2:
        text = f'127.0.0.1:{rng.randrange(30000, 60000)} - "GET /api/positions?symbol={symbol} HTTP/1.1" 200 OK in {rng.randrange(1, 900)}ms'
    elif kind == 3:
        text = f"tick {symbol} bid={rng.uniform(1, 90000):.2f} ask={rng.uniform(1, 90000):.2f} latency_ms={rng.randrange(1, 250)}"
    else:
        text = f"heartbeat ok session={rng.randrange(16**8):08x} queue_depth={rng.randrange(0, 64)}"
    level = "DEBUG" if kind == 3 else "INFO"
    return [f"{ms}{level} {logger}: {text}"]


def _pool(rng: random.Random, lines_per_second: float) -> list[bytes]:
    """One-second blocks; ``\\0`` marks where the second's ``YYYY-MM-DD HH:MM:SS`` goes."""
    blocks = []
    for _ in range(POOL):
        n = int(lines_per_second * rng.uniform(0.5, 1.5) + rng.random())
        records = sorted((_body(rng) for _ in range(n)), key=lambda rec: rec[0][:5])
        blocks.append("".join("\0" + "\n".join(rec) + "\n" for rec in records).encode())
    return blocks


def _calibrated_pool(size: int) -> list[bytes]:
    """A pool whose average block makes the week about ``size`` bytes (one correction pass)."""
    seconds = DAYS * 86400
    guess = max(size / seconds / 110, 0.05)
    for _ in range(2):
        blocks = _pool(random.Random(SEED), guess)
        total = sum(len(b) + 18 * b.count(b"\0") for b in blocks) / len(blocks) * seconds
        guess *= size / max(total, 1)
    return blocks


def _gzip_sink(path: Path):
    """``(write, close)``: the bytes written end up gzip-compressed (level 1) in ``path``.

    A thread compresses while the caller generates (zlib releases the GIL), so the two cores
    share the work; a bounded queue keeps memory flat.
    """
    import gzip
    import queue
    import threading

    path.parent.mkdir(parents=True, exist_ok=True)
    chunks: queue.Queue = queue.Queue(maxsize=4)

    failed: list[Exception] = []

    def compress() -> None:
        try:
            with open(path, "wb") as raw, gzip.GzipFile("", "wb", 1, raw, mtime=0) as gz:
                while (chunk := chunks.get()) is not None:
                    gz.write(chunk)
        except Exception as exc:  # keep draining so the writer never blocks; re-raised on close
            failed.append(exc)
            while chunks.get() is not None:
                pass

    def close() -> None:
        chunks.put(None)
        worker.join()
        if failed:
            raise failed[0]

    worker = threading.Thread(target=compress, daemon=True)
    worker.start()
    return chunks.put, close


def write_week(path: Path, gz_path: Path, size: int) -> int:
    """Write week.log and its .gz copy; returns the size of week.log."""
    blocks = _calibrated_pool(size)
    rng = random.Random(SEED + 1)
    pick = rng.randrange
    clock = [f"{h:02d}:{m:02d}:{s:02d}".encode() for h in range(24) for m in range(60) for s in range(60)]
    to_gz, close_gz = _gzip_sink(gz_path)
    written = 0
    with open(path, "wb") as out:
        for day in range(DAYS):
            date = (NOW - timedelta(days=DAYS - day)).strftime("%Y-%m-%d ").encode()
            for hour in range(24):
                chunk = b"".join([blocks[pick(POOL)].replace(b"\0", date + clock[hour * 3600 + s])
                                  for s in range(3600)])
                out.write(chunk)
                to_gz(chunk)
                written += len(chunk)
    close_gz()
    return written


def write_rotated(week: Path, folder: Path) -> None:
    """``week`` cut into one file per day, in logrotate's names: the last day is ``app.log``, the day before
    ``app.log.1.gz`` and so on, each ``.gz`` compressed on a thread of its own (level 1)."""
    import gzip
    import os
    import threading

    sys.path.insert(0, str(ROOT))
    from diagnose.logscan.timestamps import TimestampParser
    from diagnose.logscan.window import window_start

    folder.mkdir(parents=True, exist_ok=True)
    stamps = TimestampParser(timezone.utc, NOW)
    cuts = [0]
    for day in range(DAYS - 1, 0, -1):   # where each day after the first begins
        start = window_start(str(week), NOW - timedelta(days=day), stamps)
        assert start is not None and start.offset > cuts[-1]
        with open(week, "rb") as f:   # the binary search stops before the day: step to its first line
            f.seek(start.offset)
            offset = start.offset
            for line in f:
                stamp = stamps.parse(line[:160])
                if stamp is not None and stamp >= NOW - timedelta(days=day):
                    break
                offset += len(line)
        cuts.append(offset)
    cuts.append(week.stat().st_size)
    threads = []
    for n, (begin, end) in enumerate(reversed(list(zip(cuts, cuts[1:])))):
        target = folder / ("app.log" if n == 0 else f"app.log.{n}.gz")
        last = (NOW - timedelta(days=n, seconds=1)).timestamp()

        def copy(begin=begin, end=end, target=target, last=last) -> None:
            with open(week, "rb") as source, (gzip.GzipFile(str(target), "wb", 1, mtime=0)
                                             if target.suffix == ".gz" else open(target, "wb")) as out:
                source.seek(begin)
                left = end - begin
                while left:
                    chunk = source.read(min(left, 8 << 20))
                    out.write(chunk)
                    left -= len(chunk)
            os.utime(target, (last, last))

        threads.append(threading.Thread(target=copy))
        threads[-1].start()
    for thread in threads:
        thread.join()


def write_nonl(path: Path, size: int) -> None:
    """``size`` bytes of ``abcdefgh`` repeated, no newline, in 64 MiB writes."""
    block = NONL_UNIT * ((64 << 20) // len(NONL_UNIT))
    with open(path, "wb") as out:
        left = size
        while left > 0:
            out.write(block[:left] if left < len(block) else block)
            left -= len(block)


def ensure(size: int, nonl_size: int, regen: bool = False, say=print) -> dict:
    """Build what is missing or of another size; returns the manifest (paths and sizes)."""
    DATA.mkdir(parents=True, exist_ok=True)
    manifest_path = DATA / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    week, gz, nonl = DATA / "week.log", DATA / "gz" / "week.log.gz", DATA / "nonl.log"
    wanted_week = {"format": FORMAT, "size": size, "seed": SEED, "now": NOW.isoformat()}
    if regen or manifest.get("week") != wanted_week or not (week.exists() and gz.exists()):
        started = time.perf_counter()
        manifest.pop("week", None)
        manifest_path.write_text(json.dumps(manifest))
        actual = write_week(week, gz, size)
        manifest["week"] = wanted_week
        say(f"log_data: wrote {week} ({actual / 2**20:.0f} MiB) and {gz.name} "
            f"({gz.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - started:.1f} s")
    rotated = DATA / "rotated"
    if regen or manifest.get("rotated") != manifest.get("week") or not (rotated / "app.log.6.gz").exists():
        started = time.perf_counter()
        write_rotated(week, rotated)
        manifest["rotated"] = manifest.get("week")
        say(f"log_data: wrote {rotated}/app.log and app.log.1.gz .. app.log.{DAYS - 1}.gz "
            f"in {time.perf_counter() - started:.1f} s")
    if regen or manifest.get("nonl") != nonl_size or not nonl.exists() or nonl.stat().st_size != nonl_size:
        started = time.perf_counter()
        write_nonl(nonl, nonl_size)
        manifest["nonl"] = nonl_size
        say(f"log_data: wrote {nonl} ({nonl_size / 1e9:.2f} GB) in {time.perf_counter() - started:.1f} s")
    manifest_path.write_text(json.dumps(manifest))
    return {"now": NOW.isoformat(), "week": str(week), "gz": str(gz), "nonl": str(nonl),
            "week_size": week.stat().st_size, "gz_size": gz.stat().st_size, "nonl_size": nonl_size,
            "rotated": str(rotated / "app.log"),
            "rotated_gz": [str(rotated / f"app.log.{n}.gz") for n in range(DAYS - 1, 0, -1)]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=parse_size, default=1 << 30, help="week.log size (default 1G)")
    parser.add_argument("--nonl-size", type=parse_size, default=2 * 10**9, help="nonl.log size (default 2e9)")
    parser.add_argument("--regen", action="store_true", help="rebuild even when present")
    args = parser.parse_args()
    try:
        print(json.dumps(ensure(args.size, args.nonl_size, args.regen), indent=1))
    except OSError as exc:
        print(f"log_data: cannot write {exc.filename or DATA}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
