"""The streaming matcher: count the lines of a log that each of several regexes matches.

Why it looks like this: a Python loop over lines is ~20x slower than grep, so each compiled
regex runs over whole chunks (``MULTILINE``, so ``^``/``$`` are line anchors) and only the
lines it hits are cut out. Several patterns share one pass: the file is read once and each
chunk, still in the CPU cache, is searched by every pattern. Memory stays bounded: a chunk,
the partial line carried into the next one, and the last few matches. A line longer than
``max_line`` (a 50 MB JSON dump on one line) is scanned in pieces with a small overlap and
counted once.

How a pattern is compiled and what a line match means: :mod:`.pattern`.

This is the engine every scan can use; :mod:`.ripgrep` is a faster one for whole files, and
:mod:`.window` decides where a time-windowed scan may start. Known limit: inside one
over-long line, a match longer than :data:`OVERLAP` that spans a piece boundary is missed.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import AnyStr, Callable, Iterable

from diagnose.clip import keep

from .longlines import HEAD_LIMIT, TEXT_CHARS, LongLine, LongLines
from .pattern import LinePattern, compile_pattern  # noqa: F401 (the scan's vocabulary)
from .timestamps import HEAD_BYTES, TimestampParser

NL = b"\n"
MAX_LINE = 1 << 20        # bytes of a partial line carried before it is scanned in pieces
OVERLAP = 4096            # bytes kept between the pieces of an over-long line

_END_SENSITIVE = re.compile(r"\$|\\[ZbB]|\(\?[=!]")


@dataclass(frozen=True)
class Want:
    """One pattern's part in a pass: lines timed before ``since`` do not count; keep ``keep``."""

    pattern: LinePattern
    since: datetime | None = None
    keep: int = 5


@dataclass
class Match:
    """One matching line: 1-based number in its file (``None`` when the scan began past the
    start, as a time window does), byte offset of the line, text (evidence-sized), time."""

    line: int | None
    text: str
    time: datetime | None
    offset: int = 0


@dataclass
class ScanResult:
    """Matching lines in the window: the count, the last few, the first and last time."""

    count: int = 0
    last: deque = field(default_factory=deque)
    first_time: datetime | None = None
    last_time: datetime | None = None
    lines: int = 0
    #: of ``count``: lines counted in a window although their time is unknown (no timestamp, and none
    #: on a line before them): the window could not be applied to them
    untimed: int = 0
    #: the file's last modification, when it is a file: it bounds the time of every line in it
    modified: datetime | None = None
    #: not read: the file was last modified before the window opened, so nothing in it can count
    before_window: bool = False


def scan(chunks: Iterable[bytes], pattern: LinePattern, *, stamps: TimestampParser | None = None,
         since: datetime | None = None, keep_last: int = 5, max_line: int = MAX_LINE,
         overlap: int = OVERLAP, on_chunk: Callable[[], None] | None = None) -> ScanResult:
    """One pattern over one file's content (see :func:`scan_many`)."""
    return scan_many(chunks, [Want(pattern, since, keep_last)], stamps=stamps, max_line=max_line,
                     overlap=overlap, on_chunk=on_chunk)[0]


def scan_many(chunks: Iterable[bytes], wants: list[Want], *, stamps: TimestampParser | None = None,
              max_line: int = MAX_LINE, overlap: int = OVERLAP, on_chunk: Callable[[], None] | None = None,
              offset: int = 0, carried_time: datetime | None = None) -> list[ScanResult]:
    """Scan one file's content once for every ``want``; results in the same order.

    Lines timed before a want's ``since`` do not count for it (lines without a time take the
    closest earlier time in the file; with none they count). ``offset`` is where in the file
    the chunks begin: past 0, line numbers are unknown (``Match.line`` is ``None``) and
    ``carried_time`` is the time of the lines before. ``on_chunk`` runs before each chunk (the
    check's timeout). ``max_line``/``overlap`` are parameters so tests can exercise the
    over-long-line path with small inputs."""
    scanner = _Scanner(wants, stamps, max(max_line, 2 * overlap), overlap, offset, carried_time)
    for chunk in chunks:
        if on_chunk is not None:
            on_chunk()
        scanner.feed(chunk)
    return scanner.finish()


