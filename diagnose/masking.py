"""Mask secrets in everything a report shows, consistently, without destroying evidence.

Reports get attached to tickets, so nothing secret may reach them: values the run knows are
secret (registered with :meth:`Masker.add`), values under secret-looking keys, and secret
*shapes* found in free text (URL passwords, ``password=...``, ``Authorization`` headers, JWTs,
well-known API-key formats, profile-supplied regexes). Each distinct secret gets one label,
``«masked-N»``, used everywhere in the report: a reader can still see that two env files hold
*different* JWT secrets (``«masked-1»`` vs ``«masked-2»``) without seeing either.

The label uses guillemets because they never occur in logs or SQL, need no escaping in HTML
or Markdown (``<secret>`` would vanish as a tag in rendered Markdown) and read as one token.
Ordinary evidence (timestamps, UUIDs, hex hashes, numbers, words) is never matched by shape.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Any, Iterable

from diagnose import safe_regex

LABEL = "«masked-{}»"
LABEL_RE = re.compile(r"«masked-\d+»")
MIN_KNOWN = 4  # shorter known secrets would shred ordinary text: masked by key context only

# words of a key name that make its value secret ("API_JWT_SECRET", "x-api-key", "dbPassword")
_SECRET_WORDS = {"secret", "secrets", "password", "passwd", "passphrase", "token", "jwt",
                 "credential", "credentials", "private", "privkey", "apikey", "salt", "cookie",
                 "authorization", "sessionid", "sessid", "jsessionid", "phpsessid"}
_SECRET_SUBSTRINGS = ("password", "passwd", "secret", "credential", "apikey", "privatekey",
                      "accesskey", "authtoken", "accesstoken", "refreshtoken")
# secret only after a qualifier ("API_KEY", "DB_PASS"; a bare "key" is a field name, PWD a directory)
_QUALIFIED_WORDS = {"key", "pass", "pwd"}
_PUBLIC_KEY_PREFIXES = {"primary", "foreign", "sort", "partition", "public", "cache", "unique",
                        "routing", "shard", "idempotency", "lookup", "group", "row", "map", "dict"}
# a trailing word that describes the secret rather than holding it ("TOKEN_TTL", "PASSWORD_FILE")
_DESCRIPTIVE_LAST = {"file", "files", "path", "dir", "url", "uri", "endpoint", "ttl", "expiry",
                     "expires", "expire", "expiration", "exp", "at", "age", "length", "len", "size",
                     "count", "type", "name", "id", "enabled", "required", "timeout", "header",
                     "field", "prefix", "set", "present", "policy", "rotation", "algorithm", "alg",
                     "format", "min", "max", "hint", "env", "var", "mode", "version", "source",
                     "kind", "status", "missing", "empty", "changed", "updated", "created", "ref"}

_PLACEHOLDER = re.compile(r"""^(?:\$\{?\w+\}?|\{\{.*\}\}|<[^<>]*>|%\(\w+\)s|[*xX.]+|\([a-z ]+\)|
                              true|false|null|none|yes|no|bearer|basic|digest)$""", re.X | re.I)


_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def _words(key: str) -> list[str]:
    return [w for w in _NON_WORD.split(_CAMEL.sub(r"\1_\2", key).lower()) if w]


@lru_cache(maxsize=4096)
def key_looks_secret(key: str) -> bool:
    """Does a key name (env var, JSON field, header, column) announce a secret value?"""
    words = _words(key)
    if len(words) > 1 and words[-2] in ("session", "sess") and words[-1] in ("id", "key"):
        return True  # a session id is a bearer credential, unlike other ids
    if not words or words[-1] in _DESCRIPTIVE_LAST and len(words) > 1:
        return False
    for i, word in enumerate(words):
        if word in _SECRET_WORDS or any(s in word for s in _SECRET_SUBSTRINGS):
            return True
        if word in _QUALIFIED_WORDS and i > 0 and words[i - 1] not in _PUBLIC_KEY_PREFIXES:
            return True
    return False


def looks_random(token: str) -> bool:
    """Is ``token`` (20+ letters, digits, ``_``, ``-``) mixed like generated output? Upper, lower
    case and digits, 3+ of each, switching class often: identifiers (``PositionSyncTimeoutError``),
    hex hashes, UUIDs and ULIDs have one or two classes or switch only at word boundaries."""
    classes = [0 if c.isdigit() else 1 if c.isupper() else 2 for c in token if c.isalnum()]
    if min(classes.count(0), classes.count(1), classes.count(2)) < 3:
        return False
    switches = sum(1 for a, b in zip(classes, classes[1:]) if a != b)
    return switches >= 0.4 * (len(classes) - 1)


_VALUE = r"""(?P<val>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|<[^<>\n]*>|[^\s"',;&)}\]>]+)"""
# (kind, regex, group holding the secret); applied in this order, each skipping existing labels
_SHAPES: list[tuple[str, re.Pattern, str]] = [
    ("private-key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?P<s>.*?)-----END [A-Z ]*PRIVATE KEY-----",
                               re.S), "s"),
    ("url-password", re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@'\"<>]*:(?P<s>[^\s@/'\"<>]+)@"), "s"),
    ("auth-header", re.compile(r"(?i)\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?"
                               r"(?:(?:bearer|basic|token|digest|bot)\s+)?(?P<s>[^\s\"',;]{4,})"), "s"),
    ("auth-header", re.compile(r"(?i)\b(?:bearer|basic)\s+(?P<s>[A-Za-z0-9._~+/=-]{12,})"), "s"),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}"), "0"),
    ("api-key", re.compile(
        r"\b(?:sk-(?:proj-|live-|test-|ant-)?[A-Za-z0-9_-]{16,}|[spr]k_(?:live|test)_[A-Za-z0-9]{10,}"
        r"|(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,}"
        r"|xox[abprs]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35}"
        r"|sb_(?:secret|publishable)_[A-Za-z0-9_-]{10,}|npm_[A-Za-z0-9]{36}|hf_[A-Za-z0-9]{30,}"
        r"|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{30,})(?![A-Za-z0-9_-])"), "0"),
    ("api-key", re.compile(r"(?<![0-9])\d{6,12}:AA[A-Za-z0-9_-]{30,}(?![A-Za-z0-9_-])"), "0"),  # Telegram bot
]
# "KEY=value", "key: value", "\"key\": \"value\"": the value sits in a lookahead, so a pair whose key
# is not secret ("https://host/?token=x") does not swallow the secret pair inside its value
_KEY_VALUE = re.compile(r"(?<![\w.-])(?P<key>[A-Za-z_][\w.-]*)[\"']?[ \t]*(?::|=>|=)[ \t]*(?=" + _VALUE + ")")
# cheap substring tests: a shape is only tried on text containing one of its hints (lowercased)
_HINTS = {
    "private-key": ("private key",), "url-password": ("://",), "jwt": ("eyj",),
    "auth-header": ("authorization", "bearer", "basic"),
    "api-key": ("sk-", "sk_", "pk_", "rk_", "akia", "asia", "gh", "xox", "glpat-", "aiza", "sb_", "npm_", "hf_",
                "sg.", ":aa"),
}
# "Cookie: a=1; sid=2" / "Set-Cookie: sid=2; Path=/": every cookie value, not the attributes
_COOKIE_HEADER = re.compile(r"(?i)\b(?:set-)?cookie[\"']?[ \t]*[:=][ \t]*[\"']?(?P<rest>[^\r\n\"']*)")
_COOKIE_PAIR = re.compile(r"(?:^|;)[ \t]*(?P<name>[!#$%&*+.^`|~\w-]+)=(?P<val>[^;\s]*)")
_COOKIE_ATTRIBUTES = {"path", "domain", "expires", "max-age", "samesite", "secure", "httponly", "priority",
                      "partitioned", "version", "comment"}
