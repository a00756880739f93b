"""What ``diagnose lint`` says about solution steps: a fix that can hurt is refused before it ships.

A state-changing step needs a risk class, a scope and a verification; a reversible one its undo; a
trading action or an outage who approves it and when. SQL is read by PostgreSQL's own parser: a change
names its rows by the ids the diagnosis found, returns them, and states how many; no transaction
control of its own (the page wraps it). Shell is checked with ``bash -n`` and against the pack's
table of commands for where it runs, with the mistakes that made real runbooks fail refused by name
(``exec`` without ``-T``, ``$VAR`` expanded on the host, ``restart`` that keeps the old ``.env``, the
backend's asyncpg URL given to psql, contract codes that expire). A step that stops a service lists
the preconditions the pack declares for it.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

from diagnose.kb.steps import PLACEHOLDER

Report = Callable[[tuple, str], None]

#: compose subcommands that stop or (re)create services
STOPPING = {"up", "restart", "stop", "down", "kill", "rm", "pause"}
#: a dated futures contract (SHFE.rb2605): it expires, and a login test on it fails after that
DATED_CONTRACT = re.compile(r"\b(?:SHFE|DCE|CZCE|CFFEX|INE|GFEX)\.[A-Za-z]{1,2}\d{3,4}\b")
#: the env keys whose value is an SQLAlchemy URL (postgresql+asyncpg://), which psql/pg_dump refuse
SQLALCHEMY_URL_KEYS = ("DATABASE_URL",)
TRANSACTION_CONTROL = ("TransactionStmt",)


def check_solutions(data: dict[str, Any], manifest: dict[str, Any], problem: Report) -> None:
    """Every rule about the solutions, steps, examples' ``fix`` and provenance of one entry."""
    checks = {c["id"]: c for c in data.get("checks") or []}
    declared = (manifest.get("sources") or {}) if manifest else {}
    for i, solution in enumerate(data.get("solutions") or []):
        for j, step in enumerate(solution.get("steps") or []):
            _check_step(step, ("solutions", i, "steps", j), checks, manifest, declared, problem)
    _check_proofs(data, problem)
    if not (manifest or {}).get("require_provenance"):
        return
    for i, cause in enumerate(data.get("causes") or []):
        if "provenance" not in cause:
            problem(("causes", i), "pack.yaml requires provenance: say where this cause comes from "
                                   "(provenance: {from: seed|reference|vendor|general|assumed, ref: ...})")
    for i, check in enumerate(data.get("checks") or []):
        if check.get("kind") == "log" and "provenance" not in check:
            problem(("checks", i), "a log pattern is a claim about what a program writes: say where its text comes "
                                   "from (provenance: {from: seed|reference|vendor|general|assumed, ref: ...})")


def _check_step(step: dict[str, Any], at: tuple, checks: dict[str, dict], manifest: dict[str, Any],
                declared: dict[str, Any], problem: Report) -> None:
    risk = step.get("risk")
    changes = risk != "read-only"
    if changes:
        for field in ("scope", "verify"):
            if not step.get(field):
                problem(at + ("risk",), f"a {risk} step needs `{field}` ({'exactly what it touches' if field == 'scope' else 'check ids or words that show it worked'})")
    if risk in ("reversible", "trading") and not step.get("undo"):
        problem(at + ("risk",), f"a {risk} step needs `undo`: the statement or backup that reverses it")
    if risk in ("trading", "outage"):
        for field, what in (("approve", "approvers"), ("when", "windows")):
            if not step.get(field):
                problem(at + ("risk",), f"a {risk} step needs `{field}` (one of pack.yaml `{what}`)")
    for field, table in (("approve", "approvers"), ("when", "windows")):
        if step.get(field) and step[field] not in (manifest.get(table) or {}):
            known = ", ".join(sorted(manifest.get(table) or {})) or "none"
            problem(at + (field,), f"'{step[field]}' is not in pack.yaml `{table}` (declared: {known})")
    for k, pre in enumerate(step.get("requires") or []):
        if pre not in (manifest.get("preconditions") or {}):
            problem(at + ("requires", k), f"'{pre}' is not in pack.yaml `preconditions`")
    if isinstance(step.get("verify"), list):
        for k, check_id in enumerate(step["verify"]):
            if check_id not in checks:
                problem(at + ("verify", k), f"'{check_id}' is not a check of this entry")
    _check_fill(step, at, checks, problem)
    where = step.get("where") or ""
    if step.get("sql"):
        database = where.partition(":")[2] if where.startswith("database:") else None
        if database is None:
            problem(at + ("where",), "SQL runs in a database: where: database:NAME")
        elif declared and database not in (declared.get("databases") or {}):
            problem(at + ("where",), f"unknown database source '{database}'")
        _check_sql(step, at, problem)
    if step.get("shell"):
        if not (where == "host" or where.startswith("container:")):
            problem(at + ("where",), "a shell step runs on `host` or in `container:NAME`")
        _check_shell(step, at, manifest, problem)
    if step.get("env"):
        source = step["env"].get("source")
        if declared and source not in (declared.get("env") or {}):
            problem(at + ("env", "source"), f"unknown env source '{source}'")
        if not changes:
            problem(at + ("risk",), "an env edit changes the deployment: not read-only")
    for field in ("sql", "shell", "undo", "do"):
        if isinstance(step.get(field), str) and DATED_CONTRACT.search(step[field]):
            code = DATED_CONTRACT.search(step[field]).group(0)
            problem(at + (field,), f"{code} is a dated contract: it expires, and the step then fails; use the "
                                   f"continuous main contract (KQ.m@{code.split('.')[0]}.{re.sub(r'[0-9]', '', code.split('.')[1])})")


