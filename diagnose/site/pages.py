"""One page per symptom (``faq/<id>/``) and one per category, as Markdown for mkdocs-material.

A symptom page holds everything the FAQ promises, in the order a reader needs it: what you
see, the command that automates the diagnosis, the error messages it explains (so the site's
search finds the page from a pasted error), the diagnosis steps with the manual command of
each check, causes, solutions (alternatives as content tabs), prevention, related entries and
the real report of the entry's broken example.
"""

from __future__ import annotations

import json
from typing import Any

from diagnose.i18n import t
from diagnose.kb.model import Entry, Pack
from diagnose.kb.steps import avoid_line, proven_on, provenance_words, risk_and_proof, solution_markdown
from diagnose.site import category_page, entry_page, report_file
from diagnose.site.examples import ExampleReport
from diagnose.site.manual import manual_markdown
from diagnose.reports.words import severity_word
from diagnose.site.mdtext import (cell, code, demote_headings, fence, first_sentence, heading_text, indent, plain,
                                  python_markdown)
from diagnose.site.samples import sample



def entry_tags(entry: Entry) -> list[str]:
    """Tags of a symptom page: its category, its severity, the kinds of its checks."""
    return [entry.category, t("{severity} severity", severity=severity_word(entry.severity)),
            *sorted({t("{kind} check", kind=c.kind) for c in entry.checks})]


def _front_matter(title: str, description: str, tags: list[str] | None = None) -> str:
    meta: dict[str, Any] = {"title": title, "description": description}
    if tags:
        meta["tags"] = tags
    return "---\n" + "".join(f"{k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in meta.items()) + "---\n"


def _link(pack: Pack, entry_id: str, from_dir: str = "faq") -> str:
    other = pack.get(entry_id)
    target = f"{entry_id}.md" if from_dir == "faq" else f"../{entry_page(entry_id)}"
    return f"[{heading_text(other.title) if other else entry_id}]({target})"


def symptom_page(entry: Entry, pack: Pack, report: ExampleReport | None) -> str:
    """The whole page of one symptom."""
    parts = [_front_matter(entry.title, first_sentence(entry.summary), entry_tags(entry)),
             f"# {heading_text(entry.title)}", "", _badges(entry), "",
             _seen(entry), _automate(entry, pack), _errors(entry), _steps(entry, pack), settings_section(entry),
             _causes(entry),
             _solutions(entry, pack), _avoid(entry), _prevention(entry), _related(entry, pack), example_section(entry, report)]
    return "\n".join(p for p in parts if p is not None) + "\n"


def _badges(entry: Entry) -> str:
    aliases = (" · " + t("also: {aliases}", aliases=t(", ").join(code(a) for a in entry.aliases))
               if entry.aliases else "")
    return (f"{code(entry.id)} · [{entry.category}](../{category_page(entry.category)}) · "
            + t("severity **{severity}**", severity=severity_word(entry.severity)) + aliases)


def _seen(entry: Entry) -> str:
    out = ["## " + t("What you see") + " { #what-you-see }", "", python_markdown(entry.summary.strip()), ""]
    if entry.seen:
        out += ['!!! quote "' + t("As users report it") + '"', ""]
        out += [f"    - {plain(s)}" for s in entry.seen] + [""]
    return "\n".join(out)


def _automate(entry: Entry, pack: Pack) -> str:
    from diagnose.sources import fields

    out = ["## " + t("Diagnose it automatically") + " { #diagnose }", "",
           t("On a machine that reaches the systems below, with a profile (`diagnose.yaml`) saying where they are:"),
           "", fence(f"diagnose {entry.id}", "bash"), "",
           t("It runs the {n} checks of the [diagnosis steps](#diagnosis-steps) at once, each under a timeout, names "
             "the cause it found with its evidence and the fix, and writes a report for the ticket (`--format html` "
             "or `json`; see [what the report looks like](#example-report)). `diagnose show {id}` prints this page "
             "in the terminal.", n=len(entry.checks), id=entry.id), ""]
    sources = sorted({c.source for c in entry.checks if c.source})
    if sources:
        out += [t("It reads these sources of your [profile](../reference/profile.md):"), "",
                t("| Source | What it is | Example |"), "|---|---|---|"]
        for field, name in sources:
            known = pack.sources.get(fields()[field], {}).get(name)
            out.append(f"| {field} `{name}` | {cell(known.description) if known else ''} | "
                       f"{code(known.example) if known and known.example else ''} |")
        out.append("")
    return "\n".join(out)


def _errors(entry: Entry) -> str:
    if not entry.error_patterns:
        return ""
    out = ["## " + t("Error messages") + " { #error-messages }", "",
           t('Messages this symptom explains; paste yours into `diagnose explain "..."` or the search box. The '
             "patterns are regular expressions."), "",
           t("| Message | Pattern |"), "|---|---|"]
    for pattern in entry.error_patterns:
        text = sample(pattern)
        out.append(f"| {plain(text, in_table=True) if text else ''} | {code(pattern)} |")
    return "\n".join(out) + "\n"


def flow_yaml(value: Any) -> str:
    """A value as the one-line YAML an author writes (``{rows: {max: 0}}``)."""
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6).strip()
    return text.removesuffix("...").strip()


