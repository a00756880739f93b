"""The FAQ site in a real browser: Debian's headless Chromium, driven by Playwright.

Why a browser: the site's search and navigation are JavaScript (mkdocs-material); only a browser
shows that the built pages load, render and find a symptom by the error text an operator pastes.
The site is the one conftest.py builds once per session, served on 127.0.0.1 by ``http.server``,
and every request to another host is blocked and recorded: the site must work offline.

The browser is ``/usr/bin/chromium`` (``python3 dev.py test`` installs it), never one Playwright
downloads; without it the test fails saying how to install it. Screenshots of every step land in
``tests/artifacts/site/`` (gitignored), kept whether the test passes or fails.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "site"
CHROMIUM = Path(os.environ.get("DIAGNOSE_CHROMIUM", "/usr/bin/chromium"))
INSTALL_HINT = ("install Debian's browser with `python3 dev.py test` (does it as root) or "
                "`apt-get update && apt-get install -y --no-install-recommends chromium`")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_HOST = "127.0.0.1"
SYMPTOM = "stale-positions"
SEARCH_TEXT = "position_mutex_blocked"
WAIT_MS = 15_000


@pytest.fixture(scope="module")
def built_site(site) -> Path:
    """The session's real ``mkdocs build --strict`` of the repository (``site`` in conftest.py)."""
    assert (site.root / "index.html").is_file(), f"no index.html in the built site {site.root}"
    return site.root


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        """Keep the test output to failures."""


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    """Base URL (with trailing slash) of the built site served on 127.0.0.1 at a free port."""
    server = http.server.ThreadingHTTPServer((LOCAL_HOST, 0), functools.partial(QuietHandler, directory=str(built_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOCAL_HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class OfflineBrowser:
    """A Chromium context that lets only 127.0.0.1 through and remembers what it blocked."""

    def __init__(self, context):
        self.context = context
        self.blocked: list[str] = []
        self.js_errors: list[str] = []
        context.route("**/*", self._route)
        # Requests a route does not see (a service worker's, say) are still recorded here.
        context.on("request", lambda request: self._note(request.url))
        context.on("page", lambda tab: tab.on("pageerror", lambda exc: self.js_errors.append(str(exc))))

    def _is_foreign(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != LOCAL_HOST

    def _note(self, url: str) -> None:
        if self._is_foreign(url) and url not in self.blocked:
            self.blocked.append(url)

    def _route(self, route) -> None:
        url = route.request.url
        if self._is_foreign(url):
            self._note(url)
            route.abort("blockedbyclient")
        else:
            route.continue_()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OfflineBrowser]:
    """Headless Debian Chromium with a fresh profile; fails (never skips) when it is missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: {INSTALL_HINT}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is missing: pip install -e '.[test]' "
                    "(never `playwright install`: the test drives Debian's chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900}, service_workers="block")
        try:
            yield OfflineBrowser(context)
        finally:
            context.close()


@pytest.fixture
def page(browser: OfflineBrowser):
    """A new tab, with what was blocked and the JavaScript errors counted from here on."""
    browser.blocked.clear()
    browser.js_errors.clear()
    tab = browser.context.new_page()
    tab.set_default_timeout(WAIT_MS)
    yield tab
    tab.close()


def screenshot(tab, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path


def assert_offline_and_clean(browser: OfflineBrowser) -> None:
    assert browser.blocked == [], f"the site asked hosts other than {LOCAL_HOST}: {browser.blocked}"
    assert browser.js_errors == [], f"JavaScript errors on the page: {browser.js_errors}"


def test_home_page_loads_and_links_to_the_symptom(browser, page, site_url):
    response = page.goto(site_url, wait_until="networkidle")
    try:
        assert response is not None and response.status == 200
        page.locator(f'a[href*="faq/{SYMPTOM}/"]').first.wait_for(state="attached")
    finally:
        screenshot(page, "home")
    assert page.title().strip(), "the home page has no title"
    assert_offline_and_clean(browser)


def test_symptom_page_shows_the_entry(browser, page, site_url, pack):
    response = page.goto(f"{site_url}faq/{SYMPTOM}/", wait_until="networkidle")
    try:
        assert response is not None and response.status == 200
        heading = page.locator("article h1").first.inner_text()
    finally:
        screenshot(page, "symptom")
    assert pack.get(SYMPTOM).title in heading
    assert SEARCH_TEXT in page.locator("article").inner_text()
    assert_offline_and_clean(browser)


def search_for(page, text: str) -> None:
    """Open the search box, type ``text`` and release a key, as a person typing does.

    Material reads the box on a ``keyup`` (or when its search worker reports ready, or on focus).
    Playwright types a character that is not on the keyboard (every Chinese one) as inserted text,
    with no key events: typed after the worker was ready, such a query was never searched (a busy
    CI machine lost it; reproduced under CPU load). Pressing End, which moves the caret and leaves
    the text as it is, gives the ``keyup`` an input method's commit gives a real user.
    """
    box = page.locator('[data-md-component="search-query"]')
    if not box.is_visible():  # narrow layouts hide the box behind the magnifier button
        page.locator('label[for="__search"]:visible').first.click()
    box.click()
    box.press_sequentially(text)
    box.press("End")


def test_search_for_an_error_text_finds_the_symptom(browser, page, site_url, pack):
    page.goto(site_url, wait_until="networkidle")
    search_for(page, SEARCH_TEXT)
    hit = page.locator(f'.md-search-result__list a[href*="faq/{SYMPTOM}/"]').first
    try:
        hit.wait_for(state="visible")
    finally:
        screenshot(page, "search")
    assert pack.get(SYMPTOM).title in page.locator(".md-search-result__list").inner_text()
    assert_offline_and_clean(browser)


@pytest.mark.parametrize("query, symptom", [("下单被拒绝", "stale-positions"), ("收不到通知", "notification-failed")])
def test_chinese_search_finds_the_symptom_and_opens_it(browser, page, site_url, query, symptom):
    from diagnose.kb.loader import load_pack

    page.goto(f"{site_url}zh/", wait_until="networkidle")
    search_for(page, query)
    first = page.locator(".md-search-result__list a").first
    try:
        first.wait_for(state="visible")
        # results are redrawn as each character is typed: wait for those of the whole query (bounded)
        try:
            page.wait_for_function("(want) => { const a = document.querySelector('.md-search-result__list a');"
                                   " return a && a.getAttribute('href').includes(want); }",
                                   arg=f"zh/faq/{symptom}/", timeout=10_000)
        except Exception as exc:   # playwright's TimeoutError: the assertion below says what came first instead
            if type(exc).__name__ != "TimeoutError":
                raise
        assert f"zh/faq/{symptom}/" in (first.get_attribute("href") or ""), first.get_attribute("href")
        first.click()
        page.wait_for_url(f"**/zh/faq/{symptom}/**")
        heading = page.locator("article h1").first.inner_text()
    finally:
        screenshot(page, f"search-zh-{symptom}")
    assert load_pack(lang="zh").get(symptom).title.split("（")[0] in heading.replace("\u200b", "")
    assert_offline_and_clean(browser)


def test_switching_language_on_a_symptom_page_stays_on_it(browser, page, site_url, pack):
    from diagnose.kb.loader import load_pack

    page.goto(f"{site_url}faq/{SYMPTOM}/", wait_until="networkidle")
    try:
        page.locator(".md-header__option .md-select button").first.hover()
        page.locator('.md-select__link[hreflang="zh"]').first.click()
        page.wait_for_url(f"**/zh/faq/{SYMPTOM}/")
        assert load_pack(lang="zh").get(SYMPTOM).title.split("（")[0] in page.locator("article h1").first.inner_text()
        assert page.locator("html").get_attribute("lang") == "zh"
        page.locator(".md-header__option .md-select button").first.hover()
        page.locator('.md-select__link[hreflang="en"]').first.click()
        page.wait_for_url(f"**/faq/{SYMPTOM}/")
        assert "/zh/" not in page.url
        assert pack.get(SYMPTOM).title in page.locator("article h1").first.inner_text()
    finally:
        screenshot(page, "switch-language")
    assert_offline_and_clean(browser)
