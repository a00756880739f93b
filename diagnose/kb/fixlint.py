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

from diagnose.kb.steps import DML_STATEMENTS, PLACEHOLDER, ROW_STATEMENTS, touches_rows

Report = Callable[[tuple, str], None]

#: compose subcommands that stop or (re)create services
STOPPING = {"up", "restart", "stop", "down", "kill", "rm", "pause", "unpause", "start", "scale", "create"}
#: a dated futures contract (SHFE.rb2605): it expires, and a login test on it fails after that
DATED_CONTRACT = re.compile(r"\b(?:SHFE|DCE|CZCE|CFFEX|INE|GFEX)\.[A-Za-z]{1,2}\d{3,4}\b")
#: the env keys whose value is an SQLAlchemy URL (postgresql+asyncpg://), which psql/pg_dump refuse
SQLALCHEMY_URL_KEYS = ("DATABASE_URL",)
TRANSACTION_CONTROL = ("TransactionStmt",)


def check_solutions(data: dict[str, Any], manifest: dict[str, Any], problem: Report,
                    keys: dict[str, dict[str, set[str]]] | None = None) -> None:
    """Every rule about the solutions, steps, examples' ``fix`` and provenance of one entry. ``keys``:
    database -> table -> its primary-key and unique columns, from the pack's reference schemas
    (:func:`schema_keys`)."""
    checks = {c["id"]: c for c in data.get("checks") or []}
    declared = (manifest.get("sources") or {}) if manifest else {}
    for i, solution in enumerate(data.get("solutions") or []):
        for j, step in enumerate(solution.get("steps") or []):
            _check_step(step, ("solutions", i, "steps", j), checks, manifest, declared, problem, keys)
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
                declared: dict[str, Any], problem: Report, keys: dict[str, dict[str, set[str]]] | None = None) -> None:
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
    database = where.partition(":")[2] if where.startswith("database:") else None
    if step.get("sql"):
        if database is None:
            problem(at + ("where",), "SQL runs in a database: where: database:NAME")
        elif declared and database not in (declared.get("databases") or {}):
            problem(at + ("where",), f"unknown database source '{database}'")
        _check_sql(step, at, problem, (keys or {}).get(database or ""))
    for block in re.findall(r"```sql\n(.*?)```", step.get("undo") or "", re.S):
        # an undo is a change too: held to the same scope; psql's \\set lines and :'name' become literals
        text = "\n".join(line for line in block.splitlines() if not line.lstrip().startswith("\\"))
        text = re.sub(r":'(\w+)'", r"'\1'", text)
        risk = step.get("risk") if step.get("risk") != "read-only" else "reversible"
        _check_sql({**step, "sql": text, "risk": risk}, at, lambda _p, message: problem(
            at + ("undo",), f"in the undo: {message}"), (keys or {}).get(database or ""), undo=True)
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
        edited = {k.upper() for k in list(step["env"].get("set") or {}) + list(step["env"].get("unset") or [])}
        trading = sorted(edited & {k.upper() for k in manifest.get("trading_keys") or ()})
        if trading and risk != "trading":
            problem(at + ("risk",), f"{', '.join(trading)} decides what trades (pack.yaml `trading_keys`): risk: trading")
    for field in ("sql", "shell", "undo", "do"):
        dated = DATED_CONTRACT.search(step[field]) if isinstance(step.get(field), str) else None
        if dated:
            code = dated.group(0)
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
    from diagnose.pgparse import parse_sql

    try:
        stmt = parse_sql(re.sub(r"%\((\w+)\)s", "NULL", query))[0].stmt
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


#: changes of the server, a database, roles or grants: no row scope holds them, so each is an outage-class
#: step the change manager approves; anything else (DO, TRUNCATE, DROP, MERGE, COPY...) is refused
SERVER_STATEMENTS = {"AlterSystemStmt", "AlterDatabaseStmt", "AlterDatabaseSetStmt", "AlterRoleStmt",
                     "AlterRoleSetStmt", "CreateRoleStmt", "GrantStmt", "GrantRoleStmt", "ViewStmt",
                     "VariableSetStmt"}
