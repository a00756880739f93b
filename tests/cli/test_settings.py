"""Settings end to end: an entry's thresholds, their defaults, a profile's values, and the reports that say
which were used. Real CLI, real PostgreSQL, the built-in pack's own worlds.

The world is stale-positions' ``paper-desk`` example: a PAPER desk whose PAPER position, open for two
hours, blocked an order 30 minutes ago (the mutex doing its job). Under the default sync horizon
(``max_age: 6 hours``) that is healthy; a deployment whose horizon is one hour sees a leftover.
"""

from __future__ import annotations

import json
import re

import yaml

ENTRY = "stale-positions"


def with_settings(profile, settings: dict, name: str = "with-settings.yaml"):
    """A copy of the world's profile with ``settings:`` added."""
    data = yaml.safe_load(profile.read_text())
    data["settings"] = settings
    path = profile.parent / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def by_id(report: dict) -> dict:
    return {c["id"]: c for c in report["checks"]}


def test_the_default_applies_and_every_report_says_so(diagnose, world, tmp_path):
    profile = world(ENTRY, "paper-desk")
    out = tmp_path / "r.json"
    result = diagnose(ENTRY, "--profile", str(profile), "--format", "json", "-o", str(out))
    report = json.loads(out.read_text())
    assert result.code == 0, (result.out, result.err)
    assert report["settings"] == [{"name": "max_age", "value": "6 hours", "default": "6 hours", "from": "default",
                                   "type": "interval", "unit": None, "description": report["settings"][0]["description"]}]
    assert "more than 6 hours" in by_id(report)["blocked-orders"]["message"]   # the message names the value used
    assert "Settings:" not in result.out          # the terminal speaks only of values the profile changed
    md = tmp_path / "r.md"
    assert diagnose(ENTRY, "--profile", str(profile), "-o", str(md)).code == 0
    assert "- **Settings used**: `max_age` = 6 hours (default)" in md.read_text()


def test_a_lower_threshold_in_the_profile_fails_the_same_world(diagnose, world, tmp_path):
    profile = with_settings(world(ENTRY, "paper-desk"), {ENTRY: {"max_age": "1 hour"}})
    out = tmp_path / "r.json"
    result = diagnose(ENTRY, "--profile", str(profile), "--format", "json", "-o", str(out))
    report = json.loads(out.read_text())
    assert result.code == 1, (result.out, result.err)
    assert report["verdict"] == "problem"
    blocked = by_id(report)["blocked-orders"]
    assert blocked["status"] == "fail" and "pos-paper-btc-1h" in json.dumps(blocked["evidence"])
    assert "'1 hour'::interval" in blocked["manual"]      # the command to check by hand uses it too
    [setting] = report["settings"]
    assert (setting["name"], setting["value"], setting["default"], setting["from"]) == \
        ("max_age", "1 hour", "6 hours", "profile")
    assert "Settings: max_age = 1 hour (profile; default 6 hours)" in result.out

    md, html = tmp_path / "r.md", tmp_path / "r.html"
    assert diagnose(ENTRY, "--profile", str(profile), "-o", str(md)).code == 1
    assert "- **Settings used**: `max_age` = 1 hour (profile; default 6 hours)" in md.read_text()
    assert diagnose(ENTRY, "--profile", str(profile), "--format", "html", "-o", str(html)).code == 1
    assert "max_age = 1 hour (profile; default 6 hours)" in html.read_text()


def test_a_profile_value_equal_to_the_default_changes_nothing_shown_in_the_terminal(diagnose, world, tmp_path):
    profile = with_settings(world(ENTRY, "paper-desk"), {ENTRY: {"max_age": "6 hours"}})
    out = tmp_path / "r.json"
    result = diagnose(ENTRY, "--profile", str(profile), "--format", "json", "-o", str(out))
    assert result.code == 0
    assert json.loads(out.read_text())["settings"][0]["from"] == "profile"
    assert "Settings:" not in result.out


def test_triage_uses_the_profile_values(diagnose, world, tmp_path):
    profile = with_settings(world(ENTRY, "paper-desk"), {ENTRY: {"max_age": "1 hour"}})
    out = tmp_path / "t.json"
    result = diagnose("triage", "--profile", str(profile), "--format", "json", "-o", str(out), timeout=120)
    report = json.loads(out.read_text())
    symptom = next(s for s in report["symptoms"] if s["id"] == ENTRY)
    assert symptom["verdict"] == "problem", (result.out, result.err)
    assert symptom["settings"][0]["value"] == "1 hour" and symptom["settings"][0]["from"] == "profile"
    assert "Settings: stale-positions: max_age = 1 hour (profile; default 6 hours)" in result.out
    other = next(s for s in report["symptoms"] if s["id"] == "rollover-task-stuck")
    assert other["settings"][0]["from"] == "default"


def _refused(diagnose, tmp_path, text: str, *args: str):
    profile = tmp_path / "diagnose.yaml"
    profile.write_text(text)
    result = diagnose(*(args or (ENTRY,)), "--profile", str(profile), "-o", str(tmp_path / "r.md"))
    assert result.code == 2, (result.out, result.err)
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert not (tmp_path / "r.md").exists()          # refused before any check ran
    return result.err.strip()


def test_an_unknown_entry_in_the_profile_is_a_one_line_error(diagnose, tmp_path):
    err = _refused(diagnose, tmp_path, "settings:\n  stale-positons:\n    max_age: 1 hour\n")
    assert re.search(r"diagnose\.yaml:2: settings\.stale-positons: no entry 'stale-positons' in the knowledge "
                     r"base; did you mean 'stale-positions'\?", err), err


def test_an_unknown_setting_is_a_one_line_error(diagnose, tmp_path):
    err = _refused(diagnose, tmp_path, "databases: {}\nsettings:\n  stale-positions:\n    max_ag: 1 hour\n")
    assert re.search(r"diagnose\.yaml:4: settings\.stale-positions\.max_ag: entry 'stale-positions' has no setting "
                     r"'max_ag' \(did you mean 'max_age'\?\)", err), err


def test_a_value_of_the_wrong_type_is_a_one_line_error(diagnose, tmp_path):
    err = _refused(diagnose, tmp_path, "settings:\n  stale-positions:\n    max_age: 6\n")
    assert re.search(r"diagnose\.yaml:3: settings\.stale-positions\.max_age: expected an interval", err), err
    err = _refused(diagnose, tmp_path, "settings:\n  rollover-alert-missing:\n    warn_days: 0\n", "triage")
    assert re.search(r"diagnose\.yaml:3: settings\.rollover-alert-missing\.warn_days: 0 is below the minimum 1",
                     err), err
    err = _refused(diagnose, tmp_path, "settings:\n  rollover-alert-missing:\n    warn_days: ten\n")
    assert "warn_days: expected a whole number, got 'ten'" in err, err
    err = _refused(diagnose, tmp_path, "settings:\n  stale-positions:\n    max_age: [1, 2]\n")
    assert re.search(r"diagnose\.yaml:3: settings\.stale-positions\.max_age: ", err), err   # the profile schema's
