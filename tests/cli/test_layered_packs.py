"""A team's own pack beside the built-in one, as an operator uses it: --checks (repeatable),
$DIAGNOSE_CHECKS (split on the OS path separator), the profile's packs:, --no-builtin; a clash stops
every command with exit 2 and both files named."""

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from tests.kb.test_layers import write_pack

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(tmp_path):
    def call(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        base = {k: v for k, v in os.environ.items() if k not in ("DIAGNOSE_PROFILE", "DIAGNOSE_CHECKS",
                                                                 "DIAGNOSE_NO_BUILTIN")}
        proc = subprocess.run([sys.executable, "-m", "diagnose", *args], capture_output=True, text=True, cwd=tmp_path,
                              env={**base, "DIAGNOSE_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT),
                                   **(env or {})}, timeout=timeout, stdin=subprocess.DEVNULL)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc
    return call


@pytest.fixture
def two_packs(tmp_path) -> tuple[Path, Path]:
    return (write_pack(tmp_path / "jobs-pack", {"failing-jobs": ("jobs", ["jobs-fail"])},
                       categories={"jobs": "Background jobs"}),
            write_pack(tmp_path / "disk-pack", {"disk-full": ("storage", [])}))


def listed(proc: subprocess.CompletedProcess) -> dict[str, list[str]]:
    assert proc.returncode == 0, proc.stderr
    return {category: [e["id"] for e in entries] for category, entries in json.loads(proc.stdout).items()}


def test_checks_repeated_adds_each_pack_to_the_builtin_one(run, two_packs):
    jobs, disk = two_packs
    groups = listed(run("list", "--json", "--checks", str(jobs), "--checks", str(disk)))
    assert groups["jobs"] == ["failing-jobs"] and groups["storage"] == ["disk-full"]
    assert "stale-positions" in groups["data"]
    assert list(groups)[:3] == ["connection", "service", "data"]


def test_diagnose_checks_is_split_on_the_path_separator(run, two_packs):
    groups = listed(run("list", "--json", env={"DIAGNOSE_CHECKS": os.pathsep.join(map(str, two_packs))}))
    assert groups["jobs"] == ["failing-jobs"] and groups["storage"] == ["disk-full"]


def test_no_builtin_leaves_the_reference_pack_out(run, two_packs):
    groups = listed(run("list", "--json", "--no-builtin", "--checks", str(two_packs[0])))
    assert groups == {"jobs": ["failing-jobs"]}
    assert listed(run("list", "--json", "--checks", str(two_packs[0]), env={"DIAGNOSE_NO_BUILTIN": "1"})) == groups
    proc = run("list", "--no-builtin")
    assert proc.returncode == 2 and "--checks" in proc.stderr


def test_the_profile_names_packs_relative_to_itself(run, two_packs, tmp_path):
    jobs, _ = two_packs
    log = tmp_path / "app.log"
    log.write_text(f"{datetime.now().astimezone():%Y-%m-%dT%H:%M:%S%z} ERROR app.worker: job failed: 42\n")
    profile = tmp_path / "conf" / "diagnose.yaml"
    profile.parent.mkdir()
    profile.write_text(yaml.safe_dump({"packs": ["../jobs-pack"], "logs": {"app": str(log)}}))
    proc = run("jobs-fail", "--profile", str(profile), "--format", "json", "-o", str(tmp_path / "r.json"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["verdict"] == "problem" and report["symptom"]["id"] == "failing-jobs"
    assert report["knowledge_base"]["name"] == "jobs-pack"
    assert [p["name"] for p in report["knowledge_base"]["packs"]] == ["reference-stack", "jobs-pack"]
    # the profile found as ./diagnose.yaml serves `list` too
    (tmp_path / "diagnose.yaml").write_text(yaml.safe_dump({"packs": [str(jobs)]}))
    assert "failing-jobs" in listed(run("list", "--json"))["jobs"]


def test_a_clash_is_exit_2_naming_both_files(run, tmp_path):
    clash = write_pack(tmp_path / "clash", {"db-pool-exhausted": ("connection", [])})
    for args in (["db-pool-exhausted"], ["list"], ["triage"], ["show", "db-pool-exhausted"]):
        proc = run(*args, "--checks", str(clash))
        assert proc.returncode == 2, (args, proc.stderr)
        assert str(clash / "connection" / "db-pool-exhausted.yaml") in proc.stderr
        assert "connection/db-pool-exhausted.yaml" in proc.stderr.split("also used by", 1)[1]
    assert run("list", "--no-builtin", "--checks", str(clash)).returncode == 0


def test_lint_checks_a_pack_against_the_builtin_one(run, tmp_path):
    clash = write_pack(tmp_path / "clash", {"failing-jobs": ("jobs", ["stale-positions"])})
    proc = run("lint", str(clash))
    assert proc.returncode == 2
    assert f"{clash / 'jobs' / 'failing-jobs.yaml'}:5: alias: 'stale-positions' is also used" in proc.stdout
    assert run("lint", "--no-builtin", str(clash)).returncode == 0
    two = write_pack(tmp_path / "two", {"failing-jobs": ("jobs", [])})
    proc = run("lint", "--no-builtin", str(clash), str(two))
    assert proc.returncode == 2 and str(two / "jobs" / "failing-jobs.yaml") in proc.stdout


def test_selftest_runs_the_examples_of_the_packs_given(run, two_packs):
    proc = run("selftest", "--checks", str(two_packs[0]), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 example(s) of 1 entry" in proc.stderr
    assert "failing-jobs/broken" in proc.stdout and "stale-positions" not in proc.stdout


def test_an_entry_links_to_the_site_of_its_own_pack(run, tmp_path):
    ours = write_pack(tmp_path / "ours", {"failing-jobs": ("jobs", [])}, site_url="https://ops.example.com/kb/")
    shown = run("show", "failing-jobs", "--checks", str(ours))
    assert "FAQ page: https://ops.example.com/kb/faq/failing-jobs/" in shown.stdout
    proc = run("failing-jobs", "--checks", str(ours), "--format", "json", "-o", str(tmp_path / "r.json"))
    assert json.loads((tmp_path / "r.json").read_text())["symptom"]["page_url"] == \
        "https://ops.example.com/kb/faq/failing-jobs/", proc.stderr
    builtin = run("show", "stale-positions", "--checks", str(ours)).stdout
    assert "FAQ page: http://127.0.0.1:8000/faq/stale-positions/" in builtin


def test_empty_parts_of_diagnose_checks_name_no_folder(run, two_packs):
    jobs, _ = two_packs
    for value in (f":{jobs}", f"{jobs}::", os.pathsep * 2 + str(jobs)):
        groups = listed(run("list", "--json", env={"DIAGNOSE_CHECKS": value}))
        assert groups["jobs"] == ["failing-jobs"], value


def test_a_profile_pack_that_is_not_a_folder_names_the_profile_line(run, tmp_path):
    (tmp_path / "notes.yaml").write_text("a: 1\n")
    profile = tmp_path / "diagnose.yaml"
    profile.write_text("timezone: UTC\npacks:\n  - notes.yaml\n")
    proc = run("list")
    assert proc.returncode == 2
    assert "diagnose.yaml:3: packs[0]: notes.yaml is a file, not a knowledge-base folder" in proc.stderr


def test_selftest_and_explain_read_the_profile_s_packs(run, two_packs, tmp_path):
    jobs, _ = two_packs
    (tmp_path / "diagnose.yaml").write_text(yaml.safe_dump({"packs": [str(jobs)]}))
    proc = run("selftest", "failing-jobs", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    profile = tmp_path / "elsewhere.yaml"
    (tmp_path / "diagnose.yaml").unlink()
    profile.write_text(yaml.safe_dump({"packs": [str(jobs)]}))
    proc = run("explain", "job failed: 42", "--profile", str(profile))
    assert proc.returncode == 0 and "failing-jobs" in proc.stdout, proc.stdout + proc.stderr


def test_lint_without_the_builtin_pack_needs_a_pack(run):
    proc = run("lint", "--no-builtin")
    assert proc.returncode == 2 and "--no-builtin" in proc.stderr
