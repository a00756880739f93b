"""`diagnose selftest` as a knowledge author runs it: real PostgreSQL, real worlds, real exit codes."""

from __future__ import annotations

import shutil

import yaml

from diagnose.kb.loader import builtin_root, load_pack

PACK = load_pack()


def test_selftest_of_one_entry_passes_and_lists_every_example(diagnose):
    result = diagnose("selftest", "stale-positions", timeout=120)
    assert result.code == 0, result.out + result.err
    names = [x.name for x in next(e for e in PACK.entries if e.id == "stale-positions").examples]
    assert {"mode-switch", "paper-leftovers", "not-restarted", "paper-desk", "healthy"} <= set(names)
    for name in names:
        assert f"ok   stale-positions/{name}" in result.out
    assert f"all {len(names)} example(s) hold" in result.out


def test_selftest_names_the_example_and_the_check_that_does_not_hold(diagnose, tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(builtin_root(), kb)
    path = kb / "data" / "stale-positions.yaml"
    data = yaml.safe_load(path.read_text())
    sync = next(x for x in data["examples"] if x["name"] == "sync-failing")
    sync["world"]["env"]["trading"]["BYBIT_API_KEY"] = "k7Hq2vXw9LmN4pRt"   # the key is back: bybit-keys passes
    sync["world"]["env"]["trading"]["BYBIT_API_SECRET"] = "s3cr3tVa1ue-Zx81Qw77Lp0"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    result = diagnose("selftest", "stale-positions", "--example", "sync-failing", "--no-builtin", "--checks", str(kb),
                      timeout=120)
    assert result.code == 1
    assert "FAIL stale-positions/sync-failing" in result.out
    assert "in `fails` but did not fail: bybit-keys" in result.out
    assert "1 of 1 example(s) FAILED" in result.out


def test_selftest_refuses_unknown_symptoms_and_examples(diagnose):
    assert diagnose("selftest", "no-such-thing").code == 2
    result = diagnose("selftest", "stale-positions", "--example", "nope")
    assert result.code == 2 and "--example nope: no such example" in result.err
