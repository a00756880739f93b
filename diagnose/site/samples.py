"""A readable message for each ``error_patterns`` regex, so the site's search can find it.

Search indexes words, not regexes: ``(WebSocket|WS)\\s*连接\\s*(已)?(断开|关闭)`` shows a reader
(and the search box) nothing they would paste. :func:`sample` walks the parsed regex and
writes the shortest plausible text it matches (first alternative, fewest repeats, a space
for ``\\s+``), then checks that the regex really matches it; when it cannot, there is no
sample and the page shows the pattern alone.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

try:  # Python 3.11+: the parser moved; the old name still works with a warning
    from re import _parser as sre_parse  # type: ignore[attr-defined]  # private module, not in typeshed
    from re import _constants as sre_constants  # type: ignore[attr-defined]  # private, not in typeshed
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants
    import sre_parse

_CATEGORY_CHAR = {
    sre_constants.CATEGORY_DIGIT: "0", sre_constants.CATEGORY_SPACE: " ", sre_constants.CATEGORY_WORD: "x",
    sre_constants.CATEGORY_NOT_DIGIT: "x", sre_constants.CATEGORY_NOT_SPACE: "x", sre_constants.CATEGORY_NOT_WORD: " ",
}


#: a space between two CJK characters or full-width signs (no such space in Chinese text)
_CJK_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) (?=[\u3000-\u9fff\uff00-\uffef])")


class _Unsupported(Exception):
    pass


@lru_cache(maxsize=4096)
def sample(pattern: str) -> str | None:
    """A short text that ``pattern`` matches, readable in a table; ``None`` if none is found."""
    try:
        parsed = sre_parse.parse(pattern)
        text = _write(list(parsed))
    except (re.error, _Unsupported, RecursionError):
        return None
    text = _CJK_GAP.sub("", re.sub(r"\s{2,}", " ", text))
    try:
        for candidate in (text.strip(), text):
            if candidate.strip() and re.search(pattern, candidate):
                return candidate
    except re.error:
        return None
    return None


def _write(items: list[tuple[Any, Any]]) -> str:
    out = []
    for op, arg in items:
        out.append(_item(op, arg))
    return "".join(out)


def _item(op: Any, arg: Any) -> str:
    name = str(op)
    if name == "LITERAL":
        return chr(arg)
    if name == "NOT_LITERAL":
        return "x" if chr(arg) != "x" else "y"
    if name == "ANY":
        return "'"
    if name == "IN":
        return _char_class(arg)
    if name == "SUBPATTERN":
        return _write(list(arg[-1]))
    if name == "BRANCH":
        return _write(list(arg[1][0]))
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, _high, body = arg
        if low == 0:  # optional: a space where one may stand keeps words apart
            return " " if _can_be_space(list(body)) else ""
        return _write(list(body)) * low
    if name in ("AT", "ASSERT", "ASSERT_NOT"):
        return ""
    if name == "CATEGORY":
        return _CATEGORY_CHAR.get(arg, "x")
    if name == "GROUPREF":
        raise _Unsupported(name)
    raise _Unsupported(name)


def _can_be_space(items: list[tuple[Any, Any]]) -> bool:
    """Can the first character ``items`` match be a space?"""
    if not items:
        return False
    op, arg = items[0]
    name = str(op)
    if name == "LITERAL":
        return arg == 32
    if name == "NOT_LITERAL":
        return arg != 32
    if name == "ANY":
        return True
    if name == "CATEGORY":
        return _CATEGORY_CHAR.get(arg) == " " or arg == sre_constants.CATEGORY_NOT_DIGIT
    if name == "IN":
        return bool(re.fullmatch(_class_regex(arg), " "))
    if name == "SUBPATTERN":
        return _can_be_space(list(arg[-1]))
    if name == "BRANCH":
        return any(_can_be_space(list(b)) for b in arg[1])
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return _can_be_space(list(arg[2]))
    return False


def _class_regex(members: list[tuple[Any, Any]]) -> str:
    """A character class back as regex text (to ask it whether it matches a space)."""
    parts, negate = [], ""
    for op, arg in members:
        name = str(op)
        if name == "NEGATE":
            negate = "^"
        elif name == "LITERAL":
            parts.append(re.escape(chr(arg)))
        elif name == "RANGE":
            parts.append(f"{re.escape(chr(arg[0]))}-{re.escape(chr(arg[1]))}")
        elif name == "CATEGORY":
            parts.append({sre_constants.CATEGORY_DIGIT: r"\d", sre_constants.CATEGORY_NOT_DIGIT: r"\D",
                          sre_constants.CATEGORY_SPACE: r"\s", sre_constants.CATEGORY_NOT_SPACE: r"\S",
                          sre_constants.CATEGORY_WORD: r"\w", sre_constants.CATEGORY_NOT_WORD: r"\W"}.get(arg, ""))
    return f"[{negate}{''.join(parts)}]" if parts else ("[^\n]" if negate else "(?!)")


def _char_class(members: list[tuple[Any, Any]]) -> str:
    if members and str(members[0][0]) == "NEGATE":
        excluded = {chr(a) for o, a in members[1:] if str(o) == "LITERAL"}
        return next(ch for ch in "xyz-_ " if ch not in excluded)
    for op, arg in members:
        name = str(op)
        if name == "LITERAL":
            return chr(arg)
        if name == "RANGE":
            low, high = arg
            return "0" if low <= ord("0") <= high else "a" if low <= ord("a") <= high else chr(low)
        if name == "CATEGORY":
            return _CATEGORY_CHAR.get(arg, "x")
    raise _Unsupported("IN")
