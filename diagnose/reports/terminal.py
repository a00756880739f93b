"""The terminal summary and the live progress line, rendered from the (masked) document.

One summary for both kinds of document: a symptom's run (its verdict, every check, the top cause and
the next step) and a triage (the ranked findings with their evidence, then the rest); both end with
the profile's changed settings, the run's notes and where the report is.

``rich=True`` (a colour terminal) uses the rich library; ``rich=False`` (pipes, CI, files)
prints plain text with no ANSI codes, with status words instead of symbols so that a CI log
reads without colour. Data goes into rich as ``Text`` objects, never as markup, so a log line
containing ``[bold]`` is printed as written.
"""

from __future__ import annotations

import contextlib
import sys
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from diagnose.i18n import t
from diagnose.reports.document import (
    TRIAGE,
    Document,
    changed_settings_line,
    kind_of,
    note_lines,
    why_incomplete,
)
from diagnose.reports.words import counts_words, status_word, verdict_word

SYMBOLS = {"pass": "✓", "fail": "✗", "error": "!", "timeout": "⏱", "skip": "-"}
STYLES = {"pass": "green", "fail": "bold red", "error": "yellow", "timeout": "magenta", "skip": "dim"}
VERDICT_STYLES = {"problem": "bold white on red", "risk": "bold white on magenta", "healthy": "bold white on green",
                  "inconclusive": "bold black on yellow"}
#: a triage shows the evidence of at most this many failed checks of each problem (the report has all)
MAX_EVIDENCE_LINES = 3


def verdict_line(doc: Document) -> str:
    """One line: verdict, symptom and counts, e.g. ``PROBLEM stale-positions: 1 fail, 2 pass``; for a
    triage, ``TRIAGE: 1 symptom(s) with a problem, ...``."""
    if kind_of(doc) == TRIAGE:
        c = doc["counts"]
        return t("TRIAGE: {problem} symptom(s) with a problem, {risk} at risk, {inconclusive} inconclusive, {healthy} "
                 "healthy ({checks} checks, {probes} probes, {seconds}s)", problem=c["problem"], risk=c["risk"],
                 inconclusive=c["inconclusive"], healthy=c["healthy"], checks=doc["checks_total"],
                 probes=doc["probes_run"], seconds=f"{doc['duration_ms'] / 1000:.1f}") + _incomplete(doc)
    return f"{_verdict_word(doc)} {_verdict_rest(doc)}"


def _verdict_word(doc: Document) -> str:
    """``PROBLEM``: the verdict as the summary's first word."""
    return verdict_word(doc["verdict"]).upper()


def _verdict_rest(doc: Document) -> str:
    """``stale-positions: Positions stop updating (2 pass, 2 fail)``: what follows the verdict word."""
    counts = counts_words(doc["counts"]) or t("no checks")
    return f"{doc['symptom']['id']}: {doc['symptom']['title']} ({counts}){_incomplete(doc)}"


def _incomplete(doc: Document) -> str:
    return f" ({why_incomplete(doc, short=True)})" if why_incomplete(doc) else ""


def next_step(doc: Document) -> str | None:
    """What to do now: the first applicable solution, or how to make the run conclusive. A risk has
    none: nothing is broken yet, its fix is in the report's solutions and never the next step."""
    if doc["verdict"] == "risk":
        return None
    if doc["verdict"] == "inconclusive":   # nothing concluded: no fix yet, what would let it conclude
        if any(c.get("conclusive") is False for c in doc["checks"]):
            return t("give the logs timestamps, or a log command that takes the window (each caveat says which "
                     "log), then run again")
        return t("make the checks that did not conclude runnable (see their messages), then run again")
    for solution in doc["solutions"]:
        if solution["applies"]:
            return t("{solution} ({risk}; steps in the report)", solution=solution["title"],
                     risk=_risk_words(solution))
    if doc["verdict"] == "problem":
        return t("read the evidence in the report and the FAQ page {url}", url=doc["symptom"]["page_url"])
    return None


def _risk_words(solution: dict[str, Any]) -> str:
    """``risk: trading, approval first (trader: Li Wei)``: what the operator must know before the steps."""
    from diagnose.kb.steps import risk_word

    risk = solution.get("risk")
    if not risk:
        return t("read each step first")
    roles: list[str] = []
    for step in solution.get("steps") or []:
        approve = step.get("approve") if isinstance(step, dict) else None
        if approve and approve.get("role") not in [r.split(":")[0] for r in roles]:
            roles.append(f"{approve['role']}: {approve['who']}" if approve.get("who") else approve["role"])
    if roles:
        return t("risk: {risk}, approval first ({roles})", risk=risk_word(risk), roles="; ".join(roles))
    return t("risk: {risk}", risk=risk_word(risk))


