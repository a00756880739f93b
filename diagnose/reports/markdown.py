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

from diagnose.i18n import t
from diagnose.reports.document import (
    TRIAGE,
    Document,
    kind_of,
    log_line,
    masking_line,
    run_notes,
    setting_words,
    why_incomplete,
)
from diagnose.reports.words import counts_words, severity_word, status_word, verdict_word

NAME = "md"
EXTENSION = "md"
DESCRIPTION = "Markdown, readable raw in a ticket"

#: the mark before a status (``✅ pass``) and a verdict (``❌ problem``); the words are the language's
SYMBOLS = {"pass": "✅", "fail": "❌", "error": "⚠️", "timeout": "⏱️", "skip": "⏭️"}
VERDICT_SYMBOLS = {"problem": "❌", "risk": "⚠️", "healthy": "✅", "inconclusive": "⚠️"}


def verdict_line(verdict: str) -> str:
    """``❌ **Problem found**``: the verdict as the report's header says it."""
    lines = {
        "problem": "❌ **" + t("Problem found") + "**",
        "risk": "⚠️ " + t("**Risk**: a known cause is there, but not the symptom (yet)"),
        "healthy": "✅ " + t("**Healthy**: no known cause found"),
        "inconclusive": "⚠️ " + t("**Inconclusive**: nothing concluded a problem, but some checks could not conclude"),
    }
    return lines[verdict]


def triage_verdict(verdict: str) -> str:
    """``❌ problem``: a symptom's verdict in the triage ranking."""
    return f"{VERDICT_SYMBOLS[verdict]} {verdict_word(verdict)}"

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
        parts.append(f"## {t('Evidence')}\n\n" + "\n\n".join(details))
    return parts + [_causes(doc), _solutions(doc), _footer(doc)]


def _header(doc: Document) -> str:
    s = doc["symptom"]
    counts = counts_words(doc["counts"])
    lines = [
        t("# diagnose report: {title} (`{id}`)", title=inline(s["title"]), id=s["id"]),
        "",
        t("{verdict} (exit code {code}): {counts}", verdict=verdict_line(doc["verdict"]), code=doc["exit_code"],
          counts=inline(counts)),
        "",
        f"> {inline(s['summary'], line_start=True).replace(chr(10), ' ')}",
        "",
        t("- **Symptom**: `{id}`, {category}, severity {severity}", id=s["id"], category=inline(s["category"]),
          severity=inline(severity_word(s["severity"]))),
        *_run_facts(doc),
        t("- **FAQ page**: <{url}>", url=s["page_url"]),
    ]
    if doc.get("settings"):
        lines.append(_settings_item(doc["settings"]))
    return "\n".join(lines + _run_state(doc))


def _checks(doc: Document) -> str:
    rows = [[_status(c), c["title"], c["message"], f"{c['duration_ms']:g} ms"] for c in doc["checks"]]
    return f"## {t('Checks')}\n\n" + table([t("Status"), t("Check"), t("Result"), t("Duration")], rows)


def _causes(doc: Document) -> str:
    if not doc["causes"]:
        return ""
    items = []
    for i, cause in enumerate(doc["causes"], 1):
        via = ", ".join(f"`{c}`" for c in cause["checks"])
        items.append(t("{n}. **{title}** (score {score}, from {checks}): {explanation}", n=i, title=inline(cause["title"]),
                       score=f"{cause['score']:g}", checks=via, explanation=inline(cause["text"]).replace(chr(10), " ")))
    return f"## {t('Likely causes')}\n\n" + "\n".join(items)


def _solutions(doc: Document) -> str:
    if not doc["solutions"]:
        return ""
    out = [f"## {t('Solutions')}", "", t("Shown, never run: read each step before you type it. Each says its risk, "
                                         "where it runs, who approves it, its undo and how to verify it; ids this "
                                         "run found are filled in.")]
    for solution in doc["solutions"]:
        out += ["", *_solution(solution, "###")]
    return "\n".join(out)


def _footer(doc: Document) -> str:
    out = []
    if doc["prevention"].strip():
        out += [f"## {t('Prevention')}", "", doc["prevention"].strip(), ""]
    if doc["related"]:
        out += [f"## {t('Related')}", ""]
        out += [f"- [{inline(r['title'])}]({r['page_url']}) (`{r['id']}`)" for r in doc["related"]]
        out.append("")
    return "\n".join(out + _masked_profile(doc, t("Full entry: <{url}>", url=doc["symptom"]["page_url"]) + " · "))


