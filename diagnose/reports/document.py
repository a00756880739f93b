"""The report document: everything about one run, masked, as plain JSON-able data.

Renderers (Markdown, HTML, JSON, the terminal summary) only ever see this dict, so a secret
masked here is masked everywhere. Its shape is :data:`REPORT_SCHEMA` (``schema_version`` 2):
add fields freely, but renaming or removing one needs a new schema version.

Two kinds of text are masked differently: what the run observed (profile, messages, evidence,
host) gets full masking (known secrets and secret shapes); what knowledge-base authors wrote
(titles, solutions, manual commands) gets known-secret masking only, because shape rules
would mangle their examples (``export API_JWT_SECRET=<value>``) and they hold no user secret.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeAlias

import diagnose
from diagnose.checks.base import CheckResult, Status
from diagnose.clip import clip
from diagnose.i18n import language, t
from diagnose.kb.model import Entry, Pack, render_message, with_caveat
from diagnose.kb.settings import report_view as settings_view
from diagnose.masking import Masker
from diagnose.runner import Run, interruption

SCHEMA_VERSION = 2
TOOL_NAME = "diagnose"

#: a report document: masked, JSON-able data, what every format renders
Document: TypeAlias = dict[str, Any]
#: the two kinds of document: one symptom's run (:func:`build_document`; it has no ``kind`` field) and
#: every symptom's (:func:`diagnose.reports.triage_document.build_triage_document`, ``kind: triage``)
SYMPTOM, TRIAGE = "symptom", "triage"


def kind_of(document: Document) -> str:
    """:data:`SYMPTOM` or :data:`TRIAGE`: which of the two shapes ``document`` has."""
    return TRIAGE if document.get("kind") == TRIAGE else SYMPTOM


def build_document(run: Run, masker: Masker, *, generated_at: datetime | None = None,
                   approvers: dict[str, str] | None = None) -> Document:
    """The masked document of a :class:`diagnose.runner.Run`."""
    entry, pack = run.entry, run.pack
    results = list(run.results)
    raw_results = [r.to_dict() for r in results]
    # secrets found anywhere are masked everywhere
    masker.learn([run.profile, raw_results, [r.vars for r in results], run.host])

    def kb(text: Any) -> Any:
        return masker.mask(text, shapes=False)

    causes = run.causes
    implicated = [c.id for c in causes]
    checks_by_id = {c.id: c for c in entry.checks}
    checks = []
    for result, raw in zip(results, raw_results):
        spec = checks_by_id.get(result.id)
        checks.append({
            **raw,
            "title": kb(raw["title"]),
            "message": message_of(result, masker),
            "caveat": masker.mask_text(raw["caveat"]) if raw["caveat"] else None,
            "manual": kb(raw["manual"]),
            "evidence": [clip_evidence(e) for e in masker.mask(raw["evidence"])],
            "expects": kb(spec.expects if spec else ""),
            "cause_titles": [kb(_cause_title(entry, c)) for c in raw["cause"]],
        })
    counts = {status.value: sum(1 for r in results if r.status is status) for status in Status}
    document: Document = {
        **header(pack, masker, generated_at, run.started_at, run.finished_at, run.host, run.notes,
                 own=pack.layer_of(entry)),
        "symptom": {
            "id": entry.id, "title": kb(entry.title), "category": entry.category,
            "severity": entry.severity, "summary": kb(entry.summary), "page_url": pack.page_url(entry.id),
        },
        "verdict": run.verdict,
        "exit_code": run.exit_code,
        "incomplete": bool(run.incomplete),
        "interrupted": bool(getattr(run, "interrupted", False)),
        "signal": getattr(run, "signal", None),
        "deadline_reached": getattr(run, "deadline", None),
        "since": _iso(run.since) if run.since else None,
        "counts": counts,
        "profile": masker.mask(run.profile),
        "settings": [{**s, "value": kb(s["value"]), "default": kb(s["default"]), "description": kb(s["description"])}
                     for s in settings_view(entry)],
        "checks": checks,
        "causes": [{"id": c.id, "title": kb(c.title), "text": kb(c.text), "score": float(c.score),
                    "checks": list(c.checks)} for c in causes],
        "solutions": _solutions(entry, pack, implicated, run.verdict, results, approvers, masker,
                                _checked(run.preconditions, masker)),
        "prevention": kb(entry.prevention or ""),
        "related": [_related(pack, rid) for rid in entry.related],
    }
    document["masking"] = masker.summary()
    return document


#: characters shown, after masking, of: a value in a message, a log line, a table cell or value, a body
VAR_CHARS, LINE_CHARS, CELL_CHARS, TEXT_CHARS = 300, 500, 2000, 2000


def message_of(result: CheckResult, masker: Masker) -> str:
    """The result's message for a report: its template filled with masked, clipped values (the raw
    message may hold a secret that a clip would cut in two), then masked as a whole (a value may
    be a secret only by the words around it, ``password={value}``)."""
    if result.template is None:
        return clip(masker.mask_text(result.message), CELL_CHARS)
    values = {name: _clip_any(masker.mask(value), VAR_CHARS) for name, value in result.vars.items()}
    return masker.mask_text(with_caveat(render_message(result.template, values), result.caveat))


def clip_evidence(evidence: dict[str, Any]) -> dict[str, Any]:
    """Masked evidence shortened for display: lines, cells, values and text."""
    out = dict(evidence)
    if isinstance(out.get("lines"), list):
        out["lines"] = [{**line, "text": clip(str(line.get("text", "")), LINE_CHARS)} if isinstance(line, dict)
                        else line for line in out["lines"]]
    if isinstance(out.get("rows"), list):
        out["rows"] = [_clip_any(row, CELL_CHARS) for row in out["rows"]]
    if isinstance(out.get("values"), dict):
        out["values"] = _clip_any(out["values"], CELL_CHARS)
    if isinstance(out.get("text"), str):
        out["text"] = clip(out["text"], TEXT_CHARS)
    return out


def _clip_any(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return clip(value, limit)
    if isinstance(value, list):
        return [_clip_any(v, limit) for v in value]
    if isinstance(value, dict):
        return {k: _clip_any(v, limit) for k, v in value.items()}
    return value


def header(pack: Pack, masker: Masker, generated_at: datetime | None, started_at: datetime, finished_at: datetime,
           host: str | None, notes: list[str] | None = None, own: Pack | None = None) -> Document:
    """What every report document starts with: versions, times, host, and the run's notes (how
    it went beyond the checks: the role it connected as, connections held back...), the triage
    report too. ``knowledge_base`` is ``own`` (the pack a symptom comes from) or the whole ``pack``;
    with several packs, ``packs`` lists each. ``lang`` is the language its texts were written in (the tool's
    sentences, and the knowledge base's where the pack has them in it): the language in force."""
    own = own or pack
    knowledge_base: dict[str, Any] = {"name": own.name, "version": own.version, "digest": own.digest,
                      "root": masker.mask_text(str(own.root))}
    if pack.layers:
        knowledge_base["packs"] = [{"name": p.name, "version": p.version, "digest": p.digest,
                                    "root": masker.mask_text(str(p.root))} for p in pack.layers]
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": diagnose.__version__},
        "lang": language(),
        "knowledge_base": knowledge_base,
        "generated_at": _iso(generated_at or datetime.now(timezone.utc)),
        "started_at": _iso(started_at),
        "finished_at": _iso(finished_at),
        "duration_ms": round((finished_at - started_at).total_seconds() * 1000, 1),
        "host": masker.mask_text(host or ""),
        "notes": [masker.mask_text(note) for note in notes or []],
    }