def _source_text(check: Any) -> str:
    if not check.source:
        return ""
    field, name = check.source
    return " · " + t("reads {field} `{name}`", field=field, name=name)


def _steps(entry: Entry, pack: Pack) -> str:
    out = ["## " + t("Diagnosis steps") + " { #diagnosis-steps }", "",
           t("Each step is one check `diagnose` runs; the command under it does the same by hand."), ""]
    for number, check in enumerate(entry.checks, 1):
        out += [f"### {number}. {heading_text(check.title)} {{ #check-{check.id} }}", "",
                f"`{check.id}` · " + t("{kind} check", kind=check.kind) + _source_text(check), "",
                t("**Healthy when**: {expects}", expects=check.expects.strip()), ""]
        if "expect" in check.raw:
            out += [t("**Rule**: {rule}", rule=code("expect: " + flow_yaml(check.raw["expect"]))), ""]
        if check.provenance:
            words = provenance_words(check.provenance)
            out += [t("**Assumed, not in the sources**: {source}", source=words)
                    if check.provenance.source == "assumed" else t("**Source**: {source}", source=words), ""]
        if check.causes:
            links = t(", ").join(f"[{heading_text(_cause_title(entry, c))}](#cause-{c})" for c in check.causes)
            out += [t("**A failure points to**: {causes}", causes=links), ""]
        if check.symptom:
            out += [t("**A failure shows the symptom itself.**"), ""]
        elif check.role == "history":
            out += [t("**A past event**: it names the cause of the symptom when the symptom is there; alone it is "
                      "neither a problem nor a risk."), ""]
        elif check.role == "context":
            out += [t("**Context**: it helps read the other steps; its failure alone changes no verdict."), ""]
        elif check.causes:
            out += [t("**Alone, a failure is a risk**: the cause is there, the symptom not (yet)."), ""]
        if check.kind == "log" and (check.raw.get("since") or check.raw.get("after")):
            out += [t("**On a log without timestamps**: a file last written before the window counts nothing; "
                      "otherwise lines without a time are counted in the whole file and the result says so, and "
                      "when they decide it, it is not conclusive. "
                      "[Give your logs timestamps](../reference/profile.md#untimed)."), ""]
        manual = manual_markdown(check, entry)
        if manual:
            out += [manual, ""]
    return "\n".join(out)


