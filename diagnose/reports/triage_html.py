"""The triage report as one self-contained HTML file (same safety rules as the symptom report)."""

from __future__ import annotations

import json
from typing import Any

from diagnose.reports.html import STATUS_LABELS, _environment


def render(document: dict[str, Any]) -> str:
    template = _environment().get_template("triage.html.j2")
    return template.render(doc=document, status_labels=STATUS_LABELS,
                           profile_json=json.dumps(document["profile"], indent=2, ensure_ascii=False)) + "\n"