CHANGE_STATEMENTS = ROW_STATEMENTS | SERVER_STATEMENTS
#: what a SELECT fix step may call for its effect (ending or cancelling the sessions it lists)
SESSION_ACTIONS = {"pg_terminate_backend", "pg_cancel_backend"}


def _sentinel(name: str) -> str:
    return f"__fill_{name}__"


def _writing_calls(tree: Any) -> set[str]:
    """PostgreSQL's own functions in a parse tree (JSON form) that may change the server's state."""
    from diagnose.checks.sql_catalog import ALLOWED_VOLATILE, ASSIGNS_XID, RUNS_SQL_TEXT, known_volatile
    from diagnose.checks.sql_grammar import nodes

    volatile = known_volatile()
    found: set[str] = set()
    for kind, body in nodes(tree):
        if kind != "FuncCall":
            continue
        parts = [p.get("String", {}).get("sval", "") for p in body.get("funcname") or []]
        schema, name = (parts[-2] if len(parts) > 1 else None), (parts[-1] if parts else "")
        if schema in (None, "pg_catalog") and (name in RUNS_SQL_TEXT or name in ASSIGNS_XID or (
                name in volatile and name not in ALLOWED_VOLATILE)):
            found.add(name)
    return found


def _check_sql(step: dict[str, Any], at: tuple, problem: Report, keys: dict[str, set[str]] | None = None,
               undo: bool = False) -> None:
    import json

    from pglast.enums.nodes import OnConflictAction
    from pglast.stream import RawStream

    from diagnose.pgparse import parse_error, parse_sql, parse_sql_json

    sql = step["sql"]
    marked = PLACEHOLDER.sub(lambda m: f"'{_sentinel(m.group(1))}'", sql)
    try:   # a placeholder reads as a literal naming it, so a WHERE can be seen to use it
        statements = parse_sql(marked)
        tree = json.loads(parse_sql_json(marked))
    except parse_error() as exc:
        problem(at + ("sql",), f"not SQL PostgreSQL reads: {exc}")
        return
    # every placeholder must be a value of its own, never inside a string, a comment or a $$ body,
    # where a value from the database would be read as SQL
    literals = _string_constants(tree)
    used = PLACEHOLDER.findall(sql)
    for name in used:
        if literals.count(_sentinel(name)) < used.count(name):
            problem(at + ("sql",), f"{{{name}}} must stand alone as a value (`IN ({{{name}}})`), never inside quotes, "
                                   f"a comment or a $$ body: a value from the database would be read as SQL there")
            break
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
    kinds = [type(raw.stmt).__name__ for raw in statements]
    if any(k in TRANSACTION_CONTROL for k in kinds):
        problem(at + ("sql",), "no BEGIN/COMMIT/ROLLBACK: the page and reports wrap a change in a transaction "
                               "with the row count to expect before COMMIT")
    for kind in kinds:
        if kind not in CHANGE_STATEMENTS and kind not in TRANSACTION_CONTROL:
            problem(at + ("sql",), f"{kind.removesuffix('Stmt')} is not a statement a fix step may run "
                                   f"(it cannot be scoped by the ids the diagnosis found, or undone)")
        elif kind in SERVER_STATEMENTS and (step.get("risk") != "outage" or step.get("approve") != "change"):
            problem(at + ("risk",), f"{kind.removesuffix('Stmt')} changes the server, a database or roles for "
                                   f"everyone: risk: outage, approve: change")
    for raw, item in zip(statements, tree.get("stmts") or []):
        kind = type(raw.stmt).__name__
        allowed = SESSION_ACTIONS if kind == "SelectStmt" else set()
        for name in sorted(_writing_calls(item) - allowed):
            problem(at + ("sql",), f"{name}() changes the server's state inside the statement: a fix step changes "
                                   f"only the rows it names (and a SELECT only ends the sessions it lists)")
    for raw in statements:
        ctes = raw.stmt.withClause.ctes if getattr(raw.stmt, "withClause", None) is not None else ()
        if any(type(cte.ctequery).__name__ != "SelectStmt" for cte in ctes):
            problem(at + ("sql",), "a WITH that changes data: write one statement a WHERE scopes")
    dml = [raw.stmt for raw in statements if type(raw.stmt).__name__ in DML_STATEMENTS]
    for stmt in dml:
        name = type(stmt).__name__
        verb = name[:-4].upper()
        if not undo and not getattr(stmt, "returningClause", None) and not getattr(stmt, "returningList", None):
            problem(at + ("sql",), f"{verb} needs RETURNING: the operator compares the rows with `rows` before COMMIT")
        if name == "InsertStmt" and stmt.onConflictClause is not None \
                and stmt.onConflictClause.action == OnConflictAction.ONCONFLICT_UPDATE:
            problem(at + ("sql",), "INSERT ... ON CONFLICT DO UPDATE changes rows no WHERE scopes: use DO NOTHING")
        if name in ("UpdateStmt", "DeleteStmt"):
            others = getattr(stmt, "fromClause", None) or getattr(stmt, "usingClause", None)
            target = stmt.relation.alias.aliasname if stmt.relation.alias else stmt.relation.relname
            table_keys = (keys or {}).get(stmt.relation.relname)
            if not _scoped(stmt.whereClause, target if others else None, table_keys, literals=undo):
                key_words = f" (a key of {stmt.relation.relname}: {', '.join(sorted(table_keys))})" if table_keys else ""
                problem(at + ("sql",), f"{verb} must be scoped by the ids the diagnosis found: a WHERE whose "
                                       f"conditions, joined by AND, include `column IN ({{name}})` on a key column of "
                                       f"the table it changes{key_words}"
                                       + (f" (`{target}.column` with FROM/USING)" if others else ""))
    if dml and step.get("rows") is None and not undo:
        problem(at + ("rows",), "a change needs `rows`: how many rows it must return (a number, or a fill name)")
    for raw in statements:
        if type(raw.stmt).__name__ == "SelectStmt" and not undo and not _scoped(raw.stmt.whereClause, None):
            problem(at + ("sql",), "a SELECT that changes state (pg_terminate_backend, ...) must be scoped like an "
                                   "UPDATE: a WHERE with `column IN ({name})` of a `fill`, joined by AND")


