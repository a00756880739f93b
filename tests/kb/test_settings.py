"""Settings in the knowledge base: what lint refuses, what the loader binds, what PostgreSQL reads."""

from __future__ import annotations

import re

import psycopg
import pytest

from diagnose.kb import settings as kb_settings
from diagnose.kb.loader import load_pack

from .conftest import ENTRY, problems_after

BOUND = "      max_age: {setting: max_age}\n      current_mode:"


def line_of(pack_copy, text: str) -> int:
    return (pack_copy / ENTRY).read_text().split(text, 1)[0].count("\n") + 1


def test_a_setting_bound_but_not_declared_is_a_problem_at_its_line(pack_copy):
    out = problems_after(pack_copy, (BOUND, "      max_age: {setting: max_agee}\n      current_mode:"))
    line = line_of(pack_copy, "{setting: max_agee}")
    assert any(re.fullmatch(rf".*stale-positions\.yaml:{line}: checks\[0\]\.params\.max_age\.setting: setting "
                            r"'max_agee' is not declared under the entry's `settings:` \(did you mean 'max_age'\?\)", p)
               for p in out), out


def test_a_declared_setting_no_check_uses_is_a_problem(pack_copy):
    out = problems_after(pack_copy, ("settings:\n  max_age:\n", "settings:\n  sync_every:\n    default: 5\n"
                                     "    description: unused\n  max_age:\n"))
    line = line_of(pack_copy, "  sync_every:")
    assert any(re.fullmatch(rf".*stale-positions\.yaml:{line}: settings\.sync_every: setting 'sync_every' is not "
                            r"used by any check .*", p) for p in out), out


def test_a_default_of_the_wrong_type_and_a_range_on_text_are_problems(pack_copy):
    out = problems_after(pack_copy, ("    default: 6 hours\n    type: interval\n",
                                     "    default: six hours\n    type: interval\n    minimum: 1\n"))
    assert any("settings.max_age.default: default: expected an interval" in p for p in out), out
    assert any("settings.max_age.minimum: minimum applies to numbers only" in p for p in out), out


def test_an_unknown_field_of_a_setting_is_a_schema_problem(pack_copy):
    out = problems_after(pack_copy, ("    default: 6 hours\n", "    default: 6 hours\n    units: hours\n"))
    assert any("settings.max_age.units: unknown field 'units' (did you mean 'unit'?)" in p for p in out), out


def test_the_built_in_pack_binds_its_defaults_and_a_profile_value_rebinds_them():
    entry = load_pack().get("stale-positions")
    [setting] = entry.settings
    assert (setting.name, setting.default, setting.value, setting.source) == ("max_age", "6 hours", "6 hours", "default")
    users = [c for c in entry.checks if "max_age" in (c.raw.get("params") or {})]
    assert len(users) == 2
    assert all(c.raw["params"]["max_age"] == {"setting": "max_age", "value": "6 hours"} for c in users)
    changed = kb_settings.apply(entry, {"max_age": "1 hour"})
    assert changed.settings[0].value == "1 hour" and changed.settings[0].source == "profile"
    assert all(c.raw["params"]["max_age"]["value"] == "1 hour"
               for c in changed.checks if "max_age" in (c.raw.get("params") or {}))
    assert entry.settings[0].value == "6 hours"      # the pack's own entry is untouched


def test_an_unbound_setting_param_is_an_error_not_a_guess():
    from datetime import datetime, timezone

    from diagnose.checks.base import CheckError, Context
    from diagnose.checks.params import resolve_params

    ctx = Context(timeout=1, now=datetime.now(timezone.utc), resolve=lambda kind, name: None)
    assert resolve_params({"age": {"setting": "age", "value": "2 hours"}}, ctx) == {"age": "2 hours"}
    with pytest.raises(CheckError, match="setting 'age' has no value"):
        resolve_params({"age": {"setting": "age"}}, ctx)


INTERVALS = ["10 minutes", "1 hour", "2 hours", "1 hour 30 minutes", "90s", "90 s", "1.5 hours", "10 mins", "3 d",
             "2 weeks", "250 ms", "1 day 6 hours", "5 secs", "1 hr", "3 months", "1 yr"]


def test_every_interval_a_setting_accepts_postgresql_reads(make_db):
    assert all(kb_settings.INTERVAL.match(text) for text in INTERVALS)
    for text in ("ten minutes", "10", "10 minutes; DROP TABLE x", "10 lightyears", "", "1 hour ago"):
        assert not kb_settings.INTERVAL.match(text), text
    with psycopg.connect(make_db()) as conn:
        for text in INTERVALS:
            assert conn.execute("SELECT %s::interval > interval '0'", (text,)).fetchone()[0], text
