"""Scan one log for several patterns in one pass, choosing the fastest exact way per file.

* A time window (every pattern has ``since``): files last changed before the window are not
  opened at all (their modification time bounds every line in them, timed or not); in a plain
  file the window's start is found by binary search
  (:mod:`.window`) and only the window is read, by the Python engine (:mod:`.scan`), which
  filters each line by time.
* A whole file: ripgrep finds the candidate lines when every pattern has a literal it must
  contain (:mod:`.ripgrep`), the Python engine otherwise, and for commands. A ``.gz`` file goes
  to ripgrep too, inflated by a thread of ours into its standard input; the rotated ``.gz`` of a
  log are scanned at the same time, up to the processors there are (:func:`workers`).

Every path returns what a plain full scan returns (``tests/logscan/test_engine.py``), except
that a scan begun past a file's start does not know line numbers and gives byte offsets.
"""

from __future__ import annotations

import contextlib
import functools
import os
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Callable, Iterable, NamedTuple

from diagnose.failures import CheckError

from . import files as logfiles
from . import ripgrep
from .budget import Budget
from .commands import with_window
from .literals import prefilter_literals
from .scan import ScanResult, Want, scan_many
from .timestamps import TimestampParser
from .window import window_start

#: per pattern (in the order given): the (file or command label, result) of each source read
Results = list[list[tuple[str, ScanResult]]]


def scan_log(name: str, spec, wants: list[Want], stamps: TimestampParser, ctx: Budget) -> Results:
    """Scan the log ``spec`` (named ``name``) once for all ``wants``; ``since`` is either set
    on all of them or on none (a pass is for windowed or for whole-file patterns)."""
    results: Results = [[] for _ in wants]

    def add(label: str, found: Iterable[ScanResult]) -> None:
        for slot, result in zip(results, found):
            slot.append((label, result))

    windows = [w.since for w in wants if w.since is not None]
    earliest = min(windows) if windows and len(windows) == len(wants) else None
    if spec.command and (not spec.paths or earliest is not None):
        add(*_command(name, spec, wants, stamps, earliest, ctx))
        return results
    if not spec.paths:
        raise CheckError(f"log '{name}': the profile gives neither paths nor a command")
    rg = ripgrep.rg_binary() if earliest is None else None
    literals = [prefilter_literals(w.pattern) for w in wants] if rg else []
    fast = bool(rg and literals and all(literals))
    plan: list[_Step] = []
    for log_file in logfiles.log_files(spec):
        path = log_file.path
        modified = _modified(name, path) if earliest is not None else None
        if modified is not None and earliest is not None and modified < earliest:
            # last written before the window opened: nothing in it can count, whatever its lines say
            # (with a time or without); a rotated sibling is not even mentioned, the file itself is
            if not log_file.rotated:
                plan.append(_Step(path, modified, [ScanResult(modified=modified, before_window=True) for _ in wants]))
            continue
        parallel = False
        if earliest is not None and not log_file.compressed and not ripgrep.plain_only():
            job = functools.partial(_windowed, name, path, wants, stamps, earliest, ctx)
        elif fast and rg is not None and log_file.compressed:
            job, parallel = functools.partial(_ripgrep_gz, name, rg, path, wants, literals, stamps, ctx), True
        elif fast and rg is not None:
            job = functools.partial(_ripgrep, name, rg, path, wants, literals, stamps, ctx)
        else:
            job = functools.partial(_python, logfiles.file_chunks(name, path), wants, stamps, ctx)
        plan.append(_Step(path, modified, job, parallel))
    for path, modified, found in _run(plan, ctx):
        for result in found:
            result.modified = modified
        add(path, found)
    return results


class _Step(NamedTuple):
    """One file of a scan: its results already known (a list), or the job that scans it; ``parallel`` when it may
    run at the same time as other files' (a ``.gz`` through ripgrep: its inflater and its ripgrep are two
    processors' work, and hardly any of Python's)."""

    path: str
    modified: datetime | None
    job: Callable[[], list[ScanResult]] | list[ScanResult]
    parallel: bool = False


#: at most this many ``.gz`` files of one log at once by default: diagnose runs on the host it diagnoses, and each
#: scan is an inflating thread and a ripgrep (about 20 MB together)
MOST_WORKERS = 4


