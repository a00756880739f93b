"""Every report format says which settings a run used and where each value came from; a document written
before settings existed still renders."""

from __future__ import annotations

import dataclasses
import io

import jsonschema

from diagnose.kb.model import Setting
from diagnose.kb.settings import apply
from diagnose.reports import render
from diagnose.reports.document import REPORT_SCHEMA
from diagnose.reports.terminal import print_summary

from .conftest import problem_run

MAX_AGE = Setting(name="max_age", default="6 hours", description="the sync horizon", type="interval",
                  value="6 hours")
WARN = Setting(name="warn_days", default=18, description="days before expiry", type="integer", unit="trading days",
               value=18)


def run_with(overrides: dict):
    run = problem_run()
    entry = dataclasses.replace(run.entry, settings=(MAX_AGE, WARN))
    return dataclasses.replace(run, entry=apply(entry, overrides))


def terminal(document: dict) -> str:
    out = io.StringIO()
    print_summary(document, "r.md", stream=out)
    return out.getvalue()


def test_json_lists_each_setting_with_its_value_default_and_origin(build):
    document = build(run_with({"max_age": "1 hour"}))
    jsonschema.validate(document, REPORT_SCHEMA)
    assert [(s["name"], s["value"], s["default"], s["from"]) for s in document["settings"]] == [
        ("max_age", "1 hour", "6 hours", "profile"), ("warn_days", 18, 18, "default")]
    assert '"from": "profile"' in render(document, "json")


def test_markdown_and_html_say_settings_used_terminal_only_what_the_profile_changed(build):
    document = build(run_with({"max_age": "1 hour"}))
    md = render(document, "md")
    assert ("- **Settings used**: `max_age` = 1 hour (profile; default 6 hours), "
            "`warn_days` = 18 trading days (default)") in md
    assert "Settings used</td><td>max_age = 1 hour (profile; default 6 hours)<br>warn_days = 18 trading days " \
           "(default)</td>" in render(document, "html")
    lines = [line for line in terminal(document).splitlines() if line.startswith("Settings")]
    assert lines == ["Settings: max_age = 1 hour (profile; default 6 hours)"]
    assert not [line for line in terminal(build(run_with({}))).splitlines() if line.startswith("Settings")]


def test_a_document_without_settings_still_renders_in_every_format(build):
    document = build(problem_run())
    assert document["settings"] == []
    del document["settings"]                    # a report written before settings existed (a bundle)
    for fmt in ("md", "html", "json"):
        assert "Settings used" not in render(document, fmt)
    assert "Settings" not in terminal(document)