def line_text(raw: bytes | str) -> str:
    """Evidence text of a line: valid UTF-8, no trailing ``\\r``, at most :data:`TEXT_CHARS`, cut at a
    word boundary (:func:`diagnose.clip.keep`) so no secret is kept in part."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    return keep(raw.decode("utf-8", "replace").rstrip("\r\n"), TEXT_CHARS)


def _head(block: bytes | str, start: int, end: int) -> bytes:
    """The first bytes of a line, where its timestamp is."""
    if isinstance(block, str):
        return block[start:min(end, start + HEAD_BYTES)].encode("utf-8", "surrogateescape")
    return block[start:min(end, start + HEAD_BYTES)]


class _Matcher:
    """One want's state during a pass."""

    def __init__(self, want: Want):
        self.want = want
        self.regex = want.pattern.regex
        self.decodes = want.pattern.decodes
        self.end_sensitive = bool(_END_SENSITIVE.search(want.pattern.source))
        self.result = ScanResult(last=deque(maxlen=max(want.keep, 0)))
        self.literal, self.caseless = _prefilter(want.pattern)
        self.by_line = want.pattern.looks_past_line

    def record(self, number: int | None, offset: int, raw: bytes | str, time: datetime | None) -> None:
        since = self.want.since
        if since is not None and time is not None and time < since:
            return
        result = self.result
        result.count += 1
        if since is not None and time is None:
            result.untimed += 1
        if time is not None:
            if result.first_time is None:
                result.first_time = time
            result.last_time = time
        if result.last.maxlen:
            result.last.append((number, offset, raw, time))  # decoded once, in finish()


def _prefilter(pattern: LinePattern) -> tuple[bytes | None, bool]:
    """The one literal every match of ``pattern`` contains, as UTF-8 (lowered when compared
    ignoring case), if there is one: ``bytes.find`` finds it faster than the regex engine,
    and a character pattern then decodes only the candidate lines, not the whole log."""
    from .literals import prefilter_literals

    literals = prefilter_literals(pattern)
    if literals is None or len(literals.strings) != 1:
        return None, False
    (text,) = literals.strings
    return (text.lower() if literals.caseless else text).encode("utf-8"), literals.caseless