def settings_section(entry: Entry) -> str:
    """"Settings": the entry's named thresholds, their defaults, the checks that use them, and the
    profile snippet that changes them for one deployment."""
    if not entry.settings:
        return ""
    from diagnose.kb.settings import setting_params

    out = ["## " + t("Settings") + " { #settings }", "",
           t("Thresholds of the checks above. Each has a default; a deployment whose normal differs sets its own "
             "value in its [profile](../reference/profile.md#settings), and every report lists the values it used "
             "and where each came from."), "",
           t("| Setting | Default | What it decides | Used by |"), "|---|---|---|---|"]
    for setting in entry.settings:
        users = [c for c in entry.checks if setting.name in setting_params(c.raw).values()]
        used = t(", ").join(f"[{heading_text(c.title)}](#check-{c.id})" for c in users)
        limits = [t("at least {minimum}", minimum=f"{setting.minimum:g}") if setting.minimum is not None else "",
                  t("at most {maximum}", maximum=f"{setting.maximum:g}") if setting.maximum is not None else ""]
        kind = setting.type + (t("; ") + t(", ").join(x for x in limits if x) if any(limits) else "")
        out.append(f"| `{setting.name}` | {code(_default_text(setting))} ({kind}) | {cell(setting.description)} | "
                   f"{used} |")
    snippet = ["# " + t("diagnose.yaml: this deployment's values (only those that differ from the defaults)"),
               "settings:", f"  {entry.id}:"]
    snippet += [f"    {s.name}: {flow_yaml(s.default)}    # " + t("default") for s in entry.settings]
    out += ["", t("To change them for one deployment:"), "", fence("\n".join(snippet), "yaml"), ""]
    return "\n".join(out)


def _default_text(setting: Any) -> str:
    value = ("true" if setting.default else "false") if isinstance(setting.default, bool) else str(setting.default)
    return f"{value} {setting.unit}" if setting.unit else value


def _cause_title(entry: Entry, cause_id: str) -> str:
    cause = entry.cause(cause_id)
    return cause.title if cause else cause_id


def _causes(entry: Entry) -> str:
    out = ["## " + t("Causes") + " { #causes }", ""]
    for cause in entry.causes:
        out += [f"### {heading_text(cause.title)} {{ #cause-{cause.id} }}", "", python_markdown(cause.text.strip()), ""]
        if cause.provenance:
            out += [t("*Source: {source}*", source=provenance_words(cause.provenance)), ""]
        shown = [c for c in entry.checks if cause.id in c.causes]
        fixes = [s for s in entry.solutions if not s.causes or cause.id in s.causes]
        facts = []
        if shown:
            facts.append(t("Found by: {checks}", checks=t(", ").join(
                f"[{heading_text(c.title)}](#check-{c.id})" for c in shown)))
        if fixes:
            facts.append(t("Fixed by: {solutions}", solutions=t(", ").join(
                f"[{heading_text(s.title)}](#solution-{s.id})" for s in fixes)))
        if facts:
            out += [" · ".join(facts), ""]
    return "\n".join(out)


def _solutions(entry: Entry, pack: Pack) -> str:
    out = ["## " + t("Solutions") + " { #solutions }", "",
           t("Read each step before you type it: `diagnose` shows fixes, it never runs them. Every step says what "
             "it can break (its risk), where it runs, who approves it, how to undo and verify it; "
             "[before you run a fix](../guide/before-a-fix.md) says how to read them."), ""]
    for solution in entry.solutions:
        out += [f"### {heading_text(solution.title)} {{ #solution-{solution.id} }}", ""]
        fixes = solution.causes or tuple(c.id for c in entry.causes)
        causes = t(", ").join(f"[{heading_text(_cause_title(entry, c))}](#cause-{c})" for c in fixes)
        out += [t("Fixes: {causes}", causes=causes) + " · " + risk_and_proof(solution.risk, proven_on(solution, entry)),
                ""]
        out += [python_markdown(solution_markdown(solution, entry, pack.policy_of(entry), site=True)), ""]
    return "\n".join(out)


