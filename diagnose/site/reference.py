"""Reference pages for knowledge authors, generated from the code they describe.

* ``reference/entry-format.md``: the YAML of an entry and of ``pack.yaml``, from
  :func:`diagnose.kb.schema.entry_schema`, :func:`~diagnose.kb.schema.check_schema` per kind and
  :data:`~diagnose.kb.schema.PACK_SCHEMA`, plus the example-world parts from their modules'
  docstrings;
* ``reference/profile.md``: the target profile, from :data:`diagnose.profile.SCHEMA`, with a
  ready-to-edit ``diagnose.yaml`` built from the pack's declared sources;
* ``reference/report-schema.md``: the report JSON, from ``REPORT_SCHEMA`` and ``TRIAGE_SCHEMA``.

The check kinds and the CLI have modules of their own (:mod:`~diagnose.site.kinds`,
:mod:`~diagnose.site.clidoc`). A schema change shows up on the next build: nothing to edit.
"""

from __future__ import annotations

import importlib

from diagnose.kb.model import Pack
from diagnose.site.mdtext import docstring_markdown, fence
from diagnose.site.schemadoc import expectation_table, field_table, fields, schema_block

WORLD_MODULES = ("diagnose.world.sessions", "diagnose.world.http", "diagnose.world.websocket", "diagnose.world.tcp")


def _front(title: str, description: str) -> list[str]:
    return ["---", f"title: {title}", f"description: {description}", "---", "", f"# {title}", ""]


def entry_format_page() -> str:
    from diagnose.checks import KINDS
    from diagnose.kb.schema import PACK_SCHEMA, check_schema, entry_schema
    from diagnose.world.timestamps import FORMATS

    out = _front("Entry format", "The YAML of a knowledge-base entry and of pack.yaml, field by field.")
    out += ["A knowledge base is a folder: `pack.yaml` (the manifest) and one `<category>/<id>.yaml` file per "
            "symptom. This page is generated from the schema `diagnose lint` validates with, so every field "
            "it accepts is here. `diagnose schema` prints the same schema as JSON for your editor; "
            "[Writing a new entry](writing-an-entry.md) walks through one.", "",
            "Paths: `[]` steps into the items of a list, `<name>` stands for a key you choose "
            "(a source name, a log name).", "",
            "## Entry fields { #entry-fields }", "",
            "The checks' common fields are here; each check kind adds its own (next section).", "",
            field_table(entry_schema()), "",
            "## Fields of each check kind { #kind-fields }", "",
            "Besides the common fields above, a check has the fields of its `kind` "
            "(see [check kinds](check-kinds.md) for what each kind does).", ""]
    common = {f.path for f in fields(check_schema(), "checks[]")}
    for kind in sorted(KINDS):
        out += [f"### kind: {kind} {{ #kind-{kind} }}", "",
                field_table(check_schema(kind), "checks[]", skip=common), ""]
    out += ["## Expectations { #expectations }", "",
            "Fields typed *expectation* take either a bare value, which must be equal, or a mapping of "
            "operators, all of which must hold: `rows: 0`, `rows: {max: 0}`, `value: {in: [LIVE, PAPER]}`, "
            "`value: {matches: '^LIVE$'}`, `value: {present: true}`.", "",
            expectation_table(), "",
            "## Example worlds { #example-worlds }", "",
            "`examples[].world` describes data the self-test builds for real. Log text may hold timestamps "
            "relative to the moment the world is built: `{now-2h}`, `{now-15m:iso}` (formats: "
            + ", ".join(f"`{name}`" for name in FORMATS) + "; default `log`).", ""]
    for module_name in WORLD_MODULES:
        module = importlib.import_module(module_name)
        out += [f"### {module_name.rsplit('.', 1)[-1]} {{ #world-{module_name.rsplit('.', 1)[-1]} }}", "",
                docstring_markdown(module.__doc__), ""]
    out += ["## pack.yaml { #pack-yaml }", "",
            "The manifest at the root of a knowledge base: its name and version (both go into every report), "
            "where the FAQ site is published (`site_url`: reports link to `<site_url>/faq/<id>/`), the "
            "reference schemas the self-test loads, and the source names checks may use.", "",
            field_table(PACK_SCHEMA), "",
            "## JSON Schema { #json-schema }", "",
            schema_block(entry_schema(with_kinds=True), "entry.json (every kind merged)"),
            schema_block(PACK_SCHEMA, "pack.json")]
    return "\n".join(out)


