"""The Markdown report (the default): readable raw in a ticket, correct when rendered.

Both kinds of document: a symptom's run (header, checks, evidence, causes, solutions) and a triage
(the ranking first, then each symptom with a problem or a risk in full); the parts they share (run
facts, check details, settings, solutions, the masked profile) are written once, here.

Data never breaks the layout: inline text is backslash-escaped (pipes, backticks, ``<``...),
newlines in table cells become ``<br>``, and code blocks use a fence longer than any run of
backticks in their content. Solutions are knowledge-base Markdown and are inserted as written.
"""

from __future__ import annotations

import json
import re
from typing import Any

from diagnose.reports.document import (
    TRIAGE,
    Document,
    kind_of,
    log_line,
    masking_line,
    note_lines,
    setting_words,
    why_incomplete,
)

NAME = "md"
EXTENSION = "md"
DESCRIPTION = "Markdown, readable raw in a ticket"

SYMBOLS = {"pass": "✅ pass", "fail": "❌ fail", "error": "⚠️ error", "timeout": "⏱️ timeout",
           "skip": "⏭️ skip"}
TRIAGE_VERDICTS = {"problem": "❌ problem", "risk": "⚠️ risk", "healthy": "✅ healthy",
                   "inconclusive": "⚠️ inconclusive"}
VERDICT_LINES = {
    "problem": "❌ **Problem found**",
    "risk": "⚠️ **Risk**: a known cause is there, but not the symptom (yet)",
    "healthy": "✅ **Healthy**: no known cause found",
    "inconclusive": "⚠️ **Inconclusive**: nothing concluded a problem, but some checks could not conclude",
}

# characters that mean something wherever they are; "&" only before an entity, "~" only doubled
_SPECIAL = re.compile(r"[\\`*\[\]<>|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|&(?=#?\w+;)|~(?=~)")
# what means something only at the start of a line: headings, lists, setext underlines
_LINE_START = re.compile(r"(?m)^([ \t]*)(?:([#+-]|\d{1,9}(?=[.)]))(?=[.)]?(?:\s|$))|(=+)(?=\s*$))")


def inline(value: Any, *, line_start: bool = False) -> str:
    """Escape text for use inside a Markdown paragraph, list item or table cell.

    ``line_start``: the text begins a line of the output, so a leading ``#``, ``-`` or ``1.``
    would make a heading or a list; later lines of multi-line text are always treated so.
    """
    text = "" if value is None else str(value)
    text = _SPECIAL.sub(lambda m: "\\" + m.group(0), text.replace("\r\n", "\n").replace("\r", "\n"))
    first, newline, rest = text.partition("\n")
    if line_start:
        first = _LINE_START.sub(_escape_line_start, first)
    return first + newline + _LINE_START.sub(_escape_line_start, rest)


def _escape_line_start(match: re.Match[str]) -> str:
    marker = match.group(2) or match.group(3)
    return match.group(1) + (marker + "\\" if marker[0].isdigit() else "\\" + marker)


def cell(value: Any) -> str:
    """A table cell: escaped, on one line."""
    if value is not None and not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    return inline(value).replace("\n", "<br>") or " "


def code_span(value: Any) -> str:
    text = str(value).replace("\n", " ")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(text: str, lang: str = "") -> str:
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text.rstrip(chr(10))}\n{fence}"


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render(document: Document) -> str:
    parts = _triage(document) if kind_of(document) == TRIAGE else _symptom_report(document)
    return "\n\n".join(p for p in parts if p) + "\n"


# -- a symptom's run ----------------------------------------------------------------------------------

def _symptom_report(doc: Document) -> list[str]:
    parts = [_header(doc), _checks(doc)]
    details = [_check_details(c) for c in doc["checks"] if c["status"] != "pass"]
    if details:
        parts.append("## Evidence\n\n" + "\n\n".join(details))
    return parts + [_causes(doc), _solutions(doc), _footer(doc)]


def _header(doc: Document) -> str:
    s = doc["symptom"]
    counts = ", ".join(f"{n} {status}" for status, n in doc["counts"].items() if n)
    lines = [
        f"# diagnose report: {inline(s['title'])} (`{s['id']}`)",
        "",
        f"{VERDICT_LINES[doc['verdict']]} (exit code {doc['exit_code']}): {inline(counts)}",
        "",
        f"> {inline(s['summary'], line_start=True).replace(chr(10), ' ')}",
        "",
        f"- **Symptom**: `{s['id']}`, {inline(s['category'])}, severity {inline(s['severity'])}",
        *_run_facts(doc),
        f"- **FAQ page**: <{s['page_url']}>",
    ]
    if doc.get("settings"):
        lines.append(_settings_item(doc["settings"]))
    return "\n".join(lines + _run_state(doc))


def _checks(doc: Document) -> str:
    rows = [[_status(c), c["title"], c["message"], f"{c['duration_ms']:g} ms"] for c in doc["checks"]]
    return "## Checks\n\n" + table(["Status", "Check", "Result", "Duration"], rows)


