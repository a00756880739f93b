"""Known secrets in every spelling, found in one linear pass, whatever their number and length."""

from __future__ import annotations

import base64
import html
import itertools
import json
import random
import re
import shlex
import string
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnose.clip import CUT, keep
from diagnose.known_secrets import (
    MAX_KNOWN,
    WORK_PER_CHAR,
    KnownSecrets,
    _spans,
    _whole_token,
    spellings,
)
from diagnose.masking import LABEL_RE, Masker

ALPHABET = string.ascii_letters + string.digits + "!#$%&'()*+,-./:;<=>?@[]^_`{|}~\"\\ é密码"
SECRETS = st.text(alphabet=ALPHABET, min_size=8, max_size=700).filter(lambda s: s.strip() == s and s.strip())


def encodings(secret: str, align: int) -> dict[str, str]:
    """The secret as evidence may carry it: inside base64 blobs at each byte alignment, and so on."""
    data = secret.encode()
    blob = b"\x01\x02"[:align] + data + b"\x03\x04\x05"
    return {"raw": secret, "base64": base64.b64encode(blob).decode(), "base64url": base64.urlsafe_b64encode(blob).decode(),
            "exact-base64": base64.b64encode(data).decode(), "hex": data.hex(), "HEX": data.hex().upper(),
            "url": quote(secret, safe=""), "url+": quote_plus(secret), "json": json.dumps(secret)[1:-1],
            "html": html.escape(secret),
            "url-lower": re.sub("%[0-9A-F]{2}", lambda m: m[0].lower(), quote(secret, safe="")),
            "url-twice": quote(quote(secret, safe=""), safe=""),
            "json-go": json.dumps(secret, ensure_ascii=False)[1:-1].replace("&", "\\u0026").replace("<", "\\u003c")
                                                                  .replace(">", "\\u003e"),
            "json-php": json.dumps(secret)[1:-1].replace("/", "\\/"),
            "json-every-char": "".join(f"\\u{ord(c):04X}" for c in secret),
            "html-decimal": "".join(f"&#{ord(c)};" if c in "&<>\"'" else c for c in secret),
            "html-hex": "".join(f"&#x{ord(c):x};" if c in "&<>\"'" else c for c in secret),
            "sql": secret.replace("'", "''")}


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(secret=SECRETS, align=st.integers(0, 2), before=st.text(" =:/", max_size=5), after=st.text(" ,;", max_size=5))
def test_every_spelling_of_a_known_secret_is_masked(secret, align, before, after):
    masker = Masker(secrets=[secret])
    for form, text in encodings(secret, align).items():
        masked = masker.mask_text(f"seen {before}{text}{after} here")
        blob = form in ("base64", "base64url")   # the secret inside a longer stream: its edges depend on neighbours
        core = text[4:-4] if blob else text
        assert not core or core not in masked, (form, masked)
        assert LABEL_RE.search(masked), (form, masked)


REVIEWED, QUOTED = "Tulip&Garden/2024<ok>", "it'sMyPassw0rd"
#: spellings a reviewer found unmasked, each as a program writes it
WRITTEN = {
    "go-json": (REVIEWED, r"Tulip\u0026Garden/2024\u003cok\u003e"),
    "json-upper-hex": (REVIEWED, r"Tulip\u0026Garden/2024\u003Cok\u003E"),
    "php-json": (REVIEWED, r"Tulip&Garden\/2024<ok>"),
    "php-json-hex": (REVIEWED, r"Tulip\u0026Garden\/2024\u003Cok\u003E"),
    "json-every-char": (REVIEWED, "".join(f"\\u{ord(c):04x}" for c in REVIEWED)),
    "json-every-char-upper": (REVIEWED, "".join(f"\\u{ord(c):04X}" for c in REVIEWED)),
    "url-lower": (REVIEWED, "Tulip%26Garden%2f2024%3cok%3e"),
    "url-lower-path": (REVIEWED, "Tulip%26Garden/2024%3cok%3e"),
    "url-twice": (REVIEWED, "Tulip%2526Garden%252F2024%253Cok%253E"),
    "url-twice-lower": (REVIEWED, "Tulip%2526Garden%252f2024%253cok%253e"),
    "html-decimal": (REVIEWED, "Tulip&#38;Garden/2024&#60;ok&#62;"),
    "html-hex": (REVIEWED, "Tulip&#x26;Garden/2024&#x3c;ok&#x3e;"),
    "html-HEX": (REVIEWED, "Tulip&#X26;Garden/2024&#X3C;ok&#X3E;"),
    "html-markupsafe": (QUOTED, "it&#39;sMyPassw0rd"),
    "sql": (QUOTED, "it''sMyPassw0rd"),
    "shell": (QUOTED, "it'\\''sMyPassw0rd"),
    "shlex": (QUOTED, shlex.quote(QUOTED)[1:-1]),
    "backslash": (QUOTED, "it\\'sMyPassw0rd"),
    # JavaScript's encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ), encodeURI ;,/?:@&=+$# too
    "js-encodeURIComponent": ("S3cr3t!P@ss(word)", "S3cr3t!P%40ss(word)"),
    "js-encodeURI": ("Pa$$:w0rd/x%y", "Pa$$:w0rd/x%25y"),
    "python-quote-default": ("pa/ss:word@1234", "pa/ss%3Aword%401234"),
    "java-URLEncoder": ("tilde~pass word*1", "tilde%7Epass+word*1"),
}


