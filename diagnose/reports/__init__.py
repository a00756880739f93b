"""Reports: one masked, JSON-able document per run, rendered as Markdown, HTML or JSON.

Every format renders the same :func:`~diagnose.reports.document.build_document` output, so
masking happens once, before any renderer sees the data, and the formats cannot disagree.
"""

from __future__ import annotations

from typing import Any, Callable

FORMATS = ("md", "html", "json")
EXTENSIONS = {"md": "md", "html": "html", "json": "json"}


def renderer(fmt: str, kind: str = "symptom") -> Callable[[dict[str, Any]], str]:
    """The ``render(document) -> str`` function of a format (``md``, ``html``, ``json``).

    ``kind`` is the document's shape: ``symptom`` (one run) or ``triage`` (every symptom).
    """
    if kind == "triage" and fmt == "md":
        from diagnose.reports.triage_markdown import render
    elif kind == "triage" and fmt == "html":
        from diagnose.reports.triage_html import render
    elif fmt == "md":
        from diagnose.reports.markdown import render
    elif fmt == "html":
        from diagnose.reports.html import render
    elif fmt == "json":
        from diagnose.reports.json_format import render
    else:
        raise ValueError(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}")
    return render


def render(document: dict[str, Any], fmt: str) -> str:
    """Render a document built by :func:`diagnose.reports.document.build_document`."""
    return renderer(fmt, document.get("kind", "symptom"))(document)
