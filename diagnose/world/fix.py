"""Apply a solution to a broken example world, as an operator would follow its steps.

The self-test proves a fix by doing it: each SQL change step runs in its own transaction with the
placeholders filled from the broken run's own check rows (as the report fills them), its RETURNING
rows counted and compared with the step's ``rows`` before COMMIT (another count rolls back and fails
the proof); env edits rewrite the world's env file. Shell and UI steps cannot run in a world, nor can
statements that change the server, a database or roles every world shares: they are not applied (a
proof never rests on them: its control run fails until what is applied changes the state).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from diagnose.kb.model import Solution, Step
from diagnose.kb.steps import (Filled, expected_rows, fill_from_results, statement_kinds, substitute, touches_rows,
                               transactional)


def apply_solution(solution: Solution, results: list[Any], profile_sources: dict[str, dict[str, Any]],
                   world_env: dict[str, dict[str, Any]], values: dict[str, str]) -> list[str]:
    """Follow ``solution``'s steps in the world whose profile sources are given; what went wrong
    (empty: every step that can run in a world ran as it says). It stops at the first problem."""
    for number, step in enumerate(solution.steps, 1):
        problems: list[str] = []
        if step.sql and step.changes:
            kinds = statement_kinds(step.sql)
            if not transactional(step.sql, kinds) or not touches_rows(step.sql, kinds):
                continue   # the server, a database or roles: shared by every world
            filled = fill_from_results(step, results)
            database = (step.where or "").partition(":")[2]
            dsn = profile_sources["databases"].get(database)
            if filled.why:
                problems = [f"{{{k}}} not filled: {why}" for k, why in filled.why.items()]
            elif dsn is None:
                problems = [f"the world has no database '{database}'"]
            else:
                problems = [p for p in [_run_change(step, filled, dsn)] if p]
        elif step.env:
            problems = [p for p in [_edit_env(step, profile_sources, world_env, values)] if p]
        if problems:
            return [f"step {number}: {p}" for p in problems]
    return []


def _run_change(step: Step, filled: Filled, dsn: str) -> str | None:
    """Run the change in one transaction; the RETURNING count must be the step's ``rows``."""
    import psycopg

    from diagnose.pgparse import split

    sql = substitute(step.sql or "", filled)
    returned = 0
    with psycopg.connect(dsn) as conn:
        try:
            with conn.cursor() as cur:
                for statement in split(sql):
                    cur.execute(statement)
                    if cur.description is not None:
                        returned += len(cur.fetchall())
        except psycopg.Error as exc:   # the fix is wrong, not the world: say so, rolled back
            conn.rollback()
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return f"PostgreSQL refused it ({first}): rolled back"
        expected = expected_rows(step, filled)
        if expected is not None and returned != expected:
            conn.rollback()
            return f"returned {returned} row(s), the step expects {expected}: rolled back"
        conn.commit()
    return None


def _edit_env(step: Step, profile_sources: dict[str, dict[str, Any]], world_env: dict[str, dict[str, Any]],
              values: dict[str, str]) -> str | None:
    """Rewrite the world's env file with the step's edit; ``<placeholders>`` take ``values[KEY]``."""
    import re

    from diagnose.world.build import env_file_text

    edit = step.env or {}
    source = edit.get("source")
    path = None if source is None else profile_sources["env"].get(source)
    if source is None or path is None:
        return f"the world has no env file '{source}'"
    current = dict(world_env.get(source) or {})
    for key, value in (edit.get("set") or {}).items():
        if re.search(r"<[^>]+>", value):
            if key not in values:
                return f"{key} is a placeholder ({value}): give fix.values.{key}"
            value = values[key]
        current[key] = value
    for key in edit.get("unset") or ():
        current.pop(key, None)
    world_env[source] = current
    Path(path).write_text(env_file_text(current), encoding="utf-8")
    return None
