"""The triage report in Markdown: the ranking first, then each symptom with a problem in full."""

from __future__ import annotations

import json
from typing import Any

from diagnose.reports.document import masking_line, note_lines, why_incomplete
from diagnose.reports.markdown import SYMBOLS, _check_details, code_block, code_span, inline, solution_facts, table

VERDICTS = {"problem": "❌ problem", "risk": "⚠️ risk", "healthy": "✅ healthy", "inconclusive": "⚠️ inconclusive"}


def render(doc: dict[str, Any]) -> str:
    parts = [_header(doc), _ranking(doc)]
    for symptom in doc["symptoms"]:
        if symptom["verdict"] == "problem":
            parts.append(_symptom(symptom))
    risks = [s for s in doc["symptoms"] if s["verdict"] == "risk"]
    if risks:
        parts.append("## Risks: causes found without the symptom (yet)\n\nNot what is broken now: each of these will "
                     "make its symptom appear (on the next restart, the next order, the next rollover) unless it is "
                     "fixed.")
        parts += [_symptom(s) for s in risks]
    unsure = [(s, c) for s in doc["symptoms"] if s["verdict"] == "inconclusive" for c in s["checks"] if _unsure(c)]
    if unsure:
        parts.append("## What did not conclude\n\n" + "\n".join(
            f"- `{s['id']}`: {inline(c['title'])}: {inline(c['message'])}" for s, c in unsure))
    parts.append(_footer(doc))
    return "\n\n".join(p for p in parts if p) + "\n"


def _unsure(check: dict[str, Any]) -> bool:
    """A check that could not conclude: no answer (error, timeout, skip), or one resting on log lines
    whose time is unknown."""
    return check["status"] in ("error", "timeout", "skip") or check.get("conclusive") is False


def _header(doc: dict[str, Any]) -> str:
    c, kb = doc["counts"], doc["knowledge_base"]
    return "\n".join([
        "# diagnose triage",
        "",
        f"**{c['problem']} symptom(s) with a problem**, {c['risk']} at risk, {c['inconclusive']} inconclusive, "
        f"{c['healthy']} healthy "
        f"(exit code {doc['exit_code']}); {doc['checks_total']} checks, {doc['probes_run']} distinct probes run.",
        "",
        f"- **Time**: {inline(doc['started_at'])} ({doc['duration_ms']:g} ms)",
        f"- **Host**: {inline(doc['host'])}",
        f"- **Tool**: {inline(doc['tool']['name'])} {inline(doc['tool']['version'])}",
        f"- **Knowledge base**: {inline(kb['name'])} {inline(kb['version'])}, digest {code_span(kb['digest'])}",
    ] + ([f"- **Incomplete**: {why_incomplete(doc)}; checks marked *did not run* or *did not finish* were not "
          "finished"] if why_incomplete(doc) else [])
      + [f"- **{inline(note).replace('Note:', 'Note**:', 1)}" for note in note_lines(doc)])


def _ranking(doc: dict[str, Any]) -> str:
    rows = []
    for s in doc["symptoms"]:
        top = s["causes"][0]["title"] if s["causes"] else ""
        counts = ", ".join(f"{n} {k}" for k, n in s["counts"].items() if n)
        title = s["title"] + (f" (follows from {', '.join(s['follows'])})" if s.get("follows") else "")
        rows.append([s["rank"], VERDICTS[s["verdict"]], f"{s['id']}", title,
                     f"{s['score']:g}" if s["verdict"] in ("problem", "risk") else "", top, counts])
    return "## Ranking\n\n" + table(["#", "Verdict", "Symptom", "Title", "Score", "Top cause", "Checks"], rows)


def _symptom(s: dict[str, Any]) -> str:
    follows = [f"Follows from {', '.join(code_span(x) for x in s.get('follows') or [])}: start there.", ""] \
        if s.get("follows") else []
    out = [f"## {s['rank']}. {inline(s['title'])} (`{s['id']}`)", "", *follows,
           f"Score {s['score']:g} · {inline(s['category'])} · severity {inline(s['severity'])} · FAQ: <{s['page_url']}>",
           "", table(["Status", "Check", "Result"],
                     [[SYMBOLS.get(c["status"], c["status"]), c["title"], c["message"]] for c in s["checks"]])]
    if s["causes"]:
        out += ["", "**Likely causes**", ""]
        out += [f"{i}. **{inline(c['title'])}** (score {c['score']:g})" for i, c in enumerate(s["causes"], 1)]
    details = [_check_details(c).replace("### ", "#### ", 1) for c in s["checks"] if c["status"] == "fail"]
    if details:
        out += ["", "### Evidence", "", "\n\n".join(details)]
    applying = [x for x in s["solutions"] if x["applies"]]
    if applying:
        out += ["", "### Solutions (shown, never run)"]
        for x in applying:
            out += ["", f"#### {inline(x['title'])}", "", solution_facts(x), "", x["markdown"].strip()]
    return "\n".join(out)


def _footer(doc: dict[str, Any]) -> str:
    m = doc["masking"]
    return "\n".join([
        "## Target profile (secrets masked)", "",
        f"{masking_line(m)} as `«masked-N»`; the same secret has the same label throughout this report.", "",
        code_block(json.dumps(doc["profile"], indent=2, ensure_ascii=False), "json"), "",
        f"---\ngenerated {inline(doc['generated_at'])}"])
