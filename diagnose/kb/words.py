"""Words of a text in either language, for ``diagnose explain``.

English is split at non-word characters and lower-cased, with a plural ``s`` taken off. Chinese has no
spaces, so a Chinese run is cut into words by jieba (``rjieba``, the Rust port: it loads its dictionary in
~0.1 s where the Python jieba takes ~0.6 s), loaded only when a text has Chinese; the pack's glossary terms
are added to its dictionary, so 模拟盘 stays one word. Each Chinese run also gives its character pairs
(``2:实盘``), which still match when a word is cut differently or one character is mistyped. A glossary
term found in the text gives the term itself (``g:换月``), so a Chinese sentence meets the English text of
the same thing. Without rjieba installed, Chinese is matched by the pairs and the glossary alone.

Chinese is typed through pinyin, so its usual typo is a homophone (不出发 for 不触发, 后断 for 后端), and
operators sometimes type the pinyin itself (``suocang``). Each Chinese word therefore also gives its toneless
pinyin (``py:chufa``), as does a Latin word that could be pinyin, from a table of every character's most
common reading (``pinyin.txt``, made from pypinyin; loading it takes ~5 ms where importing pypinyin takes
~150 ms).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from diagnose.kb.model import Term

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN = re.compile(r"[a-z0-9_]+")

#: words that say nothing about a symptom (both languages: the usual English function words, as in the common
#: stop lists, and Chinese particles and fillers); a glossary term is matched before these are dropped
STOP = frozenset("""
a an and are as at be been but by can could did do does for from had has have if in into is it its no not of on
or so that the their then there these this to too was we were what when where which while who will with would
you your our my i me after before again all any only also just than very up down out off over under about
still instead away ago every few each some such same own other another yet ever even now here why how its
get got gets keep keeps kept make made like seem seems back since until though although whether either both
don doesn didn won isn aren wasn weren can't cannot won't nobody nothing something anything someone anyone
的 了 是 在 我 我们 你 你们 他 她 它 就 都 也 和 与 及 或 但 但是 而 又 还 很 太 吧 吗 呢 啊 呀 么 个 这 那 这个 那个 一个
有 没 没有 被 把 让 给 从 到 以后 之后 然后 现在 已经 一直 总是 为什么 怎么 怎么办 什么 一下 一样 时候 今天 昨天
一条 一点 一些 那边 这边 早就 好了 还是 可是 不过 所以 因为 如果 那么 这么 这样 那样 看到 发现 感觉 好像 应该 问题
""".split())


def cjk(text: str) -> bool:
    """Does ``text`` have Chinese characters?"""
    return _CJK.search(text) is not None


def needs_chinese(message: str) -> bool:
    """Must the entries' Chinese be cut into words to match ``message``: it has Chinese, or a word that
    could be typed pinyin?"""
    return cjk(message) or any(could_be_pinyin(w) for w in _LATIN.findall(message.lower()))


#: each Chinese character's toneless pinyin (made from pypinyin; tests/kb/test_words.py holds it to it)
PINYIN_TABLE = str(Path(__file__).with_name("pinyin.txt"))


@lru_cache(maxsize=1)
def _pinyin() -> dict[str, str]:
    """Chinese character -> its toneless pinyin (:data:`PINYIN_TABLE`)."""
    table: dict[str, str] = {}
    with open(PINYIN_TABLE, encoding="utf-8") as lines:
        for line in lines:
            if not line.startswith("#"):
                syllable, _, characters = line.rstrip("\n").partition(" ")
                for character in characters:
                    table[character] = syllable
    return table


def pinyin(word: str) -> str:
    """The toneless pinyin of a Chinese word, syllables run together (``触发`` -> ``chufa``; a character
    without a reading is kept as it is)."""
    table = _pinyin()
    return "".join(table.get(c, c) for c in word)


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    """The syllables of the table, less the interjections written as a lone consonant (n, m, hm, ng...),
    which would make half of English read as pinyin."""
    with open(PINYIN_TABLE, encoding="utf-8") as lines:   # the first word of each line: no character map needed
        return frozenset(syllable for line in lines if not line.startswith("#")
                         for syllable in [line.partition(" ")[0]] if any(v in syllable for v in "aeiouv"))


@lru_cache(maxsize=4096)
def could_be_pinyin(word: str) -> bool:
    """Is ``word`` (lower-case Latin) two or more pinyin syllables run together (``suocang``, ``tongzhi``)?"""
    if not (4 <= len(word) <= 30 and word.isalpha() and word.isascii()):
        return False
    syllables = _syllables()
    ends = {0: 0}      # position -> syllables read to reach it
    for start in range(len(word)):
        if start in ends:
            for size in range(1, 7):
                if word[start:start + size] in syllables:
                    ends.setdefault(start + size, ends[start] + 1)
    return ends.get(len(word), 0) >= 2


def segmenter_of(vocabulary: Vocabulary) -> Any:
    """The cutter words() uses for ``vocabulary``'s pack (None without rjieba)."""
    return _segmenter(vocabulary.chinese_words)


@lru_cache(maxsize=4)
def _segmenter(extra: tuple[str, ...]) -> Any:
    """rjieba's cutter with the glossary's Chinese words added (None when rjieba is not installed). Its
    module's own cutter: loading the dictionary is most of rjieba's cost (~0.1 s), so never a second one."""
    try:
        import rjieba
    except ImportError:
        return None
    for word in extra:
        rjieba.add_word(word, None, None)
    return rjieba