@pytest.mark.parametrize("secret, text", list(WRITTEN.values()), ids=list(WRITTEN))
def test_spellings_that_other_programs_write_are_masked(secret, text):
    masker = Masker(secrets=[secret])
    assert masker.mask_text(f"seen {text} here") == "seen «masked-1» here"
    assert masker.mask_text(f'{{"password":"{text}"}}') == '{"password":"«masked-1»"}'


def test_new_spellings_of_a_short_secret_match_only_as_whole_tokens():
    masker = Masker(secrets=["pw&d'x9"])
    text = "pw&#38;d'x9 pw&d''x9 pw%26d%27x9 xpw&d''x9 pw&#38;d'x9y"
    assert masker.mask_text(text) == "«masked-1» «masked-1» «masked-1» xpw&d''x9 pw&#38;d'x9y"


def test_a_secret_without_special_characters_gets_few_new_words():
    """Spellings equal to another are one word: only ``\\uXXXX`` of every character is new, and
    ``~`` as ``%7E`` (Java's ``URLEncoder``, ``URLSearchParams``: either case, once or twice)."""
    assert set(spellings("abcdefghij-_.~XYZ")) >= {"".join(f"\\u{ord(c):04x}" for c in "abcdefghij-_.~XYZ")}
    assert len(spellings("abcdefghij-_.XYZ")) <= 11 and len(spellings("Tok3nvalue99Tok3n")) <= 10
    assert len(spellings("abcdefghij-_.~XYZ")) <= 15 and "abcdefghij-_.%7EXYZ" in spellings("abcdefghij-_.~XYZ")


def test_a_long_secret_glued_to_other_text_is_masked_a_short_one_only_as_a_word():
    masker = Masker(secrets=["Tok3n-value-99", "desk-pw"])
    assert masker.mask_text("xTok3n-value-99x desk-pwx desk-pw") == "x«masked-1»x desk-pwx «masked-2»"


