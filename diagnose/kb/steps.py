"""Solution steps as the operator reads them: risk, where, scope, SQL in a transaction, undo, verify.

One renderer for every place a step is shown (the FAQ page, ``diagnose show``, the md/html/json
reports), so the page and the report never disagree. A report fills a step's ``{name}`` placeholders
with the ids its own checks found (``WHERE position_id IN ('pos-1', 'pos-2')``), as SQL literals; the
page shows the placeholder and says where its values come from. A change in SQL is always shown
opened with ``BEGIN;`` and the row count to expect; the block stops before ``COMMIT;``, which the
operator types once the rows are right.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from diagnose.checks.sql_text import sql_literal
from diagnose.i18n import t
from diagnose.kb.model import Avoid, Entry, FixPolicy, Precondition, Provenance, Solution, Step

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
#: characters no filled value may hold: they would end a line of the command the operator pastes
CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")



class Words(Mapping[str, str]):
    """A table of words in the language in force when it is read (``make`` builds it with :func:`t`), so a
    module-level table follows ``--lang``."""

    def __init__(self, make: Callable[[], dict[str, str]]) -> None:
        self._make = make

    def __getitem__(self, key: str) -> str:
        return self._make()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._make())

    def __len__(self) -> int:
        return len(self._make())


#: each risk, and what it means for the operator
RISK_WORDS = Words(lambda: {
    "read-only": t("read-only: changes nothing"),
    "reversible": t("reversible change: the undo is beside it"),
    "trading": t("trading action: changes positions, orders, locks or the trading mode"),
    "outage": t("outage: stops or restarts something others use"),
})
PROVENANCE_WORDS = Words(lambda: {
    "seed": t("the system's own notes (seed)"), "reference": t("the reference-stack facts"),
    "vendor": t("vendor documentation"), "general": t("general knowledge"),
    "assumed": t("an assumption: not in any source"),
})


def risk_word(risk: str) -> str:
    """A risk as a reader sees it: ``outage`` (``中断服务`` in Chinese); records and the JSON keep the value."""
    words = {"read-only": t("read-only"), "reversible": t("reversible"), "trading": t("trading"),
             "outage": t("outage")}
    return words.get(risk, risk)

#: how many values a report fills in; more, and the step says to run the listing query instead
MAX_FILL = 200


@dataclass
class Filled:
    """The values of a step's placeholders in one run: ``values[name]`` is the list found, or absent
    with ``why[name]`` saying why it could not be filled (check not run, rows cut, a masked value)."""

    values: dict[str, list[Any]] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)


def fill_from_results(step: Step, results: list[Any] | None,
                      keep: Callable[[Any], bool] | None = None) -> Filled:
    """The placeholder values of ``step`` from a run's check results (``None``: no run, the page).
    ``keep``: a value it refuses (one that masking would change: a secret never goes into a command)
    leaves the placeholder unfilled."""
    out = Filled()
    if results is None:
        return out
    by_id = {r.id: r for r in results}
    for name, source in step.fill.items():
        result = by_id.get(source.check)
        rows = [e for e in (result.evidence if result else []) if e.kind == "rows"]
        if result is None or not rows:
            out.why[name] = t("check {check} listed no rows in this run", check=source.check)
            continue
        evidence = rows[0]
        columns = list(evidence.columns or [])
        if source.column not in columns:
            out.why[name] = t("check {check} has no column {column}", check=source.check, column=source.column)
            continue
        kept = evidence.rows or []
        if (evidence.total or 0) > len(kept) or len(kept) > MAX_FILL:
            out.why[name] = t("check {check} found {total} rows, more than the report keeps: list them with its query",
                              check=source.check, total=evidence.total)
            continue
        index = columns.index(source.column)
        values = sorted({row[index] for row in kept}, key=str)
        if not values:
            out.why[name] = t("check {check} found no rows", check=source.check)
        elif any(CONTROL.search(str(v)) for v in values):
            out.why[name] = t("a value holds a line break or another control character: list the rows with the "
                              "check's query")
        elif keep is not None and not all(keep(v) for v in values):
            out.why[name] = t("a value looks like a secret (masked in this report): list the rows with the check's "
                              "query")
        else:
            out.values[name] = values
    return out


def substitute(text: str, filled: Filled, shell: bool = False) -> str:
    """``{name}`` replaced by its values: SQL literals joined by ``, ``, or for a shell command words
    quoted as the shell reads them (a value with ``;`` stays one word); unfilled ones stay."""
    import shlex

    def one(match: re.Match) -> str:
        values = filled.values.get(match.group(1))
        if values is None:
            return match.group(0)
        if shell:
            return " ".join(shlex.quote(str(v)) for v in values)
        return ", ".join(sql_literal(v) for v in values)

    return PLACEHOLDER.sub(one, text)


#: statements that change rows, which a ROLLBACK undoes
DML_STATEMENTS = {"UpdateStmt", "DeleteStmt", "InsertStmt"}
#: statements that change rows a fill names (or, a SELECT, end the sessions it lists)
ROW_STATEMENTS = DML_STATEMENTS | {"SelectStmt"}
#: statements that cannot run inside BEGIN ... COMMIT
OUTSIDE_TRANSACTION = {"AlterSystemStmt", "VacuumStmt", "CreatedbStmt", "DropdbStmt", "ReindexStmt",
                       "IndexStmt CONCURRENTLY"}


def statement_kinds(sql: str) -> list[str] | None:
    """The node names of ``sql``'s statements as PostgreSQL's parser reads them (``UpdateStmt``,
    ``IndexStmt CONCURRENTLY``), placeholders read as literals; ``None`` when it does not parse."""
    from diagnose.pgparse import parse_error, parse_sql

    try:
        statements = parse_sql(PLACEHOLDER.sub("NULL", sql))
    except parse_error():
        return None
    kinds = []
    for raw in statements:
        name = type(raw.stmt).__name__
        concurrent = name == "IndexStmt" and getattr(raw.stmt, "concurrent", False)
        kinds.append(f"{name} CONCURRENTLY" if concurrent else name)
    return kinds


def transactional(sql: str, kinds: list[str] | None = None) -> bool:
    """Can ``sql`` run inside ``BEGIN ... COMMIT``? (ALTER SYSTEM, VACUUM, CREATE INDEX CONCURRENTLY
    cannot; nor can SQL PostgreSQL does not read.) ``kinds``: its :func:`statement_kinds`, when known."""
    kinds = statement_kinds(sql) if kinds is None else kinds
    return kinds is not None and not OUTSIDE_TRANSACTION.intersection(kinds)


def changes_rows(sql: str, kinds: list[str] | None = None) -> bool:
    """Does ``sql`` change rows (INSERT/UPDATE/DELETE), which a ROLLBACK undoes? A SELECT of
    ``pg_terminate_backend`` acts at once: no transaction takes it back."""
    kinds = statement_kinds(sql) if kinds is None else kinds
    return bool(kinds and DML_STATEMENTS.intersection(kinds))


def touches_rows(sql: str, kinds: list[str] | None = None) -> bool:
    """Does ``sql`` act on rows of the database (what the self-test applies to a world's own database),
    rather than on the server, a database or roles that every world shares?"""
    kinds = statement_kinds(sql) if kinds is None else kinds
    return bool(kinds and ROW_STATEMENTS.intersection(kinds))


def expected_rows(step: Step, filled: Filled) -> int | None:
    """Rows the change must return before COMMIT in this run (``None``: not known here)."""
    if isinstance(step.rows, int):
        return step.rows
    if isinstance(step.rows, str) and step.rows in filled.values:
        return len(filled.values[step.rows])
    return None


def step_sql(step: Step, filled: Filled) -> str:
    """The SQL as the operator runs it: filled, and a change of rows wrapped in a transaction with the
    row count to expect before COMMIT; an action no ROLLBACK undoes says so instead."""
    sql = substitute(step.sql or "", filled).strip().rstrip(";")
    if not step.changes:
        return sql + ";"
    # filling puts literals where the placeholders were: the statements are the validated template's
    kinds = list(step.kinds) if step.kinds is not None else statement_kinds(sql)
    if not transactional(sql, kinds):
        return sql + ";"
    count = expected_rows(step, filled)
    head = ""
    if step.confirm and step.fill:
        head = "-- " + t("the diagnosis found these candidates: keep in the list only those for which {condition}",
                         condition=" ".join(step.confirm.split())) + "\n"
        if count is not None:
            count_words = t("one row per id you kept (at most {count})", count=count)
        else:
            count_words = t("one row per id you kept")
    elif count is not None:
        count_words = t("exactly {count} row(s)", count=count)
    elif isinstance(step.rows, str):
        count_words = t("one row per value of {{{name}}}", name=step.rows)
    else:
        count_words = t("the rows the scope names")
    rows = changes_rows(sql, kinds)
    if not rows and touches_rows(sql, kinds):     # SELECT pg_terminate_backend(...): no transaction undoes it
        return (f"{head}-- " + t("acts at once, no ROLLBACK undoes it: check it targets {rows} before you run it",
                                 rows=count_words) + f"\n{sql};")
    if not rows:                                  # ALTER DATABASE, GRANT...: transactional, no rows
        return (f"{head}BEGIN;\n{sql};\n-- "
                + t("check it says what the step says. Then type COMMIT; if so, ROLLBACK; if not."))
    # no COMMIT in the block: pasted whole, it stops with the transaction open and the rows shown
    return f"{head}BEGIN;\n{sql};\n-- " + t("expect {rows} above. Then type COMMIT; if so, ROLLBACK; if not.",
                                             rows=count_words)


def where_words(where: str | None) -> str:
    if not where:
        return ""
    if where == "host":
        return t("on the deployment's host (the compose folder)")
    kind, _, name = where.partition(":")
    if kind == "database":
        return t("in psql on database `{name}`", name=name)
    if kind == "container":
        return t("inside the `{name}` container", name=name)
    if kind == "ui":
        return t("in {name}", name=name)
    return where


def provenance_words(provenance: Provenance | None) -> str:
    if provenance is None:
        return ""
    words = PROVENANCE_WORDS.get(provenance.source, provenance.source)
    if provenance.ref:
        words = t("{source}, {ref}", source=words, ref=provenance.ref)
    if provenance.note:
        words = t("{source}: {note}", source=words, note=provenance.note)
    return words


def step_record(step: Step, number: int, entry: Entry, policy: FixPolicy, filled: Filled,
                approvers: dict[str, str] | None, checked: dict[str, Any] | None = None) -> dict[str, Any]:
    """The step as data (the JSON report), with what this run filled in and, in ``checked``
    (precondition id -> ``{status, message}``), what it found of the step's preconditions."""
    approvers = approvers or {}
    checked = checked or {}
    return {
        "n": number, "do": step.do, "risk": step.risk, "where": step.where,
        "sql": step_sql(step, filled) if step.sql else None,
        "shell": substitute(step.shell, filled, shell=True) if step.shell else None,
        "env": step.env, "scope": step.scope,
        "filled": {k: [str(v) for v in vs] for k, vs in filled.values.items()},
        "not_filled": dict(filled.why),
        "expect_rows": expected_rows(step, filled), "confirm": step.confirm, "undo": substitute(step.undo, filled) if step.undo else None,
        "verify": list(step.verify) if isinstance(step.verify, tuple) else step.verify,
        "approve": ({"role": step.approve, "what": policy.approvers.get(step.approve, ""),
                     "who": approvers.get(step.approve)} if step.approve else None),
        "when": {"id": step.when, "text": policy.windows.get(step.when, "")} if step.when else None,
        "requires": [{**_precondition(policy.preconditions[p]), "checked": checked.get(p)}
                     for p in step.requires if p in policy.preconditions],
        "provenance": provenance_words(step.provenance) or None,
    }


def _precondition(pre: Precondition) -> dict[str, str]:
    return {"id": pre.id, "title": pre.title, "database": pre.database, "sql": pre.sql.strip(), "why": pre.why}


def step_markdown(record: dict[str, Any], entry: Entry, site: bool = False) -> str:
    """One step as Markdown, from its record: the same text on the page and in every report."""
    risk = record["risk"]
    head = [t("**Step {n}** · risk: **{risk}**", n=record["n"], risk=risk_word(risk))]
    if record["where"]:
        head.append(t("runs {where}", where=where_words(record["where"])))
    out = [" · ".join(head), "", record["do"].strip(), ""]
    if record["approve"]:
        approve = record["approve"]
        role = t("{role} ({what})", role=approve["role"], what=approve["what"].strip()) if approve["what"] \
            else approve["role"]
        if approve["who"]:
            out.append(t("- **Approve first:** {role}: **{who}**", role=role, who=approve["who"]))
        elif site:
            out.append(t("- **Approve first:** {role}", role=role))
        else:
            out.append(t("- **Approve first:** {role}: not named in the profile (`approvers:`): ask who signs off "
                         "before you start", role=role))
    if record["when"]:
        out.append(t("- **When:** {when}", when=record["when"]["text"] or record["when"]["id"]))
    if record["scope"]:
        out.append(t("- **Scope:** {scope}", scope=record["scope"].strip()))
    if record.get("confirm"):
        out.append(t("- **Confirm each id first:** {condition} (keep only those in the list)",
                     condition=record["confirm"].strip()))
    for pre in record["requires"]:
        out += [t("- **Before this step:** {title}: on database `{database}` this must return no rows ({why})",
                  title=pre["title"], database=pre["database"], why=pre["why"].strip()),
                "", _fence("sql", pre["sql"], indent=2)]
        found = pre.get("checked")
        if found:
            verdict = {"pass": t("clear"), "fail": t("**NOT CLEAR: wait**")}.get(found["status"], t("not checked"))
            out += ["", "  " + t("This run checked it: {verdict} ({message})", verdict=verdict,
                                 message=found["message"])]
    if out[-1] != "":
        out.append("")
    if record["sql"]:
        out += [_fence("sql", record["sql"]), ""]
    if record["shell"]:
        out += [_fence("bash", record["shell"].strip()), ""]
    if record["env"]:
        env = record["env"]
        lines = [f"{k}={v}" for k, v in (env.get("set") or {}).items()] + \
            ["# " + t("remove {key}", key=k) for k in env.get("unset") or []]
        out += [t("In the env file `{source}`:", source=env["source"]), "", _fence("ini", "\n".join(lines)), ""]
    notes = [t("- `{{{name}}}` not filled in: {why}", name=name, why=why) for name, why in record["not_filled"].items()]
    if notes:
        out += notes + [""]
    tail = []
    if record["undo"]:
        undo = record["undo"].strip()
        tail.append(t("- **Undo:** {undo}", undo=undo) if "\n" not in undo
                    else t("- **Undo:**") + "\n\n" + _indent(undo, 2))
    verify = record["verify"]
    if isinstance(verify, list):
        titles = {c.id: c.title for c in entry.checks}
        named = t("; ").join(t("*{title}* (`{id}`)", title=titles.get(v, v), id=v) for v in verify)
        tail.append(t("- **Verify:** `diagnose {id} --since <the time you did this>`: {checks} pass", id=entry.id,
                      checks=named))
    elif verify:
        tail.append(t("- **Verify:** {verify}", verify=verify.strip()))
    if record["provenance"]:
        tail.append(t("- **Source:** {source}", source=record["provenance"]))
    return "\n".join(out + tail).strip() + "\n"


def fill_legend(step: Step, entry: Entry) -> list[str]:
    """On the page: where each placeholder's values come from."""
    titles = {c.id: c.title for c in entry.checks}
    return [t("- `{{{name}}}`: the `{column}` values that *{title}* (`{check}`) lists; a report fills them in",
              name=name, column=f.column, title=titles.get(f.check, f.check), check=f.check)
            for name, f in step.fill.items()]


def _fence(lang: str, text: str, indent: int = 0) -> str:
    """A fenced block longer than any backtick run inside it: a value cannot close it early."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=0)
    marks = "`" * max(3, longest + 1)
    body = f"{marks}{lang}\n{text.rstrip()}\n{marks}"
    return _indent(body, indent) if indent else body


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line if line else line for line in text.splitlines())


def solution_records(solution: Solution, entry: Entry, policy: FixPolicy, results: list[Any] | None,
                     approvers: dict[str, str] | None, keep: Callable[[Any], bool] | None = None,
                     checked: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [step_record(step, i, entry, policy, fill_from_results(step, results, keep), approvers, checked)
            for i, step in enumerate(solution.steps, 1)]


def solution_markdown(solution: Solution, entry: Entry, policy: FixPolicy, results: list[Any] | None = None,
                      approvers: dict[str, str] | None = None, site: bool = False) -> str:
    """Every step of ``solution`` as Markdown (the page: ``results`` None, placeholders explained)."""
    records = solution_records(solution, entry, policy, results, approvers)
    return records_markdown(records, entry, site, legends=[fill_legend(s, entry) if results is None else []
                                                          for s in solution.steps])


def records_markdown(records: list[dict[str, Any]], entry: Entry, site: bool = False,
                     legends: list[list[str]] | None = None) -> str:
    """Steps as Markdown from their records (a report renders the masked records)."""
    parts = []
    for i, record in enumerate(records):
        text = step_markdown(record, entry, site)
        legend = legends[i] if legends else []
        if legend:
            text = text.rstrip("\n") + "\n" + "\n".join(legend) + "\n"
        parts.append(text)
    return "\n".join(parts)


def risk_and_proof(risk: str, proven: list[str]) -> str:
    """``highest risk: **trading** · proven on example mode-switch (...)``: what to know before the steps,
    the same on the page, in ``show`` and in reports."""
    facts = [t("highest risk: **{risk}**", risk=risk_word(risk))]
    if proven:
        facts.append(t("proven on example {examples} (the self-test applies it to that broken world and the entry "
                       "is healthy after)", examples=", ".join(proven)))
    return " · ".join(facts)


def avoid_line(item: Avoid) -> str:
    """One "what not to do" item as a Markdown list line, with its source."""
    source = provenance_words(item.provenance)
    line = t("- **Do not:** {dont} {why}", dont=item.dont.strip(), why=item.why.strip())
    return line + (" " + t("*(Source: {source})*", source=source) if source else "")


def proven_on(solution: Solution, entry: Entry) -> list[str]:
    """The examples whose self-test applies ``solution`` and requires the entry healthy after."""
    return [x.name for x in entry.examples if x.fix == solution.id]
