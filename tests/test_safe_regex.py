"""Knowledge-base regexes cannot hang a run: risky shapes run on RE2 (linear time), or are refused."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from diagnose import safe_regex
from diagnose.checks import expect, load_kind
from diagnose.checks.base import CheckError, Context
from diagnose.sources import LogSpec

# the classic ReDoS shapes: exponential (or high-degree polynomial) in a backtracking engine
RISKY = [r"(a+)+$", r"(a*)*b", r"(a|a)*c", r"(a|aa)+$", r"(.*a){12}", r"(\w+\s?)+$",
         r"^(([a-z])+.)+[A-Z]([a-z])+$", r"(x+x+)+y", r"^(\d+)*$", r"(?:a+|b)+c"]
# what log patterns look like: left to Python's re, with its semantics
SAFE = ["position_sync_failed", r"position_sync_failed account=\d+ error=\w+", r"(ERROR|WARN)+",
        r"(\d{1,3}\.){3}\d{1,3}", r"sync.*failed.*timeout", r"(?:Connection reset|ECONNRESET)",
        "行情数据不足", r"^\s*at \S+\(", r"(?i)connection reset by peer", r"status=5\d\d"]


@pytest.mark.parametrize("pattern", RISKY)
def test_risky_shapes_are_recognised_and_run_in_linear_time(pattern):
    assert safe_regex.risk(pattern)
    compiled = safe_regex.compile(pattern)
    assert not isinstance(compiled, re.Pattern)          # RE2, not re
    compiled.search("a" * 50_000 + "!")                  # would not return with re


@pytest.mark.parametrize("pattern", SAFE)
def test_ordinary_patterns_keep_pythons_engine(pattern):
    assert safe_regex.risk(pattern) is None
    assert isinstance(safe_regex.compile(pattern), re.Pattern)


def test_a_risky_pattern_re2_cannot_run_is_refused_with_a_rewrite_hint():
    with pytest.raises(safe_regex.UnsafePattern, match=r"repetition inside a repetition.*rewrite it") as info:
        safe_regex.compile(r"(a+)+(?=x)")
    assert isinstance(info.value, re.error)  # reported wherever a bad regex is reported
    assert expect.lint({"matches": r"(a+)+(?=x)"}, "expect") [0][0] == "expect.matches"
    assert "\n" not in str(info.value)


def test_the_python_engine_is_what_would_hang():
    """The premise, checked in a child process with a bound: re on (a+)+$ does not finish."""
    code = "import re; re.search(r'(a+)+$', 'a' * 40 + '!')"
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([sys.executable, "-c", code], timeout=3)


def test_expectations_and_log_checks_with_risky_patterns_finish(tmp_path):
    assert not expect.holds("a" * 100_000 + "!", {"matches": r"(a+)+$"})
    log = tmp_path / "app.log"
    log.write_bytes(b"2026-11-21 08:00:00,000 ERROR " + b"a" * 200_000 + b"!\n"
                    b"2026-11-21 08:00:01,000 ERROR aaa\n")
    check = {"id": "x", "kind": "log", "log": "app", "pattern": r"(a+)+$", "expect": {"max": 0}}
    now = datetime(2026, 11, 21, 9, tzinfo=timezone.utc)
    ctx = Context(timeout=30, now=now, resolve=lambda kind, name: LogSpec(name="app", paths=(str(log),)))
    outcome = load_kind("log").run(check, ctx)
    assert outcome.vars["count"] == 1 and outcome.evidence[0].lines[0]["line"] == 2


def test_a_refused_log_pattern_is_a_lint_problem_and_a_check_error(tmp_path):
    log_kind = load_kind("log")
    check = {"id": "x", "kind": "log", "log": "app", "pattern": r"(a+)+(?<=a)"}
    assert [path for path, _ in log_kind.lint(check)] == ["pattern"]
    ctx = Context(timeout=5, now=datetime.now(timezone.utc),
                  resolve=lambda kind, name: LogSpec(name="app", paths=(str(tmp_path / "none.log"),)))
    with pytest.raises(CheckError, match="invalid pattern .*repetition inside a repetition"):
        log_kind.run(check, ctx)


def test_a_profile_masking_pattern_with_a_risky_shape_masks_in_linear_time():
    from diagnose.masking import Masker, MaskingError

    masker = Masker(patterns=[r"tok=(?P<secret>(?:[a-z0-9]+)+)"])
    assert masker.mask_text("a tok=abc123 b") == "a tok=«masked-1» b"
    masker.mask_text("tok=" + "a" * 50_000 + "!")   # would not return with re's backtracking
    with pytest.raises(MaskingError, match="repetition inside a repetition"):
        Masker(patterns=[r"(a+)+(?=b)"])