# -- a triage: the ranking first, then each symptom with a problem in full ---------------------------

def _triage(doc: Document) -> list[str]:
    parts = [_triage_header(doc), _ranking(doc)]
    parts += [_triage_symptom(s) for s in doc["symptoms"] if s["verdict"] == "problem"]
    risks = [s for s in doc["symptoms"] if s["verdict"] == "risk"]
    if risks:
        parts.append(f"## {t('Risks: causes found without the symptom (yet)')}\n\n" + t(
            "Not what is broken now: each of these will make its symptom appear (on the next restart, the next "
            "order, the next rollover) unless it is fixed."))
        parts += [_triage_symptom(s) for s in risks]
    unsure = [(s, c) for s in doc["symptoms"] if s["verdict"] == "inconclusive" for c in s["checks"] if _unsure(c)]
    if unsure:
        parts.append(f"## {t('What did not conclude')}\n\n" + "\n".join(
            f"- `{s['id']}`: {inline(c['title'])}: {inline(c['message'])}" for s, c in unsure))
    return parts + ["\n".join(_masked_profile(doc))]


def _unsure(check: dict[str, Any]) -> bool:
    """A check that could not conclude: no answer (error, timeout, skip), or one resting on log lines
    whose time is unknown."""
    return check["status"] in ("error", "timeout", "skip") or check.get("conclusive") is False


def _triage_header(doc: Document) -> str:
    c = doc["counts"]
    return "\n".join([
        f"# {t('diagnose triage')}",
        "",
        t("**{problem} symptom(s) with a problem**, {risk} at risk, {inconclusive} inconclusive, {healthy} healthy "
          "(exit code {code}); {checks} checks, {probes} distinct probes run.", problem=c["problem"], risk=c["risk"],
          inconclusive=c["inconclusive"], healthy=c["healthy"], code=doc["exit_code"], checks=doc["checks_total"],
          probes=doc["probes_run"]),
        "",
        *_run_facts(doc),
        *_run_state(doc),
    ])


def _ranking(doc: Document) -> str:
    rows = []
    for s in doc["symptoms"]:
        top = s["causes"][0]["title"] if s["causes"] else ""
        counts = counts_words(s["counts"])
        title = t("{title} (follows from {ids})", title=s["title"], ids=", ".join(s["follows"])) if s.get("follows") \
            else s["title"]
        rows.append([s["rank"], triage_verdict(s["verdict"]), f"{s['id']}", title,
                     f"{s['score']:g}" if s["verdict"] in ("problem", "risk") else "", top, counts])
    return f"## {t('Ranking')}\n\n" + table(["#", t("Verdict"), t("Symptom"), t("Title"), t("Score"), t("Top cause"),
                                              t("Checks")], rows)


def _triage_symptom(s: dict[str, Any]) -> str:
    follows = [t("Follows from {ids}: start there.", ids=", ".join(code_span(x) for x in s.get("follows") or [])), ""] \
        if s.get("follows") else []
    out = [f"## {s['rank']}. {inline(s['title'])} (`{s['id']}`)", "", *follows,
           t("Score {score} · {category} · severity {severity} · FAQ: <{url}>", score=f"{s['score']:g}",
             category=inline(s["category"]), severity=inline(severity_word(s["severity"])), url=s["page_url"]),
           *(["", _settings_item(s["settings"])] if s.get("settings") else []),
           "", table([t("Status"), t("Check"), t("Result")],
                     [[_status(c), c["title"], c["message"]] for c in s["checks"]])]
    if s["causes"]:
        out += ["", f"**{t('Likely causes')}**", ""]
        out += [t("{n}. **{title}** (score {score})", n=i, title=inline(c["title"]), score=f"{c['score']:g}")
                for i, c in enumerate(s["causes"], 1)]
    details = [_check_details(c, "####") for c in s["checks"] if c["status"] == "fail"]
    if details:
        out += ["", f"### {t('Evidence')}", "", "\n\n".join(details)]
    applying = [x for x in s["solutions"] if x["applies"]]
    if applying:
        out += ["", f"### {t('Solutions (shown, never run)')}"]
        for x in applying:
            out += ["", *_solution(x, "####")]
    return "\n".join(out)


# -- the parts both kinds have -------------------------------------------------------------------------

