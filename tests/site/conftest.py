"""The FAQ site, built for real once per test session with the real ``mkdocs build --strict``.

The build uses a private cache folder, so its example reports are produced on a real
PostgreSQL during the build (nothing is taken from a developer's cache). Pages are read back
with the standard library's HTML parser: links, resources, element ids, code blocks, text.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cached_property
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from diagnose.kb.loader import load_pack

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CodeBlock:
    lang: str
    text: str


@dataclass
class Page:
    """What a built HTML page holds, as the tests need it."""

    path: Path
    links: list[str] = field(default_factory=list)
    resources: list[tuple[str, str]] = field(default_factory=list)   # (tag, url) the browser would fetch
    ids: set[str] = field(default_factory=set)
    code: list[CodeBlock] = field(default_factory=list)
    sections: dict[str, list[str]] = field(default_factory=dict)     # heading id -> text until the next heading
    h1: str = ""
    text_parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join("".join(self.text_parts).split())

    def section_text(self, heading_id: str) -> str:
        return " ".join("".join(self.sections.get(heading_id, [])).split())


class _Parser(HTMLParser):
    FETCHED = {"script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src", "video": "src"}

    def __init__(self, page: Page):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.code_depth = 0          # inside <div class="language-x highlight">
        self.code_lang = ""
        self.code_text: list[str] = []
        self.skip = 0                # inside <script>, <style> or a heading's permalink
        self.skip_tag = ""
        self.heading: str | None = None
        self.in_h1 = False

    BLOCKS = {"p", "div", "li", "td", "th", "tr", "table", "ul", "ol", "pre", "br", "section", "article", "nav",
              "h1", "h2", "h3", "h4", "h5", "h6", "label", "blockquote", "details", "summary", "header", "footer"}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in self.BLOCKS:
            self._text(" ")
        if a.get("id"):
            self.page.ids.add(a["id"])
        if tag == "a" and a.get("href") is not None:
            self.page.links.append(a["href"])
        if tag in self.FETCHED and a.get(self.FETCHED[tag]):
            self.page.resources.append((tag, a[self.FETCHED[tag]]))
        if tag == "link" and a.get("href") and (a.get("rel") or "") not in ("canonical", "prev", "next", "alternate"):
            self.page.resources.append(("link", a["href"]))
        if tag in ("script", "style") or (tag == "a" and "headerlink" in (a.get("class") or "")):
            self.skip += 1
            self.skip_tag = tag
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") and a.get("id"):
            self.heading = a["id"]
            self.page.sections.setdefault(self.heading, [])
        if tag == "h1":
            self.in_h1 = True
        classes = (a.get("class") or "").split()
        if self.code_depth:
            if tag == "div":
                self.code_depth += 1
        elif tag == "div" and "highlight" in classes and any(c.startswith("language-") for c in classes):
            self.code_depth = 1
            self.code_lang = next(c for c in classes if c.startswith("language-"))[len("language-"):]
            self.code_text = []

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self._text(" ")
        if tag in ("script", "style", "a") and self.skip and tag == self.skip_tag:
            self.skip -= 1
        if tag == "h1":
            self.in_h1 = False
        if self.code_depth and tag == "div":
            self.code_depth -= 1
            if not self.code_depth:
                self.page.code.append(CodeBlock(self.code_lang, "".join(self.code_text)))

    def handle_data(self, data):
        if self.skip:
            return
        if self.code_depth:
            self.code_text.append(data)
        if self.in_h1:
            self.page.h1 += data
        self._text(data)

    def _text(self, data: str) -> None:
        self.page.text_parts.append(data)
        if self.heading is not None:
            self.page.sections[self.heading].append(data)


@dataclass
class Site:
    root: Path
    site_url: str

    def page(self, rel: str) -> Page:
        """``rel`` like ``faq/ws-disconnect/`` or ``index.html``."""
        return self._parse(self.file(rel))

    def file(self, rel: str) -> Path:
        path = self.root / rel.lstrip("/")
        return path / "index.html" if rel.endswith("/") or path.is_dir() else path

    @cached_property
    def html_files(self) -> list[Path]:
        return sorted(self.root.rglob("*.html"))

    def _parse(self, path: Path) -> Page:
        cache = self.__dict__.setdefault("_pages", {})
        if path not in cache:
            page = Page(path)
            _Parser(page).feed(path.read_text(encoding="utf-8"))
            cache[path] = page
        return cache[path]

    def pages(self) -> list[Page]:
        """Every page mkdocs rendered (the example reports' own HTML files are not pages)."""
        return [self._parse(p) for p in self.html_files if p.name != "report.html"]

    def local_target(self, base: Path, href: str) -> tuple[Path, str] | None:
        """The file and fragment a link of page ``base`` points to on this site; None if external."""
        parts = urlsplit(href)
        if parts.scheme in ("mailto", "tel", "javascript", "data"):
            return None
        if parts.scheme or parts.netloc:
            if not href.startswith(self.site_url):
                return None
            target = self.root / urlsplit(href[len(self.site_url):]).path
        elif parts.path == "":
            target = base
        else:
            target = (base.parent / parts.path).resolve() if not parts.path.startswith("/") else \
                self.root / parts.path.lstrip("/")
        if target.is_dir() or str(parts.path).endswith("/"):
            target = target / "index.html"
        return target, parts.fragment


def mkdocs_site_url() -> str:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["site_url"]


@pytest.fixture(scope="session")
def pack():
    return load_pack()


@pytest.fixture(scope="session")
def site_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("site-cache")


@pytest.fixture(scope="session")
def site(tmp_path_factory, site_cache) -> Site:
    """``mkdocs build --strict`` of the repository, exactly as a maintainer runs it."""
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, DIAGNOSE_CACHE_DIR=str(site_cache), NO_MKDOCS_2_WARNING="1")
    env.pop("DIAGNOSE_CHECKS", None)
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return Site(out, mkdocs_site_url())
