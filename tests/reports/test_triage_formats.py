"""The triage report in every format: golden files, the contract's `symptoms` list, no secrets.

Golden files: ``tests/reports/golden/triage-<scenario>.<exit code>.<format>``, in Chinese
``tests/reports/golden/zh/triage-<scenario>.<exit code>.<format>``; regenerate with
``DIAGNOSE_UPDATE_GOLDEN=1 pytest tests/reports`` and review the diff.
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from diagnose.reports import render
from diagnose.reports.triage_document import TRIAGE_SCHEMA, build_triage_document
from diagnose.triage import Finding, Triage

from .conftest import GENERATED, STARTED, healthy_run, inconclusive_run, masker_for, problem_run, risk_run
from .test_formats import LANGS, check_golden, golden_dir, normalise

FORMATS = ("md", "html", "json")


def finding(run, score: float, shared: dict | None = None) -> Finding:
    return Finding(run, score, shared or {c.id: 1 for c in run.entry.checks})


def triage_of(*findings: Finding) -> Triage:
    first = findings[0].run
    return Triage(list(findings), STARTED, first.finished_at, first.profile, checks_total=12, probes_run=9)


def mixed() -> Triage:
    problem = problem_run()
    unsure = inconclusive_run()
    unsure.entry = unsure.entry.__class__(**{**unsure.entry.__dict__, "id": "polar-push-failed",
                                              "title": "Pushes to Polar fail"})
    latent = risk_run()
    latent.entry = latent.entry.__class__(**{**latent.entry.__dict__, "id": "market-data-delay",
                                              "title": "Market data arrives late"})
    return triage_of(finding(problem, 1.1, {"open-positions-stale": 1, "sync-errors": 2, "bybit-key-set": 1,
                                            "db-reachable": 3}),
                     finding(latent, 0.3), finding(unsure, 0.0), finding(healthy_run(), 0.0))


def all_healthy() -> Triage:
    return triage_of(finding(healthy_run(), 0.0))


SCENARIOS = {"mixed": mixed, "healthy": all_healthy}


def document(triage: Triage) -> dict:
    run = triage.findings[0].run
    return build_triage_document(triage, run.pack, masker_for(run), generated_at=GENERATED)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("lang", LANGS)
def test_triage_golden(speak, in_lang, scenario, fmt, lang):
    speak(lang)
    doc = document(in_lang(SCENARIOS[scenario](), lang))
    check_golden(golden_dir(lang) / f"triage-{scenario}.{doc['exit_code']}.{fmt}", normalise(render(doc, fmt), doc))


def test_triage_json_follows_its_schema_and_ranks_problems_first():
    doc = json.loads(render(document(mixed()), "json"))
    jsonschema.validate(doc, TRIAGE_SCHEMA)
    assert [(s["rank"], s["id"], s["verdict"]) for s in doc["symptoms"]] == [
        (1, "stale-positions", "problem"), (2, "market-data-delay", "risk"), (3, "polar-push-failed", "inconclusive"),
        (4, "stale-positions", "healthy")]
    assert doc["exit_code"] == 1 and doc["counts"] == {"problem": 1, "risk": 1, "inconclusive": 1, "healthy": 1}
    assert {c["id"]: c["shared_by"] for c in doc["symptoms"][0]["checks"]}["db-reachable"] == 3


def test_a_risk_only_triage_exits_4_and_names_no_next_step():
    latent = risk_run()
    doc = json.loads(render(document(triage_of(finding(latent, 0.3), finding(healthy_run(), 0.0))), "json"))
    jsonschema.validate(doc, TRIAGE_SCHEMA)
    assert (doc["verdict"], doc["exit_code"]) == ("risk", 4)
    assert [s["verdict"] for s in doc["symptoms"]] == ["risk", "healthy"]
    text = render(document(triage_of(finding(latent, 0.3))), "md")
    assert "Risk" in text and "Next step" not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_secret_in_any_triage_format(secrets, fmt):
    text = render(document(mixed()), fmt)
    assert [k for k, v in secrets.items() if v in text] == []
    assert "«masked-1»" in text


def test_html_triage_is_self_contained_and_escapes_data():
    text = render(document(mixed()), "html")
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "http://" not in text.split("<body>")[0] and "<link" not in text