def _run_facts(doc: Document) -> list[str]:
    """When, where, with what: the header's list items."""
    kb, tool = doc["knowledge_base"], doc["tool"]
    return [
        t("- **Time**: {time} ({ms} ms)", time=inline(doc["started_at"]), ms=f"{doc['duration_ms']:g}"),
        t("- **Host**: {host}", host=inline(doc["host"])),
        t("- **Tool**: {name} {version}", name=inline(tool["name"]), version=inline(tool["version"])),
        t("- **Knowledge base**: {name} {version}, digest {digest}", name=inline(kb["name"]),
          version=inline(kb["version"]), digest=code_span(kb["digest"])),
    ]


def _run_state(doc: Document) -> list[str]:
    """Why the run is incomplete, if it is, and its notes: the header's last list items."""
    why = why_incomplete(doc)
    incomplete = [t("- **Incomplete**: {why}; checks marked *did not run* or *did not finish* were not finished",
                    why=why)] if why else []
    return incomplete + [t("- **Note**: {note}", note=inline(note)) for note in run_notes(doc)]


def _status(check: dict[str, Any]) -> str:
    status = check["status"]
    return f"{SYMBOLS[status]} {status_word(status)}" if status in SYMBOLS else status


def _settings_item(settings: list[dict[str, Any]]) -> str:
    """``- **Settings used**: `max_wait` = 30 minutes (profile; default 1 hour), ...``"""
    return t("- **Settings used**: {settings}", settings=t(", ").join(setting_words(s, code_span, inline)
                                                                      for s in settings))


def _check_details(check: dict[str, Any], heading: str = "###") -> str:
    out = [f"{heading} " + t("{status}: {title}", status=_status(check), title=inline(check["title"])), "",
           inline(check["message"], line_start=True)]
    if check.get("expects"):
        out += ["", t("Expected: {expects}", expects=inline(check["expects"]))]
    if check.get("cause_titles"):
        out += ["", t("A failure points to: {causes}", causes=t("; ").join(inline(c) for c in check["cause_titles"]))]
    for evidence in check["evidence"]:
        out += ["", _evidence(evidence)]
    if check.get("manual"):
        out += ["", t("Check it by hand:"), "", code_block(check["manual"], "sh")]
    return "\n".join(out)


def _evidence(ev: dict[str, Any]) -> str:
    title = f"**{inline(ev['title'])}**" if ev.get("title") else f"**{inline(ev['kind'])}**"
    shown, total = _shown(ev)
    if total is not None and total > shown:
        title = t("{title} (first {shown} of {total})", title=title, shown=shown, total=total)
    kind = ev.get("kind")
    if kind == "rows":
        body = table(ev.get("columns") or [], ev.get("rows") or []) if ev.get("columns") else t("(no rows)")
    elif kind == "lines":
        body = code_block("\n".join(log_line(line) for line in ev.get("lines") or []) or t("(no lines)"))
    elif kind == "values":
        body = "\n".join(_value_item(k, v) for k, v in (ev.get("values") or {}).items()) or t("(no values)")
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


def _solution(solution: dict[str, Any], heading: str) -> list[str]:
    """A solution under its heading (which says so when this run does not implicate it): what to know
    before the steps, then the steps."""
    title = inline(solution["title"])
    if not solution["applies"]:
        title = t("{title} (not implicated by this run)", title=title)
    return [f"{heading} {title}", "", _solution_facts(solution), "",
            solution["markdown"].strip()]


def _solution_facts(solution: dict[str, Any]) -> str:
    """``highest risk: trading · proven on example mode-switch``: what to know before the steps (none in a
    schema_version 1 document)."""
    from diagnose.kb.steps import risk_and_proof

    return risk_and_proof(solution["risk"], solution.get("proven_on") or []) if solution.get("risk") else ""


def _masked_profile(doc: Document, entry: str = "") -> list[str]:
    """The target profile as the run saw it, masked, and the closing line (``entry``: a link to the
    symptom's FAQ entry first)."""
    return [f"## {t('Target profile (secrets masked)')}", "",
            t("{masked} as `«masked-N»`; the same secret has the same label throughout this report.",
              masked=masking_line(doc["masking"])), "",
            code_block(json.dumps(doc["profile"], indent=2, ensure_ascii=False), "json"), "",
            f"---\n{entry}" + t("generated {time}", time=inline(doc["generated_at"]))]
