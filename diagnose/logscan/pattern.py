"""A log pattern compiled for the engines: bytes or text, and what a line match means.

Pure-ASCII patterns run as bytes regexes over the raw bytes (no decoding). Patterns with
non-ASCII text (``行情数据不足``), escapes above ASCII (``\\xe9``, ``\\u884c``), or constructs
whose meaning differs between bytes and characters (``\\w``, ``\\b``, a lone ``.``, ``[^...]``)
run as str regexes over text decoded with ``surrogateescape``, so invalid UTF-8 never raises
and ``[行情]`` means characters. A pattern whose shape could backtrack for ever runs on RE2
over the bytes (:mod:`diagnose.safe_regex`). Either way a line matches when the regex finds a match in
the line alone (:meth:`LinePattern.search_line`), as grep's lines do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from diagnose import safe_regex

_CHAR_SENSITIVE = re.compile(r"\\[wWbB]|\[\^|(?<!\\)\.(?![*+])"
                             r"|\\[uUN]|\\x[89a-fA-F]|\\[0-3][0-7]{2}|\(\?[a-zA-Z]*u")
# lookarounds and \A \Z would see the neighbouring lines in a chunk: such patterns are
# decided line by line (a line is searched alone, as grep does)
_EDGE_SENSITIVE = re.compile(r"\(\?<?[=!]|\\[AZ]")


@dataclass(frozen=True)
class LinePattern:
    """A compiled pattern; ``regex`` is a bytes regex, or a str one when it needs characters."""

    regex: re.Pattern
    source: str
    ignore_case: bool = False

    @property
    def looks_past_line(self) -> bool:
        """Lookarounds and ``\\A``/``\\Z`` would see the neighbouring lines in a chunk, so
        the engines decide such patterns line by line."""
        return bool(_EDGE_SENSITIVE.search(self.source))

    @property
    def decodes(self) -> bool:
        return isinstance(self.regex.pattern, str)

    def search_line(self, line: bytes) -> bool:
        """Does the pattern match this one line (no newline)? The check every engine agrees on."""
        subject = line.decode("utf-8", "surrogateescape") if self.decodes else line
        return self.regex.search(subject) is not None


def compile_pattern(pattern: str, ignore_case: bool = False) -> LinePattern:
    """Compile ``pattern`` (raises :class:`re.error`) in the cheapest mode that is exact."""
    flags = re.MULTILINE | (re.IGNORECASE if ignore_case else 0)
    if safe_regex.risk(pattern):  # could backtrack for ever: RE2 over the raw bytes, linear time
        return LinePattern(safe_regex.compile(pattern.encode("utf-8"), flags), pattern, ignore_case)
    if pattern.isascii() and not _CHAR_SENSITIVE.search(pattern):
        try:
            return LinePattern(re.compile(pattern.encode("ascii"), flags), pattern, ignore_case)
        except re.error:
            pass  # valid for text only (a \u escape, a (?u) flag...): compile it as text
    return LinePattern(re.compile(pattern, flags), pattern, ignore_case)
