"""Apply a solution to a broken example world, as an operator would follow its steps.

The self-test proves a fix by doing it: each SQL change step runs in its own transaction with the
placeholders filled from the broken run's own check rows (as the report fills them), its RETURNING
rows counted and compared with the step's ``rows`` before COMMIT (another count rolls back and fails
the proof); env edits rewrite the world's env file. Shell and UI steps cannot run in a world and are
listed as not applied; so are statements that cannot run in a transaction (ALTER SYSTEM would change
the server every world shares).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnose.kb.model import Solution, Step
from diagnose.kb.steps import Filled, expected_rows, fill_from_results, substitute, touches_rows, transactional


@dataclass
class Applied:
    """What applying a solution did: problems (the proof fails) and the steps it could not apply."""

    problems: list[str] = field(default_factory=list)
    not_applied: list[str] = field(default_factory=list)
    changed_rows: int = 0


def apply_solution(solution: Solution, results: list[Any], profile_sources: dict[str, dict[str, Any]],
                   world_env: dict[str, dict[str, Any]], values: dict[str, str]) -> Applied:
    """Follow ``solution``'s steps in the world whose profile sources are given."""
    out = Applied()
    for number, step in enumerate(solution.steps, 1):
        label = f"step {number}"
        if step.sql and step.changes:
            if not transactional(step.sql) or not touches_rows(step.sql):
                out.not_applied.append(f"{label}: changes the server or roles every world shares (not applied)")
                continue
            filled = fill_from_results(step, results)
            missing = {k: why for k, why in filled.why.items()}
            if missing:
                out.problems.extend(f"{label}: {{{k}}} not filled: {why}" for k, why in missing.items())
                return out
            database = (step.where or "").partition(":")[2]
            dsn = profile_sources["databases"].get(database)
            if dsn is None:
                out.problems.append(f"{label}: the world has no database '{database}'")
                return out
            problem = _run_change(step, filled, dsn, out)
            if problem:
                out.problems.append(f"{label}: {problem}")
                return out
        elif step.env:
            problem = _edit_env(step, profile_sources, world_env, values)
            if problem:
                out.problems.append(f"{label}: {problem}")
                return out
        elif step.shell or (step.changes and not step.sql):
            out.not_applied.append(f"{label}: {'shell' if step.shell else 'by hand'} ({step.risk})")
    return out


def _run_change(step: Step, filled: Filled, dsn: str, out: Applied) -> str | None:
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
    out.changed_rows += returned
    return None


def _edit_env(step: Step, profile_sources: dict[str, dict[str, Any]], world_env: dict[str, dict[str, Any]],
              values: dict[str, str]) -> str | None:
    """Rewrite the world's env file with the step's edit; ``<placeholders>`` take ``values[KEY]``."""
    import re

    from diagnose.world.build import env_file_text

    edit = step.env or {}
    source = edit.get("source")
    path = profile_sources["env"].get(source)
    if path is None:
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