def print_summary(document: Document, report_path: str | Path | None, *, stream: TextIO | None = None,
                  rich: bool = False, quiet: bool = False) -> None:
    """Print the summary of a run or a triage; ``quiet`` prints only the verdict line and the report path."""
    stream = stream or sys.stdout
    if kind_of(document) == TRIAGE:
        _print_lines(_triage_lines(document, report_path, quiet), stream, rich)
    elif rich:
        _print_rich(document, report_path, stream, quiet)
    else:
        _write(stream, "\n".join(_plain_lines(document, report_path, quiet)) + "\n")


def _plain_lines(doc: Document, report_path: str | Path | None, quiet: bool) -> list[str]:
    lines = [verdict_line(doc)]
    if not quiet:
        width = max((_cells(c["title"]) for c in doc["checks"]), default=0)
        labels = {status: status_word(status).upper() for status in SYMBOLS}
        label_width = max(_cells(label) for label in labels.values())
        for c in doc["checks"]:
            label = labels.get(c["status"], c["status"].upper())
            lines.append(f"  [{_pad(label, label_width)}] {_pad(c['title'], width)}  {_one_line(c['message'])}"
                         f"  ({c['duration_ms']:g} ms)")
        if doc["causes"]:
            top = doc["causes"][0]
            lines.append(f"{_cause_label(doc)} {top['title']}: {_one_line(top['text'])}")
        step = next_step(doc)
        if step:
            lines.append(f"{t('Next step:')} {step}")
        lines += _settings_lines(doc) + note_lines(doc)
    if report_path is not None:
        lines.append(f"{t('Report:')} {report_path}")
    return lines


def _cause_label(doc: Document) -> str:
    """``Cause:``, or for a risk ``Risk (not the symptom yet):``: what the top cause line starts with."""
    return t("Risk (not the symptom yet):") if doc["verdict"] == "risk" else t("Cause:")


def _cells(text: str) -> int:
    """The columns ``text`` takes in a terminal: a wide character (Chinese) takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal columns (``str.ljust`` counts a Chinese character as one)."""
    return text + " " * max(0, width - _cells(text))


def _print_rich(doc: Document, report_path: str | Path | None, stream: TextIO, quiet: bool) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=stream, highlight=False, soft_wrap=False)
    head = Text()
    head.append(f" {_verdict_word(doc)} ", style=VERDICT_STYLES[doc["verdict"]])
    head.append(" " + _verdict_rest(doc))
    console.print(head)
    if not quiet:
        table = Table(show_header=False, box=None, padding=(0, 1), pad_edge=False)
        table.add_column(no_wrap=True)
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        table.add_column(style="dim", justify="right", no_wrap=True)
        for c in doc["checks"]:
            status = c["status"]
            table.add_row(Text(f"{SYMBOLS[status]} {status_word(status)}", style=STYLES[status]), Text(c["title"]),
                          Text(_one_line(c["message"])), Text(f"{c['duration_ms']:g} ms"))
        console.print(table)
        if doc["causes"]:
            top = doc["causes"][0]
            line = Text(_cause_label(doc) + " ", style="bold")
            line.append(top["title"], style="bold red")
            line.append(": " + _one_line(top["text"]))
            console.print(line)
        step = next_step(doc)
        if step:
            console.print(Text(t("Next step:") + " ", style="bold") + Text(step))
        label = t("Settings: {settings}", settings="")
        for changed in _settings_lines(doc):
            console.print(Text(label, style="bold") + Text(changed.removeprefix(label)))
        for note in note_lines(doc):
            console.print(Text(note, style="yellow"))
    if report_path is not None:
        console.print(Text(t("Report:") + " ", style="bold") + Text(str(report_path), style="cyan"))


