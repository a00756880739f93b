"""`diagnose triage` as an operator runs it: a profile of the whole stack, one report, exit codes."""

from __future__ import annotations

import json

import pytest

from diagnose.kb.loader import load_pack
from diagnose.world.stack import load_stack

PACK = load_pack()
STACK = load_stack(PACK)


@pytest.fixture
def stack_profile(world_profile):
    """``stack_profile(*faults)`` -> a profile of the whole stack with those faults planted."""
    return lambda *faults: world_profile(STACK.example(list(faults)))


def test_triage_json_report_ranks_the_planted_faults(diagnose, stack_profile, tmp_path):
    faults = ["ntfy-topic-in-url", "paper-leftovers"]
    profile = stack_profile(*faults)
    out = tmp_path / "t.json"
    result = diagnose("triage", "--profile", str(profile), "--format", "json", "-o", str(out))
    assert result.code == 1, result.err
    doc = json.loads(out.read_text())
    problems = [s["id"] for s in doc["symptoms"] if s["verdict"] == "problem"]
    assert set(problems[:2]) == {STACK.fault(f).symptom for f in faults}
    assert len(doc["symptoms"]) == len(PACK.entries)
    assert doc["probes_run"] < doc["checks_total"]     # shared probes ran once
    assert result.out.startswith("TRIAGE: ")
    assert f"Report: {out}" in result.out


def test_triage_of_the_healthy_stack_exits_0(diagnose, stack_profile, tmp_path):
    result = diagnose("triage", "--profile", str(stack_profile()), "-q", "-o", str(tmp_path / "t.md"))
    assert result.code == 0, result.out
    assert f"0 symptom(s) with a problem, 0 at risk, 0 inconclusive, {len(PACK.entries)} healthy" in result.out


def test_triage_without_a_profile_is_inconclusive(diagnose, tmp_path):
    result = diagnose("triage", "-q", "-o", str(tmp_path / "t.md"))
    assert result.code == 3
    assert f"0 symptom(s) with a problem, 0 at risk, {len(PACK.entries)} inconclusive" in result.out