def example_profile(pack: Pack) -> str:
    """A ``diagnose.yaml`` naming every source the pack declares, with its example value."""
    lines = [f"# diagnose.yaml for the {pack.name} knowledge pack: where this deployment's sources are"]
    for kind in ("databases", "logs", "env", "endpoints"):
        sources = pack.sources.get(kind) or {}
        if not sources:
            continue
        lines.append(f"{kind}:")
        for name, source in sources.items():
            example = source.example or "<where it is>"
            if ": " in example and not example.startswith("{"):
                example = '"' + example.replace('"', '\\"') + '"'
            lines.append(f"  {name}: {example}    # {source.description}")
    return "\n".join(lines)


def profile_page(pack: Pack) -> str:
    import diagnose.profile as profile_module

    out = _front("Target profile", "diagnose.yaml: where a deployment's databases, logs, env files and endpoints are.")
    out += [docstring_markdown(profile_module.__doc__), "",
            "A check names a source (`database: trading`); the profile says where it is. A check whose source "
            "the profile does not name is skipped with that reason, never failed. Found as `--profile FILE`, "
            "else `$DIAGNOSE_PROFILE`, else `./diagnose.yaml`. Single entries can be given or overridden on "
            "the command line: `--dsn NAME=DSN`, `--log NAME=PATH`, `--env-file NAME=PATH`, "
            "`--endpoint NAME=URL` (see the [CLI](cli.md)).", "",
            "## For this knowledge pack { #example }", "",
            f"Every source the {pack.name} pack declares, with an example of where it usually is:", "",
            fence(example_profile(pack), "yaml"), "",
            "## Fields { #fields }", "",
            field_table(profile_module.SCHEMA), "",
            "A log is a path, a glob (`/var/log/app/*.log`), a list of them, or a mapping: `paths`, `command` "
            "(its output is read, e.g. `docker compose logs --no-color --timestamps api`), `timezone` of "
            "timestamps without one, `rotated` (also read `app.log.1`, `app.log.2.gz`...). An env source is "
            "a `.env` file path or `{process: true}` for the environment `diagnose` runs in.", "",
            schema_block(profile_module.SCHEMA, "profile.json")]
    return "\n".join(out)


def report_schema_page() -> str:
    from diagnose.reports.document import REPORT_SCHEMA, SCHEMA_VERSION
    from diagnose.reports.triage_document import TRIAGE_SCHEMA

    out = _front("Report JSON schema", "The JSON report of diagnose SYMPTOM and diagnose triage, field by field.")
    out += [f"`--format json` writes a document with `schema_version` {SCHEMA_VERSION}. Fields may be added "
            "within a version; renaming or removing one means a new version. Secrets are masked before any "
            "format is rendered (`«masked-N»`, the same label for the same secret throughout).", "",
            "## diagnose SYMPTOM { #report }", "",
            field_table(REPORT_SCHEMA), "",
            "## diagnose triage { #triage }", "",
            "The triage document carries the run's context like the report above and one entry per symptom "
            "in `symptoms`, ranked.", "",
            field_table(TRIAGE_SCHEMA), "",
            "## JSON Schema { #json-schema }", "",
            schema_block(REPORT_SCHEMA, "report-1.json"),
            schema_block(TRIAGE_SCHEMA, "triage-1.json")]
    return "\n".join(out)
