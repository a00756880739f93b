"""``diagnose docs build`` and ``show``: one clear line, never a traceback, when the site cannot be built
(exit 2 for a usage, configuration or knowledge-base error); the reference pages in the terminal."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from diagnose.kb.loader import builtin_root
from diagnose.site.clidoc import cli_page, prose
from diagnose.site.reference_text import PAGES
from diagnose.site import REFERENCE_PAGES

ROOT = Path(__file__).resolve().parents[2]


def diagnose(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    env.pop("DIAGNOSE_CHECKS", None)
    env.pop("DIAGNOSE_NO_BUILTIN", None)
    proc = subprocess.run([sys.executable, "-m", "diagnose", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def docs_build(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return diagnose("docs", "build", *args, cwd=cwd, env=env)


def test_a_missing_config_file_is_a_usage_error(tmp_path):
    proc = docs_build("--config-file", "nope.yml", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "diagnose: --config-file nope.yml: no such file"


def test_a_config_mkdocs_cannot_read_is_a_usage_error(tmp_path):
    (tmp_path / "mkdocs.yml").write_text("site_name: x\ntheme: {name: no-such-theme}\n")
    proc = docs_build("-o", str(tmp_path / "site"), cwd=tmp_path)
    assert proc.returncode == 2 and "mkdocs.yml" in proc.stderr.splitlines()[-1]


def test_no_pack_left_is_a_knowledge_base_error(tmp_path):
    proc = docs_build("--no-builtin", cwd=tmp_path)
    assert proc.returncode == 2 and "--checks" in proc.stderr


def test_a_broken_knowledge_base_stops_the_build_with_file_and_line(tmp_path):
    root = tmp_path / "checks"
    shutil.copytree(builtin_root(), root)
    entry = root / "data" / "stale-positions.yaml"
    entry.write_text(entry.read_text(encoding="utf-8").replace("severity: high", "severity: dire", 1), encoding="utf-8")
    proc = docs_build("-o", str(tmp_path / "site"), "--checks", str(root), cwd=ROOT,
                      env={"DIAGNOSE_CACHE_DIR": str(tmp_path / "cache")})
    assert proc.returncode == 2
    assert "the knowledge base has 1 problem(s)" in proc.stderr
    assert "data/stale-positions.yaml:" in proc.stderr and "severity" in proc.stderr
    assert not (tmp_path / "site" / "index.html").exists()


def test_help_text_is_shown_literally_on_the_cli_page():
    assert prose("default: ./diagnose-reports/<symptom>-<UTC time>.<format>") == \
        "default: ./diagnose-reports/&lt;symptom&gt;-&lt;UTC time&gt;.&lt;format&gt;"
    assert prose("logs execution*.log and {name}, `a_b <c>`") == r"logs execution\*.log and \{name\}, `a_b <c>`"
    page = cli_page()
    assert "./diagnose-reports/&lt;symptom&gt;-&lt;UTC time&gt;.&lt;format&gt;" in page
    assert "./diagnose-reports/<symptom>" not in page


def test_docs_show_lists_and_prints_the_reference_pages(tmp_path):
    assert {f"reference/{name}.md" for name in PAGES} == set(REFERENCE_PAGES)
    listing = diagnose("docs", "show", cwd=tmp_path)
    assert listing.returncode == 0 and [line.split()[0] for line in listing.stdout.splitlines()] == list(PAGES)
    page = diagnose("docs", "show", "entry-format", cwd=tmp_path)
    assert page.returncode == 0 and page.stdout.startswith("# Entry format\n"), page.stdout[:200]
    assert "error_patterns" in page.stdout and "title: Entry format" not in page.stdout
    writing = diagnose("docs", "show", "reference/writing-an-entry.md", cwd=tmp_path)
    assert writing.returncode == 0 and "diagnose selftest" in writing.stdout
    kinds = diagnose("docs", "show", "check-kinds", cwd=tmp_path)
    assert kinds.returncode == 0 and "websocket" in kinds.stdout
    unknown = diagnose("docs", "show", "nope", cwd=tmp_path)
    assert unknown.returncode == 2 and "entry-format" in unknown.stderr
