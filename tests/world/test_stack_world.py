"""The whole-stack world: merging faults over the baseline, and loading worlds/stack.yaml."""

from __future__ import annotations

import shutil

import pytest

from diagnose.kb.loader import builtin_root, load_pack
from diagnose.world.stack import StackError, load_stack, merge, merge_logs


def test_logs_merge_in_time_order_and_keep_continuation_lines_with_their_line():
    base = "{now-50m} INFO a\n{now-10m} INFO b\n"
    fault = "{now-30m} ERROR boom\nTraceback (most recent call last):\n  File x\n{now-1m} ERROR again\n"
    assert merge_logs(base, fault) == ("{now-50m} INFO a\n{now-30m} ERROR boom\nTraceback (most recent call last):\n"
                                       "  File x\n{now-10m} INFO b\n{now-1m} ERROR again\n")


def test_logs_merge_understands_prefixes_formats_and_units():
    merged = merge_logs("backend-1  | {now-2h:iso} x\n", "Nov 21 host backend[1]: {now-90m:syslog} y\n{now-3h} z\n")
    assert [line.split()[-1] for line in merged.splitlines()] == ["z", "x", "y"]


def test_env_keys_update_and_null_removes():
    out = merge({"env": {"t": {"A": "1", "B": "2"}}}, {"env": {"t": {"A": "9", "B": None, "C": "3"}}})
    assert out["env"]["t"] == {"A": "9", "C": "3"}


def test_endpoint_routes_merge_per_path_and_behaviours_replace():
    base = {"endpoints": {"x": {"routes": {"/a": {"json": 1}, "/b": {"json": 2}}}, "n": {"routes": {"/h": {}}}}}
    out = merge(base, {"endpoints": {"x": {"routes": {"/b": {"status": 500}}}, "n": {"refuse": True}}})
    assert out["endpoints"]["x"]["routes"] == {"/a": {"json": 1}, "/b": {"status": 500}}
    assert out["endpoints"]["n"] == {"refuse": True}
    assert base["endpoints"]["x"]["routes"]["/b"] == {"json": 2}   # the baseline is not modified


def test_sql_and_sessions_append():
    out = merge({"databases": {"d": "A;"}, "sessions": {"d": [{"state": "idle"}]}},
                {"databases": {"d": "B;"}, "sessions": {"d": [{"state": "active"}]}})
    assert out["databases"]["d"] == "A;\nB;"
    assert [s["state"] for s in out["sessions"]["d"]] == ["idle", "active"]


def test_builtin_stack_names_real_symptoms_and_causes():
    pack = load_pack()
    stack = load_stack(pack)
    assert len(stack.faults) >= 5
    assert len(stack.default) >= 2
    for fault in stack.faults:
        assert pack.get(fault.symptom) is not None
    assert stack.example(["paper-leftovers"]).verdict == "problem"


@pytest.mark.parametrize("text, message", [
    ("baseline: 3\n", "stack.yaml:1: needs a `baseline` world"),
    ("baseline: {}\nfaults:\n  - name: x\n    title: t\n    symptom: nope\n    world: {}\n",
     "stack.yaml:5: faults[0].symptom: unknown symptom 'nope'"),
    ("baseline: {}\nfaults: []\ndefault: [ghost]\n", "stack.yaml:3: default[0]: unknown fault 'ghost'"),
    ("baseline: {}\nfaults:\n  - name: x\n    symptom: stale-positions\n", "stack.yaml:3: faults[0]: fault needs `title`"),
    ("baseline: {}\ndefault: []\ndefault: [x]\n", "stack.yaml:3: default: duplicate key"),
])
def test_bad_stack_files_give_one_line_with_file_and_line(tmp_path, text, message):
    root = tmp_path / "kb"
    shutil.copytree(builtin_root(), root)
    (root / "worlds" / "stack.yaml").write_text(text)
    with pytest.raises(StackError) as info:
        load_stack(load_pack(root, use_cache=False))
    assert message in str(info.value)
    assert "\n" not in str(info.value)
