"""Query text for ``kind: sql``: linting, ``%`` placeholders, psql rendering; values and messages.

Split out of :mod:`diagnose.checks.sql` so that module stays about running the query (connection,
read-only transaction, time limits, expectations) and within the project's module size limit.
Everything here is pure text and value handling: no database connection, no ``psycopg``.
"""

from __future__ import annotations

import re
from typing import Any

_SKIPPED = re.compile(r"""
    (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<string>(?<![\w$])[Ee]'(?:\\.|''|[^'\\])*'|'(?:''|[^'])*'|\$(?P<tag>[A-Za-z_]\w*)?\$.*?\$(?P=tag)\$)
  | (?P<ident>"(?:""|[^"])*")
""", re.S | re.X)
READ_STARTS = ("SELECT", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN")
#: PostgreSQL's statements that are not reads: refused before sending. INSERT, UPDATE, DELETE and MERGE
#: are sent: a READ ONLY transaction always refuses them, naming them (as the server names a typo).
NOT_READS = frozenset("ABORT ALTER ANALYZE ANALYSE BEGIN CALL CHECKPOINT CLOSE CLUSTER COMMENT COMMIT COPY CREATE "
                      "DEALLOCATE DECLARE DISCARD DO DROP END EXECUTE FETCH GRANT IMPORT LISTEN LOAD LOCK MOVE NOTIFY "
                      "PREPARE REASSIGN REFRESH REINDEX RELEASE RESET REVOKE ROLLBACK SAVEPOINT SECURITY SET START "
                      "TRUNCATE UNLISTEN VACUUM".split())
_ROW_LOCKS = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b", re.I)
_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|INTO)\b", re.I)
#: Effects a READ ONLY transaction neither refuses nor rolls back (signals to other sessions, server
#: files, replication slots, reset statistics, session-level locks, writes over another connection),
#: and functions that run SQL given as text. Searched in the raw query, strings included: that is
#: where SQL run by query_to_xml() or dblink() hides. A quoted name ("pg_cancel_backend") counts.
_UNSTOPPABLE = re.compile(
    r"\b(pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_rotate_logfile|pg_switch_wal|pg_promote"
    r"|pg_create_restore_point|pg_(?:try_)?advisory_lock(?:_shared)?|lo_import|lo_export|dblink\w*"
    r"|pg_stat_reset\w*|pg_stat_statements_reset|pg_\w*replication_(?:slot|origin)\w*|pg_logical_emit_message"
    r"|pg_file_write|pg_file_rename|pg_file_unlink|query_to_xml\w*|ts_stat)\"?\s*\(", re.I)
#: side effects the transaction refuses or undoes, still never what a check is for
_SIDE_EFFECTS = re.compile(
    r"\b(nextval|setval|set_config|pg_notify|pg_(?:try_)?advisory_xact_lock(?:_shared)?|lo_unlink)\"?\s*\(", re.I)
_ESCAPED_NAME = re.compile(r'\bU&"', re.I)
_PERCENT = re.compile(r"%(\((?P<name>[^)]*)\)[sbt]|%|[sbt])?")


def _code_only(query: str) -> str:
    """The query with comments, string literals and quoted identifiers blanked out."""
    def blank(match: re.Match) -> str:
        return " " if match.group("comment") else ("''" if match.group("string") else '"x"')
    return _SKIPPED.sub(blank, query)


def lint_query(query: str) -> list[str]:
    """Why ``query`` is not a single read statement with valid placeholders (empty if it is)."""
    problems = []
    code = _code_only(query).strip()
    if ";" in code.rstrip(";").rstrip():
        problems.append("several statements (';'): a check runs exactly one read statement")
    first = _first_word(code)
    if first not in READ_STARTS:
        problems.append(f"starts with {first or code[:10]!r}: a check runs one read statement ({', '.join(READ_STARTS)})")
    if _ROW_LOCKS.search(code):
        problems.append(f"'{_ROW_LOCKS.search(code).group(0)}' locks rows: checks must only read")
    for word in sorted({w.upper() for w in _WRITES.findall(_ROW_LOCKS.sub(" ", code))}):
        problems.append("SELECT ... INTO creates a table: checks must only read" if word == "INTO"
                        else f"{word} changes data: checks must only read")
    problems += _unstoppable(query, code)
    for function in sorted({f.lower() for f in _SIDE_EFFECTS.findall(code)}):
        problems.append(f"{function}() has side effects: checks must only read")
    for match in _PERCENT.finditer(query):
        line = query.count("\n", 0, match.start()) + 1
        if match.group(1) is None:
            problems.append(f"line {line}: a literal % must be written %% (placeholders are %(name)s)")
        elif match.group(1) in ("s", "b", "t"):
            problems.append(f"line {line}: positional %{match.group(1)} is not supported: use %(name)s")
        elif match.group("name") is not None and not re.fullmatch(r"\w+", match.group("name")):
            problems.append(f"line {line}: placeholder name {match.group('name')!r} must be letters, digits, _")
    return problems


