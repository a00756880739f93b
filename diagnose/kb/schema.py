"""The knowledge-base schema: one definition for validation, editors and the docs.

``entry_schema()`` is the JSON Schema of one ``checks/<category>/<id>.yaml`` file, with the
kind-specific fields of every check kind merged in from the kinds' own ``SCHEMA``; ``diagnose
schema`` exports it so editors validate entries as they are typed, and the docs site renders
its field reference from it. Validation happens in two passes (entry, then each check against
its kind) so an unknown kind yields one clear message instead of a cascade.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from diagnose.checks import kind_names, load_kind, usable_kind_names
from diagnose.kb.model import RISKS, SEVERITIES, VERDICTS
from diagnose.kb.settings import ENTRY_FIELD as SETTINGS_FIELD

ID = {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 64,
      "description": "kebab-case, stable and unique"}
TEXT = {"type": "string", "minLength": 1, "maxLength": 20000}
DURATION = {"type": "number", "exclusiveMinimum": 0, "maximum": 3600}

#: where a claim comes from: the seed (the system's own plan and code), the reference-stack facts,
#: a vendor's documentation, general knowledge of the technology, or an assumption (a wording
#: or behaviour the sources do not give: the page says so)
PROVENANCE_FROM = ("seed", "reference", "vendor", "general", "assumed")
PROVENANCE = {
    "type": "object", "additionalProperties": False, "required": ["from"],
    "description": "where this claim comes from, shown on the page",
    "properties": {
        "from": {"enum": list(PROVENANCE_FROM), "description": (
            "seed: the system's own plan or code; reference: reference-stack facts; vendor: the vendor's "
            "documentation; general: general knowledge of the technology; assumed: not in any source (an "
            "expected wording or behaviour, said so on the page)")},
        "ref": {**TEXT, "description": "which part of it (a seed section, a URL, a file)"},
        "note": {**TEXT, "description": "what the source says, or why it is assumed"},
    },
}

CAUSE = {
    "type": "object", "additionalProperties": False, "required": ["id", "title", "text"],
    "properties": {
        "id": ID,
        "title": {**TEXT, "description": "one line naming the cause"},
        "text": {**TEXT, "description": "why this happens (markdown)"},
        "provenance": PROVENANCE,
    },
}

WHERE = r"^(host|database:[a-z0-9_-]+|container:[a-z0-9_.-]+|ui:[A-Za-z0-9 _.()-]+)$"

STEP = {
    "type": "object", "additionalProperties": False, "required": ["do", "risk"],
    "properties": {
        "do": {**TEXT, "description": "what to do and why, in a sentence or two (markdown)"},
        "risk": {"enum": list(RISKS), "description": (
            "read-only: looks, changes nothing; reversible: a change with an undo beside it; trading: places, "
            "closes, locks or rolls positions or changes the trading mode or main contract; outage: stops or "
            "restarts something others use")},
        "where": {"type": "string", "pattern": WHERE, "description": (
            "where the commands run: `host` (the deployment's host, in the compose folder), `container:NAME` "
            "(inside that compose service), `database:NAME` (a psql session on that database source) or "
            "`ui:NAME` (a program's screen, e.g. `ui:Polar Star`)")},
        "sql": {**TEXT, "description": (
            "SQL run in `where: database:NAME`. A change (INSERT/UPDATE/DELETE) needs RETURNING and `rows`; "
            "the page and reports open it with BEGIN, state the row count to expect and leave COMMIT to the operator")},
        "shell": {**TEXT, "description": "bash commands run in `where`; checked with `bash -n` and the pack's "
                                         "command table"},
        "env": {"type": "object", "additionalProperties": False, "required": ["source"],
                "description": "an edit of an env file, applied by the self-test to the broken example",
                "properties": {
                    "source": {"type": "string", "description": "the env source (pack.yaml) the edit is in"},
                    "set": {"type": "object", "additionalProperties": {"type": "string"},
                            "description": "KEY: value (a `<placeholder>` the operator fills in)"},
                    "unset": {"type": "array", "items": {"type": "string"}}}},
        "scope": {**TEXT, "description": "exactly what the step touches (rows, keys, services); required for a change"},
        "fill": {"type": "object", "description": (
            "{name} placeholders in sql/shell filled from this run's evidence: the values of `column` in the "
            "rows check `check` listed, as SQL literals. On the site they stay `{name}`"),
            "additionalProperties": {"type": "object", "additionalProperties": False, "required": ["check", "column"],
                                     "properties": {"check": ID, "column": {"type": "string"}}}},
        "confirm": {**TEXT, "description": (
            "what the operator confirms for each filled id before the step (e.g. `Bybit shows size 0`): the "
            "report lists the ids the diagnosis found as candidates, the operator keeps only those confirmed, "
            "and expects one row per id kept")},
        "rows": {"description": "rows the change must return before COMMIT: a number, or the name of a fill "
                                "(one row per value)",
                 "anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^[a-z_][a-z0-9_]*$"}]},
        "undo": {**TEXT, "description": "how to reverse the step (SQL in a fenced block, or the backup to restore)"},
        "verify": {"description": "how to see that it worked: check ids of this entry (re-run with --since), "
                                  "or words",
                   "anyOf": [{"type": "array", "items": ID, "minItems": 1}, TEXT]},
        "approve": {**ID, "description": "who must approve (a role of pack.yaml `approvers`)"},
        "when": {**ID, "description": "when it may run (a window of pack.yaml `windows`)"},
        "requires": {"type": "array", "items": ID,
                     "description": "preconditions (pack.yaml `preconditions`) checked first"},
        "provenance": PROVENANCE,
    },
}

SOLUTION = {
    "type": "object", "additionalProperties": False, "required": ["id", "title", "steps"],
    "properties": {
        "id": ID,
        "title": {**TEXT, "description": "what this solution does, in one line"},
        "causes": {"type": "array", "items": ID, "description": "causes it fixes (default: all)"},
        "steps": {"type": "array", "items": STEP, "minItems": 1,
                  "description": "the steps in order, each with its risk and where it runs"},
    },
}

AVOID = {
    "type": "object", "additionalProperties": False, "required": ["dont", "why"],
    "properties": {"dont": {**TEXT, "description": "what not to do"},
                   "why": {**TEXT, "description": "what it would break"},
                   "provenance": PROVENANCE},
}

#: fields every check has, whatever its kind
CHECK_COMMON: dict[str, Any] = {
    "id": ID,
    "kind": {"type": "string", "description": "the check kind (the built-in ones and those of installed plugins)"},
    "title": {**TEXT, "description": "what the check looks at, in one line"},
    "expects": {**TEXT, "description": "what a healthy system shows, in words"},
    "cause": {"description": "the cause(s) a failure points to; omit for checks that confirm the symptom",
              "anyOf": [ID, {"type": "array", "items": ID, "minItems": 1}]},
    "message": {
        "description": "templates for the result message; {name} fields come from the check's variables",
        "anyOf": [TEXT, {"type": "object", "additionalProperties": False, "minProperties": 1,
                         "properties": {"pass": TEXT, "fail": TEXT}}],
    },
    "symptom": {"type": "boolean", "description": (
        "a failure shows the symptom itself, as users see it (default: true for checks without a cause). "
        "Only such a failure makes the verdict `problem`; a failed cause check without one is a `risk` (the "
        "cause is there, the symptom not yet). `symptom: false` on a check without a cause makes it context: "
        "its failure alone is neither a problem nor a risk")},
    "history": {"type": "boolean", "description": (
        "the failure is a past event (a crash, a kill, a restart): it names the cause of a symptom that is "
        "present, but alone it is neither a problem nor a risk (the service has restarted since). Only for "
        "checks with a cause")},
    "manual": {**TEXT, "description": "the equivalent command a human would run (psql, grep, curl)"},
    "timeout": {**DURATION, "description": "seconds this check may take (default: --timeout)"},
    "weight": {"type": "number", "minimum": 0, "maximum": 100,
               "description": "how strongly a failure implicates its cause (default 1)"},
    "provenance": {**PROVENANCE, "description": "where the pattern's text or the fact checked comes from"},
}

#: one statement (a text), or a list of them run in order
STATEMENTS = {"anyOf": [TEXT, {"type": "array", "items": TEXT, "minItems": 1, "maxItems": 50}]}

SESSION = {
    "type": "object", "additionalProperties": False,
    "description": "connections the world holds open, in list order (a lock holder before its waiters): "
                   "a `state`, or the `sql` they run (then `hold` and `wait` say what they keep doing)",
    "properties": {
        "state": {"enum": ["idle", "idle in transaction", "active"],
                  "description": "what the held connections do: idle; idle in transaction (BEGIN + SELECT 1 "
                                 "left open: no snapshot, xid or lock, use sql with hold: open for those); "
                                 "active (a query that sleeps)"},
        "sql": {**STATEMENTS, "description": (
            "statements each connection runs in order, each in its own transaction unless they open one (BEGIN); "
            "then it stays connected. `PREPARE TRANSACTION 'name'` leaves a prepared transaction (needs server "
            "settings max_prepared_transactions), rolled back when the world closes")},
        "hold": {"enum": ["open"], "description": (
            "open: the statements run in a transaction left open (BEGIN first unless the first statement is "
            "BEGIN ... / START TRANSACTION ..., e.g. BEGIN ISOLATION LEVEL REPEATABLE READ): it keeps its "
            "snapshot (backend_xmin), its xid once it wrote, and its locks")},
        "wait": {"const": True, "description": (
            "true: the last statement blocks (a lock a session listed before holds, pg_sleep); the world is ready "
            "once pg_stat_activity shows it active and waiting, and it is a broken example if it finishes instead")},
        "count": {"type": "integer", "minimum": 1, "maximum": 50, "description": "how many (default 1)"},
        "application_name": {"type": "string", "maxLength": 63, "description": "shown in pg_stat_activity"},
        "idle_for": {"type": "integer", "minimum": 0, "maximum": 30,
                     "description": "seconds the world waits for them to have been in their state (idle, holding "
                                    "or waiting; default 0)"},
    },
}

SERVER_SETTINGS = {
    "type": "object", "propertyNames": {"pattern": r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$"},
    "additionalProperties": {"type": ["string", "number", "boolean"]},
    "description": "server setting -> value, as in postgresql.conf (booleans: on/off); not the ones diagnose starts "
                   "and reaches it with (port, listen_addresses, unix_socket_directories, data_directory, ...)",
}

SERVER = {
    "description": (
        "a PostgreSQL server of this world's own instead of the one worlds share: `dedicated` (for an example "
        "that reads views of the whole server: pg_stat_activity counts, pg_prepared_xacts, or changes it: CREATE "
        "DATABASE, roles), or `{settings: {max_connections: 20, max_prepared_transactions: 5}}` (started with "
        "them; dedicated implied). Examples with the same settings run one after another on one server"),
    "anyOf": [
        {"const": "dedicated"},
        {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {
            "dedicated": {"const": True, "description": "true: a server of its own, with the usual settings"},
            "settings": SERVER_SETTINGS}},
    ],
}

EXAMPLE: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["name", "verdict", "world"],
    "properties": {
        "name": ID,
        "description": TEXT,
        "verdict": {"enum": list(VERDICTS), "description": "the verdict the entry must reach in this world"},
        "causes": {"type": "array", "items": ID, "description": "causes that must be implicated (first = top)"},
        "fails": {"type": "array", "items": ID,
                  "description": "exactly the checks that must fail in this world (required for broken examples)"},
        "fix": {"type": "object", "additionalProperties": False, "required": ["solution"],
                "description": "the self-test applies this solution to the world (SQL and env edits), runs the "
                               "checks again with windows starting at the fix, and requires the entry healthy",
                "properties": {"solution": ID,
                               "values": {"type": "object", "additionalProperties": {"type": "string"},
                                          "description": "values for `<placeholders>` of the env edits"}}},
        "skips": {"type": "array", "items": ID,
                  "description": "exactly the checks that must be skipped in this world: it lacks what they "
                                 "compare with (e.g. the variable a param reads), and they say so"},
        "world": {
            "type": "object", "additionalProperties": False,
            "description": "data the self-test builds for real",
            "properties": {
                "databases": {"type": "object", "description": "source name -> SQL run on top of the reference schema",
                              "additionalProperties": {"type": "string"}},
                "autocommit": {"type": "object", "additionalProperties": STATEMENTS, "description": (
                    "database source name -> statements run one by one outside any transaction block, after "
                    "`databases` and before `sessions` (VACUUM, ANALYZE, CREATE INDEX CONCURRENTLY; CREATE DATABASE "
                    "and roles only with `server`)")},
                "sessions": {"type": "object", "description": "database source name -> connections held open "
                             "while the world exists", "additionalProperties": {"type": "array", "items": SESSION}},
                "server": SERVER,
                "modified": {"type": "object", "additionalProperties": {"type": "string", "pattern": r"^\d+[smhd]$"},
                             "description": "log source name -> how long ago its file was last written (`3d`): "
                                            "a log nobody has written since, as a window sees it"},
                "logs": {"type": "object", "description": "source name -> log text; {now-2h} is a timestamp two hours ago",
                         "additionalProperties": {"type": "string"}},
                "env": {"type": "object", "description": "source name -> env file keys and values",
                        "additionalProperties": {"type": "object",
                                                 "additionalProperties": {"type": ["string", "number", "boolean"]}}},
                "endpoints": {"type": "object", "description": "source name -> behaviour of a small server on 127.0.0.1",
                              "additionalProperties": {"type": "object"}},
                "clock": {"type": "object", "additionalProperties": False,
                          "description": "when and where the world happens: the host's time zone (log times, the "
                                         "profile's timezone, the databases' TimeZone) and, with `at`, another moment "
                                         "than now (built with libfaketime)",
                          "properties": {"timezone": {"type": "string", "description": "e.g. Asia/Shanghai"},
                                         "at": {"type": "string", "description": "local time in `timezone`, "
                                                "e.g. 2026-12-05 14:00"}}},
            },
        },
    },
}


def world_building_sources() -> dict[str, ModuleType]:
    """The source types that build their own part of an example world (a ``world(name, spec, workdir)``
    function returning the profile value; a plugin's, or a built-in one added since): those whose section
    is not one of the world sections :data:`EXAMPLE` describes, which :mod:`diagnose.world.build` builds."""
    from diagnose.sources import source_types

    worlds = EXAMPLE["properties"]["world"]["properties"]
    return {section: module for section, module in source_types().items()
            if section not in worlds and callable(getattr(module, "world", None))}


def example_schema() -> dict[str, Any]:
    """An example: :data:`EXAMPLE`, its world also holding a section per source type that builds its own
    worlds (:func:`world_building_sources`, each with its spec schema ``WORLD_SCHEMA``)."""
    extra = {section: {"type": "object", "additionalProperties": getattr(module, "WORLD_SCHEMA", {}),
                       "description": f"{module.NOUN} source name -> what its source type builds"}
             for section, module in world_building_sources().items()}
    if not extra:
        return EXAMPLE
    world = EXAMPLE["properties"]["world"]
    return {**EXAMPLE, "properties": {**EXAMPLE["properties"],
                                      "world": {**world, "properties": {**world["properties"], **extra}}}}


def kind_property() -> dict[str, Any]:
    """``kind:`` of a check: one of the kinds registered now (built-in and plugins)."""
    return {**CHECK_COMMON["kind"], "enum": kind_names()}


def check_schema(kind: str | None = None) -> dict[str, Any]:
    """Schema of one check; with ``kind``, including that kind's own fields."""
    properties = {**CHECK_COMMON, "kind": kind_property()}
    required = ["id", "kind", "title", "expects"]
    extra: dict[str, Any] = {"additionalProperties": True}
    if kind is not None:
        fragment = load_kind(kind).SCHEMA
        properties.update(fragment.get("properties", {}))
        required += [r for r in fragment.get("required", []) if r not in required]
        extra = {"additionalProperties": False}
    return {"type": "object", "required": required, "properties": properties, **extra}


def entry_schema(with_kinds: bool = False) -> dict[str, Any]:
    """Schema of one entry file; ``with_kinds`` merges every kind's fields (for export)."""
    checks_items: dict[str, Any] = check_schema()
    if with_kinds:
        checks_items = {
            "type": "object", "required": ["kind"], "properties": {"kind": kind_property()},
            "allOf": [{"if": {"properties": {"kind": {"const": k}}}, "then": check_schema(k)}
                      for k in usable_kind_names()],
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://diagnose.invalid/schema/entry.json",
        "title": "diagnose knowledge-base entry",
        "description": "One symptom: what the user sees, its causes, the checks that tell them apart, the fixes.",
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "title", "category", "severity", "summary", "causes", "checks", "solutions", "examples"],
        "properties": {
            "id": {**ID, "description": "the CLI argument and the FAQ page URL"},
            "title": {**TEXT, "description": "the symptom as a question or statement"},
            "category": {**ID, "description": "the folder the entry lives in: one of the `categories` of pack.yaml "
                                              "(any folder name when pack.yaml declares none)"},
            "severity": {"enum": list(SEVERITIES), "description": "how bad the symptom is for operations"},
            "aliases": {"type": "array", "items": {"type": "string", "minLength": 1},
                        "description": "other names users type for this symptom"},
            "summary": {**TEXT, "description": "what the user sees (markdown)"},
            "seen": {"type": "array", "items": TEXT,
                     "description": "messages and screens exactly as users report them"},
            "error_patterns": {"type": "array", "items": {"type": "string", "minLength": 1},
                               "description": "regexes of error messages this symptom explains (diagnose explain)"},
            "causes": {"type": "array", "items": CAUSE, "minItems": 1},
            "settings": SETTINGS_FIELD,
            "checks": {"type": "array", "items": checks_items, "minItems": 1},
            "solutions": {"type": "array", "items": SOLUTION, "minItems": 1},
            "avoid": {"type": "array", "items": AVOID,
                      "description": "what not to do while fixing this symptom, and why"},
            "prevention": {**TEXT, "description": "how to keep it from happening again (markdown)"},
            "related": {"type": "array", "items": ID, "description": "ids of related entries"},
            "follows": {"type": "array", "items": ID, "description": (
                "symptoms this one follows from (the backend cannot start: no WebSocket can connect). When one "
                "of them is a problem in the same `diagnose triage`, this one is ranked after it and said to "
                "follow from it: the operator starts from the root")},
            "examples": {"type": "array", "items": example_schema(), "minItems": 1,
                         "description": "worlds for the self-test: broken ones and a healthy one"},
        },
    }


