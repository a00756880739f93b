"""``endpoints``: HTTP, WebSocket and TCP services, named with ``endpoint: NAME``, given as a base URL
(``http://127.0.0.1:8000``) or ``host:port``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from diagnose.sources.base import Masker, Place, expand, expanded

SECTION = "endpoints"
FIELD = "endpoint"
NOUN = "endpoint"
FLAG = "--endpoint"
METAVAR = "NAME=URL"
HELP = "Override one endpoint, e.g. --endpoint api=http://127.0.0.1:8000."
SCHEMA: dict[str, Any] = {"type": "string", "description": "a base URL (http://127.0.0.1:8000) or host:port"}


def resolve(name: str, value: Any, where: str, place: Place) -> str:
    return expand(value, where)


def secrets(value: Any, masker: Masker, path_of: Callable[[str], Path] | None) -> None:
    if url := expanded(value):
        masker.add_url(url)
