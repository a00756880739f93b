"""The language diagnose speaks: ``--lang en|zh`` on every command, else the locale (``LC_ALL``,
``LC_MESSAGES``, ``LANG``: ``zh_CN.UTF-8`` speaks Chinese).

Two kinds of text are translated. The knowledge pack's own (titles, causes, messages...) comes from its
overlays (:mod:`diagnose.kb.translations`), chosen when the pack loads. The tool's own sentences (headings
of a report, the summary's words) go through :func:`t`: the English sentence is the key of the catalog
(``diagnose/locale/<lang>.py``), so code reads in English and a sentence without a translation stays
English rather than breaking. Evidence (rows, log lines, values) is never translated.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

#: the languages of the tool; the first is its source language
LANGUAGES = ("en", "zh")
DEFAULT = "en"
#: each language's name in itself, for a reader of either
NAMES = {"en": "English", "zh": "中文"}

def is_translation(path: PurePath) -> bool:
    """Is ``path`` a knowledge pack's translation, ``<name>.<lang>.yaml`` for a language other than the entries'
    own (``stale-positions.zh.yaml``), rather than an entry? (:mod:`diagnose.kb.translations` reads them.)"""
    stem = PurePath(path.stem)
    return stem.suffix[1:] in LANGUAGES and stem.suffix[1:] != DEFAULT and path.suffix in (".yaml", ".yml")


_chosen: str | None = None
_catalogs: dict[str, dict[str, str]] = {}


def from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The language the locale asks for: the first of ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that is set
    (POSIX order); ``zh...`` is Chinese, anything else (``C``, ``en_US.UTF-8``) English."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            code = value.split(".", 1)[0].split("@", 1)[0].split("_", 1)[0].lower()
            return code if code in LANGUAGES else DEFAULT
    return DEFAULT


def set_language(lang: str | None) -> None:
    """Use ``lang`` from now on (None: the locale's again)."""
    global _chosen
    _chosen = lang


def chosen() -> str | None:
    """The language ``--lang`` chose, None when the command line did not say (the locale decides)."""
    return _chosen


def language() -> str:
    """The language in force: the one set by ``--lang``, else the locale's."""
    return _chosen or from_environment()


def catalog(lang: str) -> dict[str, str]:
    """English sentence -> its translation (empty for English)."""
    if lang == DEFAULT:
        return {}
    if lang not in _catalogs:
        try:
            _catalogs[lang] = importlib.import_module(f"diagnose.locale.{lang}").MESSAGES
        except ModuleNotFoundError:      # a language without a catalog speaks English, never fails
            _catalogs[lang] = {}
    return _catalogs[lang]


def t(text: str, lang: str | None = None, **fields: Any) -> str:
    """``text`` (one of the tool's own sentences) in the language in force, its ``{fields}`` filled.

    The sentences are the code's, never a pack's or a user's, so ``str.format`` is safe here."""
    translated = catalog(lang or language()).get(text, text)
    return translated.format(**fields) if fields else translated