def _string_constants(tree: Any) -> list[str]:
    """Every string constant of a parse tree (JSON form)."""
    from diagnose.checks.sql_grammar import nodes

    return [body["sval"].get("sval", "") for kind, body in nodes(tree)
            if kind == "A_Const" and isinstance(body.get("sval"), dict)]


def _scoped(where: Any, table: str | None, keys: set[str] | None = None, literals: bool = False) -> bool:
    """Does ``where`` limit the rows to a fill's values: ``... AND col IN ({ids}) AND ...`` (or
    ``col = {id}``), the column of the changed table (``table.col`` when the statement joins others),
    one of its ``keys`` when the reference schema names them? An OR, a NOT, ``NOT IN``, a comparison of
    the ids with themselves, a column that is not a key (a status, a symbol) does not. ``literals``: an
    undo may name the rows by the literal ids the operator copies from the change's RETURNING."""
    from pglast.enums.primnodes import BoolExprType

    if where is None:
        return False
    conjuncts = [where]
    if type(where).__name__ == "BoolExpr" and where.boolop == BoolExprType.AND_EXPR:
        conjuncts = list(where.args)
    for node in conjuncts:
        if type(node).__name__ != "A_Expr" or not node.name or getattr(node.name[-1], "sval", "") != "=":
            continue
        kind = getattr(node.kind, "name", "")
        column, values = node.lexpr, node.rexpr
        if kind == "AEXPR_OP" and type(values).__name__ == "ColumnRef":
            column, values = values, column
        if type(column).__name__ != "ColumnRef" or kind not in ("AEXPR_IN", "AEXPR_OP"):
            continue
        fields = [getattr(f, "sval", None) for f in column.fields]
        if table is not None and (len(fields) < 2 or fields[-2] != table):
            continue
        if keys is not None and fields[-1] not in keys:   # a status or a symbol names more rows than the ids
            continue
        items = list(values) if isinstance(values, (list, tuple)) else [values]
        items = [v.arg if type(v).__name__ == "TypeCast" else v for v in items]   # :'id'::bigint
        if items and all(type(v).__name__ == "A_Const" and (literals or str(getattr(getattr(v, "val", None), "sval", ""))
                         .startswith("__fill_")) for v in items):
            return True
    return False


