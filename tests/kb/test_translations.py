"""Translations beside the entries (``<id>.zh.yaml``): missing and stale ones are lint problems with file:line,
a stale part is shown in English, and none of it ever stops a run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from diagnose.kb import translations as tr
from diagnose.kb.words import cjk
from diagnose.kb.loader import load_pack
from tests.kb.conftest import edit

ENTRY = "data/stale-positions.yaml"
OVERLAY = "data/stale-positions.zh.yaml"


def translation_problems(root: Path) -> list[str]:
    return [str(p) for p in load_pack(root, use_cache=False).translation_problems]


def test_the_builtin_pack_is_complete_in_chinese():
    pack = load_pack(use_cache=False)
    assert pack.languages == ("en", "zh")
    assert [str(p) for p in pack.translation_problems] == []
    zh = load_pack(lang="zh")
    for entry in zh.entries:
        assert cjk(entry.title), entry.id
        assert all(cjk(c.title) for c in entry.causes), entry.id
        assert all(cjk(s.title) for s in entry.solutions), entry.id


def test_ids_sql_and_patterns_stay_the_english_ones():
    en, zh = load_pack(), load_pack(lang="zh")
    for a, b in zip(en.entries, zh.entries):
        assert (a.id, a.aliases, a.error_patterns) == (b.id, b.aliases, b.error_patterns)
        assert [c.raw.get("query") for c in a.checks] == [c.raw.get("query") for c in b.checks]
        assert [[s.sql for s in x.steps] for x in a.solutions] == [[s.sql for s in x.steps] for x in b.solutions]


def test_an_english_change_makes_its_translation_stale_and_shows_english(pack_copy):
    edit(pack_copy / ENTRY, "title: Orders blocked", "title: Orders are blocked")
    problems = translation_problems(pack_copy)
    assert len(problems) == 1
    assert problems[0].startswith(f"checks/{OVERLAY}:")
    assert "title: stale translation" in problems[0]
    new = tr.stamp(load_pack(pack_copy).get("stale-positions").title)
    assert f"`title: {new}`" in problems[0]
    zh = load_pack(pack_copy, lang="zh")
    entry = zh.get("stale-positions")
    assert entry.title.startswith("Orders are blocked")               # English until translated again
    assert cjk(entry.causes[0].title)                                 # the rest stays Chinese


def test_rewrapping_a_paragraph_is_not_a_change(pack_copy):
    path = pack_copy / ENTRY
    data = path.read_text()
    summary = data.index("summary:")
    first_space = data.index(" ", data.index("\n", summary) + 3)
    path.write_text(data[:first_space] + "\n   " + data[first_space:])
    assert translation_problems(pack_copy) == []


@pytest.mark.parametrize("old, new, said", [
    ("{count}", "{cnt}", "placeholders differ from the English: lacks {count}; has {cnt}"),
    ("`position_mutex_blocked`", "position_mutex_blocked", "lacks the code `position_mutex_blocked`"),
])
def test_what_must_not_be_translated_is_checked(pack_copy, old, new, said):
    overlay = pack_copy / OVERLAY
    text = overlay.read_text()
    assert old in text
    overlay.write_text(text.replace(old, new))
    problems = translation_problems(pack_copy)
    assert problems and all(p.startswith(f"checks/{OVERLAY}:") for p in problems)
    assert any(said in p for p in problems), problems


def test_a_changed_code_block_is_a_problem(pack_copy):
    overlay = pack_copy / OVERLAY
    text = overlay.read_text()
    assert "```sql" in text or "```" in text
    overlay.write_text(text.replace("SELECT", "select", 1))
    problems = translation_problems(pack_copy)
    assert any("code blocks differ from the English" in p or "lacks the code" in p for p in problems), problems


def test_an_unknown_id_and_a_wrong_shape_are_problems_at_their_lines(pack_copy):
    overlay = pack_copy / OVERLAY
    original = overlay.read_text()
    overlay.write_text(original.replace("\ncauses:\n", "\ncauses:\n  no-such-cause:\n    title: 不存在\n", 1))
    problems = translation_problems(pack_copy)
    assert any("causes.no-such-cause: translates nothing: the English has no 'no-such-cause' in causes" in p
               for p in problems), problems
    overlay.write_text("aliases: [幽灵持仓]\n" + original)
    problems = translation_problems(pack_copy)
    assert any(p.startswith(f"checks/{OVERLAY}:1: aliases:") for p in problems), problems


def test_an_overlay_in_an_undeclared_language_or_without_its_entry(pack_copy):
    edit(pack_copy / "pack.yaml", "languages: [en, zh]", "languages: [en]")
    shutil.copy(pack_copy / OVERLAY, pack_copy / "data/gone.zh.yaml")
    problems = translation_problems(pack_copy)
    assert any(p.startswith(f"checks/{OVERLAY}:1:") and "'zh' is not among the pack's languages" in p
               for p in problems), problems
    assert any(p.startswith("checks/data/gone.zh.yaml:1:") and "not an entry of this pack" in p for p in problems)


def test_an_english_only_pack_needs_no_translation(pack_copy):
    edit(pack_copy / "pack.yaml", "languages: [en, zh]", "languages: [en]")
    for overlay in pack_copy.rglob("*.zh.yaml"):
        overlay.unlink()
    pack = load_pack(pack_copy, use_cache=False, lang="zh")
    assert pack.translation_problems == []
    assert pack.get("ws-disconnect").title.startswith("WebSocket")


def test_an_overlay_is_not_an_entry_and_its_edit_reloads_the_pack(pack_copy, monkeypatch, tmp_path):
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "cache2"))
    first = load_pack(pack_copy, lang="zh")
    assert len(first.entries) == 14
    edit(pack_copy / OVERLAY, "\ntitle: ", "\ntitle: 改过的")
    second = load_pack(pack_copy, lang="zh")
    assert second.digest != first.digest
    assert second.get("stale-positions").title.startswith("改过的")


def test_a_broken_glossary_is_a_problem_at_its_line_but_never_stops_a_run(pack_copy):
    (pack_copy / "glossary.yaml").write_text("terms:\n  - {zh: 换月, en: rollover}\n  - {zh: 移仓, en: roll}\n"
                                             "  - {en: lock}\nterms: []\n")
    pack = load_pack(pack_copy, use_cache=False)
    said = [str(p) for p in pack.translation_problems]
    assert any(p.startswith("checks/glossary.yaml:4:") and "zh" in p for p in said), said
    assert any(p.startswith("checks/glossary.yaml:5:") and "terms" in p for p in said), said   # a key twice
    assert pack.glossary == () and len(pack.entries) == 14


def test_a_key_written_twice_in_an_overlay_is_a_problem(pack_copy):
    overlay = pack_copy / OVERLAY
    overlay.write_text(overlay.read_text(encoding="utf-8").replace("\ntitle: ", "\ntitle: 第一个\ntitle: ", 1),
                       encoding="utf-8")
    assert any(p.startswith(f"checks/{OVERLAY}:") and "title" in p for p in translation_problems(pack_copy))


def test_an_english_file_named_like_a_translation_is_an_entry(pack_copy):
    from diagnose.i18n import is_translation

    assert is_translation(Path("x/a.zh.yaml")) and not is_translation(Path("x/a.en.yaml"))
