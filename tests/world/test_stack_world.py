"""The whole-stack world: merging faults over the baseline, and loading worlds/stack.yaml."""

from __future__ import annotations

import os

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
    ("baseline: 3\n", "stack.yaml:1: baseline: expected a mapping"),
    ("baseline: {}\nfaults:\n  - name: x\n    title: t\n    symptom: nope\n    world: {}\n",
     "stack.yaml:5: faults[0].symptom: unknown symptom 'nope'"),
    ("baseline: {}\nfaults: []\ndefault: [ghost]\n", "stack.yaml:3: default[0]: unknown fault 'ghost'"),
    ("baseline: {}\nfaults:\n  - name: x\n    symptom: stale-positions\n", "stack.yaml:3: faults[0]: missing required field 'title'"),
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


# --- variants, log styles, clocks: a tiny stack of its own ---------------------------------------------------

TINY = """\
description: a tiny stack
moment: {at: "2026-12-08 14:30", timezone: Asia/Shanghai}
baseline:
  databases:
    desk: "INSERT INTO a VALUES (1);"
    trading: "INSERT INTO t VALUES (1);"
  logs:
    backend: |
      backend-1  | {now-10m:iso} INFO:     Started server process [1]
      backend-1  | {now-5m:iso} INFO:     GET /health 200
    realtime: |
      {now-4m} realtime says hello
  env:
    backend: {NTFY_TOPIC: desk-alerts}
    realtime: {REALTIME_TENANT: realtime-dev}
faults:
  - name: crash
    title: the backend crashed
    symptom: stale-positions
    world:
      logs:
        backend: "backend-1  | {now-1m:iso} ERROR:    boom\\n"
      env:
        realtime: {REALTIME_TENANT: other}
    variants: [journald, lean]
variants:
  - name: fresh
    title: a fresh install
    replace: [logs, databases.desk]
    world:
      databases:
        desk: "INSERT INTO a VALUES (2);"
  - name: journald
    title: systemd
    log_style: journald
  - name: plain
    title: own files
    log_style: plain
  - name: iso
    title: iso times
    log_style: iso
  - name: lean
    title: fewer sources
    drop: [logs.realtime, env]
  - name: weekend
    title: Saturday
    world:
      clock: {at: "2026-12-05 14:00", timezone: Asia/Shanghai}
  - name: utc
    title: a UTC host
    world:
      clock: {timezone: UTC}
"""


def tiny_pack(tmp_path, text: str = TINY):
    from diagnose.kb.model import Pack

    (tmp_path / "worlds").mkdir(exist_ok=True)
    (tmp_path / "worlds" / "stack.yaml").write_text(text)
    return Pack(root=tmp_path, name="tiny", version="0", site_url="https://diagnose.invalid", digest="-",
                sources={}, entries=list(load_pack().entries))


def test_variant_replace_starts_sections_and_sources_from_empty(tmp_path):
    stack = load_stack(tiny_pack(tmp_path))
    fresh = stack.example([], "fresh")
    assert "logs" not in fresh.world                                        # a whole section
    assert fresh.world["databases"] == {"desk": "INSERT INTO a VALUES (2);",  # one source, not appended
                                        "trading": "INSERT INTO t VALUES (1);"}
    assert fresh.verdict == "healthy" and fresh.name == "stack-fresh" and fresh.description == "a fresh install"
    # a fault planted on it lands on the emptied section
    planted = stack.example(["crash"], "fresh")
    assert planted.world["logs"] == {"backend": "backend-1  | {now-1m:iso} ERROR:    boom\n"}
    assert planted.verdict == "problem" and planted.name == "stack-fresh-crash"


def test_variant_drop_removes_sources_after_the_faults(tmp_path):
    stack = load_stack(tiny_pack(tmp_path))
    lean = stack.example(["crash"], "lean")
    assert set(lean.world["logs"]) == {"backend"}            # logs.realtime dropped
    assert "env" not in lean.world                            # the whole section, also what the fault added
    assert "boom" in lean.world["logs"]["backend"]
    assert stack.example(["crash"]).world["env"]["realtime"] == {"REALTIME_TENANT": "other"}


@pytest.mark.parametrize("style, first, crash", [
    ("journald", "{now-10m:syslog} desk-01 backend[", "{now-1m:syslog} desk-01 backend["),
    ("plain", "{now-10m:log} INFO:     Started server process [1]", "{now-1m:log} ERROR:    boom"),
    ("iso", "{now-10m:iso} INFO:     Started server process [1]", "{now-1m:iso} ERROR:    boom"),
])
def test_log_style_rewrites_the_services_lines_and_leaves_the_others(tmp_path, style, first, crash):
    stack = load_stack(tiny_pack(tmp_path))
    world = stack.example(["crash"] if style == "journald" else [], style).world
    backend = world["logs"]["backend"].splitlines()
    assert backend[0].startswith(first) and "backend-1  |" not in world["logs"]["backend"]
    if style == "journald":
        pid = 1000 + sum(map(ord, "backend")) % 8000
        assert backend[0] == f"{{now-10m:syslog}} desk-01 backend[{pid}]: INFO:     Started server process [1]"
        assert backend[-1] == f"{crash}{pid}]: ERROR:    boom"    # the fault's lines too
    assert world["logs"]["realtime"] == "{now-4m} realtime says hello\n"


