"""Coverage of an entry by its examples: lint fails checks no broken example exercises."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from diagnose.kb.coverage import entry_coverage
from diagnose.kb.loader import builtin_root, load_pack

ROOT = Path(__file__).resolve().parents[2]


def copy_pack(tmp_path: Path, only: str = "stale-positions") -> Path:
    """A copy of the built-in pack holding only one entry and its translation (so `related` stays resolvable)."""
    dest = tmp_path / "kb"
    shutil.copytree(builtin_root(), dest)
    for path in dest.rglob("*.yaml"):
        if path.parent.name in ("connection", "service", "data") and path.name.split(".")[0] != only:
            path.unlink()
    entry = next(dest.rglob(f"{only}.yaml"))
    data = yaml.safe_load(entry.read_text())
    data["related"] = []
    entry.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return dest


def lint(path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "diagnose", "lint", "--no-builtin", str(path)], capture_output=True, text=True,
                          cwd=ROOT, env={"DIAGNOSE_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"})


def test_every_builtin_entry_is_fully_covered():
    incomplete = {c.entry.id: c.problems() for c in map(entry_coverage, load_pack().entries) if not c.complete}
    assert incomplete == {}


def test_lint_prints_coverage_per_entry(tmp_path):
    proc = lint(copy_pack(tmp_path), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    entry = next(e for e in load_pack().entries if e.id == "stale-positions")
    broken = sum(x.verdict in ("problem", "risk") for x in entry.examples)
    healthy = sum(x.verdict == "healthy" for x in entry.examples)
    assert (f"stale-positions: checks {len(entry.checks)}/{len(entry.checks)} exercised, causes "
            f"{len(entry.causes)}/{len(entry.causes)} demonstrated, {broken} broken + {healthy} healthy") in proc.stdout


def test_lint_fails_a_check_no_broken_example_exercises(tmp_path):
    kb = copy_pack(tmp_path)
    path = kb / "data" / "stale-positions.yaml"
    data = yaml.safe_load(path.read_text())
    for ex in data["examples"]:
        if "fails" in ex:
            ex["fails"] = [c for c in ex["fails"] if c != "bybit-keys"]
    ex = data["examples"][0]
    ex["causes"] = []
    data["examples"] = [x for x in data["examples"] if x["name"] != "closed-on-exchange"]
    # its proof went with it: the solution it proves goes too (a fix must be proven, a rule of its own)
    data["solutions"] = [s for s in data["solutions"] if s["id"] != "close-rows-closed-on-exchange"]
    for x in data["examples"]:
        x["causes"] = [c for c in x.get("causes", []) if c != "closed-on-exchange"]
    data["examples"][1].pop("fails")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    proc = lint(kb, tmp_path)
    assert proc.returncode == 2
    lines = proc.stdout.splitlines()
    check_line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "id: bybit-keys" in text)
    assert f"data/stale-positions.yaml:{check_line}: check 'bybit-keys' fails in no broken example " \
           "(add an example where it fails, listed in its `fails`)" in lines
    assert any("cause 'closed-on-exchange' is demonstrated by no example" in line for line in lines)
    assert any("example 'paper-leftovers' is broken but has no `fails`" in line for line in lines)
    assert "Traceback" not in proc.stderr


FIXED_IDS = {
    "connection": {"ws-disconnect", "realtime-auth-failed", "tqsdk-timeout", "db-pool-exhausted"},
    "service": {"backend-start-failed", "lock-trigger-failed", "lock-not-triggering", "rollover-task-stuck",
                "rollover-task-failed", "notification-failed"},
    "data": {"stale-positions", "polar-push-failed", "market-data-delay", "rollover-alert-missing"},
}


def test_the_builtin_pack_has_the_fourteen_fixed_symptoms_each_with_real_depth():
    pack = load_pack()
    assert {c: {e.id for e in es} for c, es in pack.by_category().items()} == FIXED_IDS
    for e in pack.entries:
        kinds = {c.kind for c in e.checks}
        assert len(e.checks) >= 3 and len(e.causes) >= 2 and len(e.solutions) >= 2, e.id
        assert len(kinds) >= 2, f"{e.id}: checks of one kind only tell few causes apart"
        assert any(x.verdict == "healthy" for x in e.examples) and e.prevention.strip(), e.id
        # stale-positions is the one entry of trading-ci: no sibling symptom to point to
        assert e.related or e.id == "stale-positions", e.id
        tops = {x.causes[0] for x in e.examples if x.verdict in ("problem", "risk") and x.causes}
        assert tops == {c.id for c in e.causes}, f"{e.id}: causes never the top cause of a broken example"


def test_the_pack_uses_every_check_kind():
    from diagnose.checks import BUILTIN_KINDS

    assert {c.kind for e in load_pack().entries for c in e.checks} == set(BUILTIN_KINDS)



def pack_with_unknown_skip(tmp_path: Path) -> tuple[Path, Path, str]:
    """A copy whose healthy example lists a known and an unknown check in `skips`."""
    kb = copy_pack(tmp_path)
    path = kb / "data" / "stale-positions.yaml"
    data = yaml.safe_load(path.read_text())
    healthy = next(x for x in data["examples"] if x["verdict"] == "healthy")
    healthy["skips"] = ["bybit-keys", "bybit-keyz"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return kb, path, healthy["name"]


def test_an_unknown_check_in_an_examples_skips_is_a_coverage_problem(tmp_path):
    kb, _, name = pack_with_unknown_skip(tmp_path)
    coverage = entry_coverage(load_pack(kb, use_cache=False).get("stale-positions"))
    assert not coverage.complete
    assert coverage.unknown_skips == [(name, "bybit-keyz")] and coverage.unknown_fails == []
    assert f"example '{name}' lists unknown check 'bybit-keyz' in `skips`" in coverage.problems()
    proc = lint(kb, tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert "unknown check 'bybit-keyz'" in proc.stdout and "Traceback" not in proc.stderr


def test_lint_names_skips_and_its_line_for_an_unknown_skipped_check(tmp_path):
    kb, path, _ = pack_with_unknown_skip(tmp_path)
    proc = lint(kb, tmp_path)
    [reported] = [line for line in proc.stdout.splitlines() if "unknown check 'bybit-keyz'" in line]
    lines = path.read_text().splitlines()
    skips_at = next(i for i, text in enumerate(lines, 1) if text.strip() == "skips:")
    assert "`skips`" in reported
    assert reported.startswith((f"data/stale-positions.yaml:{skips_at}:", f"data/stale-positions.yaml:{skips_at + 2}:"))


def test_a_window_never_run_on_a_log_without_timestamps_is_a_warning(tmp_path):
    """stale-positions alone, without the stack world: its windowed log checks only ever see timed
    example logs, so lint warns (exit 0); an example with an untimed execution log silences it."""
    kb = copy_pack(tmp_path)
    shutil.rmtree(kb / "worlds")
    proc = lint(kb, tmp_path)
    warned = [line for line in proc.stdout.splitlines() if line.startswith("warning:")]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert any("check 'sync-failed-log' has a time window" in line for line in warned), proc.stdout
    path = kb / "data" / "stale-positions.yaml"
    data = yaml.safe_load(path.read_text())
    healthy = next(x for x in data["examples"] if x["name"] == "healthy")
    healthy["world"]["logs"]["execution"] = "INFO execution.position_sync: position_sync: checking BTCUSDT...\n"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    proc = lint(kb, tmp_path)
    assert proc.returncode == 0 and "warning:" not in proc.stdout, proc.stdout


def test_the_builtin_pack_runs_every_window_on_a_log_without_timestamps():
    from diagnose.kb.coverage import untimed_windows
    from diagnose.world.stack import load_stack

    pack = load_pack()
    stack = load_stack(pack)
    worlds = [stack.example([], v.name).world for v in stack.variants]
    assert untimed_windows(pack, worlds) == []
