"""Every spelling of every secret a run knows, found in one linear pass.

A secret read from the profile or an env file can reach a report in other spellings than its
own: base64 (a ``Basic`` header, a JSON Web Key, a blob at any byte alignment, standard or
URL-safe alphabet), hex, URL-encoded (a query string, a DSN), JSON- or HTML-escaped (a quoted
body). Each spelling of each secret is a word of one Aho-Corasick automaton (pyahocorasick,
C): finding all of them in a text costs one pass over it, whatever the number and the length
of the secrets (a PEM key, a 4 KB token), with memory in proportion to the secrets.

A short plain spelling (under :data:`WHOLE_TOKEN_BELOW` characters) matches only as a whole
token (not inside a longer run of letters and digits, so a password ``desk-pw`` leaves
``desk-pwx`` alone); a longer one, or an encoded one, matches anywhere: it is found glued to
other text (``tokenAbC...``) or inside longer blobs.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

#: secrets shorter than this are masked by key context only (shorter ones would shred ordinary text)
MIN_KNOWN = 4
#: longer values are not learned as known secrets (they are masked where found, by key or shape)
MAX_KNOWN = 16 * 1024
#: an encoded spelling shorter than this is too likely to occur by chance
MIN_ENCODED = 8
#: plain spellings shorter than this match only as whole tokens (longer ones are never ordinary words)
WHOLE_TOKEN_BELOW = 12
_SEPARATORS = " \t\n\r,;|\"'"


@dataclass(frozen=True)
class Spelling:
    secret: str
    whole_token: bool   # must not touch a letter or digit on either side


def spellings(secret: str) -> dict[str, Spelling]:
    """The ways ``secret`` may be written in evidence, each mapped to how it must match."""
    whole = len(secret) < WHOLE_TOKEN_BELOW
    out = {secret: Spelling(secret, whole)}
    plain = {quote(secret, safe=""), quote(secret, safe="/:@"), quote_plus(secret), html.escape(secret),
             json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    for text in plain - {secret}:
        out.setdefault(text, Spelling(secret, whole))
    data = secret.encode("utf-8")
    encoded = {data.hex(), data.hex().upper()}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        exact = encode(data).decode("ascii")
        encoded |= {exact, exact.rstrip("=")}
        for align in (0, 1, 2):  # the secret's bytes at any position of a longer base64 stream
            stream = encode(b"\0" * align + data).decode("ascii")
            start = 4 if align else 0                      # the group holding the prefix bytes
            end = len(stream) - (4 if (align + len(data)) % 3 else 0)  # the group holding what follows
            encoded.add(stream[start:end])
    for text in encoded:
        if len(text) >= MIN_ENCODED and text not in out:
            out[text] = Spelling(secret, False)
    return out


class KnownSecrets:
    """The run's known secrets; :meth:`find` gives where any spelling of any of them occurs.

    Secrets keep arriving while a report is masked (one found by shape in a log line is then
    masked everywhere), and an automaton must be rebuilt whole when words are added. So words
    live in a few automata whose sizes at least double from the newest to the oldest (the
    logarithmic method): a new secret gets its own small automaton, merged into the next when it
    grows as large. Each word is rebuilt into an automaton O(log n) times, and a text is scanned
    by O(log n) automata, however many secrets are learned one at a time.
    """

    def __init__(self) -> None:
        self._words: dict[str, Spelling] = {}
        self._secrets: set[str] = set()
        self._levels: list[list] = []   # [words, size, automaton or None], oldest (largest) first

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
        self._levels.append([new, sum(map(len, new)), None])
        while len(self._levels) >= 2 and self._levels[-1][1] >= self._levels[-2][1]:
            words, size, _ = self._levels.pop()
            self._levels[-1][0].update(words)
            self._levels[-1][1] += size
            self._levels[-1][2] = None
        return True

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping ``(start, end, secret)``, leftmost first, the longest at each start."""
        if not self._words or not text:
            return []
        found = []
        for level in self._levels:
            if level[2] is None:
                level[2] = _automaton(level[0])
            for end, (length, spelling) in level[2].iter(text):
                start = end + 1 - length
                if spelling.whole_token and (_alnum_at(text, start - 1) or _alnum_at(text, end + 1)):
                    continue
                found.append((start, end + 1, spelling.secret))
        found.sort(key=lambda hit: (hit[0], -hit[1]))
        chosen, reached = [], 0
        for start, end, secret in found:
            if start >= reached:
                chosen.append((start, end, secret))
                reached = end
        return chosen

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

def _automaton(words: dict[str, Spelling]):
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for text, spelling in words.items():
        automaton.add_word(text, (len(text), spelling))
    automaton.make_automaton()
    return automaton


def _alnum_at(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isascii() and text[index].isalnum()
