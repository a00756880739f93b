"""The reference pages document every CLI command and option and every schema field.

The field paths are enumerated here by a walker of the tests' own, so a page that skips a
part of a schema (or a schema the page generator does not walk) fails.
"""

from __future__ import annotations

import click

import diagnose.profile as profile_module
from diagnose.checks import BUILTIN_KINDS, expect, load_kind
from diagnose.cli import COMMANDS, cli
from diagnose.kb.schema import entry_schema, pack_schema
from diagnose.reports.document import REPORT_SCHEMA
from diagnose.reports.triage_document import TRIAGE_SCHEMA


def schema_paths(schema, prefix=""):
    """Every field path: ``a.b``, ``list[].x``, ``mapping.<name>.y``; expectations are one type."""
    if not isinstance(schema, dict) or schema.get("anyOf") is expect.SCHEMA["anyOf"]:
        return set()
    paths = set()

    def join(name):
        return f"{prefix}.{name}" if prefix else name

    for name, child in (schema.get("properties") or {}).items():
        paths.add(join(name))
        paths |= schema_paths(child, join(name))
    paths |= {join(name) for name in schema.get("required") or ()}
    if isinstance(schema.get("items"), dict):
        paths |= schema_paths(schema["items"], f"{prefix}[]")
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and extra:
        paths.add(join("<name>"))
        paths |= schema_paths(extra, join("<name>"))
    for alternative in [*(schema.get("anyOf") or ()), *(schema.get("oneOf") or ())]:
        paths |= schema_paths(alternative, prefix)
    for part in schema.get("allOf") or ():
        paths |= schema_paths(part.get("then", part), prefix)
    return paths


def all_commands():
    root = click.Context(cli, info_name="diagnose")
    for name in COMMANDS:
        command = cli.get_command(root, name)
        yield f"diagnose {name}", command, click.Context(command, info_name=name, parent=root)
        if isinstance(command, click.Group):
            ctx = click.Context(command, info_name=name, parent=root)
            for sub in command.list_commands(ctx):
                child = command.get_command(ctx, sub)
                yield f"diagnose {name} {sub}", child, click.Context(child, info_name=sub, parent=ctx)


def test_every_cli_command_and_option_is_documented(site):
    page = site.page("reference/cli/")
    found = 0
    for full, command, ctx in all_commands():
        anchor = full.replace(" ", "-")
        assert anchor in page.ids, f"`{full}` has no section on the CLI page"
        section = page.section_text(anchor)
        assert full in section
        for param in command.get_params(ctx):
            if isinstance(param, click.Option) and not param.hidden:
                for opt in param.opts:
                    assert opt in section, f"`{full}`: option {opt} is not documented"
                    found += 1
    assert found > 30  # the walk reached the options at all
    assert "diagnose-docs-build" in page.ids and "diagnose-docs-serve" in page.ids


def test_every_entry_and_pack_field_is_documented(site):
    text = site.page("reference/entry-format/").text
    paths = schema_paths(entry_schema(with_kinds=True)) | schema_paths(pack_schema())
    assert {"checks[].query", "examples[].world.sessions.<name>[].state", "sources.databases.<name>.description",
            "solutions[].steps[].risk", "approvers.<name>"} <= paths
    missing = sorted(p for p in paths if p not in text)
    assert not missing, f"fields missing from the entry format page: {missing}"
    for operator in expect.SCHEMA["anyOf"][1]["properties"]:
        assert operator in site.page("reference/entry-format/").section_text("expectations")


def test_every_profile_field_is_documented(site, pack):
    page = site.page("reference/profile/")
    missing = sorted(p for p in schema_paths(profile_module.schema()) if p not in page.text)
    assert not missing, f"profile fields missing: {missing}"
    for kind, sources in pack.sources.items():
        for name in sources:
            assert f"{name}:" in page.section_text("example"), f"example profile lacks {kind}.{name}"


def test_every_report_field_is_documented(site):
    text = site.page("reference/report-schema/").text
    paths = schema_paths(REPORT_SCHEMA) | schema_paths(TRIAGE_SCHEMA)
    assert "checks[].evidence[].lines[].text" in paths
    missing = sorted(p for p in paths if p not in text)
    assert not missing, f"report fields missing: {missing}"


def test_every_check_kind_is_documented(site):
    page = site.page("reference/check-kinds/")
    for kind in BUILTIN_KINDS:
        assert kind in page.ids, f"kind {kind} has no section"
        first_line = " ".join(load_kind(kind).__doc__.strip().splitlines()[0].replace("``", "").split())
        assert first_line in page.section_text(kind), f"kind {kind}: its docstring is not quoted"


def test_generated_reference_pages_are_in_the_navigation(site):
    home = site.page("index.html")
    for page in ("entry-format", "check-kinds", "profile", "cli", "report-schema", "writing-an-entry"):
        assert any(link.endswith(f"reference/{page}/") for link in home.links), page
