"""Material's search index, remembered page by page between builds.

Material's search plugin reads every page's HTML again with Python's ``html.parser`` and cuts Chinese with
jieba: half of a build of this site (16 of 33 s under a profiler; an example report's highlighted code is
thousands of tags). What it makes of a page depends only on the page (its HTML, address, title, metadata and
table of contents) and on the plugin (its version and settings), so each page's entries are kept in the cache
folder under a digest of those: a rebuild after an entry's edit (``diagnose docs serve``) reads only the pages
that changed, and the index it writes is the one a full read gives (``tests/site/test_rebuilds.py``).

Only Material's own plugin is helped (its index keeps its entries in a list, which is what is remembered);
any other search plugin is left as it is.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import threading
from pathlib import Path
from typing import Any, Callable

FORMAT = 1
log = logging.getLogger("mkdocs.plugins.diagnose")
#: what this process read or wrote, per cache file (a served site is rebuilt in the same process)
_KNOWN: dict[Path, dict[str, list[dict]]] = {}
_LOCK = threading.Lock()
#: cache files held in memory at once
KEEP_FILES = 4


class SearchMemo:
    """Stands in for ``SearchIndex.add_entry_from_context`` of one build."""

    def __init__(self, index: Any, add: Callable[[Any], None], path: Path):
        self.index, self.add, self.path = index, add, path
        self.used: dict[str, list[dict]] = {}
        self.read = 0      # pages whose entries came from the memo

    def __call__(self, page: Any) -> None:
        key = page_key(page)
        with _LOCK:
            known = _known(self.path).get(key)
        if known is not None:
            self.index.entries.extend(copy.deepcopy(known))
            self.used[key] = known
            self.read += 1
            return
        before = len(self.index.entries)
        self.add(page)
        self.used[key] = copy.deepcopy(self.index.entries[before:])

    def save(self) -> None:
        """Keep this build's pages (only those: the file holds one site's current pages)."""
        from diagnose.cache import write_cache_file

        with _LOCK:
            _KNOWN[self.path] = dict(self.used)
        write_cache_file(self.path, {"format": FORMAT, "pages": self.used})
        if self.used:
            log.info("diagnose: search index: %d of %d page(s) unchanged, not read again", self.read, len(self.used))


def attach(config: Any) -> SearchMemo | None:
    """Remember what Material's search plugin of ``config`` indexes (after its ``on_pre_build``); None when the
    site has no such plugin."""
    plugin = next((p for name, p in config.plugins.items() if name in ("material/search", "search")), None)
    index = getattr(plugin, "search_index", None)
    if index is None or type(index).__module__ != "material.plugins.search.plugin" \
            or not isinstance(getattr(index, "entries", None), list):
        return None
    add = index.add_entry_from_context
    memo = SearchMemo(index, add, _file(index, config))
    index.add_entry_from_context = memo
    return memo


def page_key(page: Any) -> str:
    """A digest of everything the search plugin reads of ``page``."""
    toc = [(item.id, item.url) for item in _walk(page.toc or [])]
    described = json.dumps([page.url, str(page.title), page.meta, toc], sort_keys=True, default=str, ensure_ascii=False)
    h = hashlib.sha256(described.encode("utf-8"))
    h.update(b"\0" + (page.content or "").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _walk(items: Any) -> Any:
    for item in items:
        yield item
        yield from _walk(getattr(item, "children", None) or [])


def _file(index: Any, config: Any) -> Path:
    """One cache file per site folder, search plugin version and settings (and language: the settings say it)."""
    from importlib.metadata import PackageNotFoundError, version

    from diagnose.cache import cache_dir

    try:
        material = version("mkdocs-material")
    except PackageNotFoundError:
        material = "?"
    made_of = json.dumps([FORMAT, material, index.config, str(Path(config.site_dir).resolve())],
                         sort_keys=True, default=str)
    return cache_dir() / f"site-search-{hashlib.sha256(made_of.encode()).hexdigest()[:24]}.json"


def _known(path: Path) -> dict[str, list[dict]]:
    """The pages of ``path``, read once per process (called with the lock held)."""
    if path not in _KNOWN:
        from diagnose.cache import read_cache_file

        pages: dict[str, list[dict]] = {}
        data = read_cache_file(path)   # entries someone else could have written would be published: not read
        if isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("pages"), dict):
            pages = {k: v for k, v in data["pages"].items() if isinstance(v, list) and all(isinstance(e, dict) for e in v)}
        while len(_KNOWN) >= KEEP_FILES:   # a process builds one or two sites (a language each)
            del _KNOWN[next(iter(_KNOWN))]
        _KNOWN[path] = pages
    return _KNOWN[path]
