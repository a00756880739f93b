"""Example reports: cached per entry, and a site that builds without any PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from diagnose.kb.loader import builtin_root, load_pack

from diagnose.site import examples
from diagnose.site.examples import ExampleReport, example_reports
from diagnose.site.pages import example_section

ROOT = Path(__file__).resolve().parents[2]
WRITING_PAGE = ROOT / "docs" / "reference" / "writing-an-entry.md"


def the_pages_entry() -> tuple[str, str]:
    """``(file name, YAML)`` of the entry "Writing a new entry" walks through."""
    match = re.search(r'^```yaml title="checks/(\w+/[\w-]+\.yaml)"\n(.*?)^```$',
                      WRITING_PAGE.read_text(encoding="utf-8"), re.M | re.S)
    assert match, "the page has no ```yaml title=\"checks/<category>/<id>.yaml\" block"
    return match.group(1), match.group(2)


def test_a_second_build_takes_the_reports_from_the_cache(site, pack, site_cache, tmp_path, monkeypatch):
    """The session build filled the cache; with no PostgreSQL at all, the reports still come back."""
    no_postgres = tmp_path / "no-postgres"
    no_postgres.mkdir()
    monkeypatch.setenv("DIAGNOSE_PG_BIN", str(no_postgres))
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(site_cache))
    assert list(site_cache.glob("site-example-*.json")), "the build wrote no cache file"
    reports = example_reports(pack)
    assert set(reports) == {e.id for e in pack.entries}
    assert all(r.ok for r in reports.values()), [r.problem for r in reports.values() if not r.ok]
    assert reports["stale-positions"].markdown.startswith("# diagnose report:")


def test_an_entrys_report_is_keyed_by_its_own_inputs_not_the_other_entries(tmp_path, monkeypatch):
    """Editing one entry (``docs serve``) rebuilds its report alone; pack.yaml, its translation and the
    language change every key."""
    from diagnose import i18n

    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "checks"
    shutil.copytree(builtin_root(), root)

    def keys() -> dict[str, str]:
        pack = load_pack(root, use_cache=False)
        return {e.id: examples.cache_key(pack, e, "code") for e in pack.entries}

    before = keys()
    entry = root / "data" / "stale-positions.yaml"
    entry.write_text(entry.read_text(encoding="utf-8").replace("title: Orders blocked", "title: Orders held", 1),
                     encoding="utf-8")
    after = keys()
    assert [k for k in before if before[k] != after[k]] == ["stale-positions"]
    overlay = root / "connection" / "ws-disconnect.zh.yaml"
    overlay.write_text(overlay.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert [k for k, v in keys().items() if after[k] != v] == ["ws-disconnect"]
    (root / "pack.yaml").write_text((root / "pack.yaml").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    changed = keys()
    assert all(changed[k] != after[k] for k in changed)
    i18n.set_language("zh")
    assert all(v != changed[k] for k, v in keys().items())


def test_docs_build_without_postgresql_still_succeeds(tmp_path):
    """DIAGNOSE_PG_BIN at an empty folder: no server can start, every page says so, --strict passes.

    The site is built from another knowledge base (``--checks``): the built-in pack plus the
    entry of "Writing a new entry", which must get its page and its place in the navigation.
    """
    root = tmp_path / "checks"
    shutil.copytree(builtin_root(), root)
    name, text = the_pages_entry()
    (root / name).write_text(text, encoding="utf-8")
    no_postgres = tmp_path / "no-postgres"
    no_postgres.mkdir()
    out = tmp_path / "site"
    env = dict(os.environ, DIAGNOSE_PG_BIN=str(no_postgres), DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("DIAGNOSE_CHECKS", None)
    proc = subprocess.run([sys.executable, "-m", "diagnose", "docs", "build", "-d", str(out), "--strict",
                           "--no-builtin", "--checks", str(root)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "no example reports" in proc.stderr
    pack = load_pack(root, use_cache=False)
    for entry in pack.entries:
        page = (out / "faq" / entry.id / "index.html").read_text(encoding="utf-8")
        assert "The example report could not be produced" in page, entry.id
        assert "no PostgreSQL could start" in page
        assert not (out / "faq" / entry.id / "report.html").exists()
    assert not list((tmp_path / "cache").glob("site-example-*.json")), "a failed build must not be cached"
    new_id = yaml.safe_load(text)["id"]
    assert f'href="../../faq/{new_id}/"' in (out / "categories" / "data" / "index.html").read_text(encoding="utf-8")


def test_a_broken_example_is_shown_as_such(pack):
    entry = pack.get("ws-disconnect")
    broken = ExampleReport(entry.id, "backend-down", problem="the example world could not be built: ValueError: x")
    section = example_section(entry, broken)
    assert '!!! warning "The example report could not be produced"' in section
    assert "ValueError: x" in section and f"diagnose demo --example {entry.id}" in section
    good = ExampleReport(entry.id, "backend-down", "desc", "problem", markdown="# diagnose report: t\n\n## Checks\n",
                         html="<!DOCTYPE html>", json="{}")
    shown = example_section(entry, good)
    assert "#### diagnose report: t" in shown and "##### Checks" in shown, "report headings must sit below the page's"
    assert f"[HTML]({entry.id}/report.html)" in shown