def _check_fill(step: dict[str, Any], at: tuple, checks: dict[str, dict], problem: Report) -> None:
    fills = step.get("fill") or {}
    used = set()
    for field in ("sql", "shell", "undo"):
        used |= set(PLACEHOLDER.findall(step.get(field) or ""))
    for name in sorted(used - set(fills)):
        problem(at + ("fill",), f"{{{name}}} is used but not declared in `fill`")
    for name in sorted(set(fills) - used):
        problem(at + ("fill", name), f"fill '{name}' is not used as {{{name}}} in sql, shell or undo")
    for name, source in fills.items():
        check = checks.get(source.get("check"))
        if check is None:
            problem(at + ("fill", name, "check"), f"'{source.get('check')}' is not a check of this entry")
        elif check.get("kind") != "sql":
            problem(at + ("fill", name, "check"), "fills come from the rows of an sql check")
        else:
            columns = output_columns(check.get("query") or "")
            if columns is not None and source.get("column") not in columns:
                problem(at + ("fill", name, "column"),
                        f"'{source.get('column')}' is not a column of {check['id']} ({', '.join(columns)})")
    rows = step.get("rows")
    if isinstance(rows, str) and rows not in fills:
        problem(at + ("rows",), f"rows: '{rows}' is not a fill of this step")


def output_columns(query: str) -> list[str] | None:
    """The result column names of a check's query, as PostgreSQL names them (None: not knowable, e.g. *)."""
    import pglast

    try:
        stmt = pglast.parse_sql(re.sub(r"%\((\w+)\)s", "NULL", query))[0].stmt
    except Exception:
        return None
    while getattr(stmt, "op", None) is not None and getattr(stmt, "larg", None) is not None:
        stmt = stmt.larg
    names = []
    for target in getattr(stmt, "targetList", None) or ():
        if target.name:
            names.append(target.name)
            continue
        value = target.val
        if type(value).__name__ == "ColumnRef":
            last = value.fields[-1]
            if type(last).__name__ == "A_Star":
                return None
            names.append(last.sval)
        elif type(value).__name__ == "FuncCall":
            names.append(value.funcname[-1].sval)
        else:
            return None
    return names


