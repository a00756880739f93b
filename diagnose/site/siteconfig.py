"""What a FAQ site needs beyond the generated pages, for any pack and any ``mkdocs.yml``.

The :mod:`mkdocs plugin <diagnose.site.plugin>` uses it to complete a user's configuration (the
Markdown extensions the generated pages are written for, the navigation, a home page, a tags
page, the hand-written reference pages that ship with the package), and :mod:`diagnose.site.build`
to write a whole configuration when there is no ``mkdocs.yml`` at all.

The two hand-written reference pages (``reference/writing-an-entry.md``, ``reference/faults.md``)
live in ``docs/reference/`` of the repository, where authors edit them; the wheel carries them
inside the package (``diagnose/site/reference_pages/``, pyproject's ``force-include``), as it
carries ``checks/``. :func:`shipped_dir` finds them either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from diagnose.i18n import t
from diagnose.kb.model import Pack
from diagnose.site import ERRORS_PAGE, GUIDE_PAGE, QUICK_PAGES, REFERENCE_DIR, REFERENCE_PAGES, category_page, entry_page

HOME_PAGE = "index.md"
TAGS_PAGE = "tags.md"

#: the hand-written pages every site gets (a page of the same path in docs_dir takes their place)
SHIPPED_PAGES = ("writing-an-entry.md", "faults.md")


#: Markdown extensions the generated pages are written for, with the settings they need
#: (``pygments_lang_class``: ``<div class="language-sql highlight">``, which the tests read)
MARKDOWN_EXTENSIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("admonition", {}),
    ("attr_list", {}),
    ("md_in_html", {}),
    ("tables", {}),
    ("def_list", {}),
    ("pymdownx.details", {}),
    ("pymdownx.highlight", {"pygments_lang_class": True}),
    ("pymdownx.inlinehilite", {}),
    ("pymdownx.superfences", {}),
    ("pymdownx.tabbed", {"alternate_style": True}),
)

#: the look of a generated configuration (the same as the repository's mkdocs.yml)
THEME: dict[str, Any] = {
    "name": "material",
    "font": False,              # no Google Fonts: the site makes no request to another host
    "icon": {"logo": "material/stethoscope"},
    "features": ["navigation.tabs", "navigation.tabs.sticky", "navigation.sections", "navigation.indexes",
                 "navigation.top", "navigation.footer", "search.suggest", "search.highlight", "search.share",
                 "content.code.copy", "content.tabs.link", "toc.follow"],
    "palette": [
        {"media": "(prefers-color-scheme: light)", "scheme": "default", "primary": "indigo",
         "toggle": {"icon": "material/weather-night", "name": "Dark mode"}},
        {"media": "(prefers-color-scheme: dark)", "scheme": "slate", "primary": "indigo",
         "toggle": {"icon": "material/weather-sunny", "name": "Light mode"}},
    ],
}
#: search words split as in the repository's site: log lines, error codes, CJK punctuation and the zero-width
#: space Material's search puts between the Chinese words it segments (with jieba) at build time
SEARCH_SEPARATOR = r'[\s\u200b\-_,:;!=\[\]()"`/，。：；！？（）【】、]+|\.(?!\d)|&[lg]t;|(?!\b)(?=[A-Z][a-z])'
#: what ``--strict`` fails on
VALIDATION = {"omitted_files": "warn", "absolute_links": "info", "unrecognized_links": "warn", "anchors": "warn"}


def shipped_dir() -> Path:
    """The hand-written reference pages: inside the installed package, or ``docs/reference/`` of a checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "reference_pages"
    return installed if installed.is_dir() else here.parent.parent / "docs" / REFERENCE_DIR


def shipped_pages() -> dict[str, str]:
    """``docs-relative path -> content`` of the hand-written reference pages (ValueError when one is missing)."""
    pages = {}
    for name in SHIPPED_PAGES:
        path = shipped_dir() / name
        try:
            pages[f"{REFERENCE_DIR}/{name}"] = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"the reference page {path} cannot be read ({exc.strerror or exc}): "
                             "reinstall diagnose") from None
    return pages


def add_markdown_extensions(config: Any) -> list[str]:
    """Add to a loaded mkdocs config the extensions of :data:`MARKDOWN_EXTENSIONS` it lacks; returns
    their names. An extension the user configured keeps the user's settings."""
    added = []
    configs = config["mdx_configs"]
    for name, settings in MARKDOWN_EXTENSIONS:
        if name not in config["markdown_extensions"]:
            config["markdown_extensions"].append(name)
            if settings:
                configs[name] = dict(settings)
            added.append(name)
    return added


def home_pack(pack: Pack) -> Pack:
    """The pack a site is about: the first one that is not the built-in pack (the built-in one alone)."""
    from diagnose.kb.loader import builtin_root

    builtin = builtin_root().resolve()
    return next((p for p in pack.packs if p.root.resolve() != builtin), pack.packs[0])


def pack_title(pack: Pack) -> str:
    """A pack's title: ``title`` of pack.yaml, else its ``name``."""
    return pack.title or pack.name


