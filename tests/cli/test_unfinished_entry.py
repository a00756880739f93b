"""An entry written in a hurry (checks, nothing else yet) runs ad hoc with a warning; lint and the
self-test say what it lacks."""

import os
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

ENTRY = textwrap.dedent("""\
    id: disk-errors
    title: The disk reports errors
    category: storage
    severity: high
    summary: The kernel logs I/O errors.
    causes: []
    checks:
      - id: io-errors
        kind: log
        title: I/O errors in the last hour
        expects: none
        log: kernel
        pattern: 'I/O error'
        since: 1h
        symptom: true
    solutions: []
    examples: []
    """)


@pytest.fixture
def setup(tmp_path):
    pack = tmp_path / "pack"
    (pack / "storage").mkdir(parents=True)
    (pack / "pack.yaml").write_text(yaml.safe_dump({"name": "ops", "version": "1",
                                                    "sources": {"logs": {"kernel": {"description": "dmesg"}}}}))
    (pack / "storage" / "disk-errors.yaml").write_text(ENTRY)
    log = tmp_path / "kern.log"
    log.write_text(f"{datetime.now().astimezone():%Y-%m-%dT%H:%M:%S%z} sda: I/O error, dev sda, sector 42\n")

    def run(*args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIAGNOSE_")}
        env.update(PYTHONPATH=str(ROOT), DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"))
        proc = subprocess.run([sys.executable, "-m", "diagnose", *args], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=120, stdin=subprocess.DEVNULL)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc
    return pack, log, run


def test_an_unfinished_entry_runs_with_a_warning(setup, tmp_path):
    pack, log, run = setup
    proc = run("disk-errors", "--checks", str(pack), "--log", f"kernel={log}", "-o", str(tmp_path / "r.md"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    warning = [line for line in proc.stderr.splitlines() if "warning: disk-errors is unfinished" in line]
    assert len(warning) == 1 and "solutions" in warning[0] and "examples" in warning[0]
    assert "I/O error" in (tmp_path / "r.md").read_text()
    # the commands that read it keep it too
    assert "disk-errors" in run("list", "--checks", str(pack)).stdout


def test_lint_and_selftest_say_what_it_lacks(setup):
    pack, _, run = setup
    proc = run("lint", "--no-builtin", str(pack))
    assert proc.returncode == 2
    lines = [line for line in proc.stdout.splitlines() if "(unfinished)" in line]
    assert {line.split(": ")[1] for line in lines} >= {"causes", "solutions", "examples"}
    assert all(line.startswith("pack/storage/disk-errors.yaml:") for line in lines), lines
    proc = run("selftest", "--no-builtin", "--checks", str(pack))
    assert proc.returncode == 2 and "disk-errors.yaml" in proc.stderr and "needs at least 1 item" in proc.stderr


def test_a_skeleton_without_checks_stops_only_itself(setup, tmp_path):
    """What `diagnose new` writes (no checks yet, some lists left out) does not stop the pack's other entries."""
    pack, log, run = setup
    (pack / "storage" / "disk-full.yaml").write_text(
        "id: disk-full\ntitle: The disk is full\ncategory: storage\nseverity: high\nsummary: No space left.\n"
        "checks: []\n")
    proc = run("disk-full", "--checks", str(pack))
    assert proc.returncode == 2 and "disk-full has no checks yet" in proc.stderr
    proc = run("disk-errors", "--checks", str(pack), "--log", f"kernel={log}", "-o", str(tmp_path / "r.md"))
    assert proc.returncode == 1, proc.stderr
    lint = run("lint", "--no-builtin", str(pack))
    assert lint.returncode == 2
    lacking = {line.split(": ")[1] for line in lint.stdout.splitlines()
               if line.startswith("pack/storage/disk-full.yaml:") and "(unfinished)" in line}
    assert lacking >= {"checks", "(top level)"}, lint.stdout
    for field in ("causes", "solutions", "examples"):    # every field it leaves out, one line each
        assert f"disk-full.yaml:1: (top level): missing required field '{field}' (unfinished)" in lint.stdout
