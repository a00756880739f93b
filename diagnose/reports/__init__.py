"""Reports: one masked, JSON-able document per run, rendered by every format the same way.

One pipeline for a symptom's run and a triage: build the document
(:func:`~diagnose.reports.document.build_document` or
:func:`~diagnose.reports.triage_document.build_triage_document`; masking happens there, once,
before any format sees the data), then render it with a format of the registry
(:mod:`diagnose.reports.formats`: Markdown, HTML, JSON, and any installed plugin's), each of which
renders both kinds, so the formats cannot disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from diagnose.reports.formats import report_format

if TYPE_CHECKING:
    from diagnose.reports.document import Document


def render(document: Document, fmt: str) -> str:
    """``document`` (either kind) rendered in format ``fmt`` (a name of :mod:`diagnose.reports.formats`);
    :class:`~diagnose.reports.formats.FormatError` for a format that does not exist or cannot be loaded."""
    return report_format(fmt).render(document)
