"""Triage precision: healthy deployments that differ from the reference show no problem, and a
planted fault's symptom ranks first with no false problem beside it.

Every case builds the pack's whole-stack world (``checks/worlds/stack.yaml``) for real (a
throwaway PostgreSQL per moment, log and env files, HTTP/WebSocket/TCP servers on 127.0.0.1)
and runs ``diagnose triage`` through the CLI as a separate process. Worlds at a moment of their
own (a Saturday, the night session, National Day) run their server and ``diagnose`` under
libfaketime (Debian's ``libfaketime``, which ``python3 dev.py test`` installs); the others at the
stack's moment, a Tuesday afternoon, so the outcome does not depend on when the suite runs.
"""

from __future__ import annotations

import pytest

from diagnose.kb.loader import load_pack
from diagnose.world.clock import INSTALL_HINT, library
from diagnose.world.precision import Servers, cases, run_case, summary
from diagnose.world.stack import load_stack

PACK = load_pack()
STACK = load_stack(PACK)
CASES = cases(STACK)
OUTCOMES: dict = {}


@pytest.fixture(scope="module")
def servers():
    if library() is None:
        pytest.fail(f"libfaketime is not installed: {INSTALL_HINT} (python3 dev.py test does it as root)")
    with Servers() as running:
        yield running


def test_the_stack_declares_the_worlds_the_precision_rule_needs():
    variants = {v.name for v in STACK.variants}
    assert len(variants) >= 12
    assert {"fresh-install", "busy-desk", "weekend", "night", "tenant-realtime", "newest-contract-held",
            "journald-logs", "iso-logs", "utc-clock", "shanghai-clock", "sources-missing"} <= variants
    for fault in STACK.faults:
        assert len(fault.variants) >= 2, f"{fault.name} is planted on fewer than two healthy variants"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_triage_finds_no_false_problem_and_the_fault_first(case, servers, tmp_path):
    outcome = run_case(PACK, STACK, case, servers, tmp_path)
    OUTCOMES[case.name] = outcome
    assert outcome.problems_with_it() == [], outcome.ranked
    if case.fault is None:
        assert outcome.exit_code in (0, 3, 4) and outcome.problems == []
    else:
        assert outcome.exit_code == 1


def test_summary_figures_hold_the_targets():
    """Over the cases above that ran in this session: 100% top-1, no false problem."""
    outcomes = list(OUTCOMES.values())
    if len(outcomes) < len(CASES):
        pytest.skip("runs after the cases above, with all of them")
    figures = summary(outcomes)
    assert figures["top1_accuracy"] == 1.0 and figures["false_problems"] == 0, figures
    assert figures["margin_min"] is not None and figures["margin_min"] > 0, figures
