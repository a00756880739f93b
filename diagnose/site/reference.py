"""Reference pages for knowledge authors, generated from the code they describe.

* ``reference/entry-format.md``: the YAML of an entry and of ``pack.yaml``, from
  :func:`diagnose.kb.schema.entry_schema`, :func:`~diagnose.kb.schema.check_schema` per kind and
  :func:`~diagnose.kb.schema.pack_schema`, plus the example-world parts from their modules'
  docstrings;
* ``reference/profile.md``: the target profile, from :func:`diagnose.profile.schema`, with a
  ready-to-edit ``diagnose.yaml`` built from the pack's declared sources;
* ``reference/report-schema.md``: the report JSON, from ``REPORT_SCHEMA`` and ``TRIAGE_SCHEMA``.

The check kinds and the CLI have modules of their own (:mod:`~diagnose.site.kinds`,
:mod:`~diagnose.site.clidoc`). A schema change shows up on the next build: nothing to edit.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from diagnose.kb.model import Pack
from diagnose.site import entry_page
from diagnose.site.mdtext import cell, docstring_markdown, fence
from diagnose.site.schemadoc import expectation_table, field_table, fields, schema_block

WORLD_MODULES = ("diagnose.world.sessions", "diagnose.world.http", "diagnose.world.websocket", "diagnose.world.tcp")


def _front(title: str, description: str) -> list[str]:
    return ["---", f"title: {title}", f"description: {description}", "---", "", f"# {title}", ""]


def entry_format_page() -> str:
    from diagnose.checks import usable_kind_names
    from diagnose.kb.schema import check_schema, entry_schema, pack_schema
    from diagnose.world.stack import stack_schema
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
    for kind in usable_kind_names():
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
            field_table(pack_schema()), "",
            "## worlds/stack.yaml { #stack-yaml }", "",
            "A pack may describe one whole deployment for `diagnose demo` and the triage precision tests: a "
            "healthy `baseline` world, healthy `variants` of it, and `faults` merged over it, each naming the "
            "symptom `diagnose triage` must rank first. Its worlds have the fields of an example's world "
            "(above); it is validated with the same schema mechanism as entries, every problem with its line.", "",
            field_table(stack_schema(world={"type": "object", "description": "a world: the fields of an "
                                                                     "example's `world`"})), "",
            "## JSON Schema { #json-schema }", "",
            schema_block(entry_schema(with_kinds=True), "entry.json (every kind merged)"),
            schema_block(pack_schema(), "pack.json"),
            schema_block(stack_schema(), "stack.json")]
    return "\n".join(out)


def example_profile(pack: Pack) -> str:
    """A ``diagnose.yaml`` naming every source the pack declares, with its example value."""
    lines = [f"# diagnose.yaml for the {pack.name} knowledge pack: where this deployment's sources are"]
    from diagnose.sources import source_types

    for kind in source_types():
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
    from diagnose.sources import source_types

    out = _front("Target profile", "diagnose.yaml: where a deployment's databases, logs, env files and endpoints are.")
    out += [docstring_markdown(profile_module.__doc__), "",
            "A check names a source (`database: trading`); the profile says where it is. A check whose source "
            "the profile does not name is skipped with that reason, never failed. Found as `--profile FILE`, "
            "else `$DIAGNOSE_PROFILE`, else `./diagnose.yaml`. Single entries can be given or overridden on "
            "the command line: " + ", ".join(f"`{m.FLAG} {m.METAVAR}`" for m in source_types().values())
            + " (see the [CLI](cli.md)).", "",
            "## For this knowledge pack { #example }", "",
            f"Every source the {pack.name} pack declares, with an example of where it usually is:", "",
            fence(example_profile(pack), "yaml"), "",
            "## Fields { #fields }", "",
            field_table(profile_module.schema()), "",
            "A log is a path, a glob (`/var/log/app/*.log`), a list of them, or a mapping: `paths`, `command` "
            "(its output is read, e.g. `docker compose logs --no-color --timestamps api`), `timezone` of "
            "timestamps without one, `rotated` (also read `app.log.1`, `app.log.2.gz`...). An env source is "
            "a `.env` file path or `{process: true}` for the environment `diagnose` runs in.", "",
            *untimed_logs_section(),
            *settings_section(pack),
            schema_block(profile_module.schema(), "profile.json")]
    return "\n".join(out)


def settings_section(pack: Pack) -> list[str]:
    """The profile page's 'Settings': how a deployment changes an entry's thresholds, and every setting of
    the pack with its default."""
    out = ["## Settings { #settings }", "",
           "An entry's thresholds (how old is stale, how long is stuck) are *settings* with a default. A deployment "
           "whose normal differs sets its own values under `settings:`, by entry id and setting name; the others "
           "keep their defaults:", "",
           fence("settings:\n  stale-positions:\n    max_age: 12 hours        # this desk syncs twice a day", "yaml"),
           "",
           "Before any check runs, `diagnose` refuses (exit 2, naming the file and line) an entry the knowledge "
           "base does not have, a setting the entry does not declare, and a value of the wrong type or outside "
           "the setting's range. Every report lists the values used and where each came from (`default` or "
           "`profile`); the terminal summary names those the profile changed. Authors declare settings in the "
           "entry ([Writing a new entry](writing-an-entry.md#settings)).", ""]
    rows = [(entry, setting) for entry in sorted(pack.entries, key=lambda e: e.id) for setting in entry.settings]
    if rows:
        out += [f"Settings of the {pack.name} pack:", "",
                "| Entry | Setting | Default | What it decides |", "|---|---|---|---|"]
        for entry, setting in rows:
            default = f"{setting.default} {setting.unit}" if setting.unit else str(setting.default)
            text = cell(" ".join(setting.description.split()))
            out.append(f"| [`{entry.id}`](../{entry_page(entry.id)}#settings) | `{setting.name}` | `{default}` "
                       f"({setting.type}) | {text} |")
        out.append("")
    return out


def untimed_logs_section() -> list[str]:
    """The profile page's 'Logs without timestamps': what a window does there, the commands that take
    it themselves (from :data:`diagnose.logscan.commands.RULES`), and the settings that add times."""
    from datetime import datetime, timezone

    from diagnose.logscan.commands import RULES

    example = datetime(2026, 12, 5, 10, 0, tzinfo=timezone.utc)
    rows = []
    for rule in RULES:
        programs = ", ".join(f"`{p}`" for p in sorted(rule.programs))
        words = [" ".join(path) for path in rule.path if path]
        where = ("after the `" + "` or `".join(words) + "` subcommand (options before it skipped with their values)"
                 if words else "after the program")
        rows.append(f"| {programs} | {where} | `{' '.join(rule.since(example))}` | "
                    f"`{' '.join(rule.timestamps)}` unless one of {', '.join(f'`{o}`' for o in rule.timestamp_options)} is there |")
    snippet = (Path(__file__).parent / "snippets" / "uvicorn-log.yaml").read_text(encoding="utf-8")
    return [
        "## Logs without timestamps { #untimed }", "",
        "uvicorn's default output (`INFO:     connection open`), a handler's `print()` and `docker compose logs` "
        "without `--timestamps` write lines with no time. A check with a window (`since: 15m`) cannot tell which "
        "of them are in it, so it never claims it did:", "",
        "- a line without a time takes the time of the line before it (a traceback is written with its "
        "record). So a `print()` long after the line before it is taken to be as old as that line: give "
        "prints a time of their own (below);",
        "- a file last written before the window opened counts nothing: its modification time bounds every line;",
        "- otherwise the lines without a time are counted, and the message says so: *no timestamps in "
        "backend.log: counted the whole file, last written 12 minutes ago; the 15m window could not be applied "
        "to 40 of the 40 matching line(s)*. When they decide the result, it is not conclusive: shown, but alone "
        "it makes neither a problem nor a risk (the verdict is `inconclusive`, exit 3).", "",
        "### Commands that take the window themselves { #commands }", "",
        "A log given as one of these commands is given the window (its start) and asked for timestamps. "
        "Nothing is added when the command already sets a window of its own (`--since`); `window: false` on "
        "the log turns the rule off.", "",
        "| command | options go | window added | timestamps added |", "|---|---|---|---|", *rows, "",
        "A log may give both `paths` and a `command`: whole-log checks read the files, windowed checks the "
        "command (which applies the window):", "",
        fence("logs:\n"
              "  backend:\n"
              "    paths: /srv/desk/backend.log                    # uvicorn's output, no times\n"
              "    command: docker compose logs --no-color backend # gets --since ... --timestamps for windows",
              "yaml"), "",
        "### Give the logs timestamps { #timestamps }", "",
        "The best fix is at the source. uvicorn takes a logging configuration "
        "(`uvicorn main:app --log-config uvicorn-log.yaml`) that puts a time on its lines:", "",
        fence(snippet.rstrip(), "yaml"), "",
        "`print()` output has no time whatever uvicorn does: log with `logging` instead, or read the log "
        "through `docker compose logs --timestamps` (every line, `print()` included, gets the time docker "
        "received it):", "",
        fence("logs:\n  backend: {command: docker compose logs --no-color --timestamps backend}", "yaml"), ""]


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


def least_privilege_page() -> str:
    """``reference/least-privilege.md``: the role to give diagnose, what its sessions look like, and
    what the SQL guard lets through, the allowlist generated from the code that enforces it."""
    from diagnose.checks.sql_catalog import ALLOWED_VOLATILE, ASSIGNS_XID, RUNS_SQL_TEXT
    from diagnose.checks.sql_grammar import SAMPLE_METHODS
    from diagnose.checks.sql_session import APPLICATION_NAME

    out = _front("A role for diagnose", "The database role diagnose needs, its own sessions, and what its SQL "
                 "guard refuses before anything is sent.")
    out += ["`diagnose` only reads. Give it a role that can only read, so that even a knowledge base written by "
            "someone else cannot change your database through it, whatever the guard below misses.", "",
            "## A read-only role { #role }", "",
            fence("""-- as a superuser, once per server (pg_monitor: pg_stat_activity, pg_locks, replication views)
