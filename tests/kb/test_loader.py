import json

import pytest

from diagnose.cache import cache_dir
from diagnose.kb.loader import KnowledgeBaseError, load_pack

from .conftest import edit


def test_builtin_pack_loads(pack_copy):
    pack = load_pack(pack_copy)
    entry = pack.get("stale-positions")
    assert entry is not None and entry.category == "data"
    assert {c.kind for c in entry.checks} >= {"sql", "log", "env", "http"}
    assert pack.page_url("stale-positions").endswith("/faq/stale-positions/")
    assert len(pack.digest) == 64


def test_unknown_kind_is_reported_with_file_line_and_path(pack_copy):
    path = pack_copy / "data" / "stale-positions.yaml"
    edit(path, "kind: log\n    title: position_mutex_blocked", "kind: sqll\n    title: position_mutex_blocked")
    line = path.read_text().splitlines().index("    kind: sqll") + 1
    with pytest.raises(KnowledgeBaseError) as info:
        load_pack(pack_copy)
    messages = [str(p) for p in info.value.problems]
    assert any(m.startswith(f"checks/data/stale-positions.yaml:{line}: checks[1].kind: unknown kind 'sqll' "
                            "(expected one of: env, http, log, sql, tcp, websocket)") for m in messages), messages


def test_every_problem_is_listed_not_just_the_first(pack_copy):
    path = pack_copy / "data" / "stale-positions.yaml"
    edit(path, "severity: high", "severity: apocalyptic")
    edit(path, "    expects: no position_sync_failed line", "    expectz: no position_sync_failed line")
    with pytest.raises(KnowledgeBaseError) as info:
        load_pack(pack_copy)
    text = "\n".join(map(str, info.value.problems))
    assert "severity: unknown value 'apocalyptic'" in text
    assert "checks[6].expectz: unknown field 'expectz' (did you mean" in text
    assert "missing required field 'expects'" in text


def test_cache_is_used_and_invalidated_by_any_change(pack_copy):
    load_pack(pack_copy)
    cached = list(cache_dir().glob("kb-*.json"))
    assert len(cached) == 1
    data = json.loads(cached[0].read_text())
    assert "stale-positions" in {entry["id"] for _, entry, _translations in data["entries"]}
    # a change in a file changes the digest, so the broken file is validated, not served from cache
    edit(pack_copy / "data" / "stale-positions.yaml", "severity: high", "severity: nope")
    with pytest.raises(KnowledgeBaseError):
        load_pack(pack_copy)


def test_missing_folder_is_a_clean_error(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="does not exist"):
        load_pack(tmp_path / "nope")


def test_not_utf8_is_a_clean_error(pack_copy):
    (pack_copy / "data" / "broken.yaml").write_bytes(b"id: \xff\xfe\n")
    with pytest.raises(KnowledgeBaseError, match="not UTF-8"):
        load_pack(pack_copy)


def test_a_step_s_statements_are_parsed_once_and_kept_with_the_validated_pack(tmp_path):
    """Showing or reporting a step needs no SQL parser: its statement kinds were found at validation and
    come from the cache (pglast alone costs ~25 ms of every `diagnose show`)."""
    import os
    import subprocess
    import sys

    from diagnose.kb.steps import statement_kinds

    pack = load_pack(use_cache=False)
    steps = [s for e in pack.entries for sol in e.solutions for s in sol.steps if s.sql]
    assert steps and all(s.kinds == tuple(statement_kinds(s.sql) or ()) for s in steps)
    env = dict(os.environ, DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("DIAGNOSE_CHECKS", None)
    argv = [sys.executable, "-X", "importtime", "-m", "diagnose", "show", "stale-positions"]
    subprocess.run(argv, capture_output=True, env=env, check=True)               # validates, fills the cache
    warm = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    assert "Stale" in warm.stdout or "stale" in warm.stdout
    assert " pglast" not in warm.stderr, "the parser was imported to show a pack from the cache"
