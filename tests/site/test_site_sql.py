"""Every SQL statement the site shows runs against the reference schemas.

Taken from the built HTML, not from the YAML: every ``sql`` code block (the queries of the
checks as pasted into psql, remediation SQL in solutions, SQL in the example reports) and every
``psql "$DATABASE_URL_x" -c "..."`` command in any code block. Each runs in a transaction that
is rolled back, so remediation UPDATEs run too without changing anything; psql variables
(``\\set name 'v'`` then ``:'name'``) and shell variables become bound parameters.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

SCHEMAS = Path(__file__).resolve().parents[2] / "checks" / "schemas"
PSQL_COMMAND = re.compile(r'psql "\$DATABASE_URL_(\w+)" -c "((?:[^"\\]|\\.)*)"')
#: code blocks whose text is typed into a shell (the Markdown report's blocks hold its ```sh ones)
SHELL_BLOCKS = {"bash", "sh", "shell", "console", "text", "markdown"}
SHELL_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


@pytest.fixture(scope="module")
def reference_dsns(pg_server, pack):
    return {name: pg_server.create_database(f"site_sql_{name}", schema_sql=(pack.root / path).read_text())
            for name, path in pack.reference_schemas.items()}


FILL = re.compile(r"\{[a-z_][a-z0-9_]*\}")
#: the transaction a change step is shown in: the test runs the statements in its own, rolled back
TRANSACTION_LINE = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK)\s*;\s*$", re.I)


def from_psql_paste(text: str) -> tuple[str, dict[str, str] | None]:
    """A block as pasted into psql: ``\\set`` lines become parameters of ``:'name'``; a step's
    ``{ids}`` placeholder (a report fills it with the ids found) reads as NULL, and the BEGIN/COMMIT
    around a change are left to the test's own transaction."""
    params: dict[str, str] = {}
    lines = []
    text = FILL.sub("NULL", text)
    for line in text.splitlines():
        if TRANSACTION_LINE.match(line):
            continue
        match = re.match(r"\\set (\w+) '((?:[^']|'')*)'\s*$", line.strip())
        if match:
            params[match.group(1)] = match.group(2).replace("''", "'")
        elif not line.strip().startswith("\\"):
            lines.append(line)
    sql = "\n".join(lines)
    if not params:
        return sql, None
    sql = re.sub(r":'(\w+)'", lambda m: f"%({m.group(1)})s", sql.replace("%", "%%"))
    return sql, params


def from_shell(argument: str) -> str:
    """The SQL inside ``psql -c "..."``: shell escapes undone, ``'${VAR:-d}'`` given a value."""
    sql = re.sub(r'\\([$`"\\])', r"\1", argument)
    return SHELL_VARIABLE.sub(lambda m: m.group(2) if m.group(2) is not None else "LIVE", sql)


def shown_statements(site, pack) -> list[tuple[str, list[str], str, dict | None]]:
    """``(where, candidate databases, sql, params)`` for every SQL shown on the site."""
    everything = sorted(pack.reference_schemas)
    found, seen = [], set()
    for page in site.pages():
        rel = page.path.relative_to(site.root).as_posix()
        match = re.fullmatch(r"faq/([^/]+)/index\.html", rel)
        entry = pack.get(match.group(1)) if match else None
        own = sorted({c.raw["database"] for c in entry.checks if c.kind == "sql"}) if entry else []
        for block in page.code:
            items = []
            if block.lang == "sql":
                sql, params = from_psql_paste(block.text)
                items.append((own or everything, sql, params))
            for command in PSQL_COMMAND.finditer(block.text) if block.lang in SHELL_BLOCKS else ():
                items.append(([command.group(1)], from_shell(command.group(2)), None))
            for candidates, sql, params in items:
                key = (tuple(candidates), sql, tuple(sorted((params or {}).items())))
                if sql.strip() and key not in seen:
                    seen.add(key)
                    found.append((rel, candidates, sql, params))
    return found


def run(dsn: str, sql: str, params: dict | None) -> None:
    from diagnose.kb.steps import transactional

    if params is None and not transactional(sql):
        # ALTER SYSTEM and the like cannot run in the transaction that would undo them: PostgreSQL's
        # own parser reads them (a statement it refuses raises)
        import pglast

        pglast.parse_sql(sql)
        return
    with psycopg.connect(dsn, options="-c statement_timeout=10000") as conn:
        try:
            conn.execute(sql, params)
        finally:
            conn.rollback()


def test_every_sql_statement_on_the_site_runs(site, pack, reference_dsns):
    statements = shown_statements(site, pack)
    sql_checks = sum(1 for e in pack.entries for c in e.checks if c.kind == "sql")
    assert len(statements) > sql_checks, "fewer SQL blocks than SQL checks: the pages lost some"
    failures = []
    for where, candidates, sql, params in statements:
        errors = []
        for database in candidates:
            try:
                run(reference_dsns[database], sql, params)
                break
            except psycopg.Error as exc:
                errors.append(f"{database}: {str(exc).strip().splitlines()[0]}")
        else:
            failures.append(f"{where}: {' / '.join(errors)}\n    {' '.join(sql.split())[:300]}")
    assert not failures, f"{len(failures)} SQL statement(s) shown on the site do not run:\n" + "\n".join(failures)


def test_remediation_updates_are_among_them(site, pack):
    statements = [sql for _, _, sql, _ in shown_statements(site, pack)]
    assert any(re.match(r"\s*UPDATE\b", sql, re.I) for sql in statements), "no remediation UPDATE was found to run"
    assert any("%(current_mode)s" in sql for sql in statements), "the env-bound parameter was not taken as a parameter"


def test_the_runner_catches_errors_and_changes_nothing(reference_dsns):
    """A statement the schema does not support fails; a remediation UPDATE leaves no trace."""
    dsn = reference_dsns["trading"]
    with pytest.raises(psycopg.Error):
        run(dsn, "SELECT no_such_column FROM positions", None)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO positions (position_id, idempotency_key, symbol, timeframe, side, qty_total, status) "
                     "VALUES ('runner-p1', 'runner-k1', 'BTCUSDT', '1h', 'BUY', 1, 'OPEN')")
    try:
        run(dsn, "UPDATE positions SET status = 'CLOSED' WHERE position_id = 'runner-p1'", None)
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT status FROM positions WHERE position_id = 'runner-p1'").fetchone() == ("OPEN",)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("DELETE FROM positions WHERE position_id = 'runner-p1'")
    pasted = "\\set mode 'LIVE'\nSELECT count(*) FROM positions WHERE execution_mode = :'mode' AND symbol LIKE 'B%';"
    sql, params = from_psql_paste(pasted)
    assert params == {"mode": "LIVE"} and "%(mode)s" in sql and "'B%%'" in sql
    run(dsn, sql, params)