#: global options of ``docker`` and ``docker compose`` that take a value (``--context prod``)
DOCKER_VALUE_OPTIONS = {"-c", "--context", "-H", "--host", "--config", "-l", "--log-level", "--tlscacert",
                        "--tlscert", "--tlskey"}
COMPOSE_VALUE_OPTIONS = {"-f", "--file", "-p", "--project-name", "--env-file", "--profile", "--project-directory",
                         "--ansi", "--progress", "--parallel"}
#: options of ``docker compose exec``/``run`` that take a value
EXEC_VALUE_OPTIONS = {"-e", "--env", "-u", "--user", "-w", "--workdir", "--index", "--name", "--entrypoint",
                      "-p", "--publish", "-v", "--volume", "-l", "--label"}
#: ``docker`` subcommands that stop or start containers (the service is whatever the container runs)
DOCKER_STOPPING = {"restart", "stop", "kill", "rm", "pause", "start", "unpause", "update"}
#: ``docker`` subcommands that are not fix steps at all (they destroy what no undo brings back)
DOCKER_REFUSED = {"system", "volume", "image", "network", "builder", "rmi"}
#: a write into an env file: a redirection or an output option naming one
ENV_WRITE = re.compile(r"(?:\d?>>?|\s-o\s*|\s-out\s+|\s--output[= ]|\btee\s+(?:-a\s+)?)\s*['\"]?[^\s'\";|&]*"
                       r"(?:\.env|/env)\b['\"]?")
#: curl options that send or change something (a read-only step only reads)
CURL_WRITES = {"-X", "--request", "-d", "--data", "--data-raw", "--data-binary", "--data-urlencode", "-F", "--form",
               "-T", "--upload-file", "--json"}


def _check_shell(step: dict[str, Any], at: tuple, manifest: dict[str, Any], problem: Report) -> None:
    script = PLACEHOLDER.sub("x", step["shell"])
    bash = shutil.which("bash")
    if bash:
        done = subprocess.run([bash, "-n"], input=script, capture_output=True, text=True, timeout=10)
        if done.returncode:
            problem(at + ("shell",), f"bash -n: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'syntax error'}")
            return
    where = step.get("where") or ""
    side = "container" if where.startswith("container:") else "host"
    tables = manifest.get("commands") or {}
    restarts = manifest.get("restarts") or {}
    for words, raw in simple_commands(step["shell"]):
        if not words:
            continue
        for token in raw:   # a value from the database becomes one word, never code inside quotes
            if PLACEHOLDER.search(token) and not PLACEHOLDER.fullmatch(token):
                problem(at + ("shell",), f"{token}: a placeholder must be a whole word of its own, outside quotes "
                                         f"(the report quotes each value as one word)")
        _check_command(words, raw, side, step, at, tables, restarts, problem)
    text = step["shell"]
    if "`" in text:
        problem(at + ("shell",), "backticks run a command the checks cannot see: write it as a command of its own")
    written = ENV_WRITE.search(text)
    if written:
        problem(at + ("shell",), f"{written.group(0).strip()}: writes an env file; edit it with an `env:` step "
                                 f"(shown key by key, applied by the self-test)")


