"""The knowledge base proves itself: every example of every built-in entry, on real PostgreSQL."""

from __future__ import annotations

import pytest

from diagnose.checks.base import CheckResult, Status
from diagnose.kb.loader import load_pack
from diagnose.kb.model import Example
from diagnose.selftest import judge, run_selftest

PACK = load_pack()


@pytest.mark.parametrize("entry_id", [e.id for e in PACK.entries])
def test_every_example_of_the_builtin_pack_holds(pg_server, entry_id):
    outcomes = run_selftest(PACK, [PACK.get(entry_id)], pg_server, jobs=4)
    assert len(outcomes) == len(PACK.get(entry_id).examples)
    failures = {o.name: o.problems for o in outcomes if not o.ok}
    assert failures == {}


def result(check_id: str, status: Status, message: str = "") -> CheckResult:
    return CheckResult(id=check_id, title=check_id, kind="sql", status=status, message=message, cause=[],
                       duration=0.01, evidence=[], source=None, manual=None)


def example(**kw) -> Example:
    base = dict(name="x", verdict="problem", causes=("a",), world={}, fails=("one",))
    return Example(**{**base, **kw})


def test_judge_accepts_a_run_that_matches_the_example():
    assert judge(example(), "problem", [result("one", Status.FAIL), result("two", Status.PASS)], ["a", "b"]) == []


def test_judge_names_the_wrong_verdict():
    problems = judge(example(verdict="healthy", fails=(), causes=()), "problem", [result("one", Status.FAIL)], [])
    assert "verdict is problem, the example expects healthy" in problems[0]


def test_judge_names_checks_that_failed_unexpectedly_and_those_that_did_not_fail():
    problems = judge(example(fails=("one", "three")), "problem",
                     [result("one", Status.FAIL), result("two", Status.FAIL), result("three", Status.PASS)], ["a"])
    assert problems == ["failed but not in `fails`: two; in `fails` but did not fail: three"]


def test_judge_wants_the_first_cause_on_top_and_every_cause_implicated():
    assert judge(example(causes=("a", "b")), "problem", [result("one", Status.FAIL)], ["b", "a"]) == \
        ["top cause is b, the example expects a"]
    assert judge(example(causes=("a", "c")), "problem", [result("one", Status.FAIL)], ["a"]) == \
        ["causes not implicated: c (implicated: a)"]


def test_judge_refuses_a_skipped_check_in_a_broken_world():
    problems = judge(example(), "problem", [result("one", Status.FAIL), result("two", Status.SKIP, "log 'x' is not "
                                                                                                 "configured")], ["a"])
    assert problems == ["check two ended skip: log 'x' is not configured"]


# --- skips: the checks an example's world makes inapplicable ---------------------------------------------------

SKIPPED = "needs NTFY_TOPIC from env 'backend', which does not set it"


def test_judge_accepts_a_check_the_example_lists_in_skips():
    results = [result("one", Status.FAIL), result("two", Status.SKIP, SKIPPED)]
    assert judge(example(skips=("two",)), "problem", results, ["a"]) == []


def test_judge_refuses_a_check_listed_in_skips_that_ran():
    for status in (Status.PASS, Status.FAIL):
        results = [result("one", Status.FAIL), result("two", status)]
        fails = ("one", "two") if status is Status.FAIL else ("one",)
        assert judge(example(skips=("two",), fails=fails), "problem", results, ["a"]) == [
            "in `skips` but not skipped: two"]
    # one that errored was not skipped either
    problems = judge(example(skips=("two",)), "problem", [result("one", Status.FAIL),
                                                          result("two", Status.ERROR, "boom")], ["a"])
    assert problems == ["in `skips` but not skipped: two"]


def test_judge_refuses_an_unlisted_skip_also_in_a_healthy_world():
    results = [result("one", Status.PASS), result("two", Status.SKIP, SKIPPED), result("three", Status.SKIP, SKIPPED)]
    healthy = example(verdict="healthy", causes=(), fails=None, skips=("two",))
    assert judge(healthy, "healthy", results, []) == [f"check three ended skip: {SKIPPED}"]


def test_judge_lets_an_inconclusive_example_skip_unlisted_checks():
    results = [result("one", Status.PASS), result("two", Status.SKIP, SKIPPED), result("three", Status.TIMEOUT, "slow")]
    inconclusive = example(verdict="inconclusive", causes=(), fails=None)
    assert judge(inconclusive, "inconclusive", results, []) == []
    # but what it lists must still be skipped
    assert judge(example(verdict="inconclusive", causes=(), fails=None, skips=("one",)), "inconclusive", results,
                 []) == ["in `skips` but not skipped: one"]
