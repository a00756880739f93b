"""A FAQ site of any pack, as a team builds one after ``pip install 'diagnose[docs]'``: from the
configuration ``diagnose init`` writes, from no configuration at all, and from a minimal
``mkdocs.yml`` of their own with ``plugins: [diagnose]``. Every build is the real one, strict."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from diagnose.site import REFERENCE_PAGES
from tests.site.conftest import Site

ROOT = Path(__file__).resolve().parents[2]
ENTRY = "acme-ops-example"


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DIAGNOSE_PROFILE", "DIAGNOSE_CHECKS",
                                                             "DIAGNOSE_NO_BUILTIN")}
    return {**base, "DIAGNOSE_CACHE_DIR": str(tmp_path_factory.mktemp("cache")), "PYTHONPATH": str(ROOT),
            "NO_MKDOCS_2_WARNING": "1"}


def run(env: dict, *args: str, cwd: Path, extra: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", *args], cwd=cwd, env={**env, **(extra or {})}, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture(scope="module")
def project(env, tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("projects")
    proc = run(env, "diagnose", "init", "acme-ops", cwd=where)
    assert proc.returncode == 0, proc.stderr
    return where / "acme-ops"


@pytest.fixture(scope="module")
def site(env, project) -> Site:
    """``diagnose docs build --strict -o out`` in the project ``diagnose init`` wrote, unedited."""
    proc = run(env, "diagnose", "docs", "build", "--strict", "-o", "out", cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Site(project / "out", "http://127.0.0.1:8000/")


def title_of(project: Path) -> str:
    return yaml.safe_load((project / "checks" / "pack.yaml").read_text())["title"]


def page_paths(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("index.html")}


def test_the_home_page_is_the_pack_s_title_and_description(site):
    home = site.page("index.html")
    title = title_of(site.root.parent)
    assert home.h1.strip() == title and title != "acme-ops"     # pack.yaml's title, not its name
    assert "Symptoms of acme-ops: how to diagnose them" in home.text
    assert f"faq/{ENTRY}/" in home.links and "reference/writing-an-entry/" in home.links


def test_every_page_of_the_pack_and_the_format_reference_is_built(site):
    expected = {f"faq/{ENTRY}/index.html", "categories/general/index.html", "guide/index.html",
                "guide/errors/index.html", "guide/before-a-fix/index.html", "guide/glossary/index.html",
                "tags/index.html", "index.html",
                *(f"{page.removesuffix('.md')}/index.html" for page in REFERENCE_PAGES)}
    assert page_paths(site.root) == expected
    entry = site.page(f"faq/{ENTRY}/")
    assert entry.h1.strip() == "Background jobs fail"
    assert "Problem found" in entry.text, entry.section_text("example-report")[:300]   # its real example report
    writing = site.page("reference/writing-an-entry/")
    assert "diagnose selftest" in writing.text
    # the navigation lists the symptom under its category, and the reference
    assert f"../faq/{ENTRY}/" in site.page("guide/").links and "../reference/faults/" in site.page("guide/").links


def test_the_cli_page_shows_placeholders_as_written(site):
    text = site.page("reference/cli/").text
    assert "./diagnose-reports/<symptom>-<UTC time>.<format>" in text
    assert "./diagnose-reports/-." not in text


def test_internal_links_resolve(site):
    broken = []
    for page in site.pages():
        for href in page.links:
            target = site.local_target(page.path, href)
            if target is not None and not target[0].is_file():
                broken.append(f"{page.path.relative_to(site.root)}: {href}")
    assert not broken, broken[:20]


def test_without_a_mkdocs_yml_a_configuration_is_generated(env, project, site, tmp_path):
    proc = run(env, "diagnose", "docs", "build", "--strict", "--no-builtin", "--checks", str(project / "checks"),
               "-o", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    generated = Site(tmp_path / "out", "http://127.0.0.1:8000/")
    assert page_paths(generated.root) == page_paths(site.root)
    assert generated.page("index.html").h1.strip() == title_of(project)
    assert not list(tmp_path.glob("mkdocs.yml")) and not (project / "checks" / "docs").exists()


def test_a_pack_s_own_docs_folder_holds_its_hand_written_pages(env, project, tmp_path):
    pack = tmp_path / "pack"
    run(env, "diagnose", "init", "own", cwd=tmp_path)
    (tmp_path / "own" / "checks").rename(pack)
    (pack / "docs").mkdir()
    (pack / "docs" / "index.md").write_text("# Our own home\n\nSee the [runbook](runbook.md).\n")
    (pack / "docs" / "runbook.md").write_text("# Runbook\n\nCall the on-call engineer.\n")
    proc = run(env, "diagnose", "docs", "build", "--strict", "--no-builtin", "--checks", str(pack), "-d", "out",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = Site(tmp_path / "out", "http://127.0.0.1:8000/")
    assert built.page("index.html").h1.strip() == "Our own home"
    assert "runbook/" in built.page("index.html").links and built.file("runbook/").is_file()


def test_a_minimal_mkdocs_yml_of_ones_own_with_the_plugin_builds_strict(env, project, tmp_path):
    """Plain mkdocs, the default theme, and nothing but ``plugins: [diagnose]``: the packs come from the
    environment, the Markdown extensions and the navigation from the plugin."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "runbook.md").write_text("# Runbook\n\nCall the on-call engineer.\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: Team FAQ\nplugins: [diagnose]\n")
    proc = run(env, "mkdocs", "build", "--strict", "-d", str(tmp_path / "out"), cwd=tmp_path,
               extra={"DIAGNOSE_CHECKS": str(project / "checks"), "DIAGNOSE_NO_BUILTIN": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = Site(tmp_path / "out", "http://127.0.0.1:8000/")
    assert built.file(f"faq/{ENTRY}/").is_file() and built.file("reference/entry-format/").is_file()
    assert built.page("index.html").h1.strip() == title_of(project)
    assert "runbook/" in built.page("index.html").links


def test_a_broken_pack_is_exit_2_naming_the_file(env, project, tmp_path):
    broken = tmp_path / "broken"
    run(env, "diagnose", "init", "broken", cwd=tmp_path)
    entry = broken / "checks" / "general" / "broken-example.yaml"
    entry.write_text(entry.read_text().replace("severity: medium", "severity: dire"))
    for args, cwd in ((["-o", "out"], broken),
                      (["--no-builtin", "--checks", str(broken / "checks"), "-o", "out"], tmp_path)):
        proc = run(env, "diagnose", "docs", "build", "--strict", *args, cwd=cwd)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "checks/general/broken-example.yaml:8: severity: unknown value 'dire'" in proc.stderr
        assert not (cwd / "out" / "index.html").exists()
