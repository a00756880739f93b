"""The report document: complete, masked, ordered, and valid against REPORT_SCHEMA."""

from __future__ import annotations

import json

import jsonschema
import pytest

import diagnose
from diagnose.checks.base import Evidence, Status
from diagnose.masking import Masker
from diagnose.reports.document import REPORT_SCHEMA, build_document


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(REPORT_SCHEMA)
    assert REPORT_SCHEMA["$schema"].endswith("2020-12/schema")


@pytest.mark.parametrize("name", ["stale-positions", "healthy", "inconclusive"])
def test_every_scenario_validates_and_is_json(scenarios, build, name):
    document = build(scenarios[name]())
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(document)
    assert json.loads(json.dumps(document)) == document


def test_schema_rejects_a_broken_document(scenarios, build):
    document = build(scenarios["healthy"]())
    document["verdict"] = "fine"
    del document["checks"][0]["status"]
    errors = list(jsonschema.Draft202012Validator(REPORT_SCHEMA).iter_errors(document))
    assert len(errors) == 2


def test_header_fields(scenarios, build):
    run = scenarios["stale-positions"]()
    document = build(run)
    assert document["schema_version"] == 2
    assert document["tool"] == {"name": "diagnose", "version": diagnose.__version__}
    assert document["knowledge_base"] == {"name": "builtin", "version": "2026.11",
                                          "digest": "sha256:0123456789abcdef", "root": "/kb/checks"}
    assert document["generated_at"] == "2026-11-21T08:15:04.123Z"
    assert document["started_at"] == "2026-11-21T08:15:02.123Z"
    assert document["duration_ms"] == 1534.0
    assert document["host"] == "desk-01"
    assert document["symptom"] == {
        "id": "stale-positions", "title": "Positions stop updating", "category": "data", "severity": "high",
        "summary": "The desk shows positions whose prices and status no longer change.",
        "page_url": "https://faq.example.test/faq/stale-positions/"}
    assert (document["verdict"], document["exit_code"], document["incomplete"]) == ("problem", 1, False)
    assert document["counts"] == {"pass": 2, "fail": 2, "error": 0, "timeout": 0, "skip": 0}


@pytest.mark.parametrize("name,verdict,code", [("healthy", "healthy", 0), ("inconclusive", "inconclusive", 3)])
def test_verdicts(scenarios, build, name, verdict, code):
    document = build(scenarios[name]())
    assert (document["verdict"], document["exit_code"]) == (verdict, code)
    assert document["causes"] == []
    assert not any(s["applies"] for s in document["solutions"])


def test_checks_carry_result_expects_and_cause_titles(scenarios, build):
    document = build(scenarios["stale-positions"]())
    first = document["checks"][0]
    assert first["id"] == "open-positions-stale" and first["status"] == "fail"
    assert first["expects"] == "no OPEN position older than 10 minutes"
    assert first["cause"] == ["sync-task-dead"]
    assert first["cause_titles"] == ["The position sync task stopped"]
    assert first["duration_ms"] == 42.1
    assert first["evidence"][0]["rows"][0][:2] == [17, "BTCUSDT"]
    assert first["manual"].startswith("psql")


def test_causes_ranked_and_solutions_for_them_first(scenarios, build):
    document = build(scenarios["stale-positions"]())
    assert [c["id"] for c in document["causes"]] == ["sync-task-dead", "bybit-key-invalid"]
    assert document["causes"][0]["checks"] == ["open-positions-stale"]
    order = [(s["id"], s["applies"]) for s in document["solutions"]]
    assert order == [("restart-sync", True), ("fix-key", True), ("check-db", False)]
    first = document["solutions"][0]
    assert first["risk"] == "outage" and first["steps"][0]["approve"]["role"] == "change"
    assert "docker compose up -d backend" in first["markdown"] and "Approve first" in first["markdown"]


def test_solution_without_causes_applies_to_any_problem(factory, build):
    from diagnose.kb.model import Solution, Step

    check = factory.make_check("c", "C", causes=())
    entry = factory.make_entry("x", [check], causes=factory.CAUSES, solutions=(
        Solution("specific", "Specific", (Step("s", "read-only"),), causes=("db-unreachable",)),
        Solution("general", "General", (Step("g", "read-only"),))))
    document = build(factory.make_run(entry, [factory.result(check, Status.FAIL, "bad")]))
    assert [(s["id"], s["applies"]) for s in document["solutions"]] == [("general", True), ("specific", False)]


