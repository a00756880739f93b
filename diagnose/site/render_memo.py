"""``diagnose docs serve``: a page whose Markdown did not change is not converted again, nor a template compiled.

mkdocs rebuilds the whole site after any edit, and converting every page's Markdown (pygments highlighting
included) was three quarters of what remained of a rebuild of this site once the search index was
remembered (:mod:`diagnose.site.search_memo`). While a site is served, each page's conversion is kept in
memory (its last version only) with a digest of everything it is made from (the Markdown after the plugins' ``on_page_markdown``,
the page's place, the site's files, the Markdown extensions and their settings, the mkdocs version), so an
edit converts the pages it changed and reuses the rest: the content, table of contents, title, anchors and
links to other pages' anchors, exactly what :meth:`mkdocs.structure.pages.Page.render` sets.

A page whose conversion logged a warning is never kept (a kept page would not say it again), and
``diagnose docs build`` never uses this: a published site is always converted whole.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from typing import Any

#: (site folder, page source) -> (digest, what its last conversion set on the page): one version of each page
_PAGES: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
#: at most this many bytes of pages are kept (beyond: forgotten, then converted again as needed)
MOST_BYTES = 256 << 20
_held = [0]
_original: Any = None


#: conversions kept and made since :func:`counts` was last asked
_COUNTS = {"kept": 0, "converted": 0}


def install() -> bool:
    """Convert pages through the memo in this process (a served site's rebuilds); idempotent. Only for the
    mkdocs whose ``Page.render`` this mirrors (1.6): with another, pages are converted as mkdocs does."""
    global _original
    import mkdocs
    from mkdocs.structure.pages import Page

    if not mkdocs.__version__.startswith("1.6."):
        return False
    if _original is None:
        _original = Page.render
        Page.render = _render   # type: ignore[method-assign, assignment]
    return True


def counts() -> tuple[int, int]:
    """(pages kept, pages converted) since the last call."""
    kept, converted = _COUNTS["kept"], _COUNTS["converted"]
    _COUNTS.update(kept=0, converted=0)
    return kept, converted


def uninstall() -> None:
    global _original
    from mkdocs.structure.pages import Page

    if _original is not None:
        Page.render = _original   # type: ignore[method-assign]
        _original = None
    _PAGES.clear()
    _held[0] = 0


def _render(page: Any, config: Any, files: Any) -> None:
    key = _key(page, config, files)
    place = (str(config["site_dir"]), page.file.src_uri)
    known = _PAGES.get(place)
    kept = known[1] if known is not None and key is not None and known[0] == key else None
    if kept is not None:
        page.content = kept["content"]
        page.toc = copy.deepcopy(kept["toc"])
        page._title_from_render = kept["title"]
        page.present_anchor_ids = set(kept["anchors"])
        if kept["links"] is not None:
            page.links_to_anchors = {f: dict(links) for src, links in kept["links"].items()
                                     if (f := files.get_file_from_path(src)) is not None}
        _COUNTS["kept"] += 1
        return
    _COUNTS["converted"] += 1
    warned = _Warnings()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(warned)
    try:
        _original(page, config, files)
    finally:
        logger.removeHandler(warned)
    if key is None or warned.seen:
        return
    links = getattr(page, "links_to_anchors", None)
    size = len(page.content or "")
    if place in _PAGES:
        _held[0] -= len(_PAGES[place][1]["content"] or "")
    if _held[0] + size > MOST_BYTES:
        _PAGES.clear()
        _held[0] = 0
    _PAGES[place] = (key, {"content": page.content, "toc": copy.deepcopy(page.toc),
                           "title": getattr(page, "_title_from_render", None),
                           "anchors": frozenset(page.present_anchor_ids or ()),
                           "links": None if links is None else {f.src_uri: dict(v) for f, v in links.items()}})
    _held[0] += size


def template_cache() -> Any:
    """A bytecode cache of the theme's templates for this process: each build makes a new Jinja environment,
    which compiled every template again (a third of a second a build). Jinja checks each template's source
    against what it compiled, so an edited template is compiled again."""
    global _BYTECODE
    if _BYTECODE is None:
        from jinja2 import BytecodeCache

        class _InMemory(BytecodeCache):
            def __init__(self) -> None:
                self.kept: dict[str, bytes] = {}

            def load_bytecode(self, bucket: Any) -> None:
                if bucket.key in self.kept:
                    bucket.bytecode_from_string(self.kept[bucket.key])

            def dump_bytecode(self, bucket: Any) -> None:
                self.kept[bucket.key] = bucket.bytecode_to_string()

        _BYTECODE = _InMemory()
    return _BYTECODE


_BYTECODE: Any = None


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = False

    def emit(self, record: logging.LogRecord) -> None:
        self.seen = True


_FILES: dict[int, tuple[Any, str]] = {}


#: Markdown extensions that read other files while converting a page (snippets, abbreviations appended from a
#: file): what they read is not in the key, so a site that uses one is converted whole at every rebuild
READS_FILES = ("pymdownx.snippets", "abbr", "markdown.extensions.abbr", "markdown_include.include", "mdx_include")


def _key(page: Any, config: Any, files: Any) -> str | None:
    """A digest of what the conversion of ``page`` reads; None when it cannot be told (not kept)."""
    import mkdocs

    if page.markdown is None or any(_name(e) in READS_FILES for e in config["markdown_extensions"]):
        return None
    try:
        settings = json.dumps([mkdocs.__version__, config["markdown_extensions"], config["mdx_configs"],
                               config["use_directory_urls"], config.get("validation"), _files(files),
                               page.file.src_uri, page.file.dest_uri, page.url],
                              sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return None
    h = hashlib.sha256(settings.encode())
    h.update(b"\0" + page.markdown.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _name(extension: Any) -> str:
    """An extension's name as configured (a name, or an instance: its module)."""
    return extension if isinstance(extension, str) else type(extension).__module__


def _files(files: Any) -> str:
    """The site's files as a link resolves them (source -> address), once per build."""
    known = _FILES.get(id(files))
    if known is None or known[0] is not files:
        digest = hashlib.sha256("\n".join(sorted(f"{f.src_uri}\t{f.url}" for f in files)).encode()).hexdigest()
        _FILES.clear()
        _FILES[id(files)] = known = (files, digest)
    return known[1]
