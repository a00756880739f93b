"""Every generated file of the site, and the navigation that lists the symptom pages.

:func:`site_files` is the single place that decides what the site holds beyond the
hand-written pages of ``docs/``: one page per symptom and per category, the guide, the error
index, the reference pages and each symptom's example report files. The mkdocs plugin adds
them to the build as virtual files, so nothing generated is ever written into ``docs/``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from diagnose.kb.model import Pack
from diagnose.site import (
    ERRORS_PAGE,
    FIX_PAGE,
    GLOSSARY_PAGE,
    GUIDE_PAGE,
    QUICK_PAGES,
    REFERENCE_DIR,
    REFERENCE_PAGES,
    category_page,
    entry_page,
)

#: ids that cannot be symptom pages: ``faq/index.md`` would be the folder's index, not a symptom
RESERVED_IDS = frozenset({"index"})


def load_site_pack(roots: Sequence[Path] = (), builtin: bool = True, lang: str = "en") -> Pack:
    """The packs the site documents: the built-in one unless ``builtin`` is false or
    ``$DIAGNOSE_NO_BUILTIN`` is set, then ``roots`` (the plugin's ``checks:``), then the folders of
    ``$DIAGNOSE_CHECKS`` (set by ``--checks``; separated by the OS path separator)."""
    from diagnose.kb.loader import load_packs

    extra = [Path(p) for p in os.environ.get("DIAGNOSE_CHECKS", "").split(os.pathsep) if p]
    no_builtin = os.environ.get("DIAGNOSE_NO_BUILTIN", "").strip().lower() in ("1", "true", "t", "yes", "y", "on")
    return load_packs([*roots, *extra], builtin=builtin and not no_builtin,   # the values click reads as true
                      lang=lang)


def site_files(pack: Pack, reports: dict[str, Any]) -> dict[str, str]:
    """``docs-relative path -> content`` of every generated file."""
    from diagnose.site.clidoc import cli_page
    from diagnose.site.fixguide import before_fix_page
    from diagnose.site.glossary_page import glossary_page
    from diagnose.site.guide import errors_page, guide_page
    from diagnose.site.kinds import check_kinds_page
    from diagnose.site.own_session import own_session_page
    from diagnose.site.pages import category_page_text, report_files, symptom_page
    from diagnose.site.reference import (
        entry_format_page,
        least_privilege_page,
        profile_page,
        report_schema_page,
    )

    reserved = sorted(RESERVED_IDS & {e.id for e in pack.entries})
    if reserved:
        raise ValueError(f"entry id {reserved[0]!r} cannot have a page (faq/{reserved[0]}/ is reserved): rename it")
    files: dict[str, str] = {
        GUIDE_PAGE: guide_page(pack),
        ERRORS_PAGE: errors_page(pack),
        FIX_PAGE: before_fix_page(pack),
        GLOSSARY_PAGE: glossary_page(pack),
        f"{REFERENCE_DIR}/entry-format.md": entry_format_page(),
        f"{REFERENCE_DIR}/check-kinds.md": check_kinds_page(pack),
        f"{REFERENCE_DIR}/profile.md": profile_page(pack),
        f"{REFERENCE_DIR}/cli.md": cli_page(),
        f"{REFERENCE_DIR}/report-schema.md": report_schema_page(),
        f"{REFERENCE_DIR}/least-privilege.md": least_privilege_page(),
        f"{REFERENCE_DIR}/own-session.md": own_session_page(),
    }
    for category, entries in pack.by_category().items():
        files[category_page(category)] = category_page_text(category, entries, pack.category_title(category))
    for entry in pack.entries:
        report = reports.get(entry.id)
        files[entry_page(entry.id)] = symptom_page(entry, pack, report)
        files.update(report_files(entry, report))
    return files


def expand_nav(nav: list[Any] | None, pack: Pack) -> list[Any] | None:
    """The configured navigation with each category's symptom pages after its category page.

    ``mkdocs.yml`` lists ``categories/<category>.md`` where a category belongs (a navigation
    tab); the symptoms follow it automatically. A category the navigation does not mention gets
    a section of its own at the end, so no symptom page is ever left out of the navigation; so do
    the quick-diagnosis and reference pages it does not name.
    """

    if nav is None:
        return None
    groups = pack.by_category()
    placed: set[str] = set()

    def entries_of(category: str) -> list[dict[str, str]]:
        placed.add(category)
        return [{entry.title: entry_page(entry.id)} for entry in groups.get(category, [])]

    def walk(items: list[Any]) -> list[Any]:
        out: list[Any] = []
        for item in items:
            if isinstance(item, dict):
                item = {title: walk(value) if isinstance(value, list) else value for title, value in item.items()}
            out.append(item)
            target = next(iter(item.values()), None) if isinstance(item, dict) else item
            for category in groups:
                if target == category_page(category):
                    out.extend(entries_of(category))
        return out

    expanded = walk(list(nav))
    for category in groups:
        if category not in placed:
            expanded.append({pack.category_title(category): [category_page(category), *entries_of(category)]})
    named = set(_pages_of(nav))
    for title, pages in (("Quick diagnosis", QUICK_PAGES), ("Reference", REFERENCE_PAGES)):
        missing = [page for page in pages if page not in named]
        if missing:
            expanded.append({title: missing})
    return translate_nav(expanded)


def translate_nav(nav: Any) -> Any:
    """The navigation's section titles in the language in force (a symptom's or category's title is the
    pack's own, already in it; a title the catalog does not know stays as written)."""
    from diagnose.i18n import t

    if isinstance(nav, list):
        return [translate_nav(item) for item in nav]
    if isinstance(nav, dict):
        return {t(title) if isinstance(title, str) else title: translate_nav(value) for title, value in nav.items()}
    return nav


def _pages_of(nav: Any) -> list[str]:
    """Every page path a navigation names."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [p for value in nav.values() for p in _pages_of(value)]
    if isinstance(nav, list):
        return [p for item in nav for p in _pages_of(item)]
    return []
