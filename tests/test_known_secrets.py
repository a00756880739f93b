"""Known secrets in every spelling, found in one linear pass, whatever their number and length."""

from __future__ import annotations

import base64
import html
import json
import string
from urllib.parse import quote, quote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from diagnose.clip import CUT, keep
from diagnose.known_secrets import MAX_KNOWN, KnownSecrets, spellings
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
            "html": html.escape(secret)}


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
