import re

import pytest

from diagnose.kb.loader import KnowledgeBaseError, load_pack

from .conftest import ENTRY, edit, problems_after



def test_bad_regex_in_error_patterns(pack_copy):
    out = problems_after(pack_copy, ("  - 'position_mutex_blocked'\n", "  - 'position_(mutex'\n"))
    assert any("error_patterns[0]: invalid regex" in p for p in out), out


def test_bad_regex_in_a_log_check(pack_copy):
    out = problems_after(pack_copy, ("pattern: 'position_sync_failed'", "pattern: 'position_sync_failed('"))
    assert any(re.search(r"checks\[\d\]\.pattern", p) for p in out), out


def test_unknown_source_name(pack_copy):
    out = problems_after(pack_copy, ("    log: execution\n    pattern: 'position_mutex_blocked'",
                                     "    log: executoin\n    pattern: 'position_mutex_blocked'"))
    assert any("unknown log source 'executoin' (pack.yaml declares:" in p for p in out), out


def test_unknown_cause_reference(pack_copy):
    out = problems_after(pack_copy, ("cause: sync-failing\n    log: execution", "cause: sync-broken\n    log: execution"))
    assert any("unknown cause 'sync-broken'" in p for p in out), out


def test_id_colliding_with_a_subcommand(pack_copy):
    out = problems_after(pack_copy, ("aliases: [invalid-positions,", "aliases: [lint, invalid-positions,"))
    assert any("aliases[0]: 'lint' is a subcommand name" in p for p in out), out


def test_duplicate_ids_across_files(pack_copy):
    text = (pack_copy / ENTRY).read_text()
    (pack_copy / "data" / "stale-positions-copy.yaml").write_text(text)
    with pytest.raises(KnowledgeBaseError) as info:
        load_pack(pack_copy)
    out = [str(p) for p in info.value.problems]
    assert any("'stale-positions' is already used by entry 'stale-positions'" in p for p in out), out
    assert any("must match the file name" in p for p in out), out


def test_duplicate_check_ids(pack_copy):
    out = problems_after(pack_copy, ("  - id: mutex-blocked-log", "  - id: blocked-orders"))
    assert any("checks[1].id: duplicate check id 'blocked-orders'" in p for p in out), out


def test_sql_that_writes_is_rejected(pack_copy):
    out = problems_after(pack_copy, ("SELECT position_id, symbol, timeframe, side, qty_total, execution_mode, created_at,",
                                     "DELETE FROM positions; SELECT position_id, symbol, timeframe, side, qty_total, execution_mode, created_at,"))
    assert any("checks[2].query" in p and "DELETE" in p for p in out), out


def test_category_must_match_folder(pack_copy):
    (pack_copy / ENTRY).rename(pack_copy / "service" / "stale-positions.yaml") if (pack_copy / "service").exists() \
        else ((pack_copy / "service").mkdir(), (pack_copy / ENTRY).rename(pack_copy / "service" / "stale-positions.yaml"))
    with pytest.raises(KnowledgeBaseError, match="move it to data/"):
        load_pack(pack_copy)


def test_examples_need_a_broken_and_a_healthy_world(pack_copy):
    healthy = (pack_copy / ENTRY).read_text().count("    verdict: healthy\n")
    out = problems_after(pack_copy, *[("    verdict: healthy\n", "    verdict: problem\n")] * healthy)
    assert any("needs at least one broken (verdict: problem or risk) and one healthy example" in p for p in out), out


HISTORY_RULE = "history: true needs a cause and no symptom: true (a past event names the cause of a present symptom)"


def test_history_without_a_cause_is_refused(pack_copy):
    out = problems_after(pack_copy, ("  - id: mutex-blocked-log\n", "  - id: mutex-blocked-log\n    history: true\n"))
    assert any(f"checks[1].history: {HISTORY_RULE}" in p for p in out), out


def test_history_that_is_also_the_symptom_is_refused(pack_copy):
    out = problems_after(pack_copy, ("  - id: sync-failed-log\n",
                                     "  - id: sync-failed-log\n    history: true\n    symptom: true\n"))
    assert any(re.search(r"checks\[\d\]\.history: history: true needs a cause", p) for p in out), out


