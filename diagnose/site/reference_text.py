"""The site's reference pages as Markdown for the terminal (``diagnose docs show [PAGE]``).

Each page is produced by the same function the site uses, so the terminal and the site say the
same thing; front matter is left out. Two pages depend on the packs (the check kinds they use,
the source names they declare), the others on the code alone.
"""

from __future__ import annotations

from diagnose.kb.model import Pack

#: page name -> (needs the packs, what it is about)
PAGES: dict[str, tuple[bool, str]] = {
    "writing-an-entry": (False, "a walk through writing, linting and self-testing a new entry"),
    "entry-format": (False, "every field of an entry file and of pack.yaml"),
    "check-kinds": (True, "each check kind: what it reads, its fields, what it expects"),
    "profile": (True, "diagnose.yaml: where a deployment's databases, logs, env files and endpoints are"),
    "cli": (False, "every command and option"),
    "report-schema": (False, "the JSON report, field by field"),
    "least-privilege": (False, "the database role to give diagnose, and what its sessions do"),
    "own-session": (False, "what a query sees on diagnose's own database session"),
    "faults": (False, "what diagnose does when a source or the run itself breaks"),
}


def page_markdown(name: str, pack: Pack | None = None) -> str:
    """The Markdown of reference page ``name`` (a key of :data:`PAGES`), without its front matter.
    ``pack``: the packs the page describes, for the pages that need them (ValueError for a shipped
    page that cannot be read)."""
    from diagnose.site.siteconfig import shipped_pages

    if name in ("writing-an-entry", "faults"):
        text = shipped_pages()[f"reference/{name}.md"]
    else:
        text = _generated(name, pack)
    return strip_front_matter(text).strip() + "\n"


def _generated(name: str, pack: Pack | None) -> str:
    from diagnose.site import clidoc, kinds, own_session, reference

    if PAGES[name][0]:
        if pack is None:
            raise ValueError(f"the '{name}' page describes packs: give one")
        return kinds.check_kinds_page(pack) if name == "check-kinds" else reference.profile_page(pack)
    return {
        "entry-format": reference.entry_format_page,
        "cli": clidoc.cli_page,
        "report-schema": reference.report_schema_page,
        "least-privilege": reference.least_privilege_page,
        "own-session": own_session.own_session_page,
    }[name]()


def strip_front_matter(text: str) -> str:
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end != -1:
            return text[end + 5:].lstrip("\n")
    return text
