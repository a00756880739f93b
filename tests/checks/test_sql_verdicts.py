"""The grammar's verdict on a query is kept in the cache folder: a later process reads it instead of parsing
again, gets the same Calls or the same refusal, and never trusts a file made by other rules or a broken one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from diagnose.checks import sql_grammar, sql_verdicts
from diagnose.checks.sql_grammar import Refused

ROOT = Path(__file__).resolve().parents[2]
QUERY = ("SELECT p.position_id, upper(p.symbol) FROM public.positions p JOIN order_rejections r "
         "ON r.blocking_position_id = p.position_id WHERE p.created_at > now() - %(window)s::interval "
         "AND p.status = ANY(%(states)s) ORDER BY 1")
WRITING = "WITH gone AS (DELETE FROM positions RETURNING 1) SELECT count(*) FROM gone"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """The queries PostgreSQL's grammar was asked to read, with a cache folder of this test's own, as a new
    process would start (nothing in memory)."""
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "cache"))
    sql_verdicts.forget()
    seen: list[str] = []
    real = sql_grammar.inspect

    def counting(query: str) -> sql_grammar.Calls:
        seen.append(query)
        return real(query)

    monkeypatch.setattr(sql_grammar, "inspect", counting)
    yield seen
    sql_verdicts.forget()


def test_a_later_process_reads_the_verdict_instead_of_parsing(parses):
    first = sql_verdicts.inspect(QUERY)
    assert parses == [QUERY]
    sql_verdicts.forget()  # a new process: only the file is left
    again = sql_verdicts.inspect(QUERY)
    assert parses == [QUERY], "the query was parsed again"
    assert again == first and again.names == first.names
    assert (None, "upper") in again.functions and ("public", "positions") in again.relations


def test_a_refusal_is_kept_and_raised_again_with_the_same_words(parses):
    with pytest.raises(Refused) as first:
        sql_verdicts.inspect(WRITING)
    sql_verdicts.forget()
    with pytest.raises(Refused) as again:
        sql_verdicts.inspect(WRITING)
    assert str(again.value) == str(first.value) and parses == [WRITING]


def test_other_rules_or_another_parser_never_read_the_file(parses, monkeypatch):
    sql_verdicts.inspect(QUERY)
    made = sorted((Path(os.environ["DIAGNOSE_CACHE_DIR"])).glob("sql-verdicts-*.json"))
    assert len(made) == 1 and sql_verdicts.fingerprint() in made[0].name
    sql_verdicts.forget()
    monkeypatch.setattr(sql_verdicts, "RULES", ("sql_grammar.py", "sql_text.py", "sql_catalog.py"))
    sql_verdicts.inspect(QUERY)
    assert parses == [QUERY, QUERY], "a verdict of other rules was trusted"


def test_a_broken_or_foreign_file_is_ignored(parses):
    sql_verdicts.inspect(QUERY)
    path = next(Path(os.environ["DIAGNOSE_CACHE_DIR"]).glob("sql-verdicts-*.json"))
    for text in ("{not json", json.dumps({"format": 99, "verdicts": {}}),
                 json.dumps({"format": sql_verdicts.FORMAT, "verdicts": {"x": {"calls": "SELECT"}}})):
        path.write_text(text)
        sql_verdicts.forget()
        assert sql_verdicts.inspect(QUERY).statement == "SELECT"
    assert len(parses) == 4


def test_without_a_cache_folder_the_verdict_is_still_right(parses, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    assert sql_verdicts.inspect(QUERY).statement == "SELECT"
    with pytest.raises(Refused):
        sql_verdicts.inspect(WRITING)


def test_a_run_of_a_known_query_does_not_import_the_parser(tmp_path, make_db, pg_server):
    """The point of the cache: a symptom run whose queries were judged before never loads pglast."""
    dsn = make_db("trading")
    script = (
        "import sys\n"
        "from datetime import datetime, timezone\n"
        "from diagnose.checks import sql\n"
        "from diagnose.checks.base import Context\n"
        f"ctx = Context(timeout=10, now=datetime.now(timezone.utc), resolve=lambda kind, name: {dsn!r})\n"
        f"out = sql.run({{'id': 'c', 'kind': 'sql', 'database': 'trading', 'query': {QUERY!r},\n"
        "                'params': {'window': '1 hour', 'states': ['OPEN']}, 'expect': {'rows': {'max': 0}}}, ctx)\n"
        "print(out.passed, 'pglast' in sys.modules)\n")
    env = dict(os.environ, DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    second = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert first.stdout.split() == ["True", "True"], first.stderr
    assert second.stdout.split() == ["True", "False"], second.stderr


FORGED = {"statement": "SELECT", "functions": [], "attribute_calls": [], "operators": [], "types": [],
          "relations": [], "analyze": False, "names": []}
TERMINATE = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"


def forge(path: Path, query: str, calls: dict) -> None:
    import hashlib

    key = hashlib.sha256(query.encode()).hexdigest()
    path.write_text(json.dumps({"format": sql_verdicts.FORMAT, "verdicts": {key: {"calls": calls}}}))


@pytest.mark.parametrize("how", ["writable by others", "another owner"])
def test_a_verdict_file_someone_else_could_have_written_is_not_believed(parses, how):
    """A forged "calls nothing" for a query that terminates backends would skip the server's catalog check: a
    file of another owner, or one others may write, is read as missing."""
    honest = sql_verdicts.inspect(TERMINATE)
    assert (None, "pg_terminate_backend") in honest.functions
    path = next(Path(os.environ["DIAGNOSE_CACHE_DIR"]).glob("sql-verdicts-*.json"))
    forge(path, TERMINATE, FORGED)
    if how == "writable by others":
        path.chmod(0o666)
    else:
        if os.geteuid() != 0:
            pytest.skip("only root can give the file to another owner")
        os.chown(path, 65534, 65534)
    sql_verdicts.forget()
    assert (None, "pg_terminate_backend") in sql_verdicts.inspect(TERMINATE).functions
    assert parses == [TERMINATE, TERMINATE], "the forged verdict was believed"


def test_the_same_file_of_ones_own_is_believed(parses):
    """(The counterpart: the file diagnose writes, as it writes it, is read.)"""
    sql_verdicts.inspect(TERMINATE)
    path = next(Path(os.environ["DIAGNOSE_CACHE_DIR"]).glob("sql-verdicts-*.json"))
    forge(path, TERMINATE, FORGED)
    sql_verdicts.forget()
    assert sql_verdicts.inspect(TERMINATE).functions == frozenset() and parses == [TERMINATE]


def test_a_verdict_of_another_shape_is_judged_again(parses):
    sql_verdicts.inspect(QUERY)
    path = next(Path(os.environ["DIAGNOSE_CACHE_DIR"]).glob("sql-verdicts-*.json"))
    forge(path, QUERY, {**FORGED, "functions": [["a", "b", "c"]]})
    sql_verdicts.forget()
    assert (None, "upper") in sql_verdicts.inspect(QUERY).functions and parses == [QUERY, QUERY]