def test_history_with_a_cause_is_valid(pack_copy):
    edit(pack_copy / ENTRY, "  - id: sync-failed-log\n", "  - id: sync-failed-log\n    history: true\n")
    entry = load_pack(pack_copy).get("stale-positions")
    assert next(c for c in entry.checks if c.id == "sync-failed-log").raw.get("history") is True


def test_follows_must_name_another_entry_of_the_pack(pack_copy):
    follows = "\nfollows: [ws-disconnect, no-such-entry, stale-positions]\nexamples:\n"
    out = problems_after(pack_copy, ("\nexamples:\n", follows))
    assert any("follows[1]: 'no-such-entry' is not another entry of this pack" in p for p in out), out
    assert any("follows[2]: 'stale-positions' is not another entry of this pack" in p for p in out), out
    assert not any("follows[0]" in p for p in out), out


def test_follows_naming_another_entry_is_valid(pack_copy):
    edit(pack_copy / ENTRY, "\nexamples:\n", "\nfollows: [backend-start-failed]\nexamples:\n")
    load_pack(pack_copy)


def test_an_examples_clock_is_not_a_source(pack_copy):
    edit(pack_copy / ENTRY, "    world:\n", "    world:\n      clock: {timezone: Asia/Shanghai}\n")
    pack = load_pack(pack_copy)
    first = pack.get("stale-positions").examples[0]
    assert first.world["clock"] == {"timezone": "Asia/Shanghai"}


def test_a_kind_that_is_not_text_is_one_problem_not_a_crash(pack_copy):
    """Found by the loader fuzz test: `kind: [sql]` made lint look a list up in the kinds' table."""
    out = problems_after(pack_copy, ("    kind: sql\n", "    kind: [sql]\n"))
    assert any(".kind: expected text, got list" in p for p in out), out


def test_every_subcommand_is_reserved():
    from diagnose.cli import COMMANDS
    from diagnose.kb.lint import RESERVED

    assert set(COMMANDS) <= RESERVED


def test_every_unknown_field_is_reported_at_its_own_line(pack_copy):
    problems = problems_after(pack_copy, ("severity: ", "sevrity_note: x\nowner: desk\nseverity: "))
    unknown = [p for p in problems if "unknown field" in p]
    assert len(unknown) == 2, problems
    assert "unknown field 'sevrity_note'" in unknown[0] and "unknown field 'owner'" in unknown[1]
    lines = [int(p.split(":")[1]) for p in unknown]
    assert lines[1] == lines[0] + 1


def test_a_process_validates_an_unchanged_entry_once_and_hands_out_copies(pack_copy, monkeypatch):
    """``docs serve`` validates the edited pack at each rebuild: an entry whose bytes did not change is not
    parsed and validated again, each caller gets its own copy, and a changed entry is validated anew."""
    from diagnose.kb import fixlint, lint

    entry = pack_copy / "data" / "stale-positions.yaml"
    parsed: list[str] = []
    real_load = lint.load
    monkeypatch.setattr(lint, "load", lambda path, *a: parsed.append(path.name) or real_load(path, *a))
    steps: list[str] = []
    real_step = fixlint._check_step
    monkeypatch.setattr(fixlint, "_check_step", lambda *a, **k: steps.append("x") or real_step(*a, **k))
    monkeypatch.setattr(lint, "_MEMO", {})
    monkeypatch.setattr(lint, "_REMEMBER", [True])   # as `diagnose docs serve` asks for it
    first = load_pack(pack_copy, use_cache=False)
    parsed_once, steps_once = len(parsed), len(steps)
    assert parsed_once and steps_once
    located, _ = lint.check_file(pack_copy, entry)
    located.data["title"] = "changed by a caller"
    again, _ = lint.check_file(pack_copy, entry)
    assert again.data["title"] != "changed by a caller"          # a copy, not the remembered object
    second = load_pack(pack_copy, use_cache=False)
    assert [e.title for e in second.entries] == [e.title for e in first.entries]
    assert len(steps) == steps_once, "unchanged solutions were checked again"
    assert parsed.count("stale-positions.yaml") == 1
    edit(entry, "title: Orders blocked", "title: Orders still blocked")
    third = load_pack(pack_copy, use_cache=False)
    assert parsed.count("stale-positions.yaml") == 2 and len(steps) > steps_once
    assert third.get("stale-positions").title.startswith("Orders still blocked")
    assert len(lint._MEMO) == 2 * len(third.entries), "one result per file, the edited entry's replaced"
