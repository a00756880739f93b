"""The triage report document: every symptom's run, ranked, masked, as JSON-able data.

Each element of ``symptoms`` is the per-symptom part of a normal report document
(:func:`~diagnose.reports.document.build_document`), so one masker masks all of them
consistently and every format renders them with its symptom report's pieces. ``kind: triage``
tells a reader (and every format's ``render``) which shape this is.
"""

from __future__ import annotations

from datetime import datetime

from diagnose.kb.model import Pack
from diagnose.masking import Masker
from diagnose.reports.document import (
    CHECK_SCHEMA,
    LANG_SCHEMA,
    SCHEMA_VERSION,
    SETTING_SCHEMA,
    TIME_SCHEMA,
    TRIAGE,
    Document,
    JsonSchema,
    build_document,
    header,
)
from diagnose.triage import Triage

KIND = TRIAGE
SYMPTOM_FIELDS = ("checks", "causes", "solutions", "prevention", "related", "counts", "incomplete", "settings")


def build_triage_document(triage: Triage, pack: Pack, masker: Masker, *, generated_at: datetime | None = None,
                          approvers: dict[str, str] | None = None) -> Document:
    symptoms = []
    since = None
    for rank, finding in enumerate(triage.findings, 1):
        doc = build_document(finding.run, masker, generated_at=generated_at, approvers=approvers)
        since = since or doc["since"]
        for check in doc["checks"]:
            check["shared_by"] = finding.shared.get(check["id"], 1)
        symptoms.append({
            "rank": rank, **{k: doc["symptom"][k] for k in ("id", "title", "category", "severity", "summary",
                                                            "page_url")},
            "verdict": doc["verdict"], "score": finding.score, "follows": list(finding.follows),
            **{k: doc[k] for k in SYMPTOM_FIELDS},
        })
    counts = {v: sum(1 for s in symptoms if s["verdict"] == v) for v in ("problem", "risk", "inconclusive", "healthy")}
    return {
        "schema_version": SCHEMA_VERSION,   # first, then the kind, as in every triage report so far
        "kind": KIND,
        **header(pack, masker, generated_at, triage.started_at, triage.finished_at, _host(triage), triage.notes),
        "verdict": triage.verdict,
        "exit_code": triage.exit_code,
        "incomplete": bool(triage.incomplete),
        "interrupted": bool(triage.interrupted),
        "signal": triage.signal,
        "deadline_reached": triage.deadline,
        "since": since,
        "counts": counts,
        "checks_total": triage.checks_total,
        "probes_run": triage.probes_run,
        "profile": masker.mask(triage.profile),
        "symptoms": symptoms,
        "masking": masker.summary(),
    }


def _host(triage: Triage) -> str:
    return triage.findings[0].run.host if triage.findings else ""


_STR: JsonSchema = {"type": "string"}

#: JSON Schema of the triage document (``schema_version`` 2, 1 still read; ``kind: triage``).
TRIAGE_SCHEMA: JsonSchema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://diagnose.invalid/schemas/triage-1.json",
    "title": "diagnose triage report",
    "type": "object",
    "required": ["schema_version", "kind", "tool", "knowledge_base", "generated_at", "started_at", "finished_at",
                 "duration_ms", "host", "verdict", "exit_code", "incomplete", "counts", "checks_total",
                 "probes_run", "profile", "symptoms", "masking"],
    "properties": {
        "schema_version": {"enum": [1, SCHEMA_VERSION]},
        "kind": {"const": KIND},
        "lang": LANG_SCHEMA,
        "generated_at": TIME_SCHEMA, "started_at": TIME_SCHEMA, "finished_at": TIME_SCHEMA,
        "verdict": {"enum": ["problem", "risk", "healthy", "inconclusive"]},
        "exit_code": {"enum": [0, 1, 3, 4, 129, 130, 143]},
        "checks_total": {"type": "integer", "minimum": 0},
        "probes_run": {"type": "integer", "minimum": 0},
        "deadline_reached": {"type": ["number", "null"], "description": "the --deadline (seconds) that ended the run"},
        "since": {"type": ["string", "null"], "description": "--since: no time window started earlier"},
        "symptoms": {"type": "array", "items": {
            "type": "object",
            "required": ["rank", "id", "title", "category", "severity", "page_url", "verdict", "score", "checks",
                         "causes", "solutions", "counts"],
            "properties": {
                "rank": {"type": "integer", "minimum": 1}, "id": _STR, "title": _STR, "page_url": _STR,
                "verdict": {"enum": ["problem", "risk", "healthy", "inconclusive"]},
                "score": {"type": "number", "minimum": 0},
                "follows": {"type": "array", "items": _STR, "description": (
                    "the problems of this triage this one follows from (ranked after them): start from those")},
                "checks": {"type": "array", "items": {**CHECK_SCHEMA,
                                                      "required": [*CHECK_SCHEMA["required"], "shared_by"]}},
                "settings": {"type": "array", "items": SETTING_SCHEMA,
                             "description": "the symptom's settings and the value each had in this run"},
            },
        }},
    },
}