def _check_sql(step: dict[str, Any], at: tuple, problem: Report) -> None:
    import pglast
    from pglast.stream import RawStream

    sql = step["sql"]
    try:   # a placeholder reads as a literal naming it, so a WHERE can be seen to use it
        statements = pglast.parse_sql(PLACEHOLDER.sub(lambda m: f"'__fill_{m.group(1)}__'", sql))
    except pglast.parser.ParseError as exc:
        problem(at + ("sql",), f"not SQL PostgreSQL reads: {exc}")
        return
    if step.get("risk") == "read-only":
        from diagnose.checks.sql_catalog import lint_calls
        from diagnose.checks.sql_grammar import Refused, inspect

        try:   # the same guard as a check's query: one read statement, no volatile call that writes
            for raw in statements:
                for message in lint_calls(inspect(RawStream()(raw.stmt))):
                    problem(at + ("sql",), f"a read-only step must only read: {message}")
        except Refused as exc:
            problem(at + ("sql",), f"a read-only step must only read: {exc}")
        return
    fills = set(step.get("fill") or {})
    kinds = [type(raw.stmt).__name__ for raw in statements]
    if any(k in TRANSACTION_CONTROL for k in kinds):
        problem(at + ("sql",), "no BEGIN/COMMIT/ROLLBACK: the page and reports wrap a change in a transaction "
                               "with the row count to expect before COMMIT")
    dml = [raw.stmt for raw in statements if type(raw.stmt).__name__ in ("UpdateStmt", "DeleteStmt", "InsertStmt")]
    for stmt in dml:
        name = type(stmt).__name__
        if not getattr(stmt, "returningClause", None) and not getattr(stmt, "returningList", None):
            problem(at + ("sql",), f"{name[:-4].upper()} needs RETURNING: the operator compares the rows with "
                                   f"`rows` before COMMIT")
        if name in ("UpdateStmt", "DeleteStmt") and not _scoped(stmt.whereClause):
            problem(at + ("sql",), f"{name[:-4].upper()} must be scoped by the ids the diagnosis found: a WHERE "
                                   f"whose conditions, joined by AND, include `column IN ({{name}})` of a `fill`")
    if dml and step.get("rows") is None:
        problem(at + ("rows",), "a change needs `rows`: how many rows it must return (a number, or a fill name)")
    selects = [raw.stmt for raw in statements if type(raw.stmt).__name__ == "SelectStmt"]
    if selects and not fills:
        problem(at + ("sql",), "a SELECT that changes state (pg_terminate_backend, ...) must be scoped by a "
                               "`fill` placeholder: the ids the diagnosis found")


def _scoped(where: Any) -> bool:
    """Does ``where`` limit the rows to a fill's values: ``... AND col IN ({ids}) AND ...`` (or
    ``col = {id}``)? An OR, a NOT or ``NOT IN`` around the ids does not."""
    from pglast.enums.primnodes import BoolExprType
    from pglast.stream import RawStream

    if where is None:
        return False
    conjuncts = [where]
    if type(where).__name__ == "BoolExpr" and where.boolop == BoolExprType.AND_EXPR:
        conjuncts = list(where.args)
    for node in conjuncts:
        if type(node).__name__ != "A_Expr" or not node.name or getattr(node.name[-1], "sval", "") != "=":
            continue
        if getattr(node.kind, "name", "") in ("AEXPR_IN", "AEXPR_OP", "AEXPR_OP_ANY") \
                and "__fill_" in RawStream()(node):
            return True
    return False


def _check_shell(step: dict[str, Any], at: tuple, manifest: dict[str, Any], problem: Report) -> None:
    script = PLACEHOLDER.sub("x", step["shell"])
    bash = shutil.which("bash")
    if bash:
        done = subprocess.run([bash, "-n"], input=script, capture_output=True, text=True, timeout=10)
        if done.returncode:
            problem(at + ("shell",), f"bash -n: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'syntax error'}")
            return
    where = step.get("where") or ""
    table = (manifest.get("commands") or {}).get("container" if where.startswith("container:") else "host")
    restarts = manifest.get("restarts") or {}
    for words, raw in simple_commands(script):
        if not words:
            continue
        name = words[0]
        if table is not None and name not in table and not name.startswith("#"):
            problem(at + ("shell",), f"`{name}` is not in pack.yaml `commands.{'container' if where.startswith('container:') else 'host'}`"
                                     f" (the commands a step may use there)")
        if name in ("psql", "pg_dump", "pg_restore") and any(f"${k}" in w or f"${{{k}}}" in w for w in words[1:]
                                                             for k in SQLALCHEMY_URL_KEYS):
            problem(at + ("shell",), f"{name} with $DATABASE_URL: the backend's URL is postgresql+asyncpg://, which "
                                     f"{name} refuses; give the database's own postgresql:// URL")
        if name == "docker" and words[1:2] == ["compose"]:
            _check_compose(words[2:], raw[2:], step, at, restarts, problem)


