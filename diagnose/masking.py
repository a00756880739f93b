"""Mask secrets in everything a report shows, consistently, without destroying evidence.

Reports get attached to tickets, so nothing secret may reach them: values the run knows are
secret (registered with :meth:`Masker.add`, found in every spelling: base64 at any alignment,
hex, URL-encoded, JSON- and HTML-escaped; see :mod:`diagnose.known_secrets`), values under
secret-looking keys, and secret *shapes* found in free text (URL passwords, ``password=...``,
``Authorization`` headers, JWTs, private keys, well-known API-key formats, profile-supplied
regexes). Each distinct secret gets one label, ``«masked-N»``, used everywhere in the report:
a reader can still see that two env files hold *different* JWT secrets (``«masked-1»`` vs
``«masked-2»``) without seeing either.

Masking is linear in its input whatever the secrets: known secrets are found by one
Aho-Corasick pass, every shape is bounded, and a private key without its END line is masked to
the end of the text (a key cut short is still a key). Text is masked whole, before anything is
clipped for display (:mod:`diagnose.clip`); a text that a source had to cut is checked for a
known secret cut in two at its end.

The label uses guillemets because they never occur in logs or SQL, need no escaping in HTML
or Markdown (``<secret>`` would vanish as a tag in rendered Markdown) and read as one token.
Ordinary evidence (timestamps, UUIDs, hex hashes, numbers, words) is never matched by shape.
What counts as a secret (key names, shapes) is in :mod:`diagnose.secret_shapes`.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import partial
from typing import Any, Iterable

from diagnose import clip, safe_regex, secret_sources
from diagnose.known_secrets import MIN_KNOWN, KnownSecrets  # noqa: F401 (MIN_KNOWN: also used from here)
from diagnose.secret_shapes import (  # noqa: F401 (key_looks_secret, looks_random: also used from here)
    COOKIE_ATTRIBUTES, COOKIE_HEADER, COOKIE_PAIR, HINTS, KEY_VALUE, PLACEHOLDER, PRIVATE_KEY_BEGIN,
    PRIVATE_KEY_END, RANDOM_CANDIDATE, SHAPES, key_looks_secret, looks_random,
)

LABEL = "«masked-{}»"
LABEL_RE = re.compile(r"«masked-\d+»")

class MaskingError(ValueError):
    """A profile-supplied masking pattern is not a valid regular expression."""


class Masker:
    """Replaces secrets by stable labels and counts what it did (for the report to state)."""

    def __init__(self, secrets: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        self._labels: dict[str, str] = {}
        self._known = KnownSecrets()
        self._kinds: dict[str, str] = {}  # how a learned secret was first recognised, for summary()
        self._same: dict[str, str] = {}  # another spelling of a secret -> the secret (shares its label)
        self._counting = True
        self._used: set[str] = set()
        self._by_kind: Counter[str] = Counter()
        self._extra: list[tuple[str, re.Pattern, str]] = []
        for pattern in patterns:
            try:
                regex = safe_regex.compile(pattern)   # a profile's regex cannot hang the report
            except re.error as exc:
                raise MaskingError(f"masking pattern {pattern!r} is not a valid regex: {exc}") from None
            index = regex.groupindex.get("secret")   # by number: RE2 matches take no names in span()
            group = str(index) if index is not None else ("1" if regex.groups else "0")
            self._extra.append(("pattern", regex, group))
        for secret in secrets:
            self.add(secret)

    # -- registering ----------------------------------------------------------------------------
    def add(self, value: Any, kind: str = "value") -> None:
        """Mask this exact value wherever it appears, in every spelling (ignored below ``MIN_KNOWN``
        characters, and not learned above the known-secret limit); ``kind`` names it in :meth:`summary`."""
        value = "" if value is None else str(value)
        if not LABEL_RE.fullmatch(value) and self._known.add(value):
            self._kinds.setdefault(value, kind)
            if "\n" in value:  # a multi-line secret (a PEM key) also shows up one line at a time
                for line in value.splitlines():
                    if not line.strip().startswith("-----"):
                        self.add(line.strip(), kind)

    def add_env(self, mapping: dict[str, Any], unterminated: dict[str, str] | None = None) -> None:
        """Register the values of the secret-looking keys of an env file / environment."""
        for secret, kind in secret_sources.from_env(mapping, unterminated):
            if not PLACEHOLDER.match(secret):
                self.add(secret, kind)

    def add_dsn(self, dsn: str) -> None:
        """Register the password of a DSN (URL form, or libpq keyword form with quotes and escapes)."""
        self._add_found(secret_sources.from_dsn(dsn or ""))

    def add_url(self, url: str) -> None:
        """Register the password and credential query values of a URL (an endpoint)."""
        self._add_found(list(secret_sources.from_url(url or "")))

    def add_command(self, command: Any) -> None:
        """Register the credentials on a command line (``--password=x``, ``curl -u user:x``, ``sshpass -p x``)."""
        self._add_found(secret_sources.from_command(command))

    def _add_found(self, found: list[tuple[str, str]]) -> None:
        from urllib.parse import unquote

        for secret, kind in found:
            decoded = unquote(secret)
            if decoded != secret:  # the password itself, as servers and logs see it, shares the label
                self._same.setdefault(secret, decoded)
                self.add(decoded, kind)
            self.add(secret, kind)

    def learn(self, obj: Any) -> None:
        """Discover secrets in ``obj`` without counting, so that a secret found late (in the
        profile) is also masked where it appears early and bare (in a log line)."""
        self._counting = False
        try:
            self.mask(obj)
        finally:
            self._counting = True

    # -- masking --------------------------------------------------------------------------------
    def mask_text(self, text: str, *, shapes: bool = True) -> str:
        """Mask known secrets and, unless ``shapes`` is false, secret shapes in ``text``.

        ``shapes=False`` suits text written by knowledge-base authors (solutions, titles): it
        cannot contain the user's secrets by shape, and shape rules would mangle examples.
        """
        if not text or not isinstance(text, str):
            return text
        if self._counting:  # discovery needs shapes only
            text = self._mask_known(text)
        if shapes:
            lowered = text.lower()
            if "private key" in lowered:
                text = self._mask_private_keys(text)
            for kind, regex, group in SHAPES:
                if any(hint in lowered for hint in HINTS[kind]):
                    text = regex.sub(partial(self._replace, kind=kind, group=group), text)
            if "cookie" in lowered:
                text = COOKIE_HEADER.sub(self._mask_cookies, text)
            if "=" in text or ":" in text:
                text = self._mask_pairs(text)
            for kind, regex, group in self._extra:
                text = regex.sub(partial(self._replace, kind=kind, group=group), text)
            text = RANDOM_CANDIDATE.sub(self._mask_random, text)
        return text

    def _mask_known(self, text: str) -> str:
        """Every spelling of every known secret, in one pass; a secret cut in two by a source's cut
        (the text ends with :data:`~diagnose.clip.CUT`) is masked from where it begins."""
        hits = self._known.find(text)
        cut_at = None
        if clip.was_cut(text):
            partial = self._known.partial_at_end(text[:-len(clip.CUT)])
            if partial is not None and not any(start <= partial[0] < end for start, end, _ in hits):
                cut_at = partial
        if not hits and cut_at is None:
            return text
        pieces, last = [], 0
        for start, end, secret in hits:
            if cut_at is not None and start >= cut_at[0]:
                break
            pieces += [text[last:start], self._label(secret, self._kinds.get(secret, "value"))]
            last = end
        if cut_at is not None:
            pieces += [text[last:cut_at[0]], self._label(cut_at[1], self._kinds.get(cut_at[1], "value")), clip.CUT]
            return "".join(pieces)
        return "".join(pieces) + text[last:]

    def _mask_private_keys(self, text: str) -> str:
        """PEM private keys, from BEGIN to END, or to the end of the text when END was cut off.
        Linear: once a BEGIN has no END after it, no later BEGIN has one either."""
        pieces, last = [], 0
        for begin in PRIVATE_KEY_BEGIN.finditer(text):
            if begin.start() < last:
                continue
            end = PRIVATE_KEY_END.search(text, begin.end())
            body_end = end.start() if end else len(text)
            body = text[begin.end():body_end]
            if body.strip() and not LABEL_RE.fullmatch(body.strip()):
                self._learn(body.strip(), "private-key")
                pieces += [text[last:begin.end()], "\n" if body.startswith("\n") else "",
                           self._label(body.strip(), "private-key"), "\n" if body.endswith("\n") else ""]
                last = body_end
            if end is None:
                break
        return "".join(pieces) + text[last:] if pieces else text

    def _mask_cookies(self, header: re.Match) -> str:
        """Mask the cookie values of a ``Cookie:`` / ``Set-Cookie:`` header (any may be a session),
        but not its attributes nor plain words (``theme=dark``)."""
        def one(pair: re.Match) -> str:
            value = pair.group("val")
            if pair.group("name").lower() in COOKIE_ATTRIBUTES or not value or LABEL_RE.search(value) \
                    or PLACEHOLDER.match(value) or value.isalpha() and len(value) < 12:  # theme=dark
                return pair.group(0)
            self._learn(value, "cookie")
            return pair.group(0)[:pair.start("val") - pair.start(0)] + self._label(value, "cookie")

        start = header.start("rest") - header.start(0)
        return header.group(0)[:start] + COOKIE_PAIR.sub(one, header.group("rest"))

    def _mask_random(self, match: re.Match) -> str:
        token = match.group(0)
        if not looks_random(token):
            return token
        self._learn(token, "random-token")
        return self._label(token, "random-token")

    def _mask_pairs(self, text: str) -> str:
        """Mask the values of secret-looking keys (``API_JWT_SECRET=...``) in free text."""
        pieces, last = [], 0
        for match in KEY_VALUE.finditer(text):
            start, end = match.span("val")
            key, raw = match.group("key"), match.group("val")
            if start < last or not key_looks_secret(key) or key.lower().endswith("cookie") and "=" in raw:
                continue  # "Cookie: a=1; b=2" was masked value by value
            secret = _unquote(raw)
            if not secret or LABEL_RE.search(secret) or PLACEHOLDER.match(secret):
                continue
            if secret != raw:
                start, end = start + 1, end - 1
            self._learn(secret, "key-value")
            pieces += [text[last:start], self._label(secret, "key-value")]
            last = end
        return "".join(pieces) + text[last:] if pieces else text

    def mask(self, obj: Any, *, shapes: bool = True) -> Any:
        """A masked copy of ``obj``: dict values under secret-looking keys entirely, every
        string by :meth:`mask_text`; table evidence (``columns``/``rows``) by column name."""
        if isinstance(obj, str):
            return self.mask_text(obj, shapes=shapes)
        if isinstance(obj, (list, tuple)):
            return [self.mask(v, shapes=shapes) for v in obj]
        if not isinstance(obj, dict):
            return obj
        out: dict[Any, Any] = {}
        for key, value in obj.items():
            if isinstance(key, str) and key_looks_secret(key):
                out[self.mask_text(key, shapes=shapes)] = self._whole(value)
            else:
                out[self.mask_text(key, shapes=shapes) if isinstance(key, str) else key] = \
                    self.mask(value, shapes=shapes)
        columns, rows = obj.get("columns"), obj.get("rows")
        if isinstance(columns, list) and isinstance(rows, list):
            secret = {i for i, c in enumerate(columns) if isinstance(c, str) and key_looks_secret(c)}
            if secret:
                out["rows"] = [[self._whole(cell) if i in secret else self.mask(cell, shapes=shapes)
                                for i, cell in enumerate(row)] if isinstance(row, (list, tuple)) else
                               self.mask(row, shapes=shapes) for row in rows]
        return out

    def summary(self) -> dict[str, Any]:
        """What masking did, for the report to state: distinct secrets, replacements, by kind."""
        return {"secrets": len(self._used), "replacements": sum(self._by_kind.values()),
                "by_kind": dict(sorted(self._by_kind.items()))}

    # -- internals ------------------------------------------------------------------------------
    def _whole(self, value: Any) -> Any:
        """Mask a value entirely (it sits under a secret key); booleans and nulls say nothing."""
        if isinstance(value, dict):
            return {k: self._whole(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._whole(v) for v in value]
        if isinstance(value, bool) or value is None:
            return value
        text = str(value)
        if not text or LABEL_RE.fullmatch(text) or PLACEHOLDER.match(text):
            return value
        self._learn(text, "field")
        return self._label(text, "field")

    def _replace(self, match: re.Match, kind: str, group: str) -> str:
        raw = match.group(int(group) if group.isdigit() else group)
        if raw is None:
            return match.group(0)
        secret = _unquote(raw)
        if not secret or LABEL_RE.search(secret) or PLACEHOLDER.match(secret):
            return match.group(0)
        self._learn(secret, kind)
        span_group = int(group) if group.isdigit() else group
        start, end = match.span(span_group)
        if secret != raw:  # keep the quotes, mask what they enclose
            start, end = start + 1, end - 1
        offset, whole = match.start(0), match.group(0)
        return whole[:start - offset] + self._label(secret, kind) + whole[end - offset:]

    def _learn(self, secret: str, kind: str) -> None:
        """Remember a secret found by shape or key, unless it is a plain word (``postgres``,
        ``password``) whose every occurrence would then be masked."""
        if len(secret) >= MIN_KNOWN and not (secret.isalpha() and len(secret) < 12):
            self.add(secret, kind)

    def _label(self, secret: str, kind: str) -> str:
        secret = self._same.get(secret, secret)
        label = self._labels.get(secret)
        if label is None:
            label = self._labels[secret] = LABEL.format(len(self._labels) + 1)
        if self._counting:
            self._used.add(label)
            self._by_kind[kind] += 1
        return label


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value
