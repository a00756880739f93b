"""Lines longer than the scanner's ``max_line``: a 2 GB line without a newline, a 50 MB JSON dump.

Such a line is never held whole: each time the carried partial line outgrows ``max_line``
it is searched as a piece and only an overlap is kept, and the line is counted once when its
end arrives. Its first bytes are kept for its time and its evidence text. A mixin of
:class:`diagnose.logscan.scan._Scanner`, whose state (``pending``, ``base``, ``matchers``,
``stamps``, ``carried_time``, ``lines``, ``numbered``) it uses.

Known limit: a match longer than ``overlap`` that spans a piece boundary is missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from diagnose.clip import SOURCE_CHARS

if TYPE_CHECKING:
    from .timestamps import TimestampParser


class PieceMatcher(Protocol):
    """What a long line's pieces are searched with (a scanner's matcher: its compiled pattern, whether it
    searches text or bytes, whether a match can depend on where the line ends)."""

    regex: Any
    decodes: bool
    end_sensitive: bool

    def record(self, number: int | None, offset: int, head: bytes, time: Any) -> None: ...

#: characters of a matching line kept as evidence: masked whole, clipped for display by the report
TEXT_CHARS = SOURCE_CHARS
HEAD_LIMIT = 4 * TEXT_CHARS  # bytes of a line enough for TEXT_CHARS characters


class LongLine:
    """State of a line longer than ``max_line``, seen piece by piece."""

    def __init__(self, offset: int) -> None:
        self.offset = offset     # where the line starts in the file
        self.head = b""          # the line's first bytes: its time and its evidence text
        self.matched: set[int] = set()

    def see(self, data: bytes, start: int, end: int) -> None:
        missing = HEAD_LIMIT - len(self.head)
        if missing > 0:
            self.head += data[start:min(end, start + missing)]



class LongLines:
    """The over-long-line part of the scanner."""

    # the scanner's state this part uses (set by the scanner's __init__)
    pending: bytes
    base: int
    overlap: int
    lines: int
    numbered: bool
    long: LongLine | None
    carried_time: datetime | None
    stamps: TimestampParser | None
    matchers: Sequence[PieceMatcher]

    def _spill(self) -> None:
        """``pending`` outgrew ``max_line``: search it now, keep only an overlap."""
        data = self.pending
        long = self.long
        first = long is None
        if long is None:
            long = self.long = LongLine(self.base)
        long.see(data, 0 if first else self.overlap + 1, len(data))
        for i, matcher in enumerate(self.matchers):
            if i not in long.matched and self._search_piece(matcher, data, 0 if first else 1, open_end=True):
                long.matched.add(i)
        keep = self.overlap + 1
        self.base += len(data) - keep
        self.pending = data[-keep:]   # byte 0 was searched already: a sentinel

    def _end_long(self, data: bytes, end: int) -> None:
        """The over-long line ends at ``data[end]``; ``data[0]`` is the sentinel byte."""
        long, self.long = self.long, None
        assert long is not None   # called only while a long line is open
        long.see(data, self.overlap + 1, end)
        time = None
        if self.stamps is not None:
            time = self.carried_time = self.stamps.parse(long.head) or self.carried_time
        number = self.lines + 1 if self.numbered else None
        for i, matcher in enumerate(self.matchers):
            if i in long.matched or self._search_piece(matcher, data[:end], 1, open_end=False):
                matcher.record(number, long.offset, long.head, time)
        self.lines += 1

    def _search_piece(self, matcher: PieceMatcher, data: bytes, pos: int, open_end: bool) -> bool:
        """Search a piece of one line; with ``open_end`` the line goes on past the piece, so a
        match touching the piece's end counts only if the pattern cannot depend on the end."""
        piece: bytes | str = data.decode("utf-8", "surrogateescape") if matcher.decodes else data
        m = matcher.regex.search(piece, min(pos, len(piece)))
        if m is None:
            return False
        return not (open_end and matcher.end_sensitive and m.end() >= len(piece))
