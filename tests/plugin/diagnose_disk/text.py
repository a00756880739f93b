"""``text`` reports: one line per check, ``status id: message`` (a triage's: ``status symptom/id: message``).

For a log grep or a chat message. Like every format it renders the masked document, never raw results.
"""

from __future__ import annotations

from typing import Any

NAME = "text"
EXTENSION = "txt"
DESCRIPTION = "one line per check: status, id and message"


def render(document: dict[str, Any]) -> str:
    if document.get("kind") == "triage":
        checks = [(f"{s['id']}/{c['id']}", c) for s in document["symptoms"] for c in s["checks"]]
    else:
        checks = [(c["id"], c) for c in document["checks"]]
    return "".join(f"{c['status']} {name}: {' '.join(str(c['message']).split())}\n" for name, c in checks)