PACK_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "diagnose knowledge pack manifest (pack.yaml)",
    "type": "object", "additionalProperties": False, "required": ["name", "version", "sources"],
    "properties": {
        "name": TEXT,
        "title": {**TEXT, "description": "the pack's name for people: the FAQ site's title and home page "
                                        "(default: name)"},
        "version": {"type": "string"},
        "site_url": {"type": "string", "description": "where the FAQ site is published; reports link to it"},
        "description": TEXT,
        "languages": {"type": "array", "items": {"enum": ["en", "zh"]}, "uniqueItems": True,
                      "description": "the languages every entry of the pack is complete in (`en` always: the "
                                     "entries themselves); each other one has an overlay beside every entry "
                                     "(`<id>.zh.yaml`) and pack.yaml (`pack.zh.yaml`), and lint reports what is "
                                     "missing or stale. Without it the pack is English-only"},
        "categories": {"type": "object", "propertyNames": {"pattern": ID["pattern"]}, "additionalProperties": TEXT,
                       "description": "category id -> its title, in the order lists and the site show them; an "
                                      "entry's category (its folder) must be one of them. Without it, every "
                                      "folder is a category"},
        "reference_schemas": {"type": "object", "additionalProperties": {"type": "string"},
                              "description": "database name -> schema SQL file the self-test loads"},
        "require_provenance": {"type": "boolean", "description": (
            "true: lint refuses a cause or a log check without `provenance` (every claim of the pack is traced "
            "to a source, or marked assumed)")},
        "approvers": {"type": "object", "propertyNames": {"pattern": ID["pattern"]},
                      "additionalProperties": TEXT,
                      "description": "role -> what it signs off; a profile's `approvers` names the people or "
                                     "channel for each role. Trading and outage steps name one"},
        "windows": {"type": "object", "propertyNames": {"pattern": ID["pattern"]}, "additionalProperties": TEXT,
                    "description": "window id -> when such a step may run (e.g. outside trading hours)"},
        "preconditions": {
            "type": "object", "propertyNames": {"pattern": ID["pattern"]},
            "description": "id -> a read-only query that must return no rows before a step that requires it",
            "additionalProperties": {
                "type": "object", "additionalProperties": False, "required": ["title", "database", "sql", "why"],
                "properties": {"title": TEXT, "database": {"type": "string"}, "sql": TEXT, "why": TEXT}}},
        "restarts": {"type": "object", "additionalProperties": {"type": "array", "items": ID},
                     "description": "compose service -> preconditions every step that stops or restarts it requires"},
        "trading_keys": {"type": "array", "items": {"type": "string"},
                         "description": "env keys whose edit changes what trades (EXECUTION_MODE): risk trading"},
        "commands": {"type": "object", "additionalProperties": False,
                     "description": "the commands a shell step may use, by where it runs",
                     "properties": {"host": {"type": "array", "items": {"type": "string"}},
                                    "container": {"type": "array", "items": {"type": "string"}}}},
        # "sources": one property per source type, added by pack_schema()
    },
}


def pack_schema() -> dict[str, Any]:
    """The schema of ``pack.yaml``: :data:`PACK_SCHEMA` with a ``sources`` section per source type (the
    built-in ones and those of installed plugins, :mod:`diagnose.sources`)."""
    from diagnose.sources import source_types

    declared = {"type": "object", "additionalProperties": {
        "type": "object", "additionalProperties": False, "required": ["description"],
        "properties": {"description": TEXT, "example": {"type": "string"}}}}
    sources = {"type": "object", "additionalProperties": False,
               "description": "the data-source names checks may use, per source type",
               "properties": {section: declared for section in source_types()}}
    return {**PACK_SCHEMA, "properties": {**PACK_SCHEMA["properties"], "sources": sources}}

