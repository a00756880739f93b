"""Triage: shared probes run once, findings are ranked, worlds that are not the examples.

The ranking tests build the pack's whole-stack world (``checks/worlds/stack.yaml``) with one
fault planted at a time and demand that the fault's symptom ranks first (and its cause tops
that symptom's causes); the healthy baseline must show no problem at all.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from diagnose.checks.base import Status
from diagnose.kb.loader import build_entry, load_pack
from diagnose.kb.model import Pack
from diagnose.profile import Resolver
from diagnose.reports import render
from diagnose.reports.triage_document import TRIAGE_SCHEMA, build_triage_document
from diagnose.masking import Masker
from diagnose.triage import plan, probe_key, run_triage
from diagnose.world.build import World
from diagnose.world.stack import load_stack

sys.path.insert(0, str(Path(__file__).parent / "checks"))
from netservers import HttpServer, Route  # noqa: E402

PACK = load_pack()
STACK = load_stack(PACK)


def entry(entry_id: str, checks: list[dict], severity: str = "medium"):
    return build_entry(Path(f"{entry_id}.yaml"), {
        "id": entry_id, "title": entry_id, "category": "service", "severity": severity, "summary": "s",
        "causes": [{"id": "c1", "title": "cause one", "text": "t"}, {"id": "c2", "title": "cause two", "text": "t"}],
        "checks": checks, "solutions": [{"id": "s", "title": "s", "steps": [{"do": "s", "risk": "read-only"}]}], "examples": []})


def http_check(check_id: str, path: str, cause: str | None = None, **extra) -> dict:
    check = {"id": check_id, "kind": "http", "title": f"title {check_id}", "expects": "200", "endpoint": "svc",
             "path": path, "expect": {"status": 200}, "message": {"fail": f"{check_id} failed: HTTP {{status}}"}}
    return {**check, **({"cause": cause} if cause else {}), **extra}


def pack_of(*entries) -> Pack:
    return Pack(root=Path("."), name="t", version="1", site_url="https://faq.invalid", digest="d", sources={},
                reference_schemas={}, entries=list(entries))


def test_presentation_fields_do_not_change_the_probe_but_the_query_does():
    a = entry("a", [http_check("x", "/health", cause="c1")]).checks[0]
    b = entry("b", [http_check("other-id", "/health", title="Backend up?", weight=3)]).checks[0]
    c = entry("c", [http_check("x", "/health", expect={"status": 204})]).checks[0]
    assert probe_key(a) == probe_key(b) != probe_key(c)


def test_a_probe_shared_by_entries_runs_once_and_each_entry_renders_its_own_result():
    with HttpServer({"/health": Route(503, "down"), "/ok": Route(200, "fine")}) as server:
        one = entry("one", [http_check("up", "/health", cause="c1"), http_check("ok", "/ok")])
        two = entry("two", [http_check("backend-up", "/health", cause="c2"), http_check("fine", "/ok", cause="c1")])
        the_pack = pack_of(one, two)
        assert len(plan(the_pack.entries).probes) == 2
        result = run_triage(the_pack, lambda kind, name: server.url, {})
        assert sorted(path for _, path, _ in server.requests) == ["/health", "/ok"]
    assert result.checks_total == 4 and result.probes_run == 2
    by_id = {f.run.entry.id: f for f in result.findings}
    up = by_id["two"].run.results[0]
    assert (up.id, up.status, up.cause, up.message) == ("backend-up", Status.FAIL, ["c2"], "backend-up failed: HTTP 503")
    assert by_id["one"].shared == {"up": 2, "ok": 2}


def test_exclusive_evidence_and_a_visible_symptom_rank_higher():
    with HttpServer({"/a": Route(500), "/b": Route(500), "/ok": Route(200)}) as server:
        vague = entry("vague", [http_check("shared", "/a", cause="c1"), http_check("o1", "/ok", cause="c2"),
                                http_check("o2", "/ok", cause="c1", expect={"status": {"max": 299}})],
                      severity="critical")
        clear = entry("clear", [http_check("shared", "/a", cause="c1"), http_check("symptom", "/b"),
                                http_check("o", "/ok", cause="c2")])
        result = run_triage(pack_of(vague, clear), lambda kind, name: server.url, {})
    assert [f.run.entry.id for f in result.findings] == ["clear", "vague"]
    assert result.findings[0].score > result.findings[1].score > 0


@pytest.fixture
def stack_world(pg_server, tmp_path):
    opened = []

    def build(*faults: str) -> World:
        world = World(PACK, STACK.example(list(faults)), pg_server, tmp_path / "-".join(faults or ("healthy",)))
        opened.append(world.__enter__())
        return world

    yield build
    for world in opened:
        world.close()


# The healthy stack and every fault on it, at a fixed moment and through the CLI, are in
# tests/world/test_triage_precision.py; this file keeps the mechanics.


def test_a_problem_that_follows_from_another_ranks_after_its_root():
    """`follows`: nothing connects to a backend that cannot start; the operator starts from the root
    even when the consequence fails more of its own checks."""
    root = entry("backend-down", [http_check("up", "/health", symptom=True, cause="c1"),
                                   http_check("ok1", "/ok"), http_check("ok2", "/ok"), http_check("ok3", "/ok")])
    consequence = entry("ws-broken", [http_check("ws", "/ws"), http_check("up", "/health", cause="c2")])
    consequence = consequence.__class__(**{**consequence.__dict__, "follows": ("backend-down",)})
    alone = entry("other", [http_check("o", "/other")])
    with HttpServer({"/health": Route(503, "down"), "/ws": Route(503, "down"), "/ok": Route(200, "fine"),
                     "/other": Route(503, "down")}) as server:
        result = run_triage(pack_of(consequence, root, alone), lambda kind, name: server.url, {})
    by_id = {f.run.entry.id: f for f in result.findings}
    assert by_id["ws-broken"].score > by_id["backend-down"].score      # on its own it would come first
    problems = [f.run.entry.id for f in result.problems]
    assert problems[-1] == "ws-broken" and problems.index("backend-down") < problems.index("ws-broken")
    assert by_id["ws-broken"].follows == ["backend-down"] and by_id["backend-down"].follows == []
    doc = build_triage_document(result, pack_of(consequence, root, alone), Masker())
    assert {s["id"]: s["follows"] for s in doc["symptoms"]}["ws-broken"] == ["backend-down"]
    assert "follows from backend-down" in render(doc, "md")


def test_triage_json_has_the_ranked_symptoms_list_of_the_contract(stack_world):
    import jsonschema

    world = stack_world(*STACK.default)
    resolver = Resolver(world.profile)
    result = run_triage(PACK, resolver, world.profile.view())
    masker = Masker()
    resolver.register_secrets(masker)
    document = build_triage_document(result, PACK, masker)
    jsonschema.validate(document, TRIAGE_SCHEMA)
    symptoms = document["symptoms"]
    assert [s["rank"] for s in symptoms] == list(range(1, len(PACK.entries) + 1))
    assert {s["id"] for s in symptoms if s["verdict"] == "problem"} >= {STACK.fault(f).symptom for f in STACK.default}
    for fmt in ("md", "html", "json"):
        text = render(document, fmt)
        for secret in ("9fHq2-Lx0Pp7aYt4Kc1VnE6w", "Tr4d1ngPw"):
            assert secret not in text
        assert symptoms[0]["id"] in text


def test_a_triage_that_reaches_its_deadline_says_so_in_every_report(tmp_path):
    from netservers import SilentTcpServer

    with SilentTcpServer() as silent:
        one = entry("one", [http_check("hangs", "/health", cause="c1", timeout=30), http_check("b", "/b")])
        result = run_triage(pack_of(one), lambda kind, name: f"http://127.0.0.1:{silent.port}", {}, deadline=0.5)
    assert result.deadline == 0.5 and result.incomplete and not result.interrupted
    assert [r.message for r in result.findings[0].run.results] == ["did not finish before the run's deadline (0.5s)"] * 2
    document = build_triage_document(result, result.findings[0].run.pack, Masker())
    assert document["deadline_reached"] == 0.5
    import html

    for fmt in ("md", "html"):
        assert "the run's deadline (0.5s) was reached" in html.unescape(render(document, fmt))
    from diagnose.reports.terminal import verdict_line

    assert verdict_line(document).endswith("(deadline of 0.5s reached)")
