"""Whole-file scans at ripgrep's speed: ripgrep finds the candidate lines, Python decides.

Measured on a 1 GiB log (see ``bench/log_speed.py``): ripgrep counts a literal at several
GB/s with SIMD and counts lines as it goes; Python's ``re`` over whole chunks manages about
1.4 GB/s and counting newlines alone costs it half a second a gigabyte. So for a full scan
ripgrep (the ``ripgrep`` wheel's own binary, or one on ``PATH``) searches the file once for
the *literals* every pattern requires (:mod:`.literals`) as fixed strings, and prints the
candidate lines with their numbers and byte offsets; each pattern's Python regex then
decides each candidate. Results are the Python engine's by construction: ripgrep's regex
dialect never decides anything.

Safety rails, each falling back to the Python engine (:mod:`.scan`) for that file:
``--no-mmap`` and an address-space limit keep ripgrep's memory small (a 2 GB line without a
newline makes it fail, not swell); a candidate line longer than :data:`MAX_LINE` is not
read into memory; any ripgrep failure. ``DIAGNOSE_LOGSCAN=plain`` turns the engine off.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sysconfig
from collections import deque
from typing import TYPE_CHECKING, Callable, Generator

from .literals import Literals
from .scan import HEAD_LIMIT, MAX_LINE, Match, ScanResult, Want, line_text
from .timestamps import HEAD_BYTES, TimestampParser

if TYPE_CHECKING:
    from .files import InflatedTail

#: address space ripgrep may use: plenty for any log with sane lines (it needs ~10 MB); a
#: line of hundreds of MB makes it fail at this size and the Python engine takes over
MEMORY_LIMIT = 64 << 20
#: bytes read back from a continuation line to find the time of the line it continues
LOOK_BACK = 256 << 10


class Unavailable(Exception):
    """This file cannot be scanned with ripgrep; use the Python engine."""


def plain_only() -> bool:
    """``DIAGNOSE_LOGSCAN=plain``: no fast path at all (to compare, or to rule one out)."""
    return os.environ.get("DIAGNOSE_LOGSCAN", "").strip().lower() == "plain"


@functools.lru_cache(maxsize=1)
def _find_rg() -> str | None:
    name = "rg.exe" if os.name == "nt" else "rg"
    beside = os.path.join(sysconfig.get_path("scripts"), name)
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("rg")


def rg_binary() -> str | None:
    """The ripgrep to use, or ``None`` (not installed, or turned off)."""
    return None if plain_only() else _find_rg()


def argv(rg: str, literals: list[Literals], path: str, line_buffered: bool = False) -> list[str]:
    """ripgrep looking for any of ``literals``, printing ``LINE:OFFSET:text``.

    ``-a`` searches binary-looking files as text, ``--encoding none`` reads bytes as they are
    (no BOM sniffing), ``--no-config`` ignores the user's ripgreprc: the same bytes the Python
    engine reads. All case-sensitive: fixed strings (``-F``, ripgrep's fastest path); some
    ignoring case: escaped literals, those in ``(?i:...)`` (measured 1.4-3x faster than
    making the whole search ``-i``)."""
    command = [rg, "--no-config", "--no-mmap", "-a", "--encoding", "none", "--color", "never",
               "--no-heading", "--no-filename", "-n", "-b", *(["--line-buffered"] if line_buffered else [])]
    if not any(lits.caseless for lits in literals):
        command.append("-F")
        for text in _minimal({s for lits in literals for s in lits.strings}):
            command += ["-e", text]
    else:
        wanted = {(s, lits.caseless) for lits in literals for s in lits.strings}
        for text, caseless in sorted(wanted):
            command += ["-e", f"(?i:{_escape(text)})" if caseless else _escape(text)]
    return command + ["--", path]


_META = set("\\.+*?()|[]{}^$#&-~")


def _escape(text: str) -> str:
    """``text`` as a literal in ripgrep's regex syntax (only its meta characters escaped)."""
    return "".join("\\" + ch if ch in _META else ch for ch in text)


def _minimal(strings: set[str]) -> list[str]:
    """Drop strings that contain another one: a line with the longer has the shorter too."""
    return sorted(s for s in strings if not any(t != s and t in s for t in strings))


def _limit_memory(proc) -> None:
    try:
        import resource

        resource.prlimit(proc.pid, resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, AttributeError, OSError, ValueError):
        pass  # not Linux: ripgrep runs without the limit


def scan_file(rg: str, path: str, wants: list[Want], literals: list[Literals], stamps: TimestampParser | None,
              read: Callable[..., Generator[bytes, None, None]], stream=None) -> list[ScanResult]:
    """Scan ``path`` for ``wants`` (none with a time window); :class:`Unavailable` when the
    Python engine must do it. ``read(argv, exit=..., started=...)`` yields the command's output
    (:func:`diagnose.logscan.files.command_chunks` bound to the check's time). With ``stream``
    (``path`` opened, at its start, and given to the command as stdin) ripgrep reads that very
    file, whatever happens to the path meanwhile (rotation)."""
    collectors = [_Collector(want, _Reader(path, stream), stamps) for want in wants]
    exit: dict = {}
    chunks = read(argv(rg, literals, "-" if stream is not None else path), exit=exit, started=_limit_memory)
    _collect(chunks, collectors, path)
    if exit.get("status") not in (0, 1):   # 1: no line matched
        raise Unavailable(f"ripgrep failed on {path}: status {exit.get('status')}")
    return [c.finish() for c in collectors]


#: inflated bytes kept to read back from when a ``.gz`` goes through a pipe (a continuation line's time); the
#: inflater runs ahead of the candidates by about a pipe (PIPE_SIZE) and ripgrep's buffer, well under this
GZ_TAIL = 8 << 20


def scan_gz(rg: str, log: str, path: str, wants: list[Want], literals: list[Literals],
            stamps: TimestampParser | None, read: Callable[..., Generator[bytes, None, None]]) -> list[ScanResult]:
    """Scan the ``.gz`` file ``path`` for ``wants`` (none with a time window): a thread of diagnose's inflates
    it (ISA-L when installed) into ripgrep's standard input, so inflating and searching run on two cores and
    Python sees only the candidate lines (``zcat | rg``, without a shell or zcat's zlib). A damaged file is the
    :class:`~diagnose.failures.CheckError` the plain scan gives; :class:`Unavailable` when the Python engine
    must do it (ripgrep failed, or a line's time lay further back than the tail kept)."""
    import subprocess
    import threading

    from . import files

    tail = files.InflatedTail(GZ_TAIL)
    failed: list = []
    feeders: list[threading.Thread] = []

    def started(proc) -> None:
        _limit_memory(proc)
        _widen(proc.stdin)
        feeder = threading.Thread(target=files.feed_gz, args=(log, path, proc.stdin, tail, failed),
                                  daemon=True, name="diagnose-gunzip")
        feeder.start()
        feeders.append(feeder)

    collectors = [_Collector(want, tail, stamps, eager=True) for want in wants]
    exit: dict = {}
    chunks = read(argv(rg, literals, "-", line_buffered=True), exit=exit, started=started, stdin=subprocess.PIPE)
    try:
        _collect(chunks, collectors, path)
    finally:
        for feeder in feeders:   # ripgrep saw the end of its input: the feeder has closed the pipe, or is
            feeder.join(5)       # about to (a scan stopped early killed ripgrep: its next write fails)
    if failed:
        raise failed[0]
    if exit.get("status") not in (0, 1):
        raise Unavailable(f"ripgrep failed on {path}: status {exit.get('status')}")
    return [c.finish() for c in collectors]


#: bytes a pipe to ripgrep holds (Linux's default is 64 KiB): the inflater then writes, and ripgrep reads, in
#: fewer and larger steps; measured on 1 GiB, inflating into ripgrep took 1.2 s instead of 2.3 s
PIPE_SIZE = 1 << 20


def _widen(pipe) -> None:
    """Make ``pipe`` hold :data:`PIPE_SIZE` bytes, where the system allows it (Linux; not past
    ``/proc/sys/fs/pipe-max-size``): only a matter of speed."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_SIZE)
    except (ImportError, OSError, ValueError, AttributeError):
        pass


def _collect(chunks: Generator[bytes, None, None], collectors: list[_Collector], path: str) -> None:
    """Hand every candidate line of ripgrep's output (``LINE:OFFSET:text``) to the collectors."""
    with contextlib.closing(chunks):
        pending = b""
        for chunk in chunks:
            data = pending + chunk if pending else chunk
            cut = data.rfind(b"\n")
            if cut >= 0:
                for line in data[:cut].split(b"\n"):
                    _candidate(line, collectors)
            pending = data[cut + 1:]
            if len(pending) > MAX_LINE:
                raise Unavailable(f"a matching line of {path} is longer than {MAX_LINE} bytes")
    if pending:
        _candidate(pending, collectors)


def _candidate(line: bytes, collectors: list[_Collector]) -> None:
    first = line.find(b":")
    second = line.find(b":", first + 1)
    number, offset, text = int(line[:first]), int(line[first + 1:second]), line[second + 1:]
    for collector in collectors:
        if collector.want.pattern.search_line(text):
            collector.add(number, offset, text)


class _Collector:
    """One pattern's matches among the candidates: the count, the first with a time (the
    first match, unless it comes before any timed line), the last few."""

    def __init__(self, want: Want, reader: _Reader | InflatedTail, stamps: TimestampParser | None,
                 eager: bool = False):
        self.want, self.reader, self.stamps = want, reader, stamps
        self.eager = eager    # each match's time now, while what precedes it can still be read back
        self.count = 0
        self.first_time = None
        self.untimed_to = 0   # no line before this offset has a time (known from earlier matches)
        self.last: deque = deque(maxlen=max(want.keep, 1))
        self.times: dict[int, object] = {}   # offset -> time of the matches in ``last`` (when eager)

    def add(self, number: int, offset: int, text: bytes) -> None:
        self.count += 1
        entry = (number, offset, text[:HEAD_LIMIT])
        if len(self.last) == self.last.maxlen:
            self.times.pop(self.last[0][1], None)
        self.last.append(entry)
        if self.stamps is None or not (self.eager or self.first_time is None):
            return
        time = self.time_of(entry)   # once a match, and only while it is needed
        if self.eager:
            self.times[offset] = time
        if self.first_time is None:
            self.first_time = time
        if time is None:   # no timed line before this one: later matches need not look back past it
            self.untimed_to = offset

    def time_of(self, entry):
        if self.stamps is None:
            return None
        if entry[1] in self.times:
            return self.times[entry[1]]
        try:
            return _time_of(self.reader, entry[1], entry[2], self.stamps, self.untimed_to)
        except OSError as exc:
            raise Unavailable(f"cannot read back in {self.reader}: {exc}") from exc

    def finish(self) -> ScanResult:
        keep = self.want.keep
        shown = list(self.last)[-keep:] if keep else []
        result = ScanResult(count=self.count, last=deque(maxlen=max(keep, 0)))
        for number, offset, text in shown:
            result.last.append(Match(number, line_text(text), self.time_of((number, offset, text)), offset))
        if self.count:
            result.first_time = self.first_time
            result.last_time = self.time_of(self.last[-1])
        return result


class _Reader:
    """Reads bytes at an offset of the file being scanned: of the open ``stream`` when there
    is one (``os.pread``: its shared position, which ripgrep is reading from, stays put),
    else of ``path``."""

    def __init__(self, path: str, stream=None):
        self.path, self.stream = path, stream

    def __str__(self) -> str:
        return self.path

    def read(self, begin: int, size: int) -> bytes:
        if self.stream is not None and hasattr(os, "pread"):
            return os.pread(self.stream.fileno(), size, begin)
        with open(self.path, "rb") as f:
            f.seek(begin)
            return f.read(size)


def _time_of(reader: _Reader | InflatedTail, offset: int, text: bytes, stamps: TimestampParser, untimed_to: int = 0):
    """A line's own time, else that of the closest earlier timed line (a continuation line);
    no line before ``untimed_to`` (a line start) has a time, so the look back stops there."""
    own = stamps.parse(text[:HEAD_BYTES])
    if own is not None or offset <= untimed_to:
        return own
    end = offset - 1                  # the newline ending the previous line
    carry = b""
    while end > untimed_to:
        begin = max(untimed_to, end - LOOK_BACK)
        data = reader.read(begin, end - begin) + carry
        cut = len(data)
        while True:
            start = data.rfind(b"\n", 0, cut) + 1
            if start == 0 and begin > 0:
                carry = data[:cut]    # this line starts further back: read more
                break
            stamp = stamps.parse(data[start:min(cut, start + HEAD_BYTES)])
            if stamp is not None:
                return stamp
            if start == 0:
                return None
            cut = start - 1
        end = begin
    return None
