"""The literal prefilter: which text every match of a pattern must contain.

A wrong literal set silently loses matches in both fast engines (ripgrep's fixed-string
search and the Python engine's ``bytes.find``), so besides a table of known answers the
promise itself is checked on many random lines: whenever the regex matches a line, one of
the literals occurs in it.
"""

from __future__ import annotations

import random
import re

import pytest

from diagnose.logscan.literals import (
    MAX_ALTERNATIVES,
    prefilter_literals,
    required_literals,
)
from diagnose.logscan.scan import compile_pattern

# (pattern, ignore_case, expected strings or None, caseless)
TABLE = [
    ("position_sync_failed", False, {"position_sync_failed"}, False),
    (r"position_sync_failed account=\d+", False, {"position_sync_failed account="}, False),
    (r"status=5\d\d in \d+ ms", False, {"status=5"}, False),
    ("(Connection reset|ECONNRESET)", False, {"Connection reset", "ECONNRESET"}, False),
    ("foo|bar.*", False, {"foo", "bar"}, False),
    ("(?:ERROR|WARN)ING: [a-z]+ failed", False, {" failed"}, False),
    ("(abc|de)fgh", False, {"fgh"}, False),
    ("sync.*ok", False, {"sync"}, False),
    ("(?s)abc.def", False, {"abc"}, False),
    ("(a)\\1bcd", False, {"bcd"}, False),
    ("(?x) a b c d  # comment", False, {"abcd"}, False),
    ("[x]yz", False, {"xyz"}, False),
    ("[^x]yzw", False, {"yzw"}, False),
    (r"\bfail\w*", False, {"fail"}, False),
    # case: inline, argument, scoped on and off
    ("(?i)websocket disconnected", False, {"websocket disconnected"}, True),
    ("websocket disconnected", True, {"websocket disconnected"}, True),
    ("(?i:abc)DEFG", False, {"DEFG"}, False),
    ("(?i)abc(?-i:DEFGH)", False, {"DEFGH"}, False),
    ("(?i:(?-i:ABC)def)", False, {"ABC"}, False),
    ("abc|(?i:def)", False, {"abc", "def"}, True),
    # non-ASCII: fine with case kept, refused when case is ignored
    ("行情数据不足", False, {"行情数据不足"}, False),
    ("(锁仓下单|换月平仓)接口未实现", False, {"接口未实现"}, False),
    ("行情数据不足", True, None, None),
    ("(?i)行情abc", False, None, None),
    ("(?i)abcd(?-i:行情数据)", False, {"行情数据"}, False),
    # lookarounds require nothing; what they guard still does
    ("(?<=foo)barbaz", False, {"barbaz"}, False),
    ("(?!error)warning", False, {"warning"}, False),
    ("(?=abcd)", False, None, None),
    ("(?<!abcd)", False, None, None),
    # repeats: a minimum of 0 requires nothing, 1 or more requires the body
    ("(?:abc)*defg", False, {"defg"}, False),
    ("(?:abcd)?", False, None, None),
    ("(?:abcd)+", False, {"abcd"}, False),
    ("(?:abcd){2}", False, {"abcd"}, False),
    ("(?:abcd){0,3}xy", False, None, None),
    ("(?:abcd)+?xy", False, {"abcd"}, False),
    ("(?>abcd)", False, {"abcd"}, False),
    ("abc??", False, None, None),
    ("abc*d", False, None, None),
    ("(?:abcd|)ef", False, None, None),
    # nothing usable
    (".*", False, None, None),
    ("^$", False, None, None),
    ("x{3}", False, None, None),
    ("ab|cd", False, None, None),
    ("a[bc]de", False, None, None),
    (r"\d{4}-\d\d", False, None, None),
    ("|".join(f"w{i:03d}" for i in range(MAX_ALTERNATIVES + 1)), False, None, None),
]


@pytest.mark.parametrize("pattern, ignore_case, strings, caseless", TABLE)
def test_required_literals_table(pattern, ignore_case, strings, caseless):
    found = required_literals(pattern, ignore_case)
    if strings is None:
        assert found is None
    else:
        assert found is not None and set(found.strings) == strings and found.caseless is caseless


def test_invalid_pattern_raises_re_error():
    with pytest.raises(re.error):
        required_literals("(unclosed")


def test_prefilter_refuses_caseless_character_patterns_only():
    assert prefilter_literals(compile_pattern("fail", True)).strings == {"fail"}          # bytes, ASCII case
    assert prefilter_literals(compile_pattern(r"\bfail")).strings == {"fail"}              # str, case kept
    assert prefilter_literals(compile_pattern(r"\bfail", True)) is None                    # str, case ignored
    assert prefilter_literals(compile_pattern(r"(?i)\bfail")) is None
    assert prefilter_literals(compile_pattern(".*")) is None


