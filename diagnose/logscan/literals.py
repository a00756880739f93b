"""The literal text every match of a regex must contain: the prefilter of a fast scan.

``position_sync_failed account=\\d+`` cannot match a line without ``position_sync_failed
account=``, and ``(Connection reset|ECONNRESET)`` not without one of its two words. A
fixed-string search for those (ripgrep's fastest path, SIMD) finds the few candidate lines;
the Python regex then decides each one, so the prefilter changes speed, never results.

:func:`required_literals` walks the pattern's parse tree (``re._parser``, the module ``re``
itself compiles with) and returns a set of strings such that every match contains at least
one of them, or ``None`` when no useful set exists (``\\d{3} ms``, ``.*``).
"""

from __future__ import annotations

import re
from re import _constants as C  # type: ignore[attr-defined]  # private module, not in typeshed
from re import _parser as parser  # type: ignore[attr-defined]  # private module, not in typeshed

#: literals shorter than this find too many candidate lines to be worth a prefilter
MIN_LENGTH = 3
#: alternatives beyond this make the prefilter a scan of its own
MAX_ALTERNATIVES = 16

_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT)}


class Literals:
    """Strings of which every match contains one; ``caseless`` when they compare ignoring case."""

    def __init__(self, strings: frozenset[str], caseless: bool):
        self.strings = strings
        self.caseless = caseless

    def __repr__(self) -> str:
        return f"Literals({sorted(self.strings)!r}, caseless={self.caseless})"


def required_literals(pattern: str, ignore_case: bool = False) -> Literals | None:
    """The literal set of ``pattern`` (``None``: no useful one; invalid patterns raise re.error)."""
    flags = re.IGNORECASE if ignore_case else 0
    tree = parser.parse(pattern, flags)
    caseless = bool(tree.state.flags & re.IGNORECASE)
    found = _best(_candidates(list(tree), caseless))
    if found is None:
        return None
    strings, any_caseless = found
    if any_caseless and not all(s.isascii() for s in strings):
        return None  # case folding outside ASCII differs between engines: not worth the risk
    return Literals(frozenset(strings), any_caseless)


Candidate = tuple[frozenset[str], bool]   # (any of these strings, compared ignoring case?)


def _best(candidates: list[Candidate]) -> Candidate | None:
    """The most selective candidate: longest shortest string, fewest alternatives, case kept."""
    useful = [c for c in candidates if c[0] and len(c[0]) <= MAX_ALTERNATIVES
              and min(len(s) for s in c[0]) >= MIN_LENGTH]
    if not useful:
        return None
    return max(useful, key=lambda c: (min(len(s) for s in c[0]), -len(c[0]), not c[1]))


def _candidates(items: list, caseless: bool) -> list[Candidate]:
    """Required literal sets of a sequence of parse items (each one alone is required)."""
    out: list[Candidate] = []
    run: list[str] = []

    def close() -> None:
        if run:
            out.append((frozenset(["".join(run)]), caseless))
            run.clear()

    for op, av in items:
        if op is C.LITERAL:
            run.append(chr(av))
            continue
        close()
        if op is C.SUBPATTERN:
            _group, add, delete, sub = av
            inner = (caseless or bool(add & re.IGNORECASE)) and not (delete & re.IGNORECASE)
            out += _candidates(list(sub), inner)
        elif op is C.ATOMIC_GROUP:
            out += _candidates(list(av), caseless)
        elif op in _REPEATS:
            low, _high, sub = av
            if low >= 1:
                out += _candidates(list(sub), caseless)
        elif op is C.BRANCH:
            alternative = _branch(av[1], caseless)
            if alternative is not None:
                out.append(alternative)
        elif op is C.IN:
            single = _single_char_set(av)
            if single is not None:
                out.append((frozenset([single]), caseless))
        # anything else (any char, classes, anchors, lookarounds, backrefs) requires no text
    close()
    return out


def _branch(alternatives: list, caseless: bool) -> Candidate | None:
    """``a|b|c``: every alternative must bring a literal set; their union is required."""
    union: set[str] = set()
    any_caseless = False
    for alternative in alternatives:
        best = _best(_candidates(list(alternative), caseless))
        if best is None:
            return None
        union |= best[0]
        any_caseless = any_caseless or best[1]
    return frozenset(union), any_caseless


def _single_char_set(items: list) -> str | None:
    """``[x]`` is the literal ``x`` (the parser keeps some of those as a set of one)."""
    if len(items) == 1 and items[0][0] is C.LITERAL:
        return chr(items[0][1])
    return None


def prefilter_literals(pattern) -> Literals | None:
    """The literals a fast scan may look for in place of the compiled ``pattern``
    (:class:`~diagnose.logscan.scan.LinePattern`): none when a character pattern ignores
    case, because Python then matches ``İ`` and ``ı`` for ``i``, ``ſ`` for ``s`` and the
    Kelvin sign for ``k``, which ASCII lowering and ripgrep's case folding do not all do."""
    literals = required_literals(pattern.source, pattern.ignore_case)
    if literals is None or (literals.caseless and pattern.decodes):
        return None
    if any("\x00" in text or "\n" in text for text in literals.strings):
        return None   # cannot be a command-line argument, or cannot be in one line
    if not pattern.decodes and any(not text.isascii() for text in literals.strings):
        return None   # \xe9 in a bytes pattern is the byte 0xe9, not UTF-8 'é'
    return literals
