"""The terminal summary of a triage: the ranked findings with their evidence, then the rest."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from diagnose.reports.document import note_lines, why_incomplete
from diagnose.reports.terminal import STYLES, VERDICT_STYLES, _one_line, _write

MAX_EVIDENCE_LINES = 3


def headline(doc: dict[str, Any]) -> str:
    c = doc["counts"]
    return (f"TRIAGE: {c['problem']} symptom(s) with a problem, {c['risk']} at risk, {c['inconclusive']} inconclusive, "
            f"{c['healthy']} healthy ({doc['checks_total']} checks, {doc['probes_run']} probes, "
            f"{doc['duration_ms'] / 1000:.1f}s)" + (f" ({why_incomplete(doc, short=True)})" if why_incomplete(doc) else ""))


def lines(doc: dict[str, Any], report_path: Any, quiet: bool) -> list[tuple[str, str]]:
    """(text, style) pairs; the plain output ignores the style."""
    out = [(headline(doc), VERDICT_STYLES[doc["verdict"]])]
    problems = [s for s in doc["symptoms"] if s["verdict"] == "problem"]
    if not quiet:
        for s in problems:
            cause = f"; likely cause: {s['causes'][0]['title']}" if s["causes"] else ""
            if s.get("follows"):
                cause = f"; follows from {', '.join(s['follows'])}"
            out.append((f"{s['rank']:>2}. {s['id']}: {s['title']} (score {s['score']:g}){cause}", "bold"))
            failed = [c for c in s["checks"] if c["status"] == "fail"]
            for c in failed[:MAX_EVIDENCE_LINES]:
                out.append((f"      ✗ {_one_line(c['message'])}", STYLES["fail"]))
            if len(failed) > MAX_EVIDENCE_LINES:
                out.append((f"      … {len(failed) - MAX_EVIDENCE_LINES} more failed check(s) in the report", "dim"))
        risks = [s for s in doc["symptoms"] if s["verdict"] == "risk"]
        if risks:
            out.append(("Risks (a cause without the symptom, yet; fix before it shows):", STYLES["timeout"]))
            for s in risks:
                cause = s["causes"][0]["title"] if s["causes"] else "see the report"
                out.append((f"    {s['id']}: {cause}", ""))
        unsure = [s for s in doc["symptoms"] if s["verdict"] == "inconclusive"]
        if unsure:
            names = ", ".join(f"{s['id']} ({_not_concluded(s)})" for s in unsure)
            out.append((f"Inconclusive: {names}", STYLES["error"]))
        if problems:
            out.append((f"Next step: diagnose {problems[0]['id']}  (the top finding's own report and fix)", ""))
        out += [(note, "yellow") for note in note_lines(doc)]
    if report_path is not None:
        out.append((f"Report: {report_path}", "cyan"))
    return out


def _not_concluded(symptom: dict[str, Any]) -> str:
    counts = symptom["counts"]
    parts = [f"{counts[k]} {k}" for k in ("error", "timeout", "skip") if counts.get(k)]
    unwindowed = sum(1 for c in symptom["checks"] if c.get("conclusive") is False)
    if unwindowed:
        parts.append(f"{unwindowed} on log lines without a time")
    return ", ".join(parts)


def print_triage(doc: dict[str, Any], report_path: str | Path | None, *, stream: TextIO | None = None,
                 rich: bool = False, quiet: bool = False) -> None:
    stream = stream or sys.stdout
    pairs = lines(doc, report_path, quiet)
    if not rich:
        _write(stream, "\n".join(text for text, _ in pairs) + "\n")
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, highlight=False, soft_wrap=False)
    for text, style in pairs:
        console.print(Text(text, style=style or ""))
