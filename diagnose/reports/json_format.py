"""The JSON report: the document itself (stable, versioned by ``schema_version``), of either kind.

Named ``json_format`` rather than ``json`` so that a module inside this package can never be
mistaken for the standard library's ``json`` (tools that put the package folder on
``sys.path``, such as some test runners and debuggers, would otherwise shadow it).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from diagnose.reports.document import Document

NAME = "json"
EXTENSION = "json"
DESCRIPTION = "the report document itself, for scripts"


def render(document: Document) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
