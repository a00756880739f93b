"""The triage precision figures, from outcomes written by hand: what counts as the fault ranked
first, which problems are false (those a fault declares in `also` are not), and the margins."""

from __future__ import annotations

from diagnose.world.precision import Case, Outcome, cases, summary


def outcome(case: Case, *ranked: tuple[str, str, float]) -> Outcome:
    return Outcome(case, exit_code=1 if any(v == "problem" for _, v, _ in ranked) else 0,
                   verdict="problem" if ranked else "healthy", ranked=list(ranked))


DB_DOWN = Case("iso-logs", "db-host-renamed", "backend-start-failed", ("ws-disconnect", "market-data-delay"))
PAPER = Case("busy-desk", "paper-leftovers", "stale-positions")


def test_case_names():
    assert Case(None).name == "healthy@baseline"
    assert DB_DOWN.name == "db-host-renamed@iso-logs"


def test_top1_is_the_faults_symptom_first_as_a_problem():
    assert outcome(PAPER, ("stale-positions", "problem", 3.0), ("ws-disconnect", "risk", 1.0)).top1
    assert not outcome(PAPER, ("ws-disconnect", "problem", 3.0), ("stale-positions", "problem", 2.0)).top1
    assert not outcome(PAPER, ("stale-positions", "risk", 3.0)).top1         # first, but only a risk
    assert not outcome(PAPER).top1                                            # nothing found
    assert not outcome(Case("weekend"), ("stale-positions", "problem", 1.0)).top1   # a healthy world has no fault


def test_false_problems_spare_the_symptom_and_what_follows_from_it():
    found = outcome(DB_DOWN, ("backend-start-failed", "problem", 5.0), ("ws-disconnect", "problem", 4.0),
                    ("market-data-delay", "problem", 3.5), ("stale-positions", "problem", 2.0),
                    ("notification-failed", "risk", 1.0))
    assert found.problems == ["backend-start-failed", "ws-disconnect", "market-data-delay", "stale-positions"]
    assert found.false_problems == ["stale-positions"]                       # a risk is never a false problem
    assert found.top1
    assert found.problems_with_it() == ["false problem(s): stale-positions"]
    # without `also`, what follows from the fault is a false problem
    bare = outcome(Case("iso-logs", "db-host-renamed", "backend-start-failed"), *found.ranked)
    assert bare.false_problems == ["ws-disconnect", "market-data-delay", "stale-positions"]
    # in a healthy world every problem is false
    assert outcome(Case("weekend"), ("market-data-delay", "problem", 2.0)).false_problems == ["market-data-delay"]


def test_margin_is_the_first_score_minus_the_second():
    assert outcome(PAPER, ("stale-positions", "problem", 3.25), ("ws-disconnect", "risk", 1.125),
                   ("x", "risk", 0.5)).margin == 2.125
    assert outcome(PAPER, ("stale-positions", "problem", 1.0), ("x", "risk", 1 / 3)).margin == 0.6667
    assert outcome(PAPER, ("stale-positions", "problem", 3.0)).margin == 3.0      # nothing else found: minus 0
    assert outcome(PAPER).margin is None                                           # nothing found at all


def test_margin_leaves_out_what_follows_from_the_first():
    """A backend that cannot start ranks before the WebSocket symptom that follows from it, whatever
    that one's score: the lead is measured against the findings that do not follow from it."""
    root = Case("iso-logs", "db-host-renamed", "backend-start-failed", ("ws-disconnect",))
    found = Outcome(root, 1, "problem", [("backend-start-failed", "problem", 0.77), ("ws-disconnect", "problem", 0.93),
                                         ("rollover-task-stuck", "risk", 0.03)],
                    follows={"ws-disconnect": ["backend-start-failed"]})
    assert found.margin == 0.74 and found.top1 and found.false_problems == []


def test_problems_with_it_names_a_missed_symptom():
    missed = outcome(PAPER, ("ws-disconnect", "problem", 2.0))
    assert missed.problems_with_it() == [
        "expected stale-positions first as a problem, got ('ws-disconnect', 'problem', 2.0)",
        "false problem(s): ws-disconnect"]
    assert outcome(PAPER, ("stale-positions", "problem", 2.0)).problems_with_it() == []
    assert outcome(Case(None)).problems_with_it() == []


def test_summary_figures():
    outcomes = [
        outcome(Case(None)),
        outcome(Case("weekend"), ("market-data-delay", "problem", 2.0), ("notification-failed", "risk", 1.0)),
        outcome(Case("night"), ("notification-failed", "risk", 1.0), ("stale-positions", "risk", 0.5)),
        outcome(Case("busy-desk")),
        outcome(PAPER, ("stale-positions", "problem", 3.0), ("ws-disconnect", "risk", 1.0)),            # margin 2
        outcome(DB_DOWN, ("backend-start-failed", "problem", 5.0), ("ws-disconnect", "problem", 4.5),
                ("stale-positions", "problem", 1.0)),                                                      # margin 0.5
        outcome(Case("weekend", "tq-password-expired", "tqsdk-timeout"), ("market-data-delay", "problem", 4.0),
                ("tqsdk-timeout", "problem", 3.0)),                                                        # missed
        outcome(Case("night", "new-polar-account", "polar-push-failed"), ("polar-push-failed", "problem", 1.5)),  # alone
    ]
    assert summary(outcomes) == {
        "fault_cases": 4,
        "top1": 3,
        "top1_accuracy": 0.75,
        "healthy_worlds": 4,
        # one in the weekend world; stale-positions with the db fault; market-data-delay with the TqSdk fault
        "false_problems": 3,
        "false_problems_per_healthy_world": 0.25,
        "risks_in_healthy_worlds": 3,
        "margin_min": 0.5,                  # over the faults ranked first: 0.5, 1.5 (found alone), 2
        "margin_median": 1.5,
    }


def test_summary_of_nothing_has_no_ratios():
    assert summary([]) == {"fault_cases": 0, "top1": 0, "top1_accuracy": None, "healthy_worlds": 0,
                           "false_problems": 0, "false_problems_per_healthy_world": None,
                           "risks_in_healthy_worlds": 0, "margin_min": None, "margin_median": None}


def test_summary_of_healthy_worlds_only():
    figures = summary([outcome(Case(None)), outcome(Case("weekend"), ("a", "problem", 1.0), ("b", "problem", 0.5))])
    assert figures["fault_cases"] == 0 and figures["top1_accuracy"] is None and figures["margin_min"] is None
    assert figures["false_problems"] == 2 and figures["false_problems_per_healthy_world"] == 1.0


def test_cases_of_the_builtin_stack_plant_each_fault_on_its_variants():
    from diagnose.kb.loader import load_pack
    from diagnose.world.stack import load_stack

    stack = load_stack(load_pack())
    all_cases = cases(stack)
    assert all_cases[0] == Case(None)
    assert [c.variant for c in all_cases if c.fault is None][1:] == [v.name for v in stack.variants]
    for fault in stack.faults:
        planted = [c for c in all_cases if c.fault == fault.name]
        assert [c.variant for c in planted] == list(fault.variants or (None,))
        assert all(c.symptom == fault.symptom and c.also == fault.also for c in planted)