#: the English endings a glossary word may be found with ("rolled", "notifications")
_ENDINGS = "s|es|ed|d|ing"


class Vocabulary:
    """The glossary as lookups: each word (either language, any case) -> its term's key."""

    def __init__(self, terms: Iterable[Term]):
        self.terms = tuple(terms)
        self.key: dict[str, str] = {}
        for term in self.terms:
            for word in term.words:
                self.key.setdefault(word.lower(), f"g:{term.zh}")
        chinese = sorted((w for w in self.key if cjk(w)), key=len, reverse=True)
        latin = sorted((w for w in self.key if not cjk(w)), key=len, reverse=True)
        self._chinese: re.Pattern | None = None   # compiled for the first text with Chinese in it
        self.latin_words = tuple(latin)
        self._latin_all: re.Pattern | None = None  # compiled once the vocabulary reads many texts (an index)
        self._texts = 0
        self.chinese_words = tuple(chinese)
        self._pinyin_keys: dict[str, str] | None = None

    def term_of_pinyin(self, word: str) -> str | None:
        """The term whose Chinese word is read ``word`` (``huanyue`` -> 换月's term), if any."""
        if self._pinyin_keys is None:
            self._pinyin_keys = {}
            for chinese in self.chinese_words:
                self._pinyin_keys.setdefault(pinyin(chinese), self.key[chinese])
        return self._pinyin_keys.get(word)

    def terms_in(self, lowered: str) -> list[str]:
        """The term keys whose words appear in ``lowered`` (a Chinese word anywhere, an English one as
        whole words)."""
        found = []
        if self._chinese is None and self.chinese_words and cjk(lowered):
            self._chinese = re.compile("|".join(map(re.escape, self.chinese_words)))
        for pattern in (self._chinese if cjk(lowered) else None, self._latin_in(lowered)):
            if pattern is not None:
                found += [self._term(m.group(0)) for m in pattern.finditer(lowered)]
        return found

    def _latin_in(self, lowered: str) -> re.Pattern | None:
        """The English words of the glossary, each also with its endings ("rolled" is "roll", "notifications"
        "notification"), as whole words: for a message, only those that occur in ``lowered`` at all. The same
        matches as the pattern of every word, longest first (a word absent from the text matches nowhere), and a
        message's pattern of two or three words compiles in a fraction of the whole glossary's. A vocabulary
        that reads many texts (building the explain index) compiles the whole pattern once instead."""
        self._texts += 1
        if self._texts > MANY_TEXTS:
            if self._latin_all is None:
                self._latin_all = _whole_words(self.latin_words)
            return self._latin_all
        present = [word for word in self.latin_words if word in lowered]
        return _whole_words(present) if present else None

    def _term(self, matched: str) -> str:
        """The term key of a word the English pattern matched, with or without its ending."""
        if matched in self.key:
            return self.key[matched]
        stem = re.sub(rf"({_ENDINGS})$", "", matched)
        return self.key.get(stem) or next(self.key[w] for w in self.key if matched.startswith(w))


#: texts a vocabulary reads with a pattern of their own words before it compiles one of every word
MANY_TEXTS = 8


def _whole_words(words: Iterable[str]) -> re.Pattern | None:
    """``words`` (longest first) as whole words, each also with its English endings; None when there are none."""
    alternatives = "|".join(map(re.escape, words))
    return re.compile(rf"(?<![a-z0-9_])(?:{alternatives})(?:{_ENDINGS})?(?![a-z0-9_])") if alternatives else None


def _english(word: str) -> str:
    """A light stemmer: the endings that change a word's form, not its meaning (``rolled`` -> ``roll``,
    ``disconnects`` -> ``disconnect``, ``timing`` is left alone as too short to tell)."""
    for ending in ("ing", "ed", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 4 and not word.endswith(("ss", "us", "is")):
            stem = word[:-len(ending)]
            return stem[:-1] if ending in ("ing", "ed") and len(stem) > 4 and stem[-1] == stem[-2] else stem
    return word


def words(text: str, vocabulary: Vocabulary, *, segment: bool = True, pinyin_too: bool = False) -> Counter[str]:
    """The words of ``text`` with how often each occurs: English words, Chinese words (``segment``: cut by
    jieba, each also as its pinyin) and character pairs, and glossary terms; ``pinyin_too``: a Latin word
    that could be pinyin also as such (for a message, which may be typed in pinyin)."""
    lowered = text.lower()
    out: Counter[str] = Counter()
    for word in _LATIN.findall(lowered):
        if len(word) > 1 and word not in STOP:
            out[_english(word)] += 1
            if pinyin_too and could_be_pinyin(word):
                out["py:" + word] += 1
                term = vocabulary.term_of_pinyin(word)
                if term is not None:
                    out[term] += 1
    runs = _CJK.findall(lowered)
    if runs:
        cutter = segmenter_of(vocabulary) if segment else None
        for run in runs:
            if cutter is not None:
                for word in cutter.cut(run):
                    if word not in STOP and (len(word) > 1 or run == word):
                        out[word] += 1
                        if len(word) > 1:
                            out["py:" + pinyin(word)] += 1
            for i in range(len(run) - 1):
                out["2:" + run[i:i + 2]] += 1
    for key in vocabulary.terms_in(lowered):
        out[key] += 1
    return out
