"""``diagnose init`` and ``diagnose new``, through the command line as an author uses them: a fresh pack
passes lint and its self-test unedited, nothing is ever written over a file, and a new entry's
skeleton is listed by lint as unfinished, line by line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(tmp_path):
    """``run(*args, cwd=...)``: the real CLI in a subprocess, from ``cwd`` (default: tmp_path)."""
    base = {k: v for k, v in os.environ.items() if k not in ("DIAGNOSE_PROFILE", "DIAGNOSE_CHECKS",
                                                             "DIAGNOSE_NO_BUILTIN")}

    def call(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "diagnose", *args], capture_output=True, text=True,
                              cwd=cwd or tmp_path, timeout=timeout, stdin=subprocess.DEVNULL,
                              env={**base, "DIAGNOSE_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)})
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc
    return call


@pytest.fixture
def project(run, tmp_path) -> Path:
    proc = run("init", "acme-ops")
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "acme-ops"


def test_init_writes_a_pack_a_profile_and_a_site_config(project, run):
    files = sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file())
    assert files == ["checks/general/acme-ops-example.yaml", "checks/pack.yaml", "diagnose.yaml", "docs/.gitkeep",
                     "mkdocs.yml"]
    manifest = yaml.safe_load((project / "checks" / "pack.yaml").read_text())
    assert manifest["name"] == "acme-ops" and manifest["categories"] == {"general": "General"}
    site = yaml.safe_load((project / "mkdocs.yml").read_text())
    assert {"diagnose": {"checks": ["checks"], "builtin": False}} in site["plugins"]


def test_a_fresh_pack_lints_clean_on_its_own_and_beside_the_builtin_one(project, run):
    for args in (["lint", "checks"], ["lint", "--no-builtin", "checks"]):
        proc = run(*args, cwd=project)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "1 entries, 1 checks, 3 examples: no problems" in proc.stdout
        assert "warning" not in proc.stdout


def test_a_fresh_pack_passes_its_selftest(project, run):
    proc = run("selftest", "--checks", "checks", cwd=project, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("broken", "healthy", "untimed-log"):
        assert f"ok   acme-ops-example/{name} " in proc.stdout
    assert "all 3 example(s) hold" in proc.stdout


def test_the_profile_uses_the_pack_and_comments_every_source_type(project, run):
    from diagnose.scaffold import profile_fields
    from diagnose.profile import load_profile

    text = (project / "diagnose.yaml").read_text()
    profile = load_profile(project / "diagnose.yaml")
    assert [p.resolve() for p in profile.packs] == [(project / "checks").resolve()]
    assert {"databases", "logs", "env", "endpoints"} <= set(profile_fields())
    for key in profile_fields():
        if key != "packs":
            assert f"# {key}:" in text, f"the profile template does not show `{key}`"
    for form in ("{command:", "{process: true}", "postgresql://", "http://"):
        assert form in text
    # `diagnose SYMPTOM` in the project finds the entry through the profile; its log is not configured yet
    proc = run("acme-ops-example", "-q", cwd=project)
    assert proc.returncode == 3, proc.stdout + proc.stderr


def test_init_refuses_to_write_over_any_file(run, tmp_path):
    target = tmp_path / "mine"
    (target / "checks").mkdir(parents=True)
    (target / "mkdocs.yml").write_text("site_name: mine\n")
    proc = run("init", "mine")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"diagnose: {Path('mine') / 'mkdocs.yml'} already exists: init writes no file over another "
        "(choose a new folder)"]
    assert (target / "mkdocs.yml").read_text() == "site_name: mine\n"
    assert not (target / "checks" / "pack.yaml").exists()   # nothing written at all
    assert run("init", "fresh").returncode == 0
    assert run("init", "fresh").returncode == 2


def test_new_writes_a_skeleton_that_lint_lists_as_unfinished(project, run):
    proc = run("new", "disk-full", cwd=project)
    assert proc.returncode == 0, proc.stderr
    skeleton = project / "checks" / "general" / "disk-full.yaml"
    data = yaml.safe_load(skeleton.read_text())
    assert data["id"] == "disk-full" and data["category"] == "general"
    lint = run("lint", "checks", cwd=project)
    assert lint.returncode == 2
    lines = [line for line in lint.stdout.splitlines() if line.strip()]
    unfinished = [line for line in lines if "disk-full.yaml" in line]
    for field in ("causes", "checks", "solutions", "examples"):
        assert any(f": {field}: needs at least 1 item(s)" in line for line in unfinished), (field, lines)
    assert all(line.startswith("checks/general/disk-full.yaml:") for line in unfinished), unfinished
    # from inside the pack folder too, with a category of the pack
    inside = run("new", "queue-stuck", "--category", "general", cwd=project / "checks")
    assert inside.returncode == 0, inside.stderr
    assert (project / "checks" / "general" / "queue-stuck.yaml").is_file()


@pytest.mark.parametrize("entry_id, says", [
    ("Disk_Full", "is not a kebab-case id"),
    ("lint", "is a subcommand name"),
    ("init", "is a subcommand name"),
    ("index", "is reserved"),
    ("stale-positions", "is already used by"),        # an id of the built-in pack
    ("ghost-positions", "is already used by"),        # an alias of the built-in pack
    ("acme-ops-example", "is already used by"),       # the pack's own entry
])
def test_new_refuses_an_id_that_could_not_be_used(project, run, entry_id, says):
    proc = run("new", entry_id, cwd=project)
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in (project / "checks" / "general").iterdir()) == ["acme-ops-example.yaml"]


def test_new_needs_a_pack_and_a_declared_category(project, run, tmp_path):
    proc = run("new", "disk-full", cwd=tmp_path)
    assert proc.returncode == 2 and "--checks PATH" in proc.stderr and "diagnose init" in proc.stderr
    proc = run("new", "disk-full", "--category", "storage", cwd=project)
    assert proc.returncode == 2 and "category 'storage' is not declared" in proc.stderr
    proc = run("new", "disk-full", "--checks", str(project / "checks"), "--no-builtin", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (project / "checks" / "general" / "disk-full.yaml").is_file()
