"""A served site's rebuild (``diagnose docs serve`` after an edit) is the site a fresh build makes.

A rebuild reuses what did not change: each page's search entries (:mod:`diagnose.site.search_memo`, also
across builds through the cache folder), each page's conversion and the compiled templates
(:mod:`diagnose.site.render_memo`, in the serving process only), the validation of unchanged entries, and the
PostgreSQL server of the example reports. Here a project made by ``diagnose init`` is built as ``serve``
builds it, edited, rebuilt, and compared file by file with a build of the edited project that reuses
nothing but the example reports (which hold run times, so they are taken from the same cache).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from diagnose.kb import lint
from diagnose.pg.server import TempPostgres
from diagnose.site import examples, render_memo

ROOT = Path(__file__).resolve().parents[2]
ENTRY = "acme-ops-example"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("DIAGNOSE_PROFILE", "DIAGNOSE_CHECKS", "DIAGNOSE_NO_BUILTIN"):
        monkeypatch.delenv(name, raising=False)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "diagnose", "init", "acme-ops"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    yield tmp_path / "acme-ops"
    render_memo.uninstall()
    examples.keep_server(False)
    lint.remember(False)


def served_build(project: Path, site_dir: Path, *, memos: bool = True) -> object:
    """One build as ``mkdocs serve`` makes it (``command="serve"``); ``memos=False``: reusing nothing."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(config_file=str(project / "mkdocs.yml"), site_dir=str(site_dir))
    if not memos:
        render_memo.uninstall()
    config.plugins.on_startup(command="serve", dirty=False)
    if not memos:
        render_memo.uninstall()
        examples.keep_server(False)
        lint.remember(False)
    try:
        build(config, serve_url="http://127.0.0.1:8000/")
    finally:
        config.plugins.on_shutdown()
    return config.plugins["diagnose"]


def tree(site: Path) -> dict[str, object]:
    """Every file of a built site: bytes, or what a search index and the gzipped sitemap say."""
    out: dict[str, object] = {}
    for path in sorted(site.rglob("*")):
        if not path.is_file():
            continue
        rel = str(path.relative_to(site))
        if rel.endswith("search_index.json"):
            out[rel] = json.loads(path.read_text(encoding="utf-8"))
        elif rel.endswith(".gz"):
            out[rel] = gzip.decompress(path.read_bytes())
        else:
            out[rel] = path.read_bytes()
    return out


def test_a_served_rebuild_is_the_fresh_build_of_the_edited_site(project, tmp_path, monkeypatch):
    starts: list[int] = []
    real_start = TempPostgres.start
    monkeypatch.setattr(TempPostgres, "start", lambda self: starts.append(1) or real_start(self))
    served = tmp_path / "served"
    assert served_build(project, served).rendered[0] == 0     # the first build converts every page
    started_first = len(starts)

    entry = project / "checks" / "general" / f"{ENTRY}.yaml"
    text = entry.read_text(encoding="utf-8")
    assert "title: Background jobs fail" in text
    entry.write_text(text.replace("title: Background jobs fail", "title: Background jobs fail at night", 1),
                     encoding="utf-8")
    plugin = served_build(project, served)
    kept, converted = plugin.rendered
    assert kept > 0 and converted > 0, (kept, converted)          # the edited pages only were converted
    assert 0 < plugin.search_memo.read < len(plugin.search_memo.used)   # ... and read for the search index
    assert len(starts) == started_first, "the rebuild started PostgreSQL again for the edited entry's example"

    fresh = tmp_path / "fresh"
    assert served_build(project, fresh, memos=False).rendered == (0, 0)   # converted by mkdocs itself
    got, expected = tree(served), tree(fresh)
    assert sorted(got) == sorted(expected)
    differ = [rel for rel in got if got[rel] != expected[rel]]
    assert differ == [], differ
    page = (served / "faq" / ENTRY / "index.html").read_text(encoding="utf-8")
    assert "Background jobs fail at night" in page


def test_the_search_memo_carries_over_to_the_next_process(project, tmp_path):
    """``diagnose docs build`` twice: the second reads no page again and writes the same index."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    runs = [subprocess.run([sys.executable, "-m", "diagnose", "docs", "build", "-o", str(tmp_path / "out")],
                           cwd=project, env=env, capture_output=True, text=True, timeout=300) for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[-1].stderr
    said = [line for line in runs[1].stderr.splitlines() if "search index:" in line]
    assert said and " 0 of " not in said[0], runs[1].stderr
    first, second = said[0].split("search index: ", 1)[1].split(" of ")[:2]
    assert first == second.split()[0], said[0]      # every page unchanged
