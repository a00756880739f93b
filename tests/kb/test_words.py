"""The words ``diagnose explain`` matches on: English, Chinese cut by jieba, character pairs, glossary terms,
pinyin; and what happens without the segmenter."""

from __future__ import annotations

import pytest

from diagnose.kb import words as w
from diagnose.kb.model import Term
from diagnose.kb.loader import load_pack
from diagnose.kb.search import explain

TERMS = (Term("换月", "rollover", ("移仓", "roll over", "roll")), Term("模拟盘", "paper trading", ("paper",)),
         Term("通知", "notification", ("ntfy",)))


def test_chinese_is_cut_into_words_with_the_glossary_kept_whole():
    found = w.words("我们从模拟盘切到实盘以后就下不了单了", w.Vocabulary(TERMS))
    assert "模拟盘" in found                  # without the glossary jieba cuts 模拟|盘切
    assert "g:模拟盘" in found and "2:实盘" in found
    assert "我们" not in found and "了" not in found


def test_a_glossary_word_in_either_language_is_the_same_term():
    vocabulary = w.Vocabulary(TERMS)
    assert "g:换月" in w.words("the rollover did not happen", vocabulary)
    assert "g:换月" in w.words("rb rolled over yesterday", vocabulary)       # an English ending
    assert "g:换月" in w.words("主力移仓了", vocabulary)
    assert "g:通知" in w.words("ntfy推送收不到", vocabulary)


def test_english_words_lose_their_endings_not_their_meaning():
    found = w.words("disconnects dropped timing status", w.Vocabulary(()))
    assert {"disconnect", "drop", "timing", "status"} <= set(found)


def test_pinyin_catches_homophone_typos_and_typed_pinyin():
    assert w.pinyin("触发") == w.pinyin("出发") == "chufa"
    assert w.pinyin("后端") == w.pinyin("后断")
    found = w.words("锁仓不出发", w.Vocabulary(()))
    assert "py:" + w.pinyin("出发") in found
    assert "py:suocang" in w.words("suocang meiyou", w.Vocabulary(()), pinyin_too=True)
    assert "py:suocang" in w.words("锁仓", w.Vocabulary(()))


def test_the_pinyin_table_is_pypinyins():
    import pypinyin
    table = w._pinyin()
    sample = "换月锁仓主力合约天勤极星持仓行情模拟盘实盘下单拒绝通知推送后端数据库连接超时"
    for character in sample + "".join(chr(c) for c in range(0x4E00, 0x9FA6, 97)):
        expected = pypinyin.lazy_pinyin(character, style=pypinyin.Style.NORMAL, errors="ignore")
        if expected and expected[0].isalpha():
            assert table.get(character) == expected[0], character


def test_without_the_segmenter_chinese_still_matches(monkeypatch):
    """rjieba missing (no wheel for the platform): character pairs and the glossary still find the entry."""
    import builtins

    real_import = builtins.__import__

    def no_rjieba(name, *args, **kwargs):
        if name == "rjieba":
            raise ImportError("no rjieba here")
        return real_import(name, *args, **kwargs)

    w._segmenter.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_rjieba)
    try:
        assert w._segmenter(()) is None
        en, zh = load_pack(), load_pack(lang="zh")
        hits = explain(en, "ntfy推送收不到", translations=[zh])
        assert hits and hits[0].entry.id == "notification-failed"
        found = w.words("模拟盘", w.Vocabulary(TERMS))
        assert "模拟盘" not in found and "g:模拟盘" in found and "2:模拟" in found
    finally:
        monkeypatch.undo()
        w._segmenter.cache_clear()


@pytest.mark.parametrize("typed, symptom", [("jixing tuisong shibai", "polar-push-failed"),
                                            ("tongzhi shoubudao", "notification-failed")])
def test_a_message_typed_in_pinyin_finds_its_symptom(typed, symptom):
    assert w.could_be_pinyin(typed.split()[0]) and not w.could_be_pinyin("rollover")
    en, zh = load_pack(), load_pack(lang="zh")
    assert explain(en, typed, translations=[zh])[0].entry.id == symptom


def test_a_messages_own_glossary_pattern_finds_what_the_whole_glossarys_finds():
    """explain compiles, for a message, the pattern of the glossary's English words that occur in it; a vocabulary
    that reads many texts (the index) compiles all of them once. Both find the same terms in every text of the
    pack and in texts made to trip them (words inside words, endings, neighbours that join a word)."""
    pack = load_pack()
    latin = [word for word in w.Vocabulary(pack.glossary).latin_words]
    texts = [part.lower() for entry in pack.entries for part in (entry.title, entry.summary, *entry.seen)]
    texts += [f"x{a}{b}s {a}ing_{b} {b}{a}ed {a}-{b}. ({a}es) {a.upper()}d" for a, b in zip(latin, reversed(latin))]
    for text in texts:
        own = w.Vocabulary(pack.glossary)
        whole = w.Vocabulary(pack.glossary)
        whole._texts = w.MANY_TEXTS   # reads with the whole glossary's pattern from now on
        assert own.terms_in(text) == whole.terms_in(text), text
