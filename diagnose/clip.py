"""Shortening text without cutting a secret in two.

A report shows a few hundred characters of a log line, a body or a cell; a secret that straddles
such a cut would be masked by nobody (its first half matches no known secret and no shape). So:

* sources (log lines, bodies, replies, cells, template values) keep at most
  :data:`SOURCE_CHARS` characters, and when they must cut they cut back to a word boundary
  (:func:`keep`), marking the cut with :data:`CUT`;
* reports mask first, on those whole texts, and only then clip them for display (:func:`clip`),
  never inside a ``«masked-N»`` label.
"""

from __future__ import annotations

import re

CUT = "…"
#: characters a source keeps of one text: enough to mask whatever a report then shows of it
SOURCE_CHARS = 16 * 1024
_BOUNDARY_CHARS = " \t\n\r,;|<>(){}[]\"'`"
_LABEL_START = re.compile(r"«[^»]{0,16}$")


def keep(text: str, limit: int = SOURCE_CHARS) -> str:
    """``text``, or its first ``limit`` characters cut back to the last word boundary and marked
    with :data:`CUT`, so no token (a password, a key) is kept in part: an unbroken token that
    crosses the limit is dropped whole."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    last = max((head.rfind(char) for char in _BOUNDARY_CHARS), default=-1)
    return head[:last + 1] + CUT


def was_cut(text: str) -> bool:
    return text.endswith(CUT)


def clip(text: str, limit: int) -> str:
    """``text`` (already masked) shortened to about ``limit`` characters for display."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    label = _LABEL_START.search(head)
    if label:  # never show half a label
        head = head[:label.start()]
    return head.rstrip(CUT) + CUT