def _avoid(entry: Entry) -> str:
    if not entry.avoid:
        return ""
    return "\n".join(["## " + t("What not to do") + " { #avoid }", ""] + [avoid_line(item) for item in entry.avoid]) + "\n"


def _prevention(entry: Entry) -> str:
    if not entry.prevention.strip():
        return ""
    return "\n".join(["## " + t("Prevention") + " { #prevention }", "", python_markdown(entry.prevention.strip()), ""])


def _related(entry: Entry, pack: Pack) -> str:
    if not entry.related:
        return ""
    out = ["## " + t("Related") + " { #related }", ""]
    for rid in entry.related:
        other = pack.get(rid)
        out.append("- " + (t("{title} (`{id}`): {summary}", title=_link(pack, rid), id=rid,
                                summary=cell(first_sentence(other.summary))) if other
                           else t("{title} (`{id}`)", title=_link(pack, rid), id=rid)))
    return "\n".join(out) + "\n"


def example_section(entry: Entry, report: ExampleReport | None) -> str:
    """"What the report looks like": the real report, or why there is none."""
    out = ["## " + t("What the report looks like") + " { #example-report }", ""]
    if report is None or not report.ok:
        why = report.problem if report is not None else t("the example reports were not built")
        out += ['!!! warning "' + t("The example report could not be produced") + '"', "",
                indent(t("{why}. Build it yourself with a PostgreSQL installed: `diagnose demo --example {id}`.",
                         why=cell(why), id=entry.id)), ""]
        return "\n".join(out)
    out += ['!!! example "' + t("`diagnose {id}` in the `{example}` example world", id=entry.id,
                                example=report.example) + '"', "",
            indent(t("{description} This report was written by the tool when this site was built, against that "
                     "world built for real (a throwaway PostgreSQL, log and env files, servers on 127.0.0.1); its "
                     "temporary paths are shown as `/srv/example`. Run it yourself: "
                     "`diagnose demo --example {id}/{example}`.", description=cell(report.description),
                     id=entry.id, example=report.example)), "",
            t("Download: [HTML]({id}/report.html) (self-contained) · [JSON]({id}/report.json)", id=entry.id), "",
            '=== "' + t("Report") + '"', "", indent(python_markdown(demote_headings(report.markdown.strip(), 3))), "",
            '=== "Markdown"', "", indent(fence(report.markdown.strip(), "markdown")), ""]
    # the JSON is the download above, not a third tab: highlighted inline it tripled the page (a thousand lines
    # of tokens, ~600 KB a page) and most of the site's build time, for a file a browser shows as well
    return "\n".join(out)


def report_files(entry: Entry, report: ExampleReport | None) -> dict[str, str]:
    """The example report files served next to the page (``faq/<id>/report.html`` ...)."""
    if report is None or not report.ok:
        return {}
    return {report_file(entry.id, "html"): report.html, report_file(entry.id, "json"): report.json}


def category_page_text(category: str, entries: list[Entry], title: str) -> str:
    """A category's landing page (a navigation tab): its symptoms, what each looks like."""
    heading = t("{title} symptoms", title=title)
    out = [_front_matter(heading, t("Symptoms of the {category} category.", category=category)),
           f"# {heading}", "",
           t("| Symptom | Severity | Run |"), "|---|---|---|"]
    out += [f"| [{heading_text(e.title)}](../{entry_page(e.id)}) | {severity_word(e.severity)} | `diagnose {e.id}` |"
            for e in entries]
    out.append("")
    for entry in entries:
        out += [f"## {heading_text(entry.title)} {{ #{entry.id} }}", "", python_markdown(entry.summary.strip()), ""]
        if entry.seen:
            out += [t("Seen as: {messages}", messages=" · ".join(f"*{plain(s)}*" for s in entry.seen)), ""]
        out += [t("[Diagnosis, causes and solutions]({page})", page=f"../{entry_page(entry.id)}")
                + f" · `diagnose {entry.id}`", ""]
    return "\n".join(out)