def test_a_secret_of_any_length_is_found_in_one_pass():
    """A 490-character secret once crashed every run (RecursionError in a regex built from the secrets)."""
    for length in (16, 490, 600, 5000, MAX_KNOWN):
        secret = ("Ab3$" * (length // 4 + 1))[:length]
        masker = Masker(secrets=[secret, secret[::-1]])
        assert masker.mask_text(f"a {secret} b {secret[::-1]} c") == "a «masked-1» b «masked-2» c"


def test_overlapping_spellings_pick_the_leftmost_longest_whole_token():
    known = KnownSecrets()
    for secret in ("desk-pw", "desk-pw-2026", "pw-2026x"):
        known.add(secret)
    text = "desk-pw-2026 desk-pwx desk-pw"
    assert [(text[a:b], s) for a, b, s in known.find(text)] == [("desk-pw-2026", "desk-pw-2026"), ("desk-pw", "desk-pw")]


def test_short_plain_spellings_are_whole_tokens_encoded_ones_are_found_inside_blobs():
    assert spellings("desk-pw")["desk-pw"].whole_token and not spellings("Tok3n-value-99")["Tok3n-value-99"].whole_token
    secret = "Tok3n-value-99"
    assert not spellings(secret)[secret.encode().hex()].whole_token
    masker = Masker(secrets=[secret])
    blob = base64.b64encode(b"{\"user\":\"a\",\"token\":\"" + secret.encode() + b"\"}").decode()
    assert masker.mask_text(blob) != blob and LABEL_RE.search(masker.mask_text(blob))


def test_a_secret_cut_in_two_by_a_source_is_masked_where_it_begins():
    """keep() cuts at word boundaries; a passphrase has some: the part before the cut is masked."""
    passphrase = "correct horse battery staple"
    masker = Masker(secrets=[passphrase])
    line = keep("login with " + passphrase + " done", limit=len("login with correct horse ba"))
    assert line == "login with correct horse " + CUT
    assert masker.mask_text(line) == "login with «masked-1»" + CUT


def test_keep_never_keeps_part_of_a_token_and_clip_never_part_of_a_label():
    from diagnose.clip import clip

    assert keep("a " + "x" * 50, limit=20) == "a " + CUT
    assert keep("short", limit=20) == "short"
    assert clip("see «masked-12» there", 8) == "see " + CUT
    assert clip("see «masked-12» there", 15) == "see «masked-12»" + CUT


def test_learned_values_above_the_limit_are_masked_where_found_not_learned():
    huge = ("Qz9" * 6_000_000)[:15_000_000]   # a 15 MB random-looking SQL cell once took 16 s and 2.9 GB
    masker = Masker()
    masked = masker.mask_text(huge)
    assert masked == "«masked-1»" and len(masker._known) == 0


# -- cost: linear in the text whatever the secrets --------------------------------------------------

def test_overlapping_learned_secrets_cost_a_constant_per_character():
    """1,000 values ``aaa…`` of every length from 12 to 1,011, learned from ``password=`` lines a log
    holds, all end at every character of a run of ``a``: enumerating them took 17 s and 3.7 GB to
    mask 16 KiB (128 KiB was killed). Now each automaton examines a few candidates per character."""
    masker = Masker()
    masker.learn("\n".join("password=" + "a" * (12 + i) for i in range(1000)))
    known, examined = masker._known, {}
    automata = len(known._levels)
    assert automata <= 11   # the logarithmic method: at most log2(1,000) + 1
    for size in (16 * 1024, 32 * 1024):
        assert masker.mask_text("a" * size) == "«masked-1000»"   # one span, named by the longest
        examined[size] = known.examined
    assert examined[16 * 1024] <= (WORK_PER_CHAR + 4) * automata * 16 * 1024   # 1,000 would be ~500 per char
    assert examined[32 * 1024] <= 2.1 * examined[16 * 1024]


def test_one_long_periodic_secret_costs_a_constant_per_character():
    """pyahocorasick walks the whole failure chain at each character: with one learned secret of
    16,000 ``a`` that was 16,000 steps per character of a run of ``a`` (64 KiB: 4.7 s). Words enter
    the automaton by their first ANCHOR characters, and one periodic word no longer costs its length."""
    masker = Masker()
    masker.learn("password=" + "a" * 16_000)
    for size in (64 * 1024, 128 * 1024):
        masked = masker.mask_text("a" * size)
        assert "a" * 16_000 not in masked and masked.startswith("«masked-1»")
        assert masker._known.examined <= (WORK_PER_CHAR + 4) * size


def _occurrences(known: KnownSecrets, text: str) -> list[list]:
    """Every valid occurrence of every word, found by trying each word everywhere."""
    found = []
    for word, spelling in known._words.items():
        at = text.find(word)
        while at >= 0:
            if not spelling.whole_token or _whole_token(text, at, at + len(word)):
                found.append([at, at + len(word), at + len(word), spelling, at, spelling])
            at = text.find(word, at + 1)
    return found


#: pyahocorasick; the Python scanner it hands over to; both with long words compared whole from a short anchor
SCANS = {"pyahocorasick": {}, "fallback": {"work": (0, 0)}, "anchored": {"anchor": 5},
         "anchored-fallback": {"anchor": 5, "work": (0, 0)}}


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(secrets=st.lists(st.text("ab-1%", min_size=4, max_size=15), min_size=1, max_size=6),
       text=st.text("ab-1% x", max_size=60))
def test_every_way_of_scanning_masks_what_trying_every_word_everywhere_masks(secrets, text):
    """Short alphabets make words overlap, nest and repeat; ``%1a``, ``a1`` and ``-`` test the
    whole-token rule. The spans cover every valid occurrence and never overlap."""
    expected = None
    for name, options in SCANS.items():
        known = KnownSecrets(**options)
        for secret in secrets:
            known.add(secret)
        found = known.find(text)
        if expected is None:
            occurrences = _occurrences(known, text)
            expected = _spans(text, occurrences)
            for start, end, *_ in occurrences:
                assert any(a <= start and end <= b for a, b, _ in expected), (text[start:end], expected)
            assert all(a[1] <= b[0] for a, b in itertools.pairwise(expected))
        assert found == expected, name


@pytest.mark.parametrize("options", list(SCANS.values()), ids=list(SCANS))
def test_a_longer_occurrence_that_is_not_a_whole_token_does_not_hide_a_shorter_one(options):
    known = KnownSecrets(**options)
    for secret in ("desk-pw", "desk-pw-a1"):
        known.add(secret)
    text = "desk-pw-a1b desk-pw-a1 xdesk-pw desk-pw-a1%3A"
    assert [(text[a:b], secret) for a, b, secret in known.find(text)] == \
        [("desk-pw", "desk-pw"), ("desk-pw-a1", "desk-pw-a1"), ("desk-pw-a1", "desk-pw-a1")]


def test_overlapping_secrets_are_one_span_that_leaves_no_part_of_either():
    """Leftmost-longest alone kept the first and left the rest of the second in the clear."""
    masker = Masker(secrets=["Tok3n-value-99", "value-99-more-Z", "desk-pw"])
    assert masker.mask_text("a Tok3n-value-99-more-Z b") == "a «masked-1» b"
    assert masker.mask_text("value-99-more-Z Tok3n-value-99desk-pw") == "«masked-2» «masked-1»desk-pw"


# -- the whole-token rule and URL escapes --------------------------------------------------------

@pytest.mark.parametrize("options", list(SCANS.values()), ids=list(SCANS))
@pytest.mark.parametrize("before, after", [("%3A", "%40"), ("%3a", "%40db"), ("%253A", "%2540"), ("\\u003a", "\\u0040"),
                                           ("\\x3a", "\\x40"), ("%3A", "")])
def test_an_escape_next_to_a_short_secret_is_a_token_boundary(options, before, after):
    known = KnownSecrets(**options)
    known.add("hunter2pw")
    text = f"app{before}hunter2pw{after}"
    assert [text[a:b] for a, b, _ in known.find(text)] == ["hunter2pw"]
    for glued in ("app3Ahunter2pw", "apphunter2pw", "hunter2pw3A", "%3Ahunter2pwx"):
        assert known.find(glued) == [], glued


# -- base64 edges -----------------------------------------------------------------------------------

@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode], ids=["standard", "url-safe"])
@pytest.mark.parametrize("length", [9, 10, 11])
def test_base64_keeps_no_character_that_holds_bits_of_the_secret(encode, length):
    """The 4-character groups where the secret begins and ends also hold its neighbours' bytes:
    the characters of those groups that carry any bit of the secret are masked too, at each of
    the 3 alignments and 3 lengths modulo 3; the ones made of the neighbours' bits alone stay."""
    secret = "hunter2pw~?>"[:length]
    masker, rng = Masker(secrets=[secret]), random.Random(length)
    for before in range(7):
        for after in range(5):
            stream = encode(bytes(rng.randrange(256) for _ in range(before)) + secret.encode()
                            + bytes(rng.randrange(256) for _ in range(after))).decode()
            masked = masker.mask_text(stream)
            head, tail = masked.split("«masked-1»")
            first, end = 8 * before // 6, -(-8 * (before + length) // 6)   # characters holding the secret's bits
            assert len(head) == first, (before, after, stream, masked)
            assert len(tail) == len(stream) - end or (after == 0 and tail == ""), (before, after, stream, masked)


def test_a_basic_header_shows_nothing_of_the_password():
    """``app:hunter2pw@db`` in base64: the group ``Omh1`` is ``:hu``; ``h1`` is the password's, ``m``
    holds half of ``h``, and was left in the clear with ``h1`` (it decoded to ``app:hu``)."""
    masker = Masker(secrets=["hunter2pw"])
    assert masker.mask_text("YXBwOmh1bnRlcjJwd0BkYg==") == "YXBwO«masked-1»BkYg=="   # app, 6 bits of ":"; "@db" less 4 bits
