"""The page "Before you run a fix": how to read a solution step, who approves what, and what not to do.

Generated from the pack (its approvers, windows and preconditions in ``pack.yaml``, each entry's
``avoid`` list, which solutions the self-test proves) and from the rules ``diagnose lint`` enforces,
so the page states exactly what every step on the site is held to.
"""

from __future__ import annotations

from diagnose.i18n import t
from diagnose.kb.model import Pack
from diagnose.kb.steps import RISK_WORDS, avoid_line, proven_on, risk_word
from diagnose.site import entry_page
from diagnose.site.mdtext import cell, fence, heading_text



def before_fix_page(pack: Pack) -> str:
    policy = pack.fixes
    out = ["---", "title: " + t("Before you run a fix"), "---", "", "# " + t("Before you run a fix"), "",
           t("`diagnose` shows fixes and never runs them. Every solution step on this site and in every report "
             "says what it can break, where it runs, who must approve it and when, exactly what it touches, how "
             "to undo it and how to see that it worked. `diagnose lint` refuses a step that does not."), "",
           "## " + t("Read the step first") + " { #read-the-step-first }", "",
           "1. " + t("**Run the diagnosis and keep its report.** A report fills the ids the diagnosis found into "
                     "the commands (`WHERE position_id IN ('pos-paper-btc-1h')`); the page shows `{ids}` instead. "
                     "Never widen a step to a time filter or a whole symbol: the ids are the scope.", ids="{ids}"),
           "2. " + t("**Check the risk class** (below). A trading action or an outage needs the approval the step "
                     "names, in the window it names, before you type anything."),
           "3. " + t("**Check the preconditions** a step lists (*Before this step*): each is a read-only query "
                     "that must return no rows. `diagnose SYMPTOM` checks them itself (read-only) when it finds "
                     "something to fix, and says under the step whether it is clear now or must wait (and names the "
                     "first row in the way); a triage report shows the query only."),
           "4. " + t("**Run a change as shown**: inside `BEGIN; …`, compare the rows `RETURNING` shows with the "
                     "count the step expects, and type `ROLLBACK;` instead of `COMMIT;` on any other count."),
           "5. " + t("**Keep the undo at hand** (it is beside every reversible step and trading action)."),
           "6. " + t("**Verify**: run `diagnose SYMPTOM --since HH:MM` with the time you applied the fix. Every "
                     "check with a time window then counts only what happened after it (has it come back?), while "
                     "the checks of a state (the rows as they are now, an env value) still show whatever the fix "
                     "did not change; the report says where its windows started. The self-test holds every proven "
                     "fix to this: without the fix the same run is not healthy, with it it is."), "",
           "## " + t("Risk classes") + " { #risk-classes }", "",
           t("| class | meaning | what the step carries |"), "|---|---|---|"]
    carries = {"read-only": t("where it runs"), "reversible": t("scope, undo, verification"),
               "trading": t("scope, undo, verification, approval, window"),
               "outage": t("scope, verification, approval, window, preconditions for a service restart")}
    for risk, words in RISK_WORDS.items():
        out.append(f"| **{risk_word(risk)}** | {cell(words)} | {carries[risk]} |")
    out += ["", "## " + t("Who approves") + " { #who-approves }", "",
            t("Each role is mapped to people or a channel in the target profile (`diagnose.yaml`), and every "
              "report names them beside the step:"), "", fence("approvers:\n  trader: \"Li Wei, #desk-ops\"\n"
                                                              "  change: \"#change-board\"", "yaml"), "",
            t("| role | signs off |"), "|---|---|"]
    for role, what in sorted(policy.approvers.items()):
        out.append(f"| `{role}` | {cell(what)} |")
    if policy.windows:
        out += ["", "## " + t("When") + " { #when }", "", t("| window | meaning |"), "|---|---|"]
        for name, what in sorted(policy.windows.items()):
            out.append(f"| `{name}` | {cell(what)} |")
    if policy.preconditions:
        out += ["", "## " + t("Before a service restart") + " { #before-a-service-restart }", ""]
        for service, names in sorted(policy.restarts.items()):
            out.append(t("A step that stops or recreates `{service}` first checks: {checks}.", service=service,
                         checks=t(", ").join(f"[{heading_text(policy.preconditions[n].title)}](#pre-{n})"
                                             for n in names if n in policy.preconditions)))
        out.append("")
        for name, pre in sorted(policy.preconditions.items()):
            out += [f"### {heading_text(pre.title)} {{ #pre-{name} }}", "",
                    t("On database `{database}`, this must return no rows: {why}", database=pre.database,
                      why=pre.why.strip()), "", fence(pre.sql.strip(), "sql"), ""]
    out += ["", "## " + t("Commands that run where they say") + " { #commands-that-run-where-they-say }", "",
            "- " + t("A shell step says where it runs: on the host in the compose folder, or inside a container."),
            "- " + t("`docker compose exec -T`: without `-T` a TTY adds carriage returns, so a compared value never "
                     "matches and a pipe breaks."),
            "- " + t("A variable of the container goes inside `sh -c '…'` in single quotes; otherwise the host's "
                     "shell expands it first."),
            "- " + t("`docker compose up -d SERVICE` re-reads `.env`; `docker compose restart` keeps the old "
                     "environment."),
            "- " + t("`psql` and `pg_dump` take a `postgresql://` URL; an application's `postgresql+asyncpg://` URL "
                     "is refused."),
            "- " + t("No dated contract code in a command (it expires): the continuous main contract "
                     "(`KQ.m@SHFE.rb`)."),
            "", "## " + t("What not to do, per symptom") + " { #what-not-to-do-per-symptom }", ""]
    for entry in sorted(pack.entries, key=lambda e: e.id):
        if not entry.avoid:
            continue
        link = f"[{heading_text(entry.title)}](../{entry_page(entry.id)})"
        out += [f"### {link}", ""]
        out += [avoid_line(item) for item in entry.avoid] + [""]
    proven = [(e, s, proven_on(s, e)) for e in pack.entries for s in e.solutions]
    out += ["## " + t("Proven fixes") + " { #proven-fixes }", "",
            t("The self-test applies these solutions to a broken example world (their SQL with the ids the "
              "diagnosis found, their env edits), runs the diagnosis again from the moment of the fix, and "
              "requires the symptom healthy:"), "",
            t("| symptom | solution | highest risk | proven on |"), "|---|---|---|---|"]
    for entry, solution, examples in sorted(proven, key=lambda t: (t[0].id, t[1].id)):
        if examples:
            out.append(f"| [{entry.id}](../{entry_page(entry.id)}) | [{cell(solution.title)}](../{entry_page(entry.id)}#solution-{solution.id})"
                       f" | {risk_word(solution.risk)} | {', '.join(examples)} |")
    return "\n".join(out) + "\n"
