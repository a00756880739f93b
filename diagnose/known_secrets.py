r"""Every spelling of every secret a run knows, found in one linear pass.

A secret read from the profile or an env file can reach a report in other spellings than its
own: base64 (a ``Basic`` header, a JSON Web Key, a blob at any byte alignment, standard or
URL-safe alphabet), hex, URL-encoded (a query string, a DSN, JavaScript's
``encodeURIComponent``; either hex case, or twice), JSON-escaped (``\u0026``, ``\/``, every
character as ``\uXXXX``), HTML-escaped (named or numeric entities), SQL- or shell-quoted; the
helpers below say which programs write each. A spelling is kept only when it differs from the
others, so a secret without special characters has few.

Finding them costs time in proportion to the text, whatever the number of the secrets, their
length and how they overlap (1,000 learned values ``aaa…`` of every length, or one of 16,000
``a``, over a run of ``a``). Each spelling is a word of an Aho-Corasick automaton (pyahocorasick,
C). pyahocorasick reports every word that ends at each character and walks the whole failure
chain to find them, so a scan can cost the text's length times the number of words that end
together, or times the automaton's depth. So a word longer than :data:`ANCHOR` characters enters
the automaton by its first :data:`ANCHOR` characters and is compared whole where those occur;
and a scan that has examined more than :data:`WORK_PER_CHAR` candidates per character read stops,
and :class:`_Scanner` (Aho-Corasick with dictionary links, in Python: a constant per character,
whatever the words) finds that automaton's words instead. pyahocorasick's own ``iter_long``
(leftmost-longest) is no way out: it restarts after each match (quadratic, as its source says)
and misses matches (2.3.1: words ``aab aba b`` find one ``b`` in ``bab``).

What is masked is the union of the places where a spelling occurs: overlapping occurrences (of
one secret or of several) make one masked span, labelled by the leftmost, longest of them, so no
part of any of them shows. A short plain spelling (under :data:`WHOLE_TOKEN_BELOW` characters)
counts only as a whole token (not inside a longer run of letters and digits, so a password
``desk-pw`` leaves ``desk-pwx`` alone; a URL escape such as ``%3A`` before it is a boundary, as
in ``%3Ahunter2pw``); a longer one, or an encoded one, counts anywhere: it is found glued to
other text (``tokenAbC...``) or inside longer blobs. A longer occurrence that is not a whole token
never hides a shorter one at the same place that is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

#: secrets shorter than this are masked by key context only (shorter ones would shred ordinary text)
MIN_KNOWN = 4
#: longer values are not learned as known secrets (they are masked where found, by key or shape)
MAX_KNOWN = 16 * 1024
#: an encoded spelling shorter than this is too likely to occur by chance
MIN_ENCODED = 8
#: plain spellings shorter than this match only as whole tokens (longer ones are never ordinary words)
WHOLE_TOKEN_BELOW = 12
#: words longer than this enter the automaton by their first ANCHOR characters (its depth, and so
#: pyahocorasick's work per character, stays below this) and are compared whole where those occur
ANCHOR = 32
#: candidates one automaton's scan may examine, per character read and in all, before
#: :class:`_Scanner` finds that automaton's words instead (ordinary text examines far fewer)
WORK_PER_CHAR, WORK_FIXED = 2, 256
_SEPARATORS = " \t\n\r,;|\"'"


@dataclass(frozen=True)
class Spelling:
    secret: str
    whole_token: bool   # must not touch a letter or digit on either side
    #: base64 inside a longer stream: the characters next to it that hold bits of the secret and
    #: of its neighbours, as ``(left_mask, left_bits, right_mask, right_bits)`` (see :func:`_base64`)
    edges: tuple[tuple[int, int, int, int], ...] = ()


def spellings(secret: str) -> dict[str, Spelling]:
    """The ways ``secret`` may be written in evidence, each mapped to how it must match."""
    whole = len(secret) < WHOLE_TOKEN_BELOW
    out = {secret: Spelling(secret, whole)}
    plain = _percent(secret) | _json(secret) | _html(secret) | _quoted(secret)
    for text in plain - {secret}:
        out.setdefault(text, Spelling(secret, whole))
    data = secret.encode("utf-8")
    encoded: dict[str, set[tuple[int, int, int, int]]] = {data.hex(): set(), data.hex().upper(): set()} | _base64(data)
    for text, edges in encoded.items():
        if len(text) >= MIN_ENCODED and text not in out:
            out[text] = Spelling(secret, False, tuple(sorted(edge for edge in edges if edge != (0, 0, 0, 0))))
    return out


def _base64(data: bytes) -> dict[str, set[tuple[int, int, int, int]]]:
    """Base64, standard and URL-safe: the secret alone (padded or not), and its bytes at each of
    the three alignments of a longer stream (a ``Basic`` header's ``user:password``, a JSON body).

    Inside a stream, the 4-character group where the secret begins or ends also holds bytes of
    its neighbours. Of that group, the characters made of the secret's bits alone are part of the
    word: after one byte of neighbour, the group ``x s0 s1`` is written ``[x][x s0][s0 s1][s1]``,
    and the last two are the secret's; after two, the last one. The one character that mixes
    both (2 to 4 bits of the secret) depends on the neighbour, so it is not in the word: where a
    match is masked, the character next to it is masked too if its bits fit (``edges``). Nothing
    of the secret is then left in the stream."""
    import base64   # here, not at the top: a command that learns no secret (`show`) need not import it

    out: dict[str, set[tuple[int, int, int, int]]] = {}
    first, last = data[0], data[-1]
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        exact = encode(data).decode("ascii")
        out.setdefault(exact, set())
        out.setdefault(exact.rstrip("="), set())
        for align in (0, 1, 2):   # the secret's bytes at any position of a longer base64 stream
            stream = encode(b"\0" * align + data).decode("ascii")
            tail = (align + len(data)) % 3   # the secret's bytes in the last, partial group
            word = stream[(0, 2, 3)[align]:len(stream) - (0, 3, 2)[tail]]
            left = ((0, 0), (0b001111, first >> 4), (0b000011, first >> 6))[align]
            right = ((0, 0), (0b110000, (last & 3) << 4), (0b111100, (last & 15) << 2))[tail]
            out.setdefault(word, set()).add(left + right)
    return out


def _percent(secret: str) -> set[str]:
    r"""URL-encoded: every byte but the unreserved ones (a query value, a form body, a DSN's
    password), or keeping ``/:@`` (a path), or ``/`` (Python's ``quote`` by default), or
    ``!~*'()`` (JavaScript's ``encodeURIComponent``) or those and ``;,/?:@&=+$#`` too
    (``encodeURI``), or with ``+`` for spaces (HTML forms, Python's ``quote_plus``; Java's
    ``URLEncoder`` and the WHATWG ``URLSearchParams`` keep ``*`` and escape ``~``); in lower-case
    hex too (RFC 3986 makes the case equivalent: hand-written ``"%%%02x"`` encoders, some proxies
    and clients that normalise); and encoded twice (``%2526``: a URL carried as the query value of
    another, a redirect's ``next=`` or OAuth ``redirect_uri``, or a proxy re-encoding a logged URL)."""
    once = {quote(secret, safe=""), quote(secret, safe="/:@"), quote(secret), quote(secret, safe="!~*'()"),
            quote(secret, safe=";,/?:@&=+$#!~*'()"), quote_plus(secret),
            quote_plus(secret, safe="*").replace("~", "%7E")}
    once |= {_PERCENT_HEX.sub(lambda m: m[0].lower(), text) for text in once}
    return once | {text.replace("%", "%25") for text in once}


def _json(secret: str) -> set[str]:
    r"""A JSON string's body, as each serializer writes it: Python (``json.dumps``, with or without
    ``ensure_ascii``); Go's ``encoding/json`` and Rails (``<>&`` as ``\u003c\u003e\u0026``, HTML-safe);
    PHP's ``json_encode`` (``/`` as ``\/``, non-ASCII as ``\u``; ``JSON_HEX_*`` in upper-case hex);
    .NET's System.Text.Json (``<>&'"+`` and non-ASCII, upper-case hex); and obfuscating or
    JavaScript-literal escapers that write every character as ``\uXXXX``."""
    chars = set(secret)
    wide = {c for c in chars if not c.isascii()}
    forms = set()
    for escaped in (set(), wide, chars & set("<>&\u2028\u2029"), chars & set("<>&") | wide,
                    chars & set("<>&'\"+`") | wide, chars):
        for hex_case in (str.lower, str.upper):
            table = _JSON_TABLE | {ord(c): "".join(f"\\u{hex_case(unit)}" for unit in _utf16(c)) for c in escaped}
            text = secret.translate(table)
            forms |= {text, text.replace("/", "\\/")}
    return forms


def _html(secret: str) -> set[str]:
    r"""HTML- or XML-escaped: Python's ``html.escape`` (``&#x27;``), text-node escapers that leave
    quotes (``html.escape(quote=False)``, ``xml.sax.saxutils``, ElementTree), Jinja/MarkupSafe and
    Go's ``html/template`` (``&#34;`` ``&#39;``), and numeric character references, decimal
    (``&#38;``: .NET, XML serializers) or hex (``&#x26;``, ``&#x3C;``, ``&#X3C;``: OWASP encoders,
    hand-written escapers), for the five special characters or for ``&<>`` only."""
    import html

    forms = {html.escape(secret), html.escape(secret, quote=False), secret.translate(_MARKUPSAFE)}
    for chars in ("&<>\"'", "&<>"):
        for entity in ("&#%d;", "&#x%x;", "&#x%X;", "&#X%X;"):
            forms.add(secret.translate({ord(c): entity % ord(c) for c in chars}))
    return forms


def _quoted(secret: str) -> set[str]:
    r"""A secret holding a quote, inside a quoted literal: SQL doubles it (``it''s``: statements in
    PostgreSQL's log, ``pg_dump``, ORMs' debug output), CSV doubles ``"``; shells close and reopen
    the quotes (``it'\''s``: ``set -x`` traces, git, ssh command lines; ``'"'"'``: Python's
    ``shlex.quote``) or backslash it (``it\'s``: ``printf %q``, libpq keyword DSNs, MySQL)."""
    return {secret.replace("'", "''"), secret.replace('"', '""'), secret.replace("'", "'\\''"),
            secret.replace("'", "'\"'\"'"), secret.replace("'", "\\'")}


def _utf16(char: str) -> list[str]:
    """The UTF-16 code units of ``char`` in hex (two for a character beyond U+FFFF, as JSON writes it)."""
    units = char.encode("utf-16-be").hex()
    return [units[i:i + 4] for i in range(0, len(units), 4)]


_PERCENT_HEX = re.compile("%[0-9A-F]{2}")
_JSON_TABLE = {code: json.dumps(chr(code))[1:-1] for code in (*range(0x20), ord('"'), ord("\\"))}
_MARKUPSAFE = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&#34;", ord("'"): "&#39;"}


class KnownSecrets:
    """The run's known secrets; :meth:`find` gives where any spelling of any of them occurs.

    Secrets keep arriving while a report is masked (one found by shape in a log line is then
    masked everywhere), and an automaton must be rebuilt whole when words are added. So words
    live in a few automata whose sizes at least double from the newest to the oldest (the
    logarithmic method): a new secret gets its own small automaton, merged into the next when it
    grows as large. Each word is rebuilt into an automaton O(log n) times, and a text is scanned
    by O(log n) automata, however many secrets are learned one at a time.

    ``examined`` is what the last :meth:`find` examined: candidates reported by pyahocorasick,
    words compared whole (counted by :data:`ANCHOR` characters), characters and links followed by
    :class:`_Scanner`. It is at most a constant times the text's length for each automaton.
    """

    def __init__(self, *, anchor: int = ANCHOR, work: tuple[int, int] = (WORK_PER_CHAR, WORK_FIXED)) -> None:
        self._words: dict[str, Spelling] = {}
        self._secrets: set[str] = set()
        self._levels: list[_Level] = []   # oldest (largest) first
        self._anchor, self._work = anchor, work
        self.examined = 0

    def __contains__(self, secret: str) -> bool:
        return secret in self._secrets

    def __len__(self) -> int:
        return len(self._secrets)

    def add(self, secret: str) -> bool:
        """Learn ``secret`` (False when it is too short, too long or already known)."""
        if not (MIN_KNOWN <= len(secret) <= MAX_KNOWN) or secret in self._secrets:
            return False
        self._secrets.add(secret)
        new = {text: spelling for text, spelling in spellings(secret).items() if text not in self._words}
        self._words.update(new)
        self._levels.append(_Level(new))
        while len(self._levels) >= 2 and self._levels[-1].size >= self._levels[-2].size:
            newest = self._levels.pop()
            self._levels[-1] = _Level(self._levels[-1].words | newest.words)
        return True

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, secret)`` of the masked spans, leftmost first: each is where one or more
        overlapping occurrences are, and names the secret of the leftmost, longest of them."""
        self.examined = examined = 0
        if not self._words or not text:
            return []
        found: list[list] = []
        anchor, (per_char, fixed) = self._anchor, self._work
        for level in self._levels:
            if level.automaton is None:
                level.automaton = _automaton(level.words, anchor)
            # every valid occurrence by pyahocorasick (of long words, the longest at each place),
            # until it has examined more than ``per_char`` candidates per character read, and ``fixed``
            hits, spent = [], 0
            for last, (length, spelling, longer) in level.automaton.iter(text):
                spent += 1
                end = last + 1
                if spelling is not None and (not spelling.whole_token or _whole_token(text, end - length, end)):
                    hits.append([end - length, end, end, spelling, end - length, spelling])
                if longer is not None:
                    start = end - anchor
                    for word, long_spelling in longer:   # longest first; the first that is there and valid
                        spent += 1 + len(word) // anchor
                        if text.startswith(word, start) and \
                                (not long_spelling.whole_token or _whole_token(text, start, start + len(word))):
                            hits.append([start, start + len(word), start + len(word), long_spelling, start,
                                         long_spelling])
                            break
                        if spent > per_char * end + fixed:
                            break
                if spent > per_char * end + fixed:   # overlapping secrets, or a long periodic one
                    if level.scanner is None:
                        level.scanner = _Scanner(level.words)
                    hits = level.scanner.scan(text)
                    spent += level.scanner.examined
                    break
            examined += spent
            if hits:
                found += hits
        self.examined = examined
        return _spans(text, found) if found else []

    def partial_at_end(self, text: str) -> tuple[int, str] | None:
        """Where a known secret that holds a separator (a passphrase, a PEM key) begins in the
        last characters of a text that was cut inside it, and which one; cutting texts back to a
        word boundary (:func:`diagnose.clip.keep`) leaves only these in part."""
        tail = text.rstrip(_SEPARATORS)
        for secret in self._secrets:
            for i in range(len(secret) - 1, 1, -1):   # the longest part first
                if secret[i] in _SEPARATORS:
                    part = secret[:i].rstrip(_SEPARATORS)
                    if part and tail.endswith(part):
                        return len(tail) - len(part), secret
        return None


class _Level:
    """Some of the words, with their automaton and fallback scanner, each built when first needed."""

    __slots__ = ("automaton", "scanner", "size", "words")

    def __init__(self, words: dict[str, Spelling]) -> None:
        self.words, self.size = words, sum(map(len, words))
        self.automaton: Any = None   # an ahocorasick.Automaton (the C library ships no type stubs)
        self.scanner: _Scanner | None = None


def _automaton(words: dict[str, Spelling], anchor: int):
    """pyahocorasick over the words, a long word by its first ``anchor`` characters: each key's
    value is ``(its length, the word's spelling if the key is a word, the long words it begins,
    longest first)``."""
    import ahocorasick

    keys: dict[str, list] = {}
    for text, spelling in words.items():
        if len(text) <= anchor:
            keys.setdefault(text, [len(text), None, []])[1] = spelling
        else:
            keys.setdefault(text[:anchor], [anchor, None, []])[2].append((text, spelling))
    automaton = ahocorasick.Automaton()
    for key, (length, spelling, longer) in keys.items():
        longer.sort(key=lambda item: -len(item[0]))
        automaton.add_word(key, (length, spelling, tuple(longer) or None))
    automaton.make_automaton()
    return automaton


class _Scanner:
    """Aho-Corasick with dictionary links, in Python: the longest valid occurrence ending at each
    character, at a constant cost per character whatever the words (the failure links followed
    are at most the characters read; the whole-token words met are under ~220 characters, as
    many as their lengths at most). Slower than pyahocorasick on ordinary text, so used only
    where that would examine too many candidates. Its trie costs a few hundred bytes per node."""

    def __init__(self, words: dict[str, Spelling]) -> None:
        goto: list[dict[str, int]] = [{}]
        depth: list[int] = [0]
        word: list[Spelling | None] = [None]
        for text, spelling in words.items():
            node = 0
            for char in text:
                children = goto[node]
                child = children.get(char)
                if child is None:
                    child = children[char] = len(goto)
                    goto.append({})
                    depth.append(depth[node] + 1)
                    word.append(None)
                node = child
            word[node] = spelling
        fail, loose, whole = [0] * len(goto), [0] * len(goto), [0] * len(goto)   # 0: the root, no word
        queue = list(goto[0].values())
        for node in queue:   # breadth first: a failure link points to a shallower node, done before
            back, ends = fail[node], word[node]
            loose[node] = node if ends is not None and not ends.whole_token else loose[back]
            whole[node] = node if ends is not None and ends.whole_token else whole[back]
            for char, child in goto[node].items():
                link = back
                while link and char not in goto[link]:
                    link = fail[link]
                fail[child] = goto[link].get(char, 0)
                queue.append(child)
        self._goto, self._fail, self._depth, self._word = goto, fail, depth, word
        self._loose, self._whole = loose, whole   # the longest word of each kind that ends a node
        self.examined = 0

    def scan(self, text: str) -> list[list]:
        """The spans of overlapping occurrences, as :func:`_spans` takes them."""
        goto, fail, depth, word, loose, whole = self._goto, self._fail, self._depth, self._word, self._loose, self._whole
        spans: list[list] = []   # disjoint, in order; an occurrence ends after every one before it
        node, steps, end = 0, len(text), 0
        for char in text:
            end += 1
            children = goto[node]
            while node and char not in children:
                node = fail[node]
                children = goto[node]
                steps += 1
            node = children.get(char, 0)
            best = loose[node]
            length = depth[best]
            short = whole[node]
            if depth[short] > length and not _alnum_at(text, end):
                while depth[short] > length:   # the longest whole token that fits wins
                    steps += 1
                    if _token_starts(text, end - depth[short]):
                        best, length = short, depth[short]
                        break
                    short = whole[fail[short]]
            if not length:
                continue
            start, spelling = end - length, word[best]
            if spans and start < spans[-1][1]:   # overlaps the last span (or more): one span, ending here
                span = spans[-1]
                if start <= span[0]:
                    while len(spans) > 1 and start < spans[-2][1]:
                        earlier = spans.pop(-2)
                        span[0], span[2], span[3] = earlier[0], earlier[2], earlier[3]
                    if start <= span[0]:   # ends after the leftmost-longest: now it is that
                        span[0], span[2], span[3] = start, end, spelling
                span[1], span[4], span[5] = end, start, spelling
            else:
                spans.append([start, end, end, spelling, start, spelling])
        self.examined = steps
        return spans


def _spans(text: str, found: list[list]) -> list[tuple[int, int, str]]:
    """Overlapping occurrences merged into one span, named by the leftmost, longest; a base64
    span grown by the character at each edge that holds bits of the secret (:func:`_base64`).

    ``found`` holds occurrences or spans of them already merged, as ``[start, end, end of the
    leftmost-longest, its spelling, start of the longest that ends last, its spelling]``."""
    found.sort(key=lambda span: (span[0], -span[2]))
    merged: list[list] = []
    for span in found:
        if merged and span[0] < merged[-1][1]:
            last = merged[-1]
            if span[1] > last[1] or span[1] == last[1] and span[4] < last[4]:
                last[1], last[4], last[5] = span[1], span[4], span[5]
        else:
            merged.append(list(span))
    spans: list[tuple[int, int, str]] = []
    for start, end, _, first, _, last in merged:
        if first.edges and start and _edge_fits(text[start - 1], first.edges, 0):
            start -= 1
        if last.edges and end < len(text) and _edge_fits(text[end], last.edges, 2):
            end += 1
        if spans and start < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]), spans[-1][2])
        else:
            spans.append((start, end, first.secret))
    return spans


def _edge_fits(char: str, edges: tuple[tuple[int, int, int, int], ...], side: int) -> bool:
    value = _BASE64_VALUE.get(char)
    return value is not None and any(edge[side] and value & edge[side] == edge[side + 1] for edge in edges)


def _whole_token(text: str, start: int, end: int) -> bool:
    return not _alnum_at(text, end) and _token_starts(text, start)


def _token_starts(text: str, start: int) -> bool:
    """No letter or digit before ``start``, or only the last of an escape (``%3A``, ``%253A``,
    ``\\u003A``, ``\\x3A``): a URL- or JSON-encoded text keeps its separators encoded."""
    return not _alnum_at(text, start - 1) or _ESCAPE_BEFORE.search(text, max(0, start - 16), start) is not None


def _alnum_at(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isascii() and text[index].isalnum()


_ESCAPE_BEFORE = re.compile(r"(?:%(?:25)*[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2})\Z")
_BASE64_VALUE = {char: value for value, char in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                           "0123456789+/")} | {"-": 62, "_": 63}