def why_incomplete(doc: Document, short: bool = False) -> str:
    """Why a run (symptom or triage) ended early, for every renderer; ``""`` when it did not."""
    if doc.get("deadline_reached"):
        seconds = f"{doc['deadline_reached']:g}s"
        return (t("deadline of {seconds} reached", seconds=seconds) if short
                else t("the run's deadline ({seconds}) was reached", seconds=seconds))
    if doc.get("incomplete"):
        how = interruption(doc.get("signal"))
        if short:
            return t("interrupted") if how == "Ctrl-C" else t("interrupted by {how}", how=how)
        return t("the run was interrupted ({how})", how=how)
    return ""


def _cause_title(entry: Entry, cause_id: str) -> str:
    cause = entry.cause(cause_id)
    return cause.title if cause else cause_id


def _checked(preconditions: dict[str, CheckResult], masker: Masker) -> dict[str, dict[str, Any]]:
    """What the run found of each precondition: status and a masked message naming the first row."""
    out = {}
    for pid, result in preconditions.items():
        message = message_of(result, masker)
        rows = [(e.columns or [], e.rows[0]) for e in result.evidence if e.kind == "rows" and e.rows]
        if result.status is Status.FAIL and rows:
            first = dict(zip(*rows[0]))
            shown = ", ".join(f"{k}={masker.mask_text(str(v))}" for k, v in first.items())
            message = t("{message}; first: {row}", message=message, row=clip(shown, VAR_CHARS))
        out[pid] = {"status": result.status.value, "message": message}
    return out


