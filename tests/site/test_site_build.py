"""The built site: one page per symptom, every link resolving, nothing fetched from other hosts."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urlsplit

import yaml
from pathlib import Path

from diagnose.kb.loader import load_pack
from diagnose.site.examples import broken_example
from diagnose.site.samples import sample

ROOT = Path(__file__).resolve().parents[2]

ENTRY_SECTIONS = ("what-you-see", "diagnose", "diagnosis-steps", "causes", "solutions", "example-report")


def test_every_entry_has_its_page_at_faq_id(site, pack):
    for entry in pack.entries:
        page = site.page(f"faq/{entry.id}/")
        assert page.h1.strip() == entry.title, entry.id
        missing = [s for s in ENTRY_SECTIONS if s not in page.ids]
        assert not missing, f"{entry.id}: sections missing: {missing}"
        assert any(block.text.strip() == f"diagnose {entry.id}" for block in page.code), \
            f"{entry.id}: the command that automates the diagnosis is not shown as a copyable block"
        for check in entry.checks:
            assert f"check-{check.id}" in page.ids, f"{entry.id}: no step for check {check.id}"
        for cause in entry.causes:
            assert f"cause-{cause.id}" in page.ids, f"{entry.id}: cause {cause.id} missing"
        for solution in entry.solutions:
            assert f"solution-{solution.id}" in page.ids, f"{entry.id}: solution {solution.id} missing"
        if entry.prevention.strip():
            assert "prevention" in page.ids
        for related in entry.related:
            assert f"../{related}/" in page.links, f"{entry.id}: no link to related entry {related}"


def test_every_check_shows_its_manual_command(site, pack):
    for entry in pack.entries:
        page = site.page(f"faq/{entry.id}/")
        for check in entry.checks:
            section = page.section_text(f"check-{check.id}")
            assert "By hand" in section or "Paste into" in section, f"{entry.id}/{check.id}: no manual command"
            if check.kind == "sql":
                assert 'Paste into psql "$DATABASE_URL_' in section, f"{entry.id}/{check.id}: no SQL to paste"


def test_every_solution_step_shows_its_risk_approval_and_proof(site, pack):
    """On the page, each step says what it can break; a trading action or an outage who approves it and
    when; a proven solution the example it is proven on."""
    import re

    for entry in pack.entries:
        text = site.file(f"faq/{entry.id}/").read_text(encoding="utf-8")
        for solution in entry.solutions:
            block = text[text.index(f'id="solution-{solution.id}"'):]
            block = block[:block.find("<h3", 10)] if "<h3" in block[10:] else block
            plain = re.sub(r"<[^>]+>", "", html.unescape(block))
            assert plain.count("risk:") >= len(solution.steps), f"{entry.id}/{solution.id}: a step without its risk"
            for step in solution.steps:
                assert f"risk: {step.risk}" in plain, (entry.id, solution.id, step.risk)
                if step.risk in ("trading", "outage"):
                    assert f"Approve first: {step.approve}" in plain and "When:" in plain, (entry.id, solution.id)
            proven = [x.name for x in entry.examples if x.fix == solution.id]
            if proven:
                shown = plain[plain.index("proven on example"):].split("(", 1)[0]
                assert all(name in shown for name in proven), (entry.id, solution.id, proven)


def test_the_before_a_fix_page_states_roles_windows_and_preconditions(site, pack):
    text = html.unescape(site.file("guide/before-a-fix/").read_text(encoding="utf-8"))
    for role in pack.fixes.approvers:
        assert role in text
    for pre in pack.fixes.preconditions.values():
        assert pre.title in text
    assert sum(len(e.avoid) for e in pack.entries) > 0 and "What not to do" in text


def test_every_page_shows_its_broken_examples_real_report(site, pack):
    for entry in pack.entries:
        page = site.page(f"faq/{entry.id}/")
        example = broken_example(entry)
        section = page.section_text("example-report")
        assert f"in the {example.name} example world" in section, entry.id
        assert "could not be produced" not in section, f"{entry.id}: {section[:300]}"
        report = json.loads(site.file(f"faq/{entry.id}/report.json").read_text(encoding="utf-8"))
        assert report["symptom"]["id"] == entry.id
        assert report["verdict"] == example.verdict
        assert report["host"] == "example-host"
        if example.verdict == "problem":
            assert "Problem found" in page.text, f"{entry.id}: the report is not rendered on the page"
        assert site.file(f"faq/{entry.id}/report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_internal_links_and_anchors_resolve(site):
    broken = []
    for page in site.pages():
        for href in page.links:
            target = site.local_target(page.path, href)
            if target is None:
                continue
            path, fragment = target
            if not path.is_file():
                broken.append(f"{page.path.relative_to(site.root)}: {href} (no {path.relative_to(site.root)})")
            elif fragment and path.suffix == ".html" and path.name != "report.html" \
                    and fragment not in site._parse(path).ids:
                broken.append(f"{page.path.relative_to(site.root)}: {href} (no #{fragment})")
    assert not broken, "\n".join(broken[:30])


def test_no_request_to_another_host(site):
    """Fonts off, no CDN scripts or styles: the site works offline."""
    fetched_elsewhere = []
    for page in [*site.pages(), *(site._parse(p) for p in site.html_files if p.name == "report.html")]:
        for tag, url in page.resources:
            parts = urlsplit(url)
            if (parts.scheme in ("http", "https") or url.startswith("//")) and not url.startswith(site.site_url):
                fetched_elsewhere.append(f"{page.path.relative_to(site.root)}: <{tag}> {url}")
    assert not fetched_elsewhere, "\n".join(fetched_elsewhere[:20])
    for path in [*site.html_files, *site.root.rglob("*.css")]:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, path


def test_reports_link_to_the_page_of_their_symptom(site, pack):
    pack_url = pack.site_url.rstrip("/") + "/"
    assert pack_url == site.site_url.rstrip("/") + "/", "checks/pack.yaml and mkdocs.yml disagree on site_url"
    for entry in pack.entries:
        target = site.local_target(site.root / "index.html", pack.page_url(entry.id))
        assert target is not None and target[0].is_file(), f"{pack.page_url(entry.id)} is not on the site"
        assert site._parse(target[0]).h1.strip() == entry.title
        report = json.loads(site.file(f"faq/{entry.id}/report.json").read_text(encoding="utf-8"))
        for url in [report["symptom"]["page_url"], *(r["page_url"] for r in report["related"])]:
            target = site.local_target(site.root / "index.html", url)
            assert target is not None and target[0].is_file(), f"{entry.id}: report links to {url}, not on the site"
        assert report["symptom"]["page_url"] in site.page(f"faq/{entry.id}/").links


def test_pasted_error_messages_are_indexed_on_their_page(site, pack):
    index = json.loads((site.root / "search" / "search_index.json").read_text(encoding="utf-8"))
    by_page: dict[str, str] = {}
    for doc in index["docs"]:
        page = doc["location"].split("#")[0]
        # the zero-width spaces are where the search put word breaks into Chinese (jieba): not in the text
        text = (doc["text"] + " " + doc["title"]).replace("\u200b", "")
        by_page[page] = by_page.get(page, "") + " " + " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())
    errors_page = by_page["guide/errors/"]
    for entry in pack.entries:
        text = by_page[f"faq/{entry.id}/"]
        messages = [m for m in (sample(p) for p in entry.error_patterns) if m] + list(entry.seen)
        assert messages, f"{entry.id} has no message to search for"
        for message in messages:
            flat = " ".join(message.split())
            assert flat in text, f"{entry.id}: search cannot find {message!r} on its page"
            assert flat in errors_page, f"error index lacks {message!r}"


def test_navigation_tabs_tags_and_dark_mode(site, pack):
    home = site.page("index.html")
    text = home.path.read_text(encoding="utf-8")
    assert 'class="md-tabs"' in text
    config = json.loads(re.search(r'id="__config" type="application/json">(.*?)</script>', text).group(1))
    assert {"navigation.tabs", "content.code.copy", "search.suggest"} <= set(config["features"])
    assert 'data-md-color-scheme="slate"' in text, "no dark palette"
    for category, entries in pack.by_category().items():
        page = site.page(f"categories/{category}/")
        for entry in entries:
            assert f"../../faq/{entry.id}/" in page.links, f"{entry.id} missing from the {category} page"
        assert any(f"faq/{entries[0].id}/" in link for link in home.links), f"{category} entries not in the nav"
    tags = site.page("tags/")
    for entry in pack.entries:
        assert any(link.endswith(f"faq/{entry.id}/") for link in tags.links), f"{entry.id} has no tag"


def test_mkdocs_yml_site_url_matches_the_pack(pack):
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["site_url"].rstrip("/") == pack.site_url.rstrip("/")
    assert "dev/" in config["exclude_docs"]
    assert config["theme"]["font"] is False


def test_internal_briefs_are_not_published(site):
    assert not (site.root / "dev").exists()


# --- the Chinese site -------------------------------------------------------------------------------------


def test_every_entry_has_its_chinese_page_at_zh_faq_id(site):
    from diagnose.kb.words import cjk

    zh = load_pack(lang="zh")
    for entry in zh.entries:
        page = site.page(f"zh/faq/{entry.id}/")
        assert page.h1.startswith(entry.title.split("（")[0][:12]), (entry.id, page.h1)
        assert cjk(page.h1)
    assert '<html lang="zh"' in site.file("zh/index.html").read_text(encoding="utf-8")
    assert '<html lang="en"' in site.file("index.html").read_text(encoding="utf-8")


def test_the_language_switcher_leads_to_the_same_page(site, pack):
    """Each page's switcher links to itself and to the same page in the other language, relative to the page
    (so it works wherever the site is served, and from disk); the page head names both by absolute path."""
    root = urlsplit(site.site_url).path.rstrip("/")
    for entry in pack.entries:
        for rel in (f"faq/{entry.id}/", f"zh/faq/{entry.id}/"):
            page = site.file(rel)
            text = page.read_text(encoding="utf-8")
            links = dict((m.group(2), m.group(1)) for m in
                         re.finditer(r'<a href="([^"]+)" hreflang="(\w+)" class="md-select__link">', text))
            assert set(links) == {"en", "zh"}, (rel, links)
            assert site.local_target(page, links["en"])[0] == site.file(f"faq/{entry.id}/"), (rel, links)
            assert site.local_target(page, links["zh"])[0] == site.file(f"zh/faq/{entry.id}/"), (rel, links)
            heads = set(re.findall(r'<link rel="alternate" href="([^"]+)" hreflang="\w+">', text))
            assert heads == {f"{root}/faq/{entry.id}/", f"{root}/zh/faq/{entry.id}/"}, (rel, heads)


def test_hand_written_pages_have_their_chinese_and_no_page_is_built_twice(site):
    assert not list(site.root.rglob("index.zh/")) and not (site.root / "using.zh").exists()
    english, chinese = site.page("index.html"), site.page("zh/index.html")
    assert "--lang" in english.text and "--lang" in chinese.text
    assert "语言" in chinese.text


def test_chinese_paragraphs_have_no_line_break_spaces_and_chinese_fonts_come_first(site):
    page = site.file("zh/faq/polar-push-failed/").read_text(encoding="utf-8")
    body = re.sub(r"<(pre|code)[^>]*>.*?</\1>", "", page, flags=re.S)
    assert not re.search(r"[\u4e00-\u9fff]\n[\u4e00-\u9fff]", body)
    css = (site.root / "zh" / "assets" / "diagnose-cjk.css").read_text(encoding="utf-8")
    assert "Noto Sans CJK SC" in css and "diagnose-cjk.css" in site.file("zh/index.html").read_text(encoding="utf-8")


def test_the_chinese_search_index_is_cut_into_words(site):
    index = json.loads((site.root / "zh" / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert "\\u200b" in index["config"]["separator"] or "\u200b" in index["config"]["separator"]
    titles = {doc["location"]: doc["title"] for doc in index["docs"]}
    assert "\u200b通知\u200b" in titles["faq/notification-failed/"]


def test_a_sites_own_language_switcher_is_left_as_written(tmp_path, monkeypatch):
    """A mkdocs.yml with its own ``extra.alternate`` keeps its links on every page (the plugin points only
    the switcher it made itself)."""
    import types

    from mkdocs.config import load_config

    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(ROOT)
    own = [{"name": "English", "link": "https://docs.example.com/", "lang": "en"},
           {"name": "中文", "link": "https://docs.example.cn/", "lang": "zh"}]
    config = load_config(config_file=str(ROOT / "mkdocs.yml"), extra={"alternate": [dict(x) for x in own]})
    plugin = config.plugins["diagnose"]
    plugin.on_startup(command="build", dirty=False)
    plugin.on_config(config)
    plugin.on_page_context({}, page=types.SimpleNamespace(url="faq/ws-disconnect/"), config=config, nav=None)
    assert config.extra["alternate"] == own
    plugin.on_build_error(error=RuntimeError("test over"))