class _Scanner(LongLines):
    def __init__(self, wants: list[Want], stamps: TimestampParser | None, max_line: int, overlap: int,
                 offset: int = 0, carried_time: datetime | None = None):
        self.matchers: list[_Matcher] = [_Matcher(w) for w in wants]
        self.stamps = stamps
        self.max_line, self.overlap = max_line, overlap
        self.numbered = offset == 0
        self.pending = b""            # the partial line after the last newline seen
        self.base = offset            # file offset of ``pending[0]`` (of the next chunk when empty)
        self.lines = 0                # complete lines before ``pending``
        self.carried_time = carried_time  # closest time before ``pending``
        self.long: LongLine | None = None
        self._known: tuple[bool, int, datetime | None] | None = None  # last line whose time was resolved

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
            self.base += cut + 1
        if len(self.pending) > self.max_line:
            self._spill()

    def finish(self) -> list[ScanResult]:
        if self.long is not None:
            self._end_long(self.pending, len(self.pending))
        elif self.pending:
            self._scan_block(self.pending + NL, 0, len(self.pending) + 1)
        self.pending = b""
        results = []
        for matcher in self.matchers:
            result = matcher.result
            result.lines = self.lines
            result.last = deque((Match(n, line_text(raw), t, off) for n, off, raw, t in result.last),
                                maxlen=result.last.maxlen)
            results.append(result)
        return results

    # -- complete lines -------------------------------------------------------------------
    def _scan_block(self, data: bytes, start: int, end: int) -> None:
        """Count, for each pattern, the matching lines among the complete lines ``data[start:end]``;
        ``data[0]`` is at file offset ``self.base``."""
        self._known = None
        text: str | None = None
        lowered: bytes | None = None
        for matcher in self.matchers:
            if matcher.literal is not None:
                haystack = data
                if matcher.caseless:
                    if lowered is None:
                        lowered = data[start:end].lower()
                    haystack = lowered
                self._find_literal(matcher, data, haystack, start, end, 0 if haystack is data else start)
            elif matcher.by_line:
                self._search_lines(matcher, data, start, end)
            elif matcher.decodes:
                if text is None:
                    text = data[start:end].decode("utf-8", "surrogateescape")
                self._search_block(matcher, text, 0, len(text), self.base + start)
            else:
                self._search_block(matcher, data, start, end, self.base)
        if self.numbered:
            self.lines += data.count(NL, start, end)
        if self.stamps is not None:
            last_start = data.rfind(NL, start, end - 1) + 1 or start
            self.carried_time = self._time_at(data, max(last_start, start), end - 1, start)

    def _search_block(self, matcher: _Matcher, block: AnyStr, lo: int, hi: int, base: int) -> None:
        """One pattern over ``block[lo:hi]``; ``block[0]`` is at file offset ``base`` (text when the
        pattern decodes, bytes otherwise)."""
        nl = "\n" if isinstance(block, str) else NL
        regex = matcher.regex
        pos, counted_to, number = lo, lo, self.lines
        byte_pos = base + lo if matcher.decodes else 0  # file offset of ``block[counted_to]``
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
                if self.numbered:
                    number += block.count(nl, counted_to, line_start)
                if isinstance(block, str):
                    byte_pos += len(block[counted_to:line_start].encode("utf-8", "surrogateescape"))
                    offset = byte_pos
                else:
                    offset = base + line_start
                counted_to = line_start
                self._hit(matcher, block, line_start, line_end, lo, number + 1, offset)
            pos = line_end + 1

    def _find_literal(self, matcher: _Matcher, data: bytes, haystack: bytes, lo: int, hi: int,
                      shift: int) -> None:
        """Like :meth:`_search_block`, but candidates are found by the pattern's literal in
        ``haystack`` (``data`` itself, or ``data[lo:hi]`` lowered: ``shift`` maps back) and
        each candidate line is then decided by the regex."""
        literal, regex, base = matcher.literal, matcher.regex, self.base
        pattern, decodes = matcher.want.pattern, matcher.decodes
        assert literal is not None   # called only for a matcher with a literal
        pos, counted_to, number = lo, lo, self.lines
        while pos < hi:
            hit = haystack.find(literal, pos - shift, hi - shift)
            if hit < 0:
                break
            hit += shift
            line_start = data.rfind(NL, lo, hit) + 1 or lo
            line_end = data.find(NL, hit, hi)
            if (pattern.search_line(data[line_start:line_end]) if decodes or matcher.by_line
                    else regex.search(data, line_start, line_end)):
                if self.numbered:
                    number += data.count(NL, counted_to, line_start)
                    counted_to = line_start
                self._hit(matcher, data, line_start, line_end, lo, number + 1, base + line_start)
            pos = line_end + 1

    def _search_lines(self, matcher: _Matcher, data: bytes, lo: int, hi: int) -> None:
        """The slow, exact way for patterns that look past a line's edges: each line alone."""
        number, line_start = self.lines, lo
        pattern = matcher.want.pattern
        while line_start < hi:
            line_end = data.find(NL, line_start, hi)
            number += 1
            if pattern.search_line(data[line_start:line_end]):
                self._hit(matcher, data, line_start, line_end, lo, number, self.base + line_start)
            line_start = line_end + 1

    def _hit(self, matcher: _Matcher, block: AnyStr, line_start: int, line_end: int, lo: int,
             number: int, offset: int) -> None:
        """``block[line_start:line_end]`` matched: hand it to the matcher with its number
        (when known), file offset, evidence-sized head and time."""
        matcher.record(number if self.numbered else None, offset,
                       block[line_start:min(line_end, line_start + HEAD_LIMIT)],
                       self._time_at(block, line_start, line_end, lo))

    def _time_at(self, block: AnyStr, line_start: int, line_end: int, lo: int) -> datetime | None:
        """Time of the line at ``line_start``, else of the closest earlier line with one."""
        if self.stamps is None:
            return None
        is_text = isinstance(block, str)
        nl = "\n" if isinstance(block, str) else NL
        start, end = line_start, line_end
        found: datetime | None = None
        while True:  # back to the previous match's line at worst: its time is known
            known = self._known
            if known is not None and known[0] == is_text and known[1] == start:
                found = known[2]
                break
            found = self.stamps.parse(_head(block, start, end))
            if found is not None:
                break
            if start <= lo:
                found = self.carried_time
                break
            end = start - 1
            start = block.rfind(nl, lo, end) + 1 or lo
        self._known = (is_text, line_start, found)
        return found