def test_related_entries_have_titles_and_links(scenarios, build):
    related = build(scenarios["stale-positions"]())["related"]
    assert related[0] == {"id": "polar-push-failed", "title": "Pushes to Polar fail",
                          "page_url": "https://faq.example.test/faq/polar-push-failed/"}
    assert related[1]["title"] == "market-data-delay"  # not in the pack: the id stands in


def test_no_planted_secret_anywhere_in_the_document(scenarios, build, secrets):
    for make in scenarios.values():
        text = json.dumps(build(make()), ensure_ascii=False)
        assert [k for k, v in secrets.items() if v in text] == []


def test_masking_summary_is_stated(scenarios, build):
    masking = build(scenarios["stale-positions"]())["masking"]
    assert masking["secrets"] >= 6 and masking["replacements"] >= masking["secrets"]
    assert {"dsn-password", "field", "jwt", "key-value"} <= set(masking["by_kind"])


def test_a_secret_seen_bare_before_its_key_is_still_masked(factory):
    """The message comes first in the document, the key that reveals the value only later."""
    check = factory.make_check("env", "env", kind="env")
    values = Evidence(kind="values", values={"backend:API_JWT_SECRET": "Jwt-Secret-2026"})
    result = factory.result(check, Status.FAIL, "value Jwt-Secret-2026 differs", evidence=[values])
    entry = factory.make_entry("x", [check])
    document = build_document(factory.make_run(entry, [result]), Masker(), generated_at=factory.GENERATED)
    assert document["checks"][0]["message"] == "value «masked-1» differs"
    assert document["checks"][0]["evidence"][0]["values"] == {"backend:API_JWT_SECRET": "«masked-1»"}


def test_kb_text_is_not_mangled_by_shape_rules(factory):
    from diagnose.kb.model import Solution, Step

    shell = "export API_JWT_SECRET=the-value-from-realtime"
    check = factory.make_check("c", "C")
    entry = factory.make_entry("x", [check], solutions=(Solution("s", "S", (Step("x", "read-only", where="host",
                                                                                 shell=shell),)),))
    run = factory.make_run(entry, [factory.result(check, Status.PASS, "ok")])
    document = build_document(run, Masker(), generated_at=factory.GENERATED)
    assert document["solutions"][0]["steps"][0]["shell"] == shell


def test_kb_text_still_loses_known_secrets(factory):
    check = factory.make_check("c", "C", manual="psql postgresql://desk:Known-Secret1@db/desk")
    entry = factory.make_entry("x", [check])
    run = factory.make_run(entry, [factory.result(check, Status.PASS, "ok")])
    document = build_document(run, Masker(secrets=["Known-Secret1"]), generated_at=factory.GENERATED)
    assert "Known-Secret1" not in document["checks"][0]["manual"]


def test_incomplete_run_is_flagged(factory, build):
    check = factory.make_check("c", "C")
    run = factory.make_run(factory.make_entry("x", [check]), [], incomplete=True)
    document = build(run)
    assert document["incomplete"] is True and document["checks"] == []


def test_a_version_1_document_still_renders(scenarios, build):
    """A bundle written before solution steps were records (schema_version 1: one Markdown text per
    solution, alternatives as variants) still validates and renders, steps and variants included."""
    from jsonschema import Draft202012Validator

    from diagnose.reports.bundle import upgrade
    from diagnose.reports.document import REPORT_SCHEMA
    from diagnose.reports.markdown import render as render_markdown

    document = json.loads(json.dumps(build(scenarios["stale-positions"]())))
    document["schema_version"] = 1
    for solution in document["solutions"]:
        for key in ("markdown", "risk", "proven_on"):
            solution.pop(key)
        solution["steps"] = f"1. Old step of {solution['id']}"
        solution["variants"] = [{"label": "systemd", "steps": "`systemctl restart desk-backend`"}]
    assert not list(Draft202012Validator(REPORT_SCHEMA).iter_errors(document))
    text = render_markdown(upgrade(document))
    assert "1. Old step of restart-sync" in text and "systemctl restart desk-backend" in text
