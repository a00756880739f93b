"""The FAQ site: Markdown pages generated from the knowledge base, built by mkdocs-material.

Nothing generated is committed. ``mkdocs.yml`` (repository root, or any site's) names the
``diagnose`` plugin (:mod:`diagnose.site.plugin`, an entry point of the package); at build time it
loads the packs and adds every generated page to the build as a virtual file: one page per
symptom (``faq/<id>/``, the URL reports link to), the quick-diagnosis guide, the error-message
index, the category pages and the reference pages (entry format, check kinds, profile, CLI, report
schema), each rendered from the code and schemas it documents so it cannot go stale.
``diagnose docs build`` / ``serve`` drive the same configuration, or generate one where there is
none (:mod:`diagnose.site.build`, :mod:`diagnose.site.siteconfig`).

Modules: :mod:`~diagnose.site.pages` (symptom and category pages), :mod:`~diagnose.site.guide`
(guide, error index), :mod:`~diagnose.site.reference`, :mod:`~diagnose.site.kinds`,
:mod:`~diagnose.site.clidoc`, :mod:`~diagnose.site.schemadoc` (reference pages),
:mod:`~diagnose.site.examples` (each symptom's real example report, produced at build time),
:mod:`~diagnose.site.generate` (the whole set of pages and the navigation),
:mod:`~diagnose.site.mdtext` and :mod:`~diagnose.site.manual` (Markdown and command text).
"""

from __future__ import annotations

#: where a symptom's page lives, relative to the docs folder: ``faq/<id>.md`` -> URL ``faq/<id>/``
FAQ_DIR = "faq"
GUIDE_PAGE = "guide/index.md"
ERRORS_PAGE = "guide/errors.md"
CATEGORY_DIR = "categories"
REFERENCE_DIR = "reference"
FIX_PAGE = "guide/before-a-fix.md"
GLOSSARY_PAGE = "guide/glossary.md"

#: the site's reference section, in navigation order (generated and shipped pages)
REFERENCE_PAGES = tuple(f"{REFERENCE_DIR}/{name}.md" for name in (
    "writing-an-entry", "entry-format", "check-kinds", "profile", "cli", "report-schema", "least-privilege",
    "own-session", "faults"))
#: the quick-diagnosis section: generated pages for someone who knows only what they see
QUICK_PAGES = (GUIDE_PAGE, ERRORS_PAGE, FIX_PAGE, GLOSSARY_PAGE)


def entry_page(entry_id: str) -> str:
    """The docs-relative source path of a symptom's page (its URL is ``faq/<id>/``)."""
    return f"{FAQ_DIR}/{entry_id}.md"


def category_page(category: str) -> str:
    return f"{CATEGORY_DIR}/{category}.md"


def report_file(entry_id: str, ext: str) -> str:
    """The docs-relative path of a symptom's example report (``faq/<id>/report.<ext>``)."""
    return f"{FAQ_DIR}/{entry_id}/report.{ext}"