def workers() -> int:
    """How many ``.gz`` files of one log are inflated at once: ``$DIAGNOSE_GZ_WORKERS`` when it is a whole number
    of at least 1 (1 on a busy host, to leave it its processors), else the processors this process may run on,
    up to :data:`MOST_WORKERS`."""
    wanted = os.environ.get("DIAGNOSE_GZ_WORKERS", "").strip()
    if wanted.isdigit() and int(wanted) >= 1:
        return int(wanted)
    try:
        cores = len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return min(cores, MOST_WORKERS)


def _run(plan: list[_Step], ctx: Budget) -> Iterable[tuple[str, datetime | None, list[ScanResult]]]:
    """Each file's results in the plan's order; the parallel scans (several rotated ``.gz`` files) run up to
    :func:`workers` at a time, from the start, while the others run one after another in this thread."""
    parallel = [i for i, step in enumerate(plan) if step.parallel]
    pool = None
    futures: dict[int, Future] = {}
    if len(parallel) > 1 and workers() > 1:
        pool = ThreadPoolExecutor(max_workers=min(workers(), len(parallel)), thread_name_prefix="diagnose-gz")
        futures = {i: pool.submit(job) for i in parallel if callable(job := plan[i].job)}
    try:
        for i, (path, modified, job, _) in enumerate(plan):
            if isinstance(job, list):
                yield path, modified, job
                continue
            ctx.check_time()
            yield path, modified, futures[i].result() if i in futures else job()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _command(name: str, spec, wants: list[Want], stamps: TimestampParser, since: datetime | None,
             ctx: Budget) -> tuple[str, list[ScanResult]]:
    """A command source: with a window, a known log command is given it (:mod:`.commands`); then
    its lines are in the window by construction, with a time or without."""
    argv, applied = list(spec.command), False
    if since is not None and spec.window:
        windowed = with_window(argv, since)
        argv, applied = windowed.argv, windowed.applies_window
    try:
        found = _python(logfiles.command_chunks(name, argv, ctx), wants, stamps, ctx)
    except CheckError as exc:
        if not applied:
            raise
        added = " ".join(a for a in argv if a not in spec.command)
        raise CheckError(f"{exc} (diagnose added `{added}` for the check's window; if this version of "
                         f"{spec.command[0]} does not take them, set `window: false` on log '{name}' in the "
                         f"profile)") from exc
    if applied:
        for result, want in zip(found, wants):
            if want.since == since:
                result.untimed = 0
    return logfiles.command_label(argv), found


def _python(chunks, wants: list[Want], stamps: TimestampParser, ctx: Budget, **kw) -> list[ScanResult]:
    with contextlib.closing(chunks):
        return scan_many(chunks, wants, stamps=stamps, on_chunk=ctx.check_time, **kw)


def _windowed(name: str, path: str, wants: list[Want], stamps: TimestampParser, since: datetime,
              ctx: Budget) -> list[ScanResult]:
    with logfiles.open_log(name, path) as f:   # opened once: searched and read as one file
        try:
            start = window_start(f, since, stamps)
        except OSError as exc:
            raise logfiles.read_error(name, path, exc) from exc
        if start is None:   # cannot trust the file's order: read it all, filtering every line
            return _python(logfiles.stream_chunks(name, path, f), wants, stamps, ctx)
        chunks = logfiles.stream_chunks(name, path, f, offset=start.offset)
        return _python(chunks, wants, stamps, ctx, offset=start.offset, carried_time=start.time)


def _ripgrep_gz(name: str, rg: str, path: str, wants: list[Want], literals, stamps: TimestampParser,
                ctx: Budget) -> list[ScanResult]:
    def read(argv, **kw):
        return logfiles.command_chunks(name, argv, ctx, **kw)

    try:
        return ripgrep.scan_gz(rg, name, path, wants, literals, stamps, read)
    except ripgrep.Unavailable:
        return _python(logfiles.file_chunks(name, path), wants, stamps, ctx)


def _ripgrep(name: str, rg: str, path: str, wants: list[Want], literals, stamps: TimestampParser,
             ctx: Budget) -> list[ScanResult]:
    with logfiles.open_log(name, path) as f:   # ripgrep reads it as its stdin; so would the fallback
        def read(argv, **kw):
            return logfiles.command_chunks(name, argv, ctx, stdin=f, **kw)

        try:
            return ripgrep.scan_file(rg, path, wants, literals, stamps, read, stream=f)
        except ripgrep.Unavailable:
            return _python(logfiles.stream_chunks(name, path, f), wants, stamps, ctx)


def _modified(name: str, path: str) -> datetime:
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime, tz=timezone.utc)
    except OSError as exc:
        raise logfiles.read_error(name, path, exc) from exc