def _causes(doc: Document) -> str:
    if not doc["causes"]:
        return ""
    items = []
    for i, cause in enumerate(doc["causes"], 1):
        via = ", ".join(f"`{c}`" for c in cause["checks"])
        items.append(f"{i}. **{inline(cause['title'])}** (score {cause['score']:g}, from {via}): "
                     f"{inline(cause['text']).replace(chr(10), ' ')}")
    return "## Likely causes\n\n" + "\n".join(items)


def _solutions(doc: Document) -> str:
    if not doc["solutions"]:
        return ""
    out = ["## Solutions", "", "Shown, never run: read each step before you type it. Each says its risk, where it "
           "runs, who approves it, its undo and how to verify it; ids this run found are filled in."]
    for solution in doc["solutions"]:
        mark = "" if solution["applies"] else " (not implicated by this run)"
        out += ["", *_solution(solution, "###", mark)]
    return "\n".join(out)


def _footer(doc: Document) -> str:
    out = []
    if doc["prevention"].strip():
        out += ["## Prevention", "", doc["prevention"].strip(), ""]
    if doc["related"]:
        out += ["## Related", ""]
        out += [f"- [{inline(r['title'])}]({r['page_url']}) (`{r['id']}`)" for r in doc["related"]]
        out.append("")
    return "\n".join(out + _masked_profile(doc, f"Full entry: <{doc['symptom']['page_url']}> · "))


# -- a triage: the ranking first, then each symptom with a problem in full ---------------------------

def _triage(doc: Document) -> list[str]:
    parts = [_triage_header(doc), _ranking(doc)]
    parts += [_triage_symptom(s) for s in doc["symptoms"] if s["verdict"] == "problem"]
    risks = [s for s in doc["symptoms"] if s["verdict"] == "risk"]
    if risks:
        parts.append("## Risks: causes found without the symptom (yet)\n\nNot what is broken now: each of these will "
                     "make its symptom appear (on the next restart, the next order, the next rollover) unless it is "
                     "fixed.")
        parts += [_triage_symptom(s) for s in risks]
    unsure = [(s, c) for s in doc["symptoms"] if s["verdict"] == "inconclusive" for c in s["checks"] if _unsure(c)]
    if unsure:
        parts.append("## What did not conclude\n\n" + "\n".join(
            f"- `{s['id']}`: {inline(c['title'])}: {inline(c['message'])}" for s, c in unsure))
    return parts + ["\n".join(_masked_profile(doc))]


def _unsure(check: dict[str, Any]) -> bool:
    """A check that could not conclude: no answer (error, timeout, skip), or one resting on log lines
    whose time is unknown."""
    return check["status"] in ("error", "timeout", "skip") or check.get("conclusive") is False


def _triage_header(doc: Document) -> str:
    c = doc["counts"]
    return "\n".join([
        "# diagnose triage",
        "",
        f"**{c['problem']} symptom(s) with a problem**, {c['risk']} at risk, {c['inconclusive']} inconclusive, "
        f"{c['healthy']} healthy "
        f"(exit code {doc['exit_code']}); {doc['checks_total']} checks, {doc['probes_run']} distinct probes run.",
        "",
        *_run_facts(doc),
        *_run_state(doc),
    ])


def _ranking(doc: Document) -> str:
    rows = []
    for s in doc["symptoms"]:
        top = s["causes"][0]["title"] if s["causes"] else ""
        counts = ", ".join(f"{n} {k}" for k, n in s["counts"].items() if n)
        title = s["title"] + (f" (follows from {', '.join(s['follows'])})" if s.get("follows") else "")
        rows.append([s["rank"], TRIAGE_VERDICTS[s["verdict"]], f"{s['id']}", title,
                     f"{s['score']:g}" if s["verdict"] in ("problem", "risk") else "", top, counts])
    return "## Ranking\n\n" + table(["#", "Verdict", "Symptom", "Title", "Score", "Top cause", "Checks"], rows)


def _triage_symptom(s: dict[str, Any]) -> str:
    follows = [f"Follows from {', '.join(code_span(x) for x in s.get('follows') or [])}: start there.", ""] \
        if s.get("follows") else []
    out = [f"## {s['rank']}. {inline(s['title'])} (`{s['id']}`)", "", *follows,
           f"Score {s['score']:g} · {inline(s['category'])} · severity {inline(s['severity'])} · FAQ: <{s['page_url']}>",
           *(["", _settings_item(s["settings"])] if s.get("settings") else []),
           "", table(["Status", "Check", "Result"], [[_status(c), c["title"], c["message"]] for c in s["checks"]])]
    if s["causes"]:
        out += ["", "**Likely causes**", ""]
        out += [f"{i}. **{inline(c['title'])}** (score {c['score']:g})" for i, c in enumerate(s["causes"], 1)]
    details = [_check_details(c, "####") for c in s["checks"] if c["status"] == "fail"]
    if details:
        out += ["", "### Evidence", "", "\n\n".join(details)]
    applying = [x for x in s["solutions"] if x["applies"]]
    if applying:
        out += ["", "### Solutions (shown, never run)"]
        for x in applying:
            out += ["", *_solution(x, "####")]
    return "\n".join(out)


