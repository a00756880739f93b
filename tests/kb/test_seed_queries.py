"""The seed's diagnosis SQL (reference-stack README) is in the pack unchanged, and runs as written;
its remediation (a reset of every stuck task by age) is quoted only as what not to do: the pack's
own reset is scoped by the ids the diagnosis found."""

from __future__ import annotations

import re

import psycopg
import pytest

from diagnose.kb.loader import builtin_root

SEED_SQL = [
    "SELECT * FROM v_lock_trigger_summary ORDER BY triggered_at DESC LIMIT 10;",
    "SELECT * FROM lock_triggers WHERE execution_status = 'failed' ORDER BY triggered_at DESC;",
    "SELECT * FROM v_active_lock_configs;",
    "SELECT id, old_symbol, new_symbol, status, error_message, created_at, started_at, completed_at "
    "FROM rollover_tasks ORDER BY created_at DESC LIMIT 10;",
    "SELECT * FROM rollover_tasks WHERE status = 'executing' AND started_at < NOW() - INTERVAL '1 hour';",
    "SELECT * FROM rollover_tasks WHERE status = 'failed' ORDER BY completed_at DESC;",
    "SELECT * FROM v_rollover_configs_summary WHERE is_enabled = true;",
    "UPDATE rollover_tasks SET status = 'pending', started_at = NULL, error_message = '手动重置' "
    "WHERE status = 'executing' AND started_at < NOW() - INTERVAL '1 hour';",
]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().rstrip(";")


PACK_TEXT = squeeze(" ".join(p.read_text(encoding="utf-8") for p in builtin_root().rglob("*.yaml")
                             if p.parent.name in ("connection", "service", "data")))


@pytest.mark.parametrize("statement", SEED_SQL)
def test_seed_statement_is_in_the_pack_unchanged(statement):
    assert squeeze(statement) in PACK_TEXT


def test_the_seeds_unscoped_reset_is_only_a_warning_never_a_step():
    from diagnose.kb.loader import load_pack

    reset = squeeze(SEED_SQL[-1])
    pack = load_pack()
    steps = [squeeze(step.sql or "") for e in pack.entries for s in e.solutions for step in s.steps]
    assert not any(reset in sql for sql in steps)
    warned = [a for e in pack.entries for a in e.avoid if reset in squeeze(a.dont)]
    assert warned, "the seed's reset is not named under what not to do"


@pytest.mark.parametrize("statement", SEED_SQL)
def test_seed_statement_runs_against_the_desk_schema(make_db, statement):
    with psycopg.connect(make_db("desk")) as conn:
        conn.execute(statement)
        conn.rollback()
