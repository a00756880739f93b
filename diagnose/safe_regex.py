"""Regexes from a knowledge base or a profile, compiled so that none can hang a run.

Python's ``re`` backtracks: ``(a+)+$`` against a line of 30 ``a`` and a ``b`` takes minutes,
and it holds the GIL while it does, so not even the run's watchdog gets to say "timeout".
Most patterns cannot do that, and they keep Python semantics (and speed). The ones whose
shape can - a repetition inside a repetition, alternatives that overlap inside a repetition -
are compiled with RE2 (``google-re2``), which matches in linear time whatever the input. A
risky pattern RE2 cannot compile (lookarounds, backreferences) is refused with a message
that says how to rewrite it; :func:`compile` raises :class:`UnsafePattern`, an ``re.error``,
so every place that reports a bad regex reports this too.

The test of shape is deliberately cautious: a safe pattern it flags merely runs on RE2, where
``\\w``, ``\\d`` and ``\\b`` are ASCII-only.
"""

from __future__ import annotations

import re
from re import _constants as C  # type: ignore[attr-defined]  # private module, not in typeshed
from re import _parser as parser  # type: ignore[attr-defined]  # private module, not in typeshed
from typing import Any

_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT}
_FLAGS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))


class UnsafePattern(re.error):
    """A pattern that could backtrack for ever, and that RE2 cannot run either."""


def risk(pattern: str | bytes) -> str | None:
    """Why ``pattern`` could take exponential time in a backtracking engine, or ``None``.
    Invalid patterns raise ``re.error`` as ``re.compile`` would."""
    try:
        tree = parser.parse(pattern)
    except (OverflowError, RecursionError) as exc:   # a{99999999999}, ((((...)))) 1000 deep
        raise re.error(f"too large to compile: {type(exc).__name__}") from None
    return _walk(list(tree), outer=False)


def _walk(items: list, outer: bool) -> str | None:
    """``outer``: inside a repetition that may run more than once."""
    for op, av in items:
        if op in _REPEATS:
            low, high, sub = av
            unbounded = high is C.MAXREPEAT
            if outer and unbounded:
                return "a repetition inside a repetition"
            found = _walk(list(sub), outer or high is C.MAXREPEAT or high > 1)
            if found:
                return found
        elif op is C.BRANCH:
            if outer and not _distinct_starts(av[1]):
                return "alternatives that can match the same text inside a repetition"
            for alternative in av[1]:
                found = _walk(list(alternative), outer)
                if found:
                    return found
        elif op is C.SUBPATTERN:
            found = _walk(list(av[3]), outer)
            if found:
                return found
        elif op is C.ATOMIC_GROUP or op is getattr(C, "POSSESSIVE_REPEAT", None):
            continue  # no backtracking into these
        elif op in (C.ASSERT, C.ASSERT_NOT):
            found = _walk(list(av[1]), outer)
            if found:
                return found
    return None


def _distinct_starts(alternatives: list) -> bool:
    """Does every alternative begin with its own literal character (``ERROR|WARN``)?"""
    firsts = []
    for alternative in alternatives:
        items = list(alternative)
        if not items or items[0][0] is not C.LITERAL:
            return False
        firsts.append(items[0][1])
    return len(set(firsts)) == len(firsts)


def compile(pattern: str | bytes, flags: int = 0) -> Any:  # noqa: A001 - the re.compile of this module
    """``re.compile(pattern, flags)``, or an RE2 regex with the same flags when the pattern's
    shape could backtrack catastrophically (same ``search``/``pattern`` interface)."""
    why = risk(pattern)
    if why is None:
        try:
            return re.compile(pattern, flags)
        except (OverflowError, RecursionError) as exc:
            raise re.error(f"too large to compile: {type(exc).__name__}") from None
    try:
        import re2
    except ImportError as exc:
        raise UnsafePattern(f"{why}: it could take exponential time on a long line, and RE2 is not "
                            f"installed to run it safely; rewrite it (e.g. '(a+)+' as 'a+')") from exc
    inline = "".join(letter for flag, letter in _FLAGS if flags & flag)
    prefix = f"(?{inline})" if inline else ""
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(prefix.encode() + pattern if isinstance(pattern, bytes) else prefix + pattern, options)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise UnsafePattern(f"{why}: it could take exponential time on a long line, and the linear-time "
                            f"engine cannot run it ({detail}); rewrite it without nesting repetitions "
                            f"or overlapping alternatives (e.g. '(a+)+' as 'a+')") from None


def search(pattern: str, text: str, flags: int = 0):
    """``re.search`` through :func:`compile` (cached by ``re`` or by the caller)."""
    return _cached(pattern, flags).search(text)


_CACHE: dict[tuple[str, int], Any] = {}


def _cached(pattern: str, flags: int) -> Any:
    key = (pattern, flags)
    found = _CACHE.get(key)
    if found is None:
        if len(_CACHE) > 512:
            _CACHE.clear()
        found = _CACHE[key] = compile(pattern, flags)
    return found