def _check_command(words: list[str], raw: list[str], side: str, step: dict[str, Any], at: tuple,
                   tables: dict[str, list[str]], restarts: dict[str, list[str]], problem: Report) -> None:
    name = words[0]
    table = tables.get(side)
    if table is not None and name not in table:
        problem(at + ("shell",), f"`{name}` is not in pack.yaml `commands.{side}` (the commands a step may use there)")
    if name in ("psql", "pg_dump", "pg_restore") and any(f"${k}" in w or f"${{{k}}}" in w for w in words[1:]
                                                         for k in SQLALCHEMY_URL_KEYS):
        problem(at + ("shell",), f"{name} with $DATABASE_URL: the backend's URL is postgresql+asyncpg://, which "
                                 f"{name} refuses; give the database's own postgresql:// URL")
    if name == "psql":
        _check_psql(words, at, problem)
    if name == "curl" and step.get("risk") == "read-only" and any(
            w in CURL_WRITES or any(w.startswith(o + "=") for o in CURL_WRITES if o.startswith("--")) for w in words):
        problem(at + ("shell",), "curl that sends data or another method than GET changes something: not read-only")
    if name in ("sh", "bash") and "-c" in words[1:-1]:
        inner = words[words.index("-c") + 1]
        for inner_words, inner_raw in simple_commands(inner):
            _check_command(inner_words, inner_raw, side, step, at, tables, restarts, problem)
    if name != "docker":
        return
    i = _skip_options(words, 1, DOCKER_VALUE_OPTIONS)
    sub = words[i] if i < len(words) else ""
    if sub == "container" and i + 1 < len(words):     # docker container stop = docker stop
        i, sub = i + 1, words[i + 1]
    if sub == "compose":
        _check_compose(words[i + 1:], raw[i + 1:], step, at, tables, restarts, problem)
    elif sub in DOCKER_STOPPING:
        _require_outage(f"docker {sub}", [], step, at, restarts, problem)
    elif sub in DOCKER_REFUSED:
        problem(at + ("shell",), f"docker {sub} removes or prunes what no undo brings back: not a fix step")
    elif sub == "exec":
        j = _skip_options(words, i + 1, EXEC_VALUE_OPTIONS)
        if words[j + 1:]:
            _check_command(words[j + 1:], raw[j + 1:], "container", step, at, tables, restarts, problem)


def _check_psql(words: list[str], at: tuple, problem: Report) -> None:
    """psql may only read: a change belongs in an ``sql:`` step, where it is scoped, counted and proven."""
    from diagnose.checks.sql_catalog import lint_calls
    from diagnose.checks.sql_grammar import Refused, inspect

    if any(w in ("-f", "--file") or w.startswith("--file=") for w in words):
        problem(at + ("shell",), "psql -f runs a file the checks cannot see: put the SQL in an `sql:` step")
    for i, word in enumerate(words[:-1]):
        if word in ("-c", "--command"):
            try:
                messages = lint_calls(inspect(words[i + 1]))
            except Refused as exc:
                messages = [str(exc)]
            for message in messages:
                problem(at + ("shell",), f"psql -c must only read ({message}): put a change in an `sql:` step")


def _skip_options(words: list[str], i: int, with_value: set[str]) -> int:
    """The index of the first word after ``words[i:]``'s options (``--ansi never``, ``--ansi=never``, ``-T``)."""
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in with_value else 1
    return i


def _require_outage(what: str, services: list[str], step: dict[str, Any], at: tuple,
                    restarts: dict[str, list[str]], problem: Report) -> None:
    if step.get("risk") != "outage":
        problem(at + ("risk",), f"{what} stops or recreates services: risk: outage")
    wanted = sorted({p for s, pres in restarts.items() if not services or s in services for p in pres})
    missing = [p for p in wanted if p not in (step.get("requires") or [])]
    if missing:
        problem(at + ("requires",), f"{what} {' '.join(services) or '(every service)'} needs requires: {missing} "
                                    f"(pack.yaml `restarts`)")


