"""The "do it by hand" part of a diagnosis step: the SQL to paste into psql, the grep, the curl.

A reader whose machine cannot run ``diagnose`` must still be able to follow the diagnosis, so
every check is shown with the command a human would type. For SQL checks that is the query
itself, ready to paste into ``psql``: bound values (``{value: 1 hour}``) written as literals,
values read from an env file as psql variables set first (``\\set current_mode 'LIVE'`` then
``:'current_mode'``), and ``%%`` back to ``%``. The test suite runs every such block against
the reference schemas, so what the site shows is known to run.
"""

from __future__ import annotations

import re

from diagnose.checks import manual_command
from diagnose.checks.durations import interval_text
from diagnose.i18n import t
from diagnose.checks.sql_text import sql_literal
from diagnose.kb.model import Check, Entry
from diagnose.site.mdtext import fence

_PLACEHOLDER = re.compile(r"%(?:\((?P<name>\w+)\)s|%)")


def example_env_value(entry: Entry, env: str, key: str) -> str | None:
    """The value an example world of ``entry`` gives ``key`` (healthy worlds first)."""
    ordered = sorted(entry.examples, key=lambda x: x.verdict != "healthy")
    for example in ordered:
        values = ((example.world.get("env") or {}).get(env) or {})
        if key in values and values[key] not in (None, ""):
            return str(values[key])
    return None


def paste_sql(check: Check, entry: Entry) -> str:
    """The check's query as a psql user pastes it (see the module docstring)."""
    query = str(check.raw.get("query") or "").strip()
    params = check.raw.get("params") or {}
    variables: dict[str, tuple[str, str]] = {}  # name -> (comment, value)

    def substitute(match: re.Match) -> str:
        name = match.group("name")
        if name is None:
            return "%"
        spec = params.get(name)
        if isinstance(spec, dict) and "value" in spec:
            return sql_literal(spec["value"])
        if isinstance(spec, dict) and "window" in spec:
            return sql_literal(interval_text(spec["window"]))
        if isinstance(spec, dict) and "env" in spec:
            key = str(spec.get("key") or name.upper())
            value = spec.get("default")
            if value is None:
                value = example_env_value(entry, str(spec["env"]), key)
            comment = f"-- {name}: {key} from the '{spec['env']}' env file"
            variables[name] = (comment, f"<{key}>" if value is None else str(value))
            return f":'{name}'"
        if spec is None:
            variables[name] = (f"-- {name}: set this value", f"<{name}>")
            return f":'{name}'"
        return sql_literal(spec)

    body = _PLACEHOLDER.sub(substitute, query)
    lines = []
    for name, (comment, value) in variables.items():
        lines += [comment, f"\\set {name} '{value.replace(chr(39), chr(39) * 2)}'"]
    body = body.rstrip().rstrip(";") + ";"
    return "\n".join([*lines, body])


def manual_markdown(check: Check, entry: Entry) -> str:
    """Markdown showing how to do ``check`` by hand."""
    source = check.source
    parts = []
    if check.kind == "sql":
        database = source[1] if source else "db"
        parts += [t('Paste into `psql "$DATABASE_URL_{database}"` (the `{database}` database):', database=database),
                  "", fence(paste_sql(check, entry), "sql")]
        other = check.manual or manual_command(check.kind, check.raw)
        if other:
            label = t("What the entry's author runs:") if check.manual else t("Or in one command:")
            parts += ["", label, "", fence(other.strip(), "bash")]
        return "\n".join(parts)
    command = check.manual or manual_command(check.kind, check.raw)
    if not command:
        return ""
    return "\n".join([t("By hand:"), "", fence(command.strip(), "bash")])
