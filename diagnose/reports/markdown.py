"""The Markdown report (the default): readable raw in a ticket, correct when rendered.

Data never breaks the layout: inline text is backslash-escaped (pipes, backticks, ``<``...),
newlines in table cells become ``<br>``, and code blocks use a fence longer than any run of
backticks in their content. Solutions are knowledge-base Markdown and are inserted as written.
"""

from __future__ import annotations

import json
import re
from typing import Any

from diagnose.reports.document import log_line, masking_line, note_lines, why_incomplete

SYMBOLS = {"pass": "✅ pass", "fail": "❌ fail", "error": "⚠️ error", "timeout": "⏱️ timeout",
           "skip": "⏭️ skip"}
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


def _escape_line_start(match: re.Match) -> str:
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


def render(doc: dict[str, Any]) -> str:
    parts = [_header(doc), _checks(doc)]
    details = [_check_details(c) for c in doc["checks"] if c["status"] != "pass"]
    if details:
        parts.append("## Evidence\n\n" + "\n\n".join(details))
    parts += [_causes(doc), _solutions(doc), _footer(doc)]
    return "\n\n".join(p for p in parts if p) + "\n"


def _header(doc: dict[str, Any]) -> str:
    s, kb, tool = doc["symptom"], doc["knowledge_base"], doc["tool"]
    counts = ", ".join(f"{n} {status}" for status, n in doc["counts"].items() if n)
    lines = [
        f"# diagnose report: {inline(s['title'])} (`{s['id']}`)",
        "",
        f"{VERDICT_LINES[doc['verdict']]} (exit code {doc['exit_code']}): {inline(counts)}",
        "",
        f"> {inline(s['summary'], line_start=True).replace(chr(10), ' ')}",
        "",
        f"- **Symptom**: `{s['id']}`, {inline(s['category'])}, severity {inline(s['severity'])}",
        f"- **Time**: {inline(doc['started_at'])} ({doc['duration_ms']:g} ms)",
        f"- **Host**: {inline(doc['host'])}",
        f"- **Tool**: {inline(tool['name'])} {inline(tool['version'])}",
        f"- **Knowledge base**: {inline(kb['name'])} {inline(kb['version'])}, digest {code_span(kb['digest'])}",
        f"- **FAQ page**: <{s['page_url']}>",
    ]
    if why_incomplete(doc):
        lines.append(f"- **Incomplete**: {why_incomplete(doc)}; checks marked *did not run* or *did not finish* "
                     "were not finished")
    lines += [f"- **{inline(note).replace('Note:', 'Note**:', 1)}" for note in note_lines(doc)]
    return "\n".join(lines)


def _checks(doc: dict[str, Any]) -> str:
    rows = [[SYMBOLS.get(c["status"], c["status"]), c["title"], c["message"], f"{c['duration_ms']:g} ms"]
            for c in doc["checks"]]
    return "## Checks\n\n" + table(["Status", "Check", "Result", "Duration"], rows)


def _check_details(check: dict[str, Any]) -> str:
    out = [f"### {SYMBOLS.get(check['status'], check['status'])}: {inline(check['title'])}", "",
           inline(check["message"], line_start=True)]
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


def _causes(doc: dict[str, Any]) -> str:
    if not doc["causes"]:
        return ""
    items = []
    for i, cause in enumerate(doc["causes"], 1):
        via = ", ".join(f"`{c}`" for c in cause["checks"])
        items.append(f"{i}. **{inline(cause['title'])}** (score {cause['score']:g}, from {via}): "
                     f"{inline(cause['text']).replace(chr(10), ' ')}")
    return "## Likely causes\n\n" + "\n".join(items)


def _solutions(doc: dict[str, Any]) -> str:
    if not doc["solutions"]:
        return ""
    out = ["## Solutions", "", "Shown, never run: read each step before you type it. Each says its risk, where it "
           "runs, who approves it, its undo and how to verify it; ids this run found are filled in."]
    for solution in doc["solutions"]:
        mark = "" if solution["applies"] else " (not implicated by this run)"
        out += ["", f"### {inline(solution['title'])}{mark}", "", solution_facts(solution), "",
                solution["markdown"].strip()]
    return "\n".join(out)


def solution_facts(solution: dict[str, Any]) -> str:
    """``highest risk: trading · proven on example mode-switch``: what to know before the steps (none in a
    schema_version 1 document)."""
    from diagnose.kb.steps import risk_and_proof

    return risk_and_proof(solution["risk"], solution.get("proven_on") or []) if solution.get("risk") else ""


def _footer(doc: dict[str, Any]) -> str:
    out = []
    if doc["prevention"].strip():
        out += ["## Prevention", "", doc["prevention"].strip(), ""]
    if doc["related"]:
        out += ["## Related", ""]
        out += [f"- [{inline(r['title'])}]({r['page_url']}) (`{r['id']}`)" for r in doc["related"]]
        out.append("")
    masking = doc["masking"]
    out += ["## Target profile (secrets masked)", "",
            f"{masking_line(masking)} as `«masked-N»`; the same secret has the same label "
            "throughout this report.", "",
            code_block(json.dumps(doc["profile"], indent=2, ensure_ascii=False), "json"), "",
            f"---\nFull entry: <{doc['symptom']['page_url']}> · generated {inline(doc['generated_at'])}"]
    return "\n".join(out)
