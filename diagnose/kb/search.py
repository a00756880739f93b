"""Finding entries by an error message or a sentence (``diagnose explain``); by name is :mod:`.lookup`."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, cast

from diagnose import safe_regex
from diagnose.kb.model import Entry, Pack

if TYPE_CHECKING:
    from diagnose.kb.words import Vocabulary


@dataclass
class Explanation:
    entry: Entry
    score: float
    matched: str        # the part of the message that matched, or the words it shares with the entry
    pattern: str        # the error pattern, or "" for a match on words


#: how much a word counts where it is found in an entry: the symptom's own words most. (Scoring the head of
#: an entry apart from its body, BM25F with two saturations, ranked the test phrasings worse: 88 against 91
#: of 96 right first; tests/kb/explain_phrases.yaml.)
FIELD_WEIGHTS = {"title": 3.0, "seen": 2.5, "names": 2.0, "summary": 1.0, "cause": 1.5, "cause_text": 0.4,
                 "check": 0.8, "solution": 0.5}
#: how much a word of the message counts by what it is: a glossary term above a word, a character pair below
_KIND_WEIGHTS = {"g:": 1.5, "2:": 0.45, "py:": 0.3}
_BM25_K1, _BM25_B = 1.2, 0.6


def _fields(entry: Entry) -> Iterator[tuple[str, str]]:
    yield "title", entry.title
    yield "names", " ".join([entry.id, *entry.aliases]).replace("-", " ")
    for seen in entry.seen:
        yield "seen", seen
    yield "summary", entry.summary
    for cause in entry.causes:
        yield "cause", cause.title
        yield "cause_text", cause.text
    for check in entry.checks:
        yield "check", check.title
    for solution in entry.solutions:
        yield "solution", solution.title


def explain(pack: Pack, message: str, limit: int = 5,
            translations: Sequence[Pack] | Callable[[], Sequence[Pack]] = ()) -> list[Explanation]:
    """Entries that explain ``message``, best first.

    An entry whose ``error_patterns`` match the message ranks above every other, a longer matched span
    first (``position_mutex_blocked`` beats ``error``). The others are ranked by the words they share with
    the message (BM25F over their title, what users see, names, summary, causes, checks and solutions, in
    every language the pack has: ``translations`` is the same pack loaded in the other languages, or a function
    that loads it, called only when the index is not in the cache), so a Chinese sentence finds an entry written
    in English and the other way round (:mod:`diagnose.kb.words`).
    """
    from diagnose.kb.words import Vocabulary, needs_chinese, words

    vocabulary = Vocabulary(pack.glossary)
    segment = needs_chinese(message)
    if callable(translations):
        languages = [lang for lang in pack.languages if lang != pack.lang]
        index = _index(pack, languages, translations, vocabulary, segment)
    else:
        given = list(translations)
        index = _index(pack, [p.lang for p in given], lambda: given, vocabulary, segment)
    documents = index["documents"]

    found: dict[str, Explanation] = {}
    for entry in pack.entries:
        for pattern in entry.error_patterns:
            if not _may_match(index["literals"].get(pattern), message):
                continue   # cannot match: spared compiling it (a hundred patterns cost an English explain 10 ms)
            try:
                match = safe_regex.search(pattern, message)
            except re.error:
                continue
            if match and match.group(0).strip():
                hit = 100.0 + len(match.group(0))
                if entry.id not in found or hit > found[entry.id].score:
                    found[entry.id] = Explanation(entry, hit, match.group(0), pattern)

    known: set[str] = set().union(*documents.values())
    weights = _with_close_words(words(message, vocabulary, segment=segment, pinyin_too=True), known)
    scores: dict[str, float] = defaultdict(float)
    gains: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    idf = _idf(weights, documents)
    for entry_id, word, gain in _bm25(weights, documents, idf):
        scores[entry_id] += gain
        gains[entry_id][word] += gain
    for entry in pack.entries:
        score = scores.get(entry.id, 0.0)
        if score <= 0:
            continue
        if entry.id in found:
            found[entry.id].score += min(score, 50.0) / 100     # ties between pattern hits: the closer text
        else:
            shared = sorted(gains[entry.id].items(), key=lambda x: -x[1])
            said = [_readable(w, vocabulary) for w, _ in shared if not w.startswith(("2:", "py:"))]
            found[entry.id] = Explanation(entry, score, ", ".join(_distinct(said)[:6]) or "…", "")
    return sorted(found.values(), key=lambda x: (-x.score, x.entry.id))[:limit]


class _Index(TypedDict):
    #: entry id -> each of its words (every language) with its field-weighted count
    documents: dict[str, dict[str, float]]
    #: error pattern -> ``[strings, caseless]``: every match contains one of the strings; None when no such set
    literals: dict[str, list | None]


def _may_match(literals: list | None, message: str) -> bool:
    """Could the pattern with these literals match ``message``? (False only when it surely cannot: none of its
    literals is in the message. A message beyond ASCII is always tried, as case folding there is subtle.)"""
    if literals is None or not message.isascii():
        return True
    strings, caseless = literals
    text = message.lower() if caseless else message
    return any((s.lower() if caseless else s) in text for s in strings)


def _index(pack: Pack, languages: list[str], translations: Callable[[], Sequence[Pack]], vocabulary: Vocabulary,
           segment: bool) -> _Index:
    """The search index of the pack: read from the cache when the pack, its languages and this code are the
    ones it was made from (making it loads the pack in its other ``languages``, segments every Chinese text
    and parses every error pattern: tens of milliseconds a run saves)."""
    import hashlib

    from diagnose.kb import words as words_module
    from diagnose.cache import cache_dir, read_cache_file, write_cache_file

    # what the index is made from: the packs and languages, this code, the pinyin table, and whether the
    # segmenter is there (an index cut by character pairs alone is not one cut by jieba)
    made_of = [pack.digest.encode() + lang.encode() for lang in (pack.lang, *languages)]  # one digest: every language
    from diagnose.logscan import literals

    made_of += [Path(f).read_bytes() for f in (__file__, words_module.__file__ or "", words_module.PINYIN_TABLE,
                                              literals.__file__ or "")]
    made_of += [b"segmented" if segment and words_module.segmenter_of(vocabulary) is not None else b""]
    key = hashlib.sha256(b"\0".join(made_of)).hexdigest()[:24]
    cached = cache_dir() / f"explain-{key}.json"
    index = read_cache_file(cached)
    if isinstance(index, dict) and isinstance(index.get("documents"), dict) and isinstance(index.get("literals"), dict):
        return cast(_Index, index)
    others = [{e.id: e for e in other.entries} for other in translations()]
    documents: dict[str, dict[str, float]] = {}
    for entry in pack.entries:
        counted: dict[str, float] = defaultdict(float)
        for same in [entry, *(o[entry.id] for o in others if entry.id in o)]:
            for field, text in _fields(same):
                for word, n in words_module.words(text, vocabulary, segment=segment).items():
                    counted[word] += FIELD_WEIGHTS[field] * n
        documents[entry.id] = dict(counted)
    made: _Index = {"documents": documents,
                    "literals": {p: _literals_of(p) for e in pack.entries for p in e.error_patterns}}
    write_cache_file(cached, made)
    return made


def _literals_of(pattern: str) -> list | None:
    from diagnose.logscan.literals import required_literals

    try:
        found = required_literals(pattern)
    except (re.error, OverflowError, RecursionError):
        return None
    return [sorted(found.strings), found.caseless] if found is not None else None


def _idf(weights: dict[str, float], documents: dict[str, dict[str, float]]) -> dict[str, float]:
    """How rare each query word is among the entries (BM25's idf: a word every entry has counts little)."""
    import math

    total = len(documents) or 1
    frequency = Counter(word for d in documents.values() for word in d if word in weights)
    return {w: math.log(1 + (total - frequency[w] + 0.5) / (frequency[w] + 0.5)) for w in weights}


def _bm25(weights: dict[str, float], documents: dict[str, dict[str, float]],
          idf: dict[str, float]) -> Iterator[tuple[str, str, float]]:
    """``(document, word, gain)`` of every query word found in a document, by Okapi BM25 (``weights``: how
    much each query word counts; documents: word -> weighted frequency)."""
    average = sum(sum(d.values()) for d in documents.values()) / (len(documents) or 1) or 1.0
    for entry_id, document in documents.items():
        length: float = sum(document.values())
        for word, weight in weights.items():
            tf = document.get(word, 0.0)
            if tf:
                yield entry_id, word, weight * idf[word] * tf * (_BM25_K1 + 1) / (
                    tf + _BM25_K1 * (1 - _BM25_B + _BM25_B * length / average))


def _distinct(said: list[str]) -> list[str]:
    """Each matched word once, and a word left out when a glossary term already names it (``通知/notification``
    says ``通知``)."""
    terms = {part for s in said if "/" in s for part in s.split("/")}
    return list(dict.fromkeys(s for s in said if "/" in s or s not in terms))


def _with_close_words(query: Counter[str], known: set[str]) -> dict[str, float]:
    """The message's words, weighted by kind, plus the known words closest to a mistyped English one
    (``websoket`` -> ``websocket``)."""
    import difflib

    out: dict[str, float] = defaultdict(float)
    latin = sorted(w for w in known if w.isascii() and ":" not in w and len(w) >= 4)
    for word in query:
        weight = next((v for k, v in _KIND_WEIGHTS.items() if word.startswith(k)), 1.0)
        out[word] = max(out[word], weight)
        if word not in known and word.isascii() and ":" not in word and len(word) >= 5:
            for close in difflib.get_close_matches(word, latin, n=2, cutoff=0.8):
                out[close] = max(out[close], 0.8)
    return out


def _readable(word: str, vocabulary: Vocabulary) -> str:
    """A matched word as a reader knows it: a glossary term by its two names."""
    if word.startswith("g:"):
        term = next((t for t in vocabulary.terms if t.zh == word[2:]), None)
        return f"{term.zh}/{term.en}" if term else word[2:]
    return word