def _solutions(entry: Entry, pack: Pack, implicated: list[str], verdict: str, results: list[CheckResult],
               approvers: dict[str, str] | None, masker: Masker,
               checked: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Solutions for the implicated causes first (best-ranked cause first), then the rest, each step
    with its risk, where it runs, who approves it (``approvers``: the profile's), its undo and how to
    verify it, and the ids this run found filled into its commands (a value masking would change is
    never filled in). A solution without ``causes`` applies whenever a problem was found. Shown, never run.
    """
    from diagnose.kb.steps import proven_on, records_markdown, solution_records

    def keep(value: Any) -> bool:
        return masker.mask_text(str(value)) == str(value)

    rank = {cause_id: i for i, cause_id in enumerate(implicated)}
    found = verdict in ("problem", "risk")  # a risk's fix is its prevention
    rows = []
    for order, solution in enumerate(entry.solutions):
        matches = [rank[c] for c in solution.causes if c in rank]
        applies = found and (bool(matches) or not solution.causes)
        key = (0 if matches else 1 if applies else 2, min(matches, default=0), order)
        records = masker.mask(solution_records(solution, entry, pack.policy_of(entry), results, approvers, keep, checked),
                              shapes=False)
        rows.append((key, {
            "id": solution.id, "title": masker.mask(solution.title, shapes=False), "causes": list(solution.causes),
            "applies": applies, "risk": solution.risk, "proven_on": proven_on(solution, entry),
            "steps": records, "markdown": records_markdown(records, entry),
        }))
    return [row for _, row in sorted(rows, key=lambda r: r[0])]


def _related(pack: Pack, entry_id: str) -> dict[str, Any]:
    other = pack.get(entry_id)
    return {"id": entry_id, "title": other.title if other else entry_id, "page_url": pack.page_url(entry_id)}


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# JSON Schema of the document, in parts; the public ones (CHECK_SCHEMA, SETTING_SCHEMA, TIME_SCHEMA) are the
# triage document's too, whose symptoms hold the same checks and settings
JsonSchema: TypeAlias = dict[str, Any]
_STR: JsonSchema = {"type": "string"}
_STR_OR_NULL = {"type": ["string", "null"]}
_STATUS = {"enum": [s.value for s in Status]}
_EVIDENCE = {
    "type": "object",
    "required": ["kind"],
    "properties": {
        "kind": {"enum": ["rows", "lines", "values", "text"]},
        "title": _STR,
        "columns": {"type": "array", "items": _STR},
        "rows": {"type": "array", "items": {"type": "array"}},
        "lines": {"type": "array", "items": {
            "type": "object", "required": ["text"],
            "properties": {"file": _STR_OR_NULL, "line": {"type": ["integer", "null"]},
                           "offset": {"type": "integer", "minimum": 0}, "text": _STR}}},
        "values": {"type": "object"},
        "text": _STR,
        "total": {"type": "integer", "minimum": 0},
    },
}
#: one check's result, as every report shows it
CHECK_SCHEMA: JsonSchema = {
    "type": "object",
    "required": ["id", "title", "kind", "status", "message", "cause", "duration_ms", "evidence",
                 "expects", "cause_titles"],
    "properties": {
        "id": _STR, "title": _STR, "kind": _STR, "source": _STR_OR_NULL, "status": _STATUS,
        "message": _STR, "cause": {"type": "array", "items": _STR},
        "role": {"enum": ["symptom", "cause", "history", "context"],
                 "description": "what a failure means: the symptom itself; a cause (alone: a risk); a past "
                                "event that names the cause of a present symptom (alone: nothing); context only"},
        "caveat": {**_STR_OR_NULL, "description": "what limits the finding (also said in the message)"},
        "conclusive": {"type": "boolean", "description": (
            "false when pass or fail rests on what the check could not establish (log lines without a time "
            "decided a windowed count): shown, but it alone decides no verdict")},
        "duration_ms": {"type": "number", "minimum": 0}, "manual": _STR_OR_NULL,
        "evidence": {"type": "array", "items": _EVIDENCE}, "expects": _STR,
        "cause_titles": {"type": "array", "items": _STR},
    },
}
_SCALAR = {"type": ["string", "number", "boolean"]}
#: one setting of an entry and the value a run used
SETTING_SCHEMA: JsonSchema = {
    "type": "object", "required": ["name", "value", "default", "from"],
    "properties": {
        "name": _STR, "value": _SCALAR, "default": _SCALAR,
        "from": {"enum": ["default", "profile"], "description": "where the value used comes from"},
        "type": {"enum": ["integer", "number", "string", "interval", "boolean"]},
        "unit": _STR_OR_NULL, "description": _STR,
    },
}
_STEP = {
    "type": "object", "required": ["n", "do", "risk"],
    "properties": {
        "n": {"type": "integer"}, "do": _STR, "risk": {"enum": ["read-only", "reversible", "trading", "outage"]},
        "where": _STR_OR_NULL, "sql": {**_STR_OR_NULL, "description": "filled with this run's ids; a change "
                                                                      "wrapped in BEGIN ... COMMIT"},
        "shell": _STR_OR_NULL, "env": {"type": ["object", "null"]}, "scope": _STR_OR_NULL,
        "filled": {"type": "object", "description": "placeholder -> the values this run found"},
        "not_filled": {"type": "object", "description": "placeholder -> why it could not be filled in"},
        "expect_rows": {"type": ["integer", "null"]}, "undo": _STR_OR_NULL,
        "verify": {"type": ["array", "string", "null"]},
        "approve": {"type": ["object", "null"], "description": "role, what it signs off, who (the profile's)"},
        "when": {"type": ["object", "null"]}, "requires": {"type": "array"},
        "provenance": _STR_OR_NULL,
    },
}
#: the language of a document's texts (a field added within ``schema_version`` 2: absent, they are English)
LANG_SCHEMA: JsonSchema = {
    "enum": ["en", "zh"],
    "description": ("the language of the report's texts: the tool's own sentences (in `solutions[].markdown`, "
                    "a step's notes) and the knowledge base's (titles, causes, messages: English where the pack "
                    "has no translation); ids, enum values, evidence and commands are never translated. "
                    "Absent: en"),
}
#: a UTC time, ``2026-11-21T08:15:02.123Z``
TIME_SCHEMA: JsonSchema = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"}

#: JSON Schema (draft 2020-12) of the report document, ``schema_version`` 2 (1 still read).
REPORT_SCHEMA: JsonSchema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://diagnose.invalid/schemas/report-1.json",
    "title": "diagnose report",
    "type": "object",
    "required": ["schema_version", "tool", "knowledge_base", "generated_at", "started_at",
                 "finished_at", "duration_ms", "host", "symptom", "verdict", "exit_code", "incomplete",
                 "counts", "profile", "checks", "causes", "solutions", "prevention", "related", "masking"],
    "properties": {
        "schema_version": {"enum": [1, SCHEMA_VERSION],
                           "description": "2: solution steps are records (risk, where, approve, undo, verify)"},
        "tool": {"type": "object", "required": ["name", "version"],
                 "properties": {"name": _STR, "version": _STR}},
        "lang": LANG_SCHEMA,
        "knowledge_base": {"type": "object", "required": ["name", "version", "digest", "root"],
                           "properties": {"name": _STR, "version": _STR, "digest": _STR, "root": _STR,
                                          "packs": {"type": "array", "description": (
                                              "every pack of a run with several (the built-in one first)"),
                                              "items": {"type": "object", "required": ["name", "version", "digest"],
                                                        "properties": {"name": _STR, "version": _STR,
                                                                       "digest": _STR, "root": _STR}}}}},
        "generated_at": TIME_SCHEMA, "started_at": TIME_SCHEMA, "finished_at": TIME_SCHEMA,
        "duration_ms": {"type": "number", "minimum": 0},
        "host": _STR,
        "notes": {"type": "array", "items": _STR,
                  "description": "how the run went beyond the checks (e.g. the role diagnose connected as)"},
        "symptom": {"type": "object",
                    "required": ["id", "title", "category", "severity", "summary", "page_url"],
                    "properties": {k: _STR for k in
                                   ("id", "title", "category", "severity", "summary", "page_url")}},
        "verdict": {"enum": ["problem", "risk", "healthy", "inconclusive"],
                    "description": "problem: the symptom is there; risk: a cause is there but not the symptom (yet)"},
        "exit_code": {"enum": [0, 1, 3, 4, 129, 130, 143]},
        "incomplete": {"type": "boolean"},
        "interrupted": {"type": "boolean", "description": "stopped by a signal: exit code 130 for Ctrl-C (SIGINT), "
                                                          "143 for SIGTERM, 129 for SIGHUP"},
        "signal": {"type": ["string", "null"], "description": "the signal that interrupted the run"},
        "deadline_reached": {"type": ["number", "null"], "description": "the --deadline (seconds) that ended the run"},
        "since": {"type": ["string", "null"], "description": (
            "--since: no time window of this run started earlier (a check's own window, e.g. `the last 1h`, "
            "was shortened to start here); checks of a state are unchanged")},
        "counts": {"type": "object", "required": [s.value for s in Status],
                   "additionalProperties": {"type": "integer", "minimum": 0}},
        "profile": {"type": "object"},
        "settings": {"type": "array", "items": SETTING_SCHEMA, "description": (
            "the entry's settings (named thresholds of its checks) and the value this run used for each: "
            "the entry's default, or the profile's (`settings:` of diagnose.yaml)")},
        "checks": {"type": "array", "items": CHECK_SCHEMA},
        "causes": {"type": "array", "items": {
            "type": "object", "required": ["id", "title", "text", "score", "checks"],
            "properties": {"id": _STR, "title": _STR, "text": _STR, "score": {"type": "number"},
                           "checks": {"type": "array", "items": _STR}}}},
        "solutions": {"type": "array", "items": {
            "type": "object", "required": ["id", "title", "steps", "causes", "applies"],
            "properties": {"id": _STR, "title": _STR, "applies": {"type": "boolean"},
                           "causes": {"type": "array", "items": _STR},
                           "risk": {"enum": ["read-only", "reversible", "trading", "outage"],
                                    "description": "the highest risk of its steps"},
                           "proven_on": {"type": "array", "items": _STR,
                                         "description": "examples whose self-test applies it and is healthy after"},
                           "markdown": {**_STR, "description": "the steps as every renderer shows them"},
                           "steps": {"anyOf": [
                               {"type": "string", "description": "schema_version 1: markdown"},
                               {"type": "array", "items": _STEP}]},
                           "variants": {"type": "array", "description": "schema_version 1 only"}}}},
        "prevention": _STR,
        "related": {"type": "array", "items": {
            "type": "object", "required": ["id", "title", "page_url"],
            "properties": {"id": _STR, "title": _STR, "page_url": _STR}}},
        "masking": {"type": "object", "required": ["secrets", "replacements", "by_kind"],
                    "properties": {"secrets": {"type": "integer", "minimum": 0},
                                   "replacements": {"type": "integer", "minimum": 0},
                                   "by_kind": {"type": "object",
                                               "additionalProperties": {"type": "integer"}}}},
    },
}


def log_line(line: dict[str, Any]) -> str:
    """One evidence line as ``file:line: text``; ``file (byte N): text`` when a time window
    skipped the start of the file, so only the byte offset of the line is known."""
    where = ":".join(str(p) for p in (line.get("file"), line.get("line")) if p not in (None, ""))
    if line.get("line") is None and line.get("offset") is not None:
        where = f"{where} (byte {line['offset']})" if where else f"byte {line['offset']}"
    return f"{where}: {line.get('text', '')}" if where else str(line.get("text", ""))


def run_notes(doc: Document) -> list[str]:
    """The run's notes (how it went beyond the checks); first, a run with ``--since`` says where its windows
    start (a message's "in the last 1h" means since then)."""
    since = [t("counting from {since} (--since): every time window starts there, so a message's \"in the last "
               "1h\" counts only what happened since; checks of a state are unchanged", since=doc["since"])] \
        if doc.get("since") else []
    return since + list(doc.get("notes") or [])


def note_lines(doc: Document) -> list[str]:
    """The run's notes, each ``Note: ...`` (every renderer shows them under the header)."""
    return [t("Note: {note}", note=note) for note in run_notes(doc)]


def setting_words(setting: dict[str, Any], name: Callable[[str], str] = str, text: Callable[[str], str] = str) -> str:
    """``max_wait = 30 minutes (profile; default 1 hour)``, or ``max_wait = 1 hour (default)``; ``name`` and
    ``text`` format the name and the rest (a renderer's escaping)."""
    unit = f" {setting['unit']}" if setting.get("unit") else ""

    def value(v: Any) -> str:
        return ("true" if v else "false") if isinstance(v, bool) else f"{v}{unit}"

    where = (t("profile; default {value}", value=value(setting["default"])) if setting.get("from") == "profile"
             else t("default"))
    rest = f" = {value(setting['value'])} ({where})"
    return name(setting["name"]) + text(rest)


def changed_settings(doc: Document) -> list[dict[str, Any]]:
    """The settings whose value came from the profile and differs from the entry's default."""
    return [s for s in doc.get("settings") or [] if s.get("from") == "profile" and s["value"] != s["default"]]


def changed_settings_line(doc: Document, prefix: str = "") -> str | None:
    """``Settings: max_wait = 30 minutes (profile; default 1 hour)``: the terminal's one line, only when the
    profile changed a threshold (a run at the defaults says nothing)."""
    changed = changed_settings(doc)
    return t("Settings: {settings}", settings=prefix + t(", ").join(setting_words(s) for s in changed)) \
        if changed else None


def masking_line(masking: dict[str, Any]) -> str:
    """``3 secret(s) masked in 5 place(s) (jwt 2, url-password 3)``: what was masked, how often
    (one wording for every report format)."""
    kinds = ", ".join(f"{kind} {count}" for kind, count in masking.get("by_kind", {}).items())
    if kinds:
        return t("{secrets} secret(s) masked in {replacements} place(s) ({kinds})", secrets=masking["secrets"],
                 replacements=masking["replacements"], kinds=kinds)
    return t("{secrets} secret(s) masked in {replacements} place(s)", secrets=masking["secrets"],
             replacements=masking["replacements"])
