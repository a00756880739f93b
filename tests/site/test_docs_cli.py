"""``diagnose docs build``: one clear line, never a traceback, when the site cannot be built."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from diagnose.kb.loader import builtin_root

ROOT = Path(__file__).resolve().parents[2]


def docs_build(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    env.pop("DIAGNOSE_CHECKS", None)
    proc = subprocess.run([sys.executable, "-m", "diagnose", "docs", "build", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_outside_the_repository_it_says_where_to_run(tmp_path):
    proc = docs_build(cwd=tmp_path)
    assert proc.returncode == 1
    assert "no mkdocs.yml" in proc.stderr and "repository root" in proc.stderr


def test_a_broken_knowledge_base_stops_the_build_with_file_and_line(tmp_path):
    root = tmp_path / "checks"
    shutil.copytree(builtin_root(), root)
    entry = root / "data" / "stale-positions.yaml"
    entry.write_text(entry.read_text(encoding="utf-8").replace("severity: high", "severity: dire", 1), encoding="utf-8")
    proc = docs_build("-d", str(tmp_path / "site"), "--checks", str(root), cwd=ROOT,
                      env={"DIAGNOSE_CACHE_DIR": str(tmp_path / "cache")})
    assert proc.returncode == 1
    assert "the knowledge base has 1 problem(s)" in proc.stderr
    assert "data/stale-positions.yaml:" in proc.stderr and "severity" in proc.stderr
    assert not (tmp_path / "site" / "index.html").exists()