def _check_compose(args: list[str], raw: list[str], step: dict[str, Any], at: tuple,
                   restarts: dict[str, list[str]], problem: Report) -> None:
    options_with_value = {"-f", "--file", "-p", "--project-name", "--env-file", "--profile"}
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in options_with_value else 1
    if i >= len(args):
        return
    sub, rest = args[i], args[i + 1:]
    if sub == "exec":
        if "-T" not in rest and "--no-TTY" not in rest:
            problem(at + ("shell",), "docker compose exec without -T allocates a TTY: the output gets CR line ends "
                                     "(a compared value never matches) and a pipe or script breaks; add -T")
        if any(_host_expands(w) for w in raw):
            problem(at + ("shell",), "a $VARIABLE in `docker compose exec` arguments expands on the host, not in "
                                     "the container: use sh -c '... $VARIABLE ...' in single quotes")
    if sub == "restart":
        problem(at + ("shell",), "docker compose restart keeps the container's old environment (.env is not read "
                                 "again): use `docker compose up -d SERVICE`")
    if sub in STOPPING:
        services = [w for w in rest if not w.startswith("-")]
        if step.get("risk") != "outage":
            problem(at + ("risk",), f"docker compose {sub} stops or recreates services: risk: outage")
        wanted = sorted({p for s, pres in restarts.items() if not services or s in services for p in pres})
        missing = [p for p in wanted if p not in (step.get("requires") or [])]
        if missing:
            problem(at + ("requires",), f"docker compose {sub} {' '.join(services) or '(every service)'} needs "
                                        f"requires: {missing} (pack.yaml `restarts`)")


#: words that are the shell's own grammar, not commands
SHELL_WORDS = {"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac", "in",
               "!", "{", "}", "(", ")", "time"}


def _host_expands(token: str) -> bool:
    """Would the host's shell expand a ``$`` in this word (as written, quotes kept)? Not inside single
    quotes; yes bare or inside double quotes."""
    quote = None
    for i, ch in enumerate(token):
        if quote == "'":
            if ch == "'":
                quote = None
        elif ch == "'" and quote is None:
            quote = "'"
        elif ch == '"':
            quote = None if quote == '"' else '"'
        elif ch == "$" and (i == 0 or token[i - 1] != "\\"):
            return True
    return False


def simple_commands(script: str) -> list[tuple[list[str], list[str]]]:
    """Each simple command of ``script`` (split at newlines, ``|``, ``;``, ``&&``, ``||``) as its words
    the way the shell reads them, and as written (quotes kept); leading ``VAR=value`` assignments, the
    shell's own keywords and comments dropped."""
    out: list[tuple[list[str], list[str]]] = []
    for line in script.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = _split(line, posix=True)
        raw = _split(line, posix=False)
        if words is None or raw is None or len(words) != len(raw):
            words = raw = line.split()
        out.extend(zip(*(_commands(w) for w in (words, raw))))
    return [(w, r) for w, r in out if w]


def _split(line: str, posix: bool) -> list[str] | None:
    lexer = shlex.shlex(line, posix=posix, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:
        return None


def _commands(tokens: list[str]) -> list[list[str]]:
    commands: list[list[str]] = []
    current: list[str] = []
    for token in tokens:
        if token and set(token) <= set(";&|()"):
            commands.append(current)
            current = []
        elif not current and (token in SHELL_WORDS or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", token)):
            continue
        else:
            current.append(token)
    commands.append(current)
    return commands


def _check_proofs(data: dict[str, Any], problem: Report) -> None:
    solutions = {s["id"]: s for s in data.get("solutions") or []}
    proven = {x["fix"]["solution"] for x in data.get("examples") or [] if x.get("fix")}
    for i, solution in enumerate(data.get("solutions") or []):
        changes_sql = any(s.get("sql") and s.get("risk") != "read-only" for s in solution.get("steps") or [])
        if changes_sql and solution["id"] not in proven:
            problem(("solutions", i), "a solution that changes data with SQL must be proven: name it in a broken "
                                      "example's `fix: {solution: " + solution["id"] + "}`")
    for i, example in enumerate(data.get("examples") or []):
        fix = example.get("fix")
        if not fix:
            continue
        solution = solutions.get(fix["solution"])
        if solution is None:
            problem(("examples", i, "fix", "solution"), f"'{fix['solution']}' is not a solution of this entry")
            continue
        if example.get("verdict") == "healthy":
            problem(("examples", i, "fix"), "a fix is proven on a broken example")
        needed = {m for s in solution.get("steps") or [] for v in ((s.get("env") or {}).get("set") or {}).values()
                  for m in re.findall(r"<[^>]+>", v)}
        keys = {k for s in solution.get("steps") or [] for k, v in ((s.get("env") or {}).get("set") or {}).items()
                if re.search(r"<[^>]+>", v)}
        missing = sorted(keys - set(fix.get("values") or {}))
        if needed and missing:
            problem(("examples", i, "fix", "values"), f"give values for {', '.join(missing)} (the solution's "
                                                      f"<placeholders>) so the self-test can apply it")