@pytest.mark.parametrize("style", ["journald", "plain", "iso"])
def test_restyled_lines_are_read_back_at_their_time(tmp_path, style):
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from diagnose.checks import load_kind
    from diagnose.checks.base import Context
    from diagnose.sources import LogSpec
    from diagnose.world.timestamps import fill

    now = datetime(2026, 12, 8, 6, 30, tzinfo=timezone.utc)
    text = load_stack(tiny_pack(tmp_path)).example([], style).world["logs"]["backend"]
    path = tmp_path / "backend.log"
    path.write_text(fill(text, now, ZoneInfo("Asia/Shanghai")))
    os.utime(path, (now.timestamp(), now.timestamp()))      # written then, as the world's files are
    spec = LogSpec("backend", paths=(str(path),), timezone="Asia/Shanghai")
    ctx = Context(timeout=5, now=now, resolve=lambda kind, name: spec)
    outcome = load_kind("log").run({"log": "backend", "pattern": "Started server process", "since": "7m"}, ctx)
    assert outcome.vars["count"] == 0                     # 10 minutes ago: outside the window
    outcome = load_kind("log").run({"log": "backend", "pattern": "Started server process", "since": "11m"}, ctx)
    assert outcome.vars["count"] == 1 and outcome.vars["last_time"].startswith("2026-12-08T14:20:00")


def test_the_stack_moment_is_used_only_when_pinned_and_a_variants_clock_wins(tmp_path):
    stack = load_stack(tiny_pack(tmp_path))
    assert stack.moment == {"at": "2026-12-08 14:30", "timezone": "Asia/Shanghai"}
    assert "clock" not in stack.example().world                      # the demo: the real time
    assert "clock" not in stack.example([], "journald").world
    assert stack.example(pinned=True).world["clock"] == stack.moment
    assert stack.example(["crash"], "journald", pinned=True).world["clock"] == stack.moment
    assert stack.example([], "weekend", pinned=True).world["clock"] == {"at": "2026-12-05 14:00",
                                                                          "timezone": "Asia/Shanghai"}
    assert stack.example([], "weekend").world["clock"]["at"] == "2026-12-05 14:00"
    assert stack.example([], "utc", pinned=True).world["clock"] == {"timezone": "UTC"}   # replaced whole
    assert "clock" not in stack.baseline                             # the baseline itself is not changed


def test_unknown_variant_or_fault_of_an_example_is_a_stack_error(tmp_path):
    stack = load_stack(tiny_pack(tmp_path))
    with pytest.raises(StackError, match=r"unknown variant 'sunday' \(known: fresh, journald, plain, iso, lean"):
        stack.example([], "sunday")
    with pytest.raises(StackError, match=r"unknown fault 'flood' \(known: crash\)"):
        stack.example(["flood"], "lean")


def test_the_builtin_stack_pins_a_moment_and_its_variants_keep_their_own_clocks():
    stack = load_stack(load_pack())
    assert stack.moment and stack.moment.get("at")
    assert stack.example(pinned=True).world["clock"] == stack.moment
    clocked = [v for v in stack.variants if "clock" in v.world]
    assert clocked
    for variant in clocked:
        assert stack.example([], variant.name, pinned=True).world["clock"] == variant.world["clock"]
    for fault in stack.faults:
        assert set(fault.variants) <= {v.name for v in stack.variants}, fault.name


FAULT = "faults:\n  - name: x\n    title: t\n    symptom: stale-positions\n    world: {}\n"


@pytest.mark.parametrize("text, message", [
    ("baseline: {}\n" + FAULT + "    variants: [fresh, ghost]\nvariants:\n  - name: fresh\n    title: f\n",
     "stack.yaml:7: faults[0].variants[1]: unknown variant 'ghost'"),
    ("baseline: {}\n" + FAULT + "    also: [ws-disconnect, nope]\n",
     "stack.yaml:7: faults[0].also[1]: unknown symptom 'nope'"),
    ("baseline: {}\nvariants:\n  - name: v\n    title: t\n    log_style: xml\n",
     "stack.yaml:5: variants[0].log_style: unknown value 'xml' (expected one of: journald, plain, iso, untimed)"),
    ("baseline: {}\nvariants:\n  - name: v\n    title: t\n    replace: [logs, metrics.x]\n",
     ("stack.yaml:5: variants[0].replace[1]: 'metrics.x' is not a section (databases, sessions, logs, env, "
      "endpoints, clock, modified) or section.source")),
    ("baseline: {}\nvariants:\n  - name: v\n    title: t\n    drop:\n      - logs.realtime\n      - profile\n",
     "stack.yaml:7: variants[0].drop[1]: 'profile' is not a section"),
    ("baseline: {}\nvariants:\n  - name: v\n    log_style: plain\n", "stack.yaml:3: variants[0]: missing required field 'title'"),
    ("baseline: {}\nmoment: {timezone: UTC}\n", "stack.yaml:2: moment: missing required field 'at'"),
    ("baseline: {}\nmoment: {at: '2026-12-08 14:30', tz: UTC}\n", "stack.yaml:2: moment.tz: unknown field 'tz'"),
    ("baseline: {logs: {app: [not, text]}}\n", "stack.yaml:1: baseline.logs.app: expected text"),
])
def test_bad_variants_also_and_moment_name_file_and_line(tmp_path, text, message):
    with pytest.raises(StackError) as info:
        load_stack(tiny_pack(tmp_path, text))
    assert message in str(info.value)
    assert "\n" not in str(info.value)