CREATE ROLE diagnose LOGIN PASSWORD 'choose-one' IN ROLE pg_monitor;
ALTER ROLE diagnose SET default_transaction_read_only = on;
-- in each database the checks read (CONNECT is granted to PUBLIC unless you revoked it)
GRANT USAGE ON SCHEMA public TO diagnose;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO diagnose;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO diagnose;""", "sql"), "",
            "Then `databases: {trading: \"postgresql://diagnose:${DIAGNOSE_DB_PASSWORD}@db:5432/trading\"}` in the "
            "profile. A run whose role is a superuser, or may insert, update, delete or truncate a table its "
            "checks read, says so in a note at the top of every report format and in the terminal.", "",
            "## diagnose's own sessions { #sessions }", "",
            f"- `application_name` is `{APPLICATION_NAME}`: the built-in checks leave these sessions out of what "
            "they count (connections, idle transactions, lock holders), and so should yours: "
            f"`WHERE pid <> pg_backend_pid() AND application_name <> '{APPLICATION_NAME}'`.",
            "- Its settings, time limits, snapshot and how many sessions a run opens, with the values this version "
            "uses: [diagnose's own database session](own-session.md).", "",
            "## What is refused before it is sent { #guard }", "",
            "Every `kind: sql` query is read by PostgreSQL's own parser (libpg_query, through `pglast`), at "
            "`diagnose lint` and again at every run, whatever comments, quoting, casing or unicode escapes hide:", "",
            "- exactly one statement, of a reading kind: `SELECT`, `VALUES`, `TABLE` and set operations on them, "
            "`SHOW`, `EXPLAIN` of such a query;",
            "- no `SELECT ... INTO`, no row locks (`FOR UPDATE`, `FOR SHARE`...), no data-modifying `WITH`, no "
            f"`TABLESAMPLE` method other than {', '.join(sorted(SAMPLE_METHODS))};",
            "- then, in the check's transaction and before the query, the target server's catalog resolves every "
            "function it calls (also `FROM f()`, the SQL-standard syntaxes, the attribute notation `t.f`), every "
            "operator (the function behind it) and every cast (the cast and input functions of the type), through "
            "the session's `search_path`. The query is refused, naming the function, when any of them is "
            "`VOLATILE` (it may change state) and not one of the readers below, runs SQL given as text, or "
            "assigns a transaction id. Aggregates are judged by their support functions too.", "",
            "A name the server does not know is not refused: the server refuses the query itself. Functions, "
            "operators, types, views and domains of the database are judged by the volatility their owner declared: "
            "a check cannot create any, so what is there is the owner's word.", "",
            "### VOLATILE readers allowed { #allowed }", "",
            "| function | what it reads |", "|---|---|"]
    out += [f"| `{name}` | {why} |" for name, why in sorted(ALLOWED_VOLATILE.items())]
    out += ["", "### Refused whatever their volatility { #refused }", "",
            "| function | why |", "|---|---|"]
    out += [f"| `{name}` | runs SQL given as text |" for name in sorted(RUNS_SQL_TEXT)]
    out += [f"| `{name}` | assigns a transaction id (marked STABLE) |" for name in sorted(ASSIGNS_XID)]
    return "\n".join(out) + "\n"