# -- the parts both kinds have -------------------------------------------------------------------------

def _run_facts(doc: Document) -> list[str]:
    """When, where, with what: the header's list items."""
    kb, tool = doc["knowledge_base"], doc["tool"]
    return [
        f"- **Time**: {inline(doc['started_at'])} ({doc['duration_ms']:g} ms)",
        f"- **Host**: {inline(doc['host'])}",
        f"- **Tool**: {inline(tool['name'])} {inline(tool['version'])}",
        f"- **Knowledge base**: {inline(kb['name'])} {inline(kb['version'])}, digest {code_span(kb['digest'])}",
    ]


def _run_state(doc: Document) -> list[str]:
    """Why the run is incomplete, if it is, and its notes: the header's last list items."""
    incomplete = [f"- **Incomplete**: {why_incomplete(doc)}; checks marked *did not run* or *did not finish* "
                  "were not finished"] if why_incomplete(doc) else []
    return incomplete + [f"- **{inline(note).replace('Note:', 'Note**:', 1)}" for note in note_lines(doc)]


def _status(check: dict[str, Any]) -> str:
    return SYMBOLS.get(check["status"], check["status"])


def _settings_item(settings: list[dict[str, Any]]) -> str:
    """``- **Settings used**: `max_wait` = 30 minutes (profile; default 1 hour), ...``"""
    return "- **Settings used**: " + ", ".join(setting_words(s, code_span, inline) for s in settings)


def _check_details(check: dict[str, Any], heading: str = "###") -> str:
    out = [f"{heading} {_status(check)}: {inline(check['title'])}", "", inline(check["message"], line_start=True)]
    if check.get("expects"):
        out += ["", f"Expected: {inline(check['expects'])}"]
    if check.get("cause_titles"):
        out += ["", "A failure points to: " + "; ".join(inline(t) for t in check["cause_titles"])]
    for evidence in check["evidence"]:
        out += ["", _evidence(evidence)]
    if check.get("manual"):
        out += ["", "Check it by hand:", "", code_block(check["manual"], "sh")]
    return "\n".join(out)


def _evidence(ev: dict[str, Any]) -> str:
    title = f"**{inline(ev['title'])}**" if ev.get("title") else f"**{inline(ev['kind'])}**"
    shown, total = _shown(ev)
    if total is not None and total > shown:
        title += f" (first {shown} of {total})"
    kind = ev.get("kind")
    if kind == "rows":
        body = table(ev.get("columns") or [], ev.get("rows") or []) if ev.get("columns") else "(no rows)"
    elif kind == "lines":
        body = code_block("\n".join(log_line(line) for line in ev.get("lines") or []) or "(no lines)")
    elif kind == "values":
        body = "\n".join(_value_item(k, v) for k, v in (ev.get("values") or {}).items()) or "(no values)"
    else:
        body = code_block(str(ev.get("text", "")))
    return f"{title}\n\n{body}"


def _shown(ev: dict[str, Any]) -> tuple[int, int | None]:
    items = ev.get("rows") if ev.get("kind") == "rows" else ev.get("lines") or []
    return len(items or []), ev.get("total")


def _value_item(name: str, value: Any) -> str:
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    if "\n" in value:
        block = code_block(value).replace("\n", "\n  ")
        return f"- **{inline(name)}**:\n\n  {block}"
    return f"- **{inline(name)}**: {code_span(value)}"


def _solution(solution: dict[str, Any], heading: str, mark: str = "") -> list[str]:
    """A solution under its heading: what to know before the steps, then the steps."""
    return [f"{heading} {inline(solution['title'])}{mark}", "", _solution_facts(solution), "",
            solution["markdown"].strip()]


def _solution_facts(solution: dict[str, Any]) -> str:
    """``highest risk: trading · proven on example mode-switch``: what to know before the steps (none in a
    schema_version 1 document)."""
    from diagnose.kb.steps import risk_and_proof

    return risk_and_proof(solution["risk"], solution.get("proven_on") or []) if solution.get("risk") else ""


def _masked_profile(doc: Document, entry: str = "") -> list[str]:
    """The target profile as the run saw it, masked, and the closing line (``entry``: a link to the
    symptom's FAQ entry first)."""
    return ["## Target profile (secrets masked)", "",
            f"{masking_line(doc['masking'])} as `«masked-N»`; the same secret has the same label throughout this "
            "report.", "",
            code_block(json.dumps(doc["profile"], indent=2, ensure_ascii=False), "json"), "",
            f"---\n{entry}generated {inline(doc['generated_at'])}"]
