"""The quick-diagnosis guide (symptom you see -> entry) and the error-message index.

The guide is for a reader who knows only what they see: one table of every symptom, then
the same grouped by category with the messages users report. The error index lists every
``error_patterns`` message with a readable sample (see :mod:`diagnose.site.samples`) and
every ``seen`` message, each linking to its entry, so a pasted error found by the site's
search lands on the right page.
"""

from __future__ import annotations

from diagnose.i18n import t
from diagnose.kb.model import Pack
from diagnose.reports.words import severity_word
from diagnose.site import category_page, entry_page
from diagnose.site.mdtext import code, heading_text, plain
from diagnose.site.samples import sample


def _entry_link(pack: Pack, entry_id: str) -> str:
    entry = pack.get(entry_id)
    return f"[{heading_text(entry.title) if entry else entry_id}](../{entry_page(entry_id)})"


def guide_page(pack: Pack) -> str:
    """``guide/index.md``: what you see -> which page, as a table and by category."""
    groups = pack.by_category()
    out = ["---", "title: " + t("Quick diagnosis"), "description: " + t("Find the FAQ entry for what you see."),
           "---", "", "# " + t("Quick diagnosis"), "",
           t("Find what you see in the first column and open its page, or run the command on the machine that "
             "reaches your systems. Have an error message? Paste it into the search box, look it up in the "
             "[error-message index](errors.md), or run `diagnose explain \"<message>\"`. Not sure at all? "
             "`diagnose triage` runs every symptom's checks and ranks what it finds."), "",
           "## " + t("Every symptom") + " { #every-symptom }", "",
           t("| What you see | Category | Severity | Run |"), "|---|---|---|---|"]
    for category, entries in groups.items():
        for entry in entries:
            seen = f"<br>*{plain(entry.seen[0], in_table=True)}*" if entry.seen else ""
            out.append(f"| {_entry_link(pack, entry.id)}{seen} | [{category}](../{category_page(category)}) | "
                       f"{severity_word(entry.severity)} | `diagnose {entry.id}` |")
    out += ["", "## " + t("By category") + " { #by-category }", ""]
    for category, entries in groups.items():
        out += [f"### {pack.category_title(category)} {{ #{category} }}", ""]
        for entry in entries:
            out.append("- " + t("{title} (`{id}`, {severity})", title=_entry_link(pack, entry.id), id=entry.id,
                                severity=severity_word(entry.severity)))
            for seen in entry.seen:
                out.append(f"    - *{plain(seen)}*")
        out.append("")
    return "\n".join(out)


def error_rows(pack: Pack) -> list[tuple[str, str, str]]:
    """``(sample message or "", pattern, entry id)`` for every error pattern, sorted by message."""
    rows = [(sample(pattern) or "", pattern, entry.id) for entry in pack.entries for pattern in entry.error_patterns]
    return sorted(rows, key=lambda r: (r[0].casefold() or "\uffff", r[2], r[1]))


def errors_page(pack: Pack) -> str:
    """``guide/errors.md``: every error message and every reported message -> its entry."""
    out = ["---", "title: " + t("Error messages"),
           "description: " + t("Every error message the knowledge base explains, and the FAQ entry for it."),
           "---", "", "# " + t("Error messages"), "",
           t("Every error message the knowledge base explains, and the symptom page for it. Each pattern is a "
             "regular expression matched against what you paste into `diagnose explain \"<message>\"`; the "
             "message column is an example it matches. The site's search finds these messages too."), "",
           "## " + t("Error patterns") + " { #error-patterns }", "",
           t("| Message | Pattern | Symptom |"), "|---|---|---|"]
    for text, pattern, entry_id in error_rows(pack):
        out.append(f"| {plain(text, in_table=True)} | {code(pattern)} | "
                   f"{_entry_link(pack, entry_id)} |")
    out += ["", "## " + t("As users report it") + " { #reported }", "",
            t("What operators and users write in tickets and chats, word for word."), "",
            t("| Message | Symptom |"), "|---|---|"]
    reported = sorted(((seen, entry.id) for entry in pack.entries for seen in entry.seen),
                      key=lambda r: (r[0].casefold(), r[1]))
    out += [f"| {plain(seen, in_table=True)} | {_entry_link(pack, entry_id)} |" for seen, entry_id in reported]
    return "\n".join(out) + "\n"