def _check_compose(args: list[str], raw: list[str], step: dict[str, Any], at: tuple, tables: dict[str, list[str]],
                   restarts: dict[str, list[str]], problem: Report) -> None:
    i = _skip_options(args, 0, COMPOSE_VALUE_OPTIONS)
    if i >= len(args):
        return
    sub, rest, raw_rest = args[i], args[i + 1:], raw[i + 1:]
    if sub in ("exec", "run"):
        if sub == "exec" and "-T" not in rest and "--no-TTY" not in rest:
            problem(at + ("shell",), "docker compose exec without -T allocates a TTY: the output gets CR line ends "
                                     "(a compared value never matches) and a pipe or script breaks; add -T")
        if any(_host_expands(w) for w in raw_rest):
            problem(at + ("shell",), f"a $VARIABLE in `docker compose {sub}` arguments expands on the host, not in "
                                     f"the container: use sh -c '... $VARIABLE ...' in single quotes")
        j = _skip_options(rest, 0, EXEC_VALUE_OPTIONS)
        command = rest[j + 1:]   # after the service
        if command:
            _check_command(command, raw_rest[j + 1:], "container", step, at, tables, restarts, problem)
    if sub == "run" and any(w in ("-d", "--detach") for w in rest):
        _require_outage("docker compose run -d", [w for w in rest[_skip_options(rest, 0, EXEC_VALUE_OPTIONS):][:1]],
                        step, at, restarts, problem)
    if sub == "restart":
        problem(at + ("shell",), "docker compose restart keeps the container's old environment (.env is not read "
                                 "again): use `docker compose up -d SERVICE`")
    if sub in STOPPING:
        _require_outage(f"docker compose {sub}", [w for w in rest if not w.startswith("-")], step, at, restarts,
                        problem)


#: words that are the shell's own grammar, not commands
SHELL_WORDS = {"if", "then", "else", "elif", "fi", "while", "until", "do", "done", "esac", "in",
               "!", "{", "}", "(", ")", "time"}
LOOP_HEADERS = {"for", "case", "select"}


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
    header = False    # `for NAME in WORDS` / `case WORD in`: a loop's or a case's header, not a command
    for token in tokens:
        if token and set(token) <= set(";&|()"):
            commands.append([] if header else current)
            current, header = [], False
        elif not current and token in LOOP_HEADERS:
            header = True
        elif not current and (token in SHELL_WORDS or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", token)):
            continue
        else:
            current.append(token)
    commands.append([] if header else current)
    return commands


def schema_keys(schema_sql: str) -> dict[str, set[str]]:
    """table -> the columns that alone identify a row (PRIMARY KEY or UNIQUE), from a schema's CREATE TABLEs."""
    from pglast.enums.parsenodes import ConstrType

    from diagnose.pgparse import parse_error, parse_sql

    try:
        statements = parse_sql(schema_sql)
    except parse_error():
        return {}
    keys: dict[str, set[str]] = {}
    unique = (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE)
    for raw in statements:
        stmt = raw.stmt
        if type(stmt).__name__ != "CreateStmt":
            continue
        found = keys.setdefault(stmt.relation.relname, set())
        for element in stmt.tableElts or ():
            if type(element).__name__ == "ColumnDef":
                if any(c.contype in unique for c in element.constraints or ()):
                    found.add(element.colname)
            elif type(element).__name__ == "Constraint" and element.contype in unique and len(element.keys or ()) == 1:
                found.add(element.keys[0].sval)
    return keys


def _check_proofs(data: dict[str, Any], problem: Report) -> None:
    solutions = {s["id"]: s for s in data.get("solutions") or []}
    proven = {x["fix"]["solution"] for x in data.get("examples") or [] if x.get("fix")}
    for i, solution in enumerate(data.get("solutions") or []):
        changes_sql = any(s.get("sql") and s.get("risk") != "read-only" and touches_rows(s["sql"])
                          for s in solution.get("steps") or [])
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
