"""The streaming matcher: count the lines of a log that a regex matches, grep -c style.

Why it looks like this: a Python loop over lines is ~20x slower than grep, so the compiled
regex runs over whole chunks (``MULTILINE``, so ``^``/``$`` are line anchors) and only the
lines it hits are cut out. Memory stays bounded: a chunk, the partial line carried into the
next one, and the last few matches. A line longer than ``max_line`` (a 50 MB JSON dump on one
line) is scanned in pieces with a small overlap and counted once.

Pure-ASCII patterns run as bytes regexes over the raw bytes (no decoding). Patterns with
non-ASCII text (``行情数据不足``) or with constructs whose meaning differs between bytes and
characters (``\\w``, ``\\b``, a lone ``.``, ``[^...]``) run as str regexes over chunks decoded
with ``surrogateescape``, so invalid UTF-8 never raises and ``[行情]`` means characters.

Known limit: inside one over-long line, a match longer than :data:`OVERLAP` that spans a
piece boundary is missed.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

from .timestamps import HEAD_BYTES, TimestampParser

NL = b"\n"
MAX_LINE = 1 << 20        # bytes of a partial line carried before it is scanned in pieces
OVERLAP = 4096            # bytes kept between the pieces of an over-long line
TEXT_CHARS = 500          # characters of a matching line kept as evidence
BACKTRACK_LINES = 200     # lines looked back for the timestamp of a continuation line
HEAD_LIMIT = 4 * TEXT_CHARS  # bytes of a line enough for TEXT_CHARS characters

_CHAR_SENSITIVE = re.compile(r"\\[wWbB]|\[\^|(?<!\\)\.(?![*+])")
_END_SENSITIVE = re.compile(r"\$|\\[ZbB]|\(\?[=!]")


@dataclass(frozen=True)
class LinePattern:
    """A compiled pattern; ``regex`` is a bytes regex, or a str one when it needs characters."""

    regex: re.Pattern
    source: str

    @property
    def decodes(self) -> bool:
        return isinstance(self.regex.pattern, str)


def compile_pattern(pattern: str, ignore_case: bool = False) -> LinePattern:
    """Compile ``pattern`` (raises :class:`re.error`) in the cheapest mode that is exact."""
    flags = re.MULTILINE | (re.IGNORECASE if ignore_case else 0)
    if pattern.isascii() and not _CHAR_SENSITIVE.search(pattern):
        return LinePattern(re.compile(pattern.encode("ascii"), flags), pattern)
    return LinePattern(re.compile(pattern, flags), pattern)


@dataclass
class Match:
    """One matching line: 1-based number in its file, text (evidence-sized), time if known."""

    line: int
    text: str
    time: datetime | None


@dataclass
class ScanResult:
    """Matching lines in the window: the count, the last few, the first and last time."""

    count: int = 0
    last: deque = field(default_factory=deque)
    first_time: datetime | None = None
    last_time: datetime | None = None
    lines: int = 0


def scan(chunks: Iterable[bytes], pattern: LinePattern, *, stamps: TimestampParser | None = None,
         since: datetime | None = None, keep_last: int = 5, max_line: int = MAX_LINE,
         overlap: int = OVERLAP, on_chunk: Callable[[], None] | None = None) -> ScanResult:
    """Scan one file's content. Lines timed before ``since`` are not counted (lines without a
    time take the closest earlier time in the file; with none they count). ``on_chunk`` runs
    before each chunk (the check's timeout). ``max_line``/``overlap`` are parameters so tests
    can exercise the over-long-line path with small inputs."""
    scanner = _Scanner(pattern, stamps, since, keep_last, max(max_line, 2 * overlap), overlap)
    for chunk in chunks:
        if on_chunk is not None:
            on_chunk()
        scanner.feed(chunk)
    return scanner.finish()


def line_text(raw: bytes | str) -> str:
    """Evidence text of a line: valid UTF-8, no trailing ``\\r``, at most :data:`TEXT_CHARS`."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    text = raw.decode("utf-8", "replace").rstrip("\r\n")
    return text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS] + "…"


def _head(block: bytes | str, start: int, end: int) -> bytes:
    """The first bytes of a line, where its timestamp is."""
    if isinstance(block, str):
        return block[start:min(end, start + HEAD_BYTES)].encode("utf-8", "surrogateescape")
    return block[start:min(end, start + HEAD_BYTES)]


class _LongLine:
    """State of a line longer than ``max_line``, seen piece by piece."""

    def __init__(self) -> None:
        self.head = b""          # the line's first bytes: its time and its evidence text
        self.matched = False

    def see(self, data: bytes, start: int, end: int) -> None:
        missing = HEAD_LIMIT - len(self.head)
        if missing > 0:
            self.head += data[start:min(end, start + missing)]