# a long run of letters and digits mixed like random output ("mF3kT9qW2x..."), found without any key
_RANDOM_CANDIDATE = re.compile(r"(?<![A-Za-z0-9_+-])[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_+-])")


class MaskingError(ValueError):
    """A profile-supplied masking pattern is not a valid regular expression."""


class Masker:
    """Replaces secrets by stable labels and counts what it did (for the report to state)."""

    def __init__(self, secrets: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        self._labels: dict[str, str] = {}
        self._known: set[str] = set()
        self._kinds: dict[str, str] = {}  # how a learned secret was first recognised, for summary()
        self._same: dict[str, str] = {}  # another spelling of a secret -> the secret (shares its label)
        self._known_re: re.Pattern | None = None
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
        """Mask this exact value wherever it appears (ignored below ``MIN_KNOWN`` characters);
        ``kind`` names it in :meth:`summary`."""
        value = "" if value is None else str(value)
        if len(value) >= MIN_KNOWN and not LABEL_RE.fullmatch(value) and value not in self._known:
            self._kinds.setdefault(value, kind)
            self._known.add(value)
            self._known_re = None

    def add_env(self, mapping: dict[str, Any]) -> None:
        """Register the values of the secret-looking keys of an env file / environment."""
        for key, value in mapping.items():
            if key_looks_secret(str(key)) and isinstance(value, str) and not _PLACEHOLDER.match(value):
                self.add(value, "env-value")

    def add_dsn(self, dsn: str) -> None:
        """Register the password of a DSN (URL form or libpq ``password=`` form)."""
        from urllib.parse import unquote

        for match in _SHAPES[1][1].finditer(dsn or ""):
            self.add(match.group("s"), "dsn-password")
            decoded = unquote(match.group("s"))  # the password itself, as the server and logs see it
            if decoded != match.group("s"):
                self._same.setdefault(decoded, match.group("s"))
                self.add(decoded, "dsn-password")
        for match in _KEY_VALUE.finditer(dsn or ""):
            if key_looks_secret(match.group("key")):
                self.add(_unquote(match.group("val")), "dsn-password")

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
        known = self._known_pattern() if self._counting else None  # discovery needs shapes only
        if known is not None:
            text = known.sub(lambda m: self._label(m.group(0), self._kinds.get(m.group(0), "value")), text)
        if shapes:
            lowered = text.lower()
            for kind, regex, group in _SHAPES:
                if any(hint in lowered for hint in _HINTS[kind]):
                    text = regex.sub(lambda m, k=kind, g=group: self._replace(m, k, g), text)
            if "cookie" in lowered:
                text = _COOKIE_HEADER.sub(self._mask_cookies, text)
            if "=" in text or ":" in text:
                text = self._mask_pairs(text)
            for kind, regex, group in self._extra:
                text = regex.sub(lambda m, k=kind, g=group: self._replace(m, k, g), text)
            text = _RANDOM_CANDIDATE.sub(self._mask_random, text)
        return text

    def _mask_cookies(self, header: re.Match) -> str:
        """Mask the cookie values of a ``Cookie:`` / ``Set-Cookie:`` header (any may be a session),
        but not its attributes nor plain words (``theme=dark``)."""
        def one(pair: re.Match) -> str:
            value = pair.group("val")
            if pair.group("name").lower() in _COOKIE_ATTRIBUTES or not value or LABEL_RE.search(value) \
                    or _PLACEHOLDER.match(value) or value.isalpha() and len(value) < 12:  # theme=dark
                return pair.group(0)
            self._learn(value, "cookie")
            return pair.group(0)[:pair.start("val") - pair.start(0)] + self._label(value, "cookie")

        start = header.start("rest") - header.start(0)
        return header.group(0)[:start] + _COOKIE_PAIR.sub(one, header.group("rest"))

    def _mask_random(self, match: re.Match) -> str:
        token = match.group(0)
        if not looks_random(token):
            return token
        self._learn(token, "random-token")
        return self._label(token, "random-token")

    def _mask_pairs(self, text: str) -> str:
        """Mask the values of secret-looking keys (``API_JWT_SECRET=...``) in free text."""
        pieces, last = [], 0
        for match in _KEY_VALUE.finditer(text):
            start, end = match.span("val")
            key, raw = match.group("key"), match.group("val")
            if start < last or not key_looks_secret(key) or key.lower().endswith("cookie") and "=" in raw:
                continue  # "Cookie: a=1; b=2" was masked value by value
            secret = _unquote(raw)
            if not secret or LABEL_RE.search(secret) or _PLACEHOLDER.match(secret):
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
        if not text or LABEL_RE.fullmatch(text) or _PLACEHOLDER.match(text):
            return value
        self._learn(text, "field")
        return self._label(text, "field")

    def _replace(self, match: re.Match, kind: str, group: str) -> str:
        raw = match.group(int(group) if group.isdigit() else group)
        if raw is None:
            return match.group(0)
        secret = _unquote(raw)
        if not secret or LABEL_RE.search(secret) or _PLACEHOLDER.match(secret):
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

    def _known_pattern(self) -> re.Pattern | None:
        if self._known_re is None and self._known:
            self._known_re = re.compile(rf"(?<![A-Za-z0-9]){_trie_regex(self._known)}(?![A-Za-z0-9])")
        return self._known_re


def _trie_regex(words: Iterable[str]) -> str:
    """One regex matching any of ``words``, factored by common prefixes so that matching cost
    grows with the length of a secret, not with how many secrets are known. Longer words win
    at each branch (the optional continuation is tried first), as a longest-first
    alternation would."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        alternation = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{alternation})?" if "" in node else alternation

    return "(?:" + build(trie) + ")"


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value