def home_page(pack: Pack) -> str:
    """``index.md`` of a site whose docs folder has none: the pack's title and description, where to
    start, and every symptom by category."""
    import yaml

    from diagnose.site.mdtext import first_sentence, heading_text, python_markdown

    own = home_pack(pack)
    title = pack_title(own)
    description = (own.description or "").strip()
    meta = {"title": title, "description": first_sentence(description) if description else
            t("Symptoms of {title}: how to diagnose them by hand or with one command, their causes and fixes.",
              title=title)}
    groups = pack.by_category()
    categories = t(", ").join(f"[{heading_text(pack.category_title(c))}]({category_page(c)})" for c in groups)
    out = ["---", yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000).strip(), "---", "",
           f"# {heading_text(title)}", ""]
    if description:
        out += [python_markdown(description), ""]
    out += [t("This site has **one page per symptom**: what you see, the checks that tell the possible causes "
              "apart, the causes, the fixes. Every page is generated from the knowledge base that the `diagnose` "
              "tool runs, so the site and the tool cannot disagree."), ""]
    if len(pack.packs) > 1:
        out += [t("Knowledge packs of this site:"), ""]
        out += [f"- **{heading_text(pack_title(p))}** {p.version}" + (f": {first_sentence(p.description)}"
                                                                      if p.description else "") for p in pack.packs]
        out.append("")
    out += ["## " + t("Where to start") + " { #where-to-start }", "", '<div class="grid cards" markdown>', "",
            "- **" + t("You have an error message") + "**", "",
            "    " + t("Paste it into the search box, or look it up in the [error-message index]({errors}). On the "
                       "command line: `diagnose explain \"<the message>\"`.", errors=ERRORS_PAGE), "",
            "- **" + t("You see a symptom") + "**", "",
            "    " + (t("Find it in the [quick-diagnosis guide]({guide}), or by category: {categories}.",
                        guide=GUIDE_PAGE, categories=categories) if categories
                       else t("Find it in the [quick-diagnosis guide]({guide}).", guide=GUIDE_PAGE)), "",
            "- **" + t("You can run the tool") + "**", "",
            "    " + t("`diagnose SYMPTOM` runs the checks against your systems and writes a report for the ticket; "
                       "a [profile]({profile}) says where your sources are.", profile=f"{REFERENCE_DIR}/profile.md"),
            "",
            "- **" + t("You write knowledge") + "**", "",
            "    " + t("[Writing a new entry]({writing}), the [entry format]({format}), the [check kinds]({kinds}) "
                       "and the [command line]({cli}).", writing=f"{REFERENCE_DIR}/writing-an-entry.md",
                       format=f"{REFERENCE_DIR}/entry-format.md", kinds=f"{REFERENCE_DIR}/check-kinds.md",
                       cli=f"{REFERENCE_DIR}/cli.md"), "",
            "</div>", "", "## " + t("Symptoms") + " { #symptoms }", ""]
    for category, entries in groups.items():
        out += [f"### [{heading_text(pack.category_title(category))}]({category_page(category)}) "
                f"{{ #category-{category} }}", ""]
        out += [f"- [{heading_text(e.title)}]({entry_page(e.id)}) · `diagnose {e.id}`" for e in entries]
        out.append("")
    return "\n".join(out)


def tags_page() -> str:
    """``tags.md``: mkdocs-material's tags listing (its plugin fills the marker in)."""
    return "\n".join(["---", "title: " + t("Tags"),
                      "description: " + t("Symptoms by category, severity and the kinds of checks they run."), "---",
                      "", "# " + t("Tags"), "",
                      t("Symptoms grouped by category, by severity, and by the kinds of checks they run."), "",
                      "<!-- material/tags -->", ""])


def default_nav(pack: Pack, hand_written: list[str], *, tags: bool) -> list[Any]:
    """The navigation of a site whose configuration has none: home and the hand-written pages, the
    quick-diagnosis pages, one tab per category (its symptoms follow, :func:`expand_nav`), the reference."""
    from diagnose.site.generate import expand_nav

    home = [HOME_PAGE, *sorted(p for p in hand_written if p not in (HOME_PAGE, TAGS_PAGE))]
    nav: list[Any] = [{t("Home"): home}, {t("Quick diagnosis"): [*QUICK_PAGES, *([TAGS_PAGE] if tags else [])]}]
    nav += [{pack.category_title(c): [category_page(c)]} for c in pack.by_category()]
    nav.append({t("Reference"): list(REFERENCE_PAGES)})
    return expand_nav(nav, pack) or nav


def mkdocs_config(pack: Pack, *, checks: list[Path], builtin: bool, docs_dir: Path, site_dir: Path) -> dict[str, Any]:
    """A whole mkdocs configuration for ``pack`` (``diagnose docs build`` where there is no mkdocs.yml)."""
    own = home_pack(pack)
    config: dict[str, Any] = {
        "site_name": pack_title(own),
        "docs_dir": str(docs_dir),
        "site_dir": str(site_dir),
        "theme": THEME,
        "plugins": [{"search": {"separator": SEARCH_SEPARATOR}}, "tags",
                    {"diagnose": {"checks": [str(p) for p in checks], "builtin": builtin}}],
        "markdown_extensions": [{"toc": {"permalink": True, "toc_depth": 3}},
                                *({name: settings} if settings else name for name, settings in MARKDOWN_EXTENSIONS)],
        "validation": VALIDATION,
    }
    if own.description:
        config["site_description"] = " ".join(own.description.split())
    if own.site_url:
        config["site_url"] = own.site_url
    return config
