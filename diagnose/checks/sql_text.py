"""Query text for ``kind: sql``: ``%`` placeholders, psql rendering; values and messages.

Pure text and value handling (no database connection, no ``psycopg``), shared by the kind and
the FAQ site: what the psql command of a check looks like, how a database value reads in a
report, how an error message becomes one line without a password.
"""

from __future__ import annotations

import re
from typing import Any

from diagnose.clip import keep

from .durations import interval_text

PERCENT = re.compile(r"%(\((?P<name>[^)]*)\)[sbt]|%|[sbt])?")


def lint_placeholders(query: str) -> list[str]:
    """Why the ``%`` placeholders of ``query`` would not bind (empty if they would).

    Whether the statement is a single read is PostgreSQL's parser's call (:mod:`.sql_grammar`).
    """
    problems = []
    for match in PERCENT.finditer(query):
        line = query.count("\n", 0, match.start()) + 1
        if match.group(1) is None:
            problems.append(f"line {line}: a literal % must be written %% (placeholders are %(name)s)")
        elif match.group(1) in ("s", "b", "t"):
            problems.append(f"line {line}: positional %{match.group(1)} is not supported: use %(name)s")
        elif match.group("name") is not None and not re.fullmatch(r"\w+", match.group("name")):
            problems.append(f"line {line}: placeholder name {match.group('name')!r} must be letters, digits, _")
    return problems


def placeholders(query: str) -> set[str]:
    """The names of the ``%(name)s`` placeholders in ``query``."""
    return {m.group("name") for m in PERCENT.finditer(query) if m.group("name")}


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
    for match in PERCENT.finditer(text):
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
        elif isinstance(param, dict) and "window" in param:
            out.append(_shell_dq(sql_literal(interval_text(param["window"]))))
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

    if isinstance(value, str):
        return keep(value)  # masked whole by the report, then clipped for display
    if value is None or isinstance(value, (bool, int)):
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
            return keep(raw.decode("utf-8"))
        except UnicodeDecodeError:
            return keep("\\x" + raw.hex())
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