def _triage_lines(doc: Document, report_path: str | Path | None, quiet: bool) -> list[tuple[str, str]]:
    """A triage's summary as (text, style) pairs; the plain output ignores the style."""
    out = [(verdict_line(doc), VERDICT_STYLES[doc["verdict"]])]
    problems = [s for s in doc["symptoms"] if s["verdict"] == "problem"]
    if not quiet:
        for s in problems:
            cause = t("; likely cause: {cause}", cause=s["causes"][0]["title"]) if s["causes"] else ""
            if s.get("follows"):
                cause = t("; follows from {ids}", ids=", ".join(s["follows"]))
            out.append((t("{rank}. {id}: {title} (score {score}){cause}", rank=f"{s['rank']:>2}", id=s["id"],
                          title=s["title"], score=f"{s['score']:g}", cause=cause), "bold"))
            failed = [c for c in s["checks"] if c["status"] == "fail"]
            for c in failed[:MAX_EVIDENCE_LINES]:
                out.append((f"      {SYMBOLS['fail']} {_one_line(c['message'])}", STYLES["fail"]))
            if len(failed) > MAX_EVIDENCE_LINES:
                out.append(("      … " + t("{n} more failed check(s) in the report",
                                            n=len(failed) - MAX_EVIDENCE_LINES), "dim"))
        risks = [s for s in doc["symptoms"] if s["verdict"] == "risk"]
        if risks:
            out.append((t("Risks (a cause without the symptom, yet; fix before it shows):"), STYLES["timeout"]))
            for s in risks:
                cause = s["causes"][0]["title"] if s["causes"] else t("see the report")
                out.append((f"    {s['id']}: {cause}", ""))
        unsure = [s for s in doc["symptoms"] if s["verdict"] == "inconclusive"]
        if unsure:
            names = ", ".join(f"{s['id']} ({_not_concluded(s)})" for s in unsure)
            out.append((f"{t('Inconclusive:')} {names}", STYLES["error"]))
        if problems:
            out.append((f"{t('Next step:')} diagnose {problems[0]['id']}  "
                        + t("(the top finding's own report and fix)"), ""))
        out += [(line, "") for line in _settings_lines(doc)]
        out += [(note, "yellow") for note in note_lines(doc)]
    if report_path is not None:
        out.append((f"{t('Report:')} {report_path}", "cyan"))
    return out


def _not_concluded(symptom: dict[str, Any]) -> str:
    counts = symptom["counts"]
    parts = [t("{n} {what}", n=counts[k], what=status_word(k)) for k in ("error", "timeout", "skip") if counts.get(k)]
    unwindowed = sum(1 for c in symptom["checks"] if c.get("conclusive") is False)
    if unwindowed:
        parts.append(t("{n} on log lines without a time", n=unwindowed))
    return t(", ").join(parts)


def _print_lines(pairs: list[tuple[str, str]], stream: TextIO, rich: bool) -> None:
    if not rich:
        _write(stream, "\n".join(text for text, _ in pairs) + "\n")
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, highlight=False, soft_wrap=False)
    for text, style in pairs:
        console.print(Text(text, style=style or ""))


def _settings_lines(doc: Document) -> list[str]:
    """``Settings: max_wait = 30 minutes (profile; default 1 hour)``, only for thresholds the profile changed:
    the run's, or each triaged symptom's (``Settings: stale-positions: ...``)."""
    changed = ([changed_settings_line(s, f"{s['id']}: ") for s in doc["symptoms"]] if kind_of(doc) == TRIAGE
               else [changed_settings_line(doc)])
    return [line for line in changed if line]


@contextlib.contextmanager
def progress(total: int, enabled: bool, *, stream: TextIO | None = None) -> Iterator[Callable[[Any], None]]:
    """A live "checks done" indicator on stderr while checks run; yields ``tick(result)``.

    ``tick`` may be called from the runner's worker threads (rich's progress is thread-safe).
    Disabled, it yields a no-op, so callers need no branches. The display is transient: it
    disappears when the block ends, leaving the summary to say what happened.
    """
    if not enabled or total <= 0:
        yield lambda result: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    console = Console(file=stream or sys.stderr, highlight=False)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(t("running checks"), total=total)

        def tick(result: Any) -> None:
            title = getattr(result, "title", "") or ""
            bar.update(task, advance=1, description=t("done: {title}", title=title)[:60])

        yield tick


def _one_line(text: Any) -> str:
    return " ".join(str(text or "").split())


def _write(stream: TextIO, text: str) -> None:
    """Write, degrading characters the stream cannot encode (a cp1252 console) instead of crashing."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "replace").decode(encoding))
    stream.flush()