def refusal(query: str) -> str | None:
    """Why ``query`` must not even be sent (None: send it), checked again by every run, so a check that
    never went through lint (a pack edited after loading, a caller building checks) is held too.

    A READ ONLY transaction refuses writes and undoes what a read can do inside it; this refuses what
    it would let through: statements that are not reads (COPY ... TO a server file or PROGRAM, LOCK,
    CALL, DO, CHECKPOINT, ANALYZE, SET...) and the :data:`_UNSTOPPABLE` functions. Whatever
    ``lint_query`` accepts passes here.
    """
    code = _code_only(query).strip()
    first = _first_word(code)
    if first in NOT_READS:
        return f"{first} is not a read statement (a check runs one of {', '.join(READ_STARTS)})"
    problems = _unstoppable(query, code)
    return problems[0] if problems else None


def _first_word(code: str) -> str:
    first = re.match(r"[\s(]*([A-Za-z]+)", code)
    return first.group(1).upper() if first else ""


def _unstoppable(query: str, code: str) -> list[str]:
    problems = [f"{name}() acts beyond the read-only transaction (checks must only read)"
                for name in sorted({f.lower() for f in _UNSTOPPABLE.findall(query)})]
    if _ESCAPED_NAME.search(code):
        problems.append('U&"..." identifiers can hide a function\'s name: write names plainly')
    return problems


def placeholders(query: str) -> set[str]:
    """The names of the ``%(name)s`` placeholders in ``query``."""
    return {m.group("name") for m in _PERCENT.finditer(query) if m.group("name")}


def sql_literal(value: Any) -> str:
    """A Python value as an SQL literal (strings quoted, lists as ARRAY[...])."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "ARRAY[" + ", ".join(sql_literal(v) for v in value) + "]"
    return "'" + str(value).replace("'", "''") + "'"


def _shell_dq(text: str) -> str:
    """Escape ``text`` for the inside of a double-quoted shell word."""
    return re.sub(r'([\\"$`])', r"\\\1", text)


def render_manual(database: str, query: str, params: dict) -> str:
    """A psql command line a human can paste: env params become shell variables."""
    text = query.strip()
    if "--" not in text:
        text = " ".join(line.strip() for line in text.splitlines() if line.strip())
    out, pos = [], 0
    for match in _PERCENT.finditer(text):
        out.append(_shell_dq(text[pos:match.start()]))
        pos = match.end()
        name, param = match.group("name"), None
        if match.group(1) == "%" or match.group(1) is None:
            out.append("%")
            continue
        param = params.get(name, {"env": None, "key": name.upper()}) if name else None
        if isinstance(param, dict) and "env" in param:
            default = f":-{_shell_dq(str(param['default']))}" if param.get("default") is not None else ""
            out.append(f"'${{{param.get('key') or name}{default}}}'")
        elif isinstance(param, dict) and "value" in param:
            out.append(_shell_dq(sql_literal(param["value"])))
        elif name is not None:
            out.append(_shell_dq(sql_literal(param)))
        else:
            out.append(match.group(0))
    out.append(_shell_dq(text[pos:]))
    variable = "DATABASE_URL_" + re.sub(r"\W", "_", database)
    return f'psql "${variable}" -c "{"".join(out)}"'


def human_interval(value: Any) -> str:
    """A PostgreSQL interval as people write it: ``3 days 4 h 5 min``, ``12 min 3 s``, ``250 ms``."""
    total = value.total_seconds()
    sign, total = ("-", -total) if total < 0 else ("", total)
    if total < 1:
        return f"{sign}{total * 1000:g} ms"
    days, rest = divmod(int(total), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    parts += [f"{n} {unit}" for n, unit in ((hours, "h"), (minutes, "min"), (seconds, "s")) if n]
    return sign + " ".join(parts)


def jsonable(value: Any) -> Any:
    """A database value as JSON can carry it (datetimes as ISO text, exact decimals kept exact)."""
    import datetime as dt
    import decimal
    import math

    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        if value.is_finite() and decimal.Decimal(repr(float(value))) == value:
            return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return human_interval(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return "\\x" + raw.hex()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


def one_line(text: str, limit: int = 300) -> str:
    """Whitespace collapsed, clipped: error messages are one line."""
    text = "; ".join(" ".join(line.split()) for line in str(text).splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def redact(text: str, password: str | None = None) -> str:
    """``text`` without passwords (the DSN's own, ``password=...`` pairs, ``user:pw@`` in URLs)."""
    if password:
        text = text.replace(password, "***")
    text = re.sub(r"(password\s*=\s*)('(?:\\.|[^'])*'|\S+)", r"\1***", text, flags=re.I)
    return re.sub(r"(\w+://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)