class _Scanner:
    def __init__(self, pattern: LinePattern, stamps: TimestampParser | None, since: datetime | None,
                 keep_last: int, max_line: int, overlap: int):
        self.pattern, self.stamps, self.since = pattern, stamps, since
        self.max_line, self.overlap = max_line, overlap
        self.result = ScanResult(last=deque(maxlen=max(keep_last, 0)))
        self.pending = b""            # the partial line after the last newline seen
        self.lines = 0                # complete lines before ``pending``
        self.carried_time: datetime | None = None  # closest time before ``pending``
        self.long: _LongLine | None = None
        self._known: tuple[int, datetime | None] | None = None  # last line whose time was resolved
        self.end_sensitive = bool(_END_SENSITIVE.search(pattern.source))

    # -- feeding --------------------------------------------------------------------------
    def feed(self, chunk: bytes) -> None:
        data = self.pending + chunk if self.pending else chunk
        cut = data.rfind(NL)
        if cut < 0:
            self.pending = data
        else:
            start = 0
            if self.long is not None:
                start = data.find(NL) + 1
                self._end_long(data, start - 1)
            if start <= cut:
                self._scan_block(data, start, cut + 1)
            self.pending = data[cut + 1:]
        if len(self.pending) > self.max_line:
            self._spill()

    def finish(self) -> ScanResult:
        if self.long is not None:
            self._end_long(self.pending, len(self.pending))
        elif self.pending:
            self._scan_block(self.pending + NL, 0, len(self.pending) + 1)
        self.pending = b""
        self.result.lines = self.lines
        self.result.last = deque((Match(n, line_text(raw), t) for n, raw, t in self.result.last),
                                 maxlen=self.result.last.maxlen)
        return self.result

    # -- complete lines -------------------------------------------------------------------
    def _scan_block(self, data: bytes, start: int, end: int) -> None:
        """Count the matching lines among the complete lines ``data[start:end]``."""
        if self.pattern.decodes:
            block: bytes | str = data[start:end].decode("utf-8", "surrogateescape")
            lo, hi, nl = 0, len(block), "\n"
        else:
            block, lo, hi, nl = data, start, end, NL
        regex = self.pattern.regex
        self._known = None
        pos, counted_to, number = lo, lo, self.lines
        while pos < hi:
            m = regex.search(block, pos, hi)
            if m is None or m.start() >= hi:
                break
            s = m.start()
            before = block.rfind(nl, pos, s)
            line_start = pos if before < 0 else before + 1
            line_end = block.find(nl, s, hi)
            # a match running past the line's end (``a\\sb`` over a newline) is not a line match
            if m.end() <= line_end or regex.search(block, line_start, line_end):
                number += block.count(nl, counted_to, line_start)
                counted_to = line_start
                self._record(number + 1, block[line_start:min(line_end, line_start + HEAD_LIMIT)],
                             self._time_at(block, line_start, line_end, lo))
            pos = line_end + 1
        self.lines += block.count(nl, lo, hi)
        if self.stamps is not None:
            last_start = block.rfind(nl, lo, hi - 1) + 1 or lo
            self.carried_time = self._time_at(block, max(last_start, lo), hi - 1, lo)

    def _time_at(self, block: bytes | str, line_start: int, line_end: int, lo: int) -> datetime | None:
        """Time of the line at ``line_start``, else of the closest earlier line with one."""
        if self.stamps is None:
            return None
        nl = "\n" if isinstance(block, str) else NL
        start, end = line_start, line_end
        found: datetime | None = None
        for _ in range(BACKTRACK_LINES):
            if self._known is not None and self._known[0] == start:
                found = self._known[1]
                break
            found = self.stamps.parse(_head(block, start, end))
            if found is not None:
                break
            if start <= lo:
                found = self.carried_time
                break
            end = start - 1
            start = block.rfind(nl, lo, end) + 1 or lo
        self._known = (line_start, found)
        return found

    # -- the match --------------------------------------------------------------------------
    def _record(self, number: int, raw: bytes | str, time: datetime | None) -> None:
        if self.since is not None and time is not None and time < self.since:
            return
        result = self.result
        result.count += 1
        if time is not None:
            if result.first_time is None:
                result.first_time = time
            result.last_time = time
        if result.last.maxlen:
            result.last.append((number, raw, time))  # decoded once, in finish()

    # -- over-long lines ------------------------------------------------------------------
    def _spill(self) -> None:
        """``pending`` outgrew ``max_line``: search it now, keep only an overlap."""
        data = self.pending
        first = self.long is None
        if first:
            self.long = _LongLine()
        self.long.see(data, 0 if first else self.overlap + 1, len(data))
        if not self.long.matched and self._search_piece(data, 0 if first else 1, open_end=True):
            self.long.matched = True
        self.pending = data[-(self.overlap + 1):]   # byte 0 was searched already: a sentinel

    def _end_long(self, data: bytes, end: int) -> None:
        """The over-long line ends at ``data[end]``; ``data[0]`` is the sentinel byte."""
        long, self.long = self.long, None
        long.see(data, self.overlap + 1, end)
        time = None
        if self.stamps is not None:
            time = self.carried_time = self.stamps.parse(long.head) or self.carried_time
        if long.matched or self._search_piece(data[:end], 1, open_end=False):
            self._record(self.lines + 1, long.head, time)
        self.lines += 1

    def _search_piece(self, data: bytes, pos: int, open_end: bool) -> bool:
        """Search a piece of one line; with ``open_end`` the line goes on past the piece, so a
        match touching the piece's end counts only if the pattern cannot depend on the end."""
        piece: bytes | str = data.decode("utf-8", "surrogateescape") if self.pattern.decodes else data
        m = self.pattern.regex.search(piece, min(pos, len(piece)))
        if m is None:
            return False
        return not (open_end and self.end_sensitive and m.end() >= len(piece))