# -- the promise, on random lines ---------------------------------------------------------------
# Words of the table's patterns, their case variants and near misses, and the four non-ASCII
# letters Python's ignore-case matches against ASCII ones (İ ı ſ K).
PIECES = ["position_sync_failed", "account=", "42", "status=503", " in ", "12 ms", "Connection reset",
          "ECONNRESET", "foo", "bar", "ERRORING: ", "WARNING: ", "abc", "de", "fgh", "sync", "ok", "def",
          "xyz", "yzw", "x", "fail", "FAIL", "Fail", "websocket disconnected", "WebSocket DISCONNECTED",
          "ABC", "DEFG", "DEFGH", "行情数据不足", "行情", "锁仓下单", "换月平仓", "接口未实现", "barbaz",
          "warning", "error", "abcd", "ABCD", "xy", "b", "c", "d", "e", " ", "\t", "\r", "2026-11",
          "İ", "ı", "ſ", "\u212a", "ſync", "fıle", "w007", "w016",
          # whole matches of the patterns that need several pieces in a row
          "position_sync_failed account=7", "status=503 in 12 ms", "WARNING: abc failed", "abc-def",
          "aabcd", "abcabcdefg", "abcdabcdxy"]
NON_ASCII_FOLDS = str.maketrans({"İ": "i", "ı": "i", "ſ": "s", "\u212a": "k"})


def random_lines(seed: str, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 7))) for _ in range(count)]


def contains(line: str, strings, caseless: bool, fold=str.lower) -> bool:
    if caseless:
        return any(fold(s) in fold(line) for s in strings)
    return any(s in line for s in strings)


@pytest.mark.parametrize("pattern, ignore_case", [(p, i) for p, i, s, _ in TABLE if s is not None])
def test_every_match_contains_a_required_literal(pattern, ignore_case):
    """Python's ignore-case matches İ, ı for i, ſ for s, K for k: those fold to ASCII here."""
    found = required_literals(pattern, ignore_case)
    regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    lines = random_lines(pattern, 3000)
    matched = [line for line in lines if regex.search(line)]
    assert matched, "the random lines never exercise this pattern"
    for line in matched:
        assert contains(line, found.strings, found.caseless,
                        lambda s: s.translate(NON_ASCII_FOLDS).lower()), (pattern, line)


@pytest.mark.parametrize("pattern, ignore_case", [(p, i) for p, i, s, _ in TABLE if s is not None])
def test_every_engine_match_contains_the_prefilter_literal_as_bytes(pattern, ignore_case):
    """What both fast engines rely on: the compiled pattern (bytes or str regex) over raw
    line bytes never matches a line lacking the UTF-8 literal (ASCII-lowered when caseless)."""
    compiled = compile_pattern(pattern, ignore_case)
    found = prefilter_literals(compiled)
    if found is None:
        return  # the engines scan without a prefilter: nothing to promise
    needles = [s.encode("utf-8") for s in found.strings]
    rng = random.Random("bytes" + pattern)
    matched = 0
    for line in random_lines("b" + pattern, 3000):
        raw = line.encode("utf-8")
        if rng.random() < 0.2:  # invalid UTF-8 around the words
            raw = raw.replace(b" ", b"\xff\xfe ", 1) + b"\xc3("
        if compiled.search_line(raw):
            matched += 1
            assert contains(raw, needles, found.caseless, bytes.lower), (pattern, raw)
    assert matched


@pytest.mark.parametrize("pattern", [r"caf\xe9 ok", r"caf\u00e9 ok", "café ok", r"(?i)caf\xe9 ok"])
def test_escapes_above_ascii_and_the_literal_agree_on_bytes(pattern):
    """``\\xe9`` in a pure-ASCII pattern: whatever it compiles to, every line it matches (UTF-8
    'café' or a Latin-1 byte 0xe9) contains the prefilter literal's bytes."""
    compiled = compile_pattern(pattern)
    found = prefilter_literals(compiled)
    for line in (b"2026-11-21 08:00:00,000 caf\xe9 ok", "2026-11-21 08:00:00,000 café ok".encode()):
        if compiled.search_line(line) and found is not None:
            assert contains(line, [s.encode("utf-8") for s in found.strings], found.caseless, bytes.lower)
    assert compiled.search_line("café ok".encode()) or compiled.search_line(b"caf\xe9 ok")
