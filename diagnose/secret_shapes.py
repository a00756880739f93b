"""What a secret looks like: key names that announce one, and shapes of secrets in free text.

Kept apart from :mod:`diagnose.masking` (which replaces secrets consistently) so the two
questions - "is this a secret?" and "how is it masked?" - can be read and tested on their own.
Every shape here is tested both ways in ``tests/test_masking.py``: the secret is found, and
ordinary evidence (timestamps, UUIDs, hex hashes, ids, words like ``password_reset``) is not.
"""

from __future__ import annotations

import re
from functools import lru_cache

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

PLACEHOLDER = re.compile(r"""^(?:\$\{?\w+\}?|\{\{.*\}\}|<[^<>]*>|%\(\w+\)s|[*xX.]+|\([a-z ]+\)|
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


#: characters of a token looked at to tell whether it is random (a 15 MB cell is judged by its start)
RANDOM_SAMPLE = 4096


def looks_random(token: str) -> bool:
    """Is ``token`` (20+ letters, digits, ``_``, ``-``) mixed like generated output? Upper, lower
    case and digits, 3+ of each, switching class often: identifiers (``PositionSyncTimeoutError``),
    hex hashes, UUIDs and ULIDs have one or two classes or switch only at word boundaries."""
    classes = [0 if c.isdigit() else 1 if c.isupper() else 2 for c in token[:RANDOM_SAMPLE] if c.isalnum()]
    if min(classes.count(0), classes.count(1), classes.count(2)) < 3:
        return False
    switches = sum(1 for a, b in zip(classes, classes[1:]) if a != b)
    return switches >= 0.4 * (len(classes) - 1)


_VALUE = r"""(?P<val>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|<[^<>\n]*>|[^\s"',;&)}\]>]+)"""
# a PEM private key's first and last lines (the body between them is masked, see Masker._mask_private_keys)
PRIVATE_KEY_BEGIN = re.compile(r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----")
PRIVATE_KEY_END = re.compile(r"-----END [A-Z ]{0,40}PRIVATE KEY-----")
# (kind, regex, group holding the secret); applied in this order, each skipping existing labels. Every
# repetition is bounded, so a shape costs at most a constant per position of the text.
SHAPES: list[tuple[str, re.Pattern, str]] = [
    # the password runs to the last "@" before the host, as urlsplit reads it ("p@ss@host"); failing that,
    # it may hold "?" and "#", as libpq reads it (postgresql://app:Pa#ss@db/x: up to the "@" before the first "/")
    ("url-password", re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{0,30}://[^\s:/@'\"<>]{0,256}:(?P<s>[^\s/?#'\"<>]{1,1024}"
                                r"(?=@[^\s@/?#'\"<>]{0,256}(?:[/?#\s'\"<>]|$))|[^\s/'\"<>]{1,1024}"
                                r"(?=@[^\s@/?#'\"<>]{0,256}(?:[/?#\s'\"<>]|$)))@"), "s"),
    # credentials in a URL's query string under names that say so only there (?pass=, &sig=, &key=)
    ("url-query", re.compile(r"(?i)[?&;](?:pass|pwd|passwd|key|sig|signature|auth|code|sid|session|ticket)"
                             r"=(?P<s>[^&#\s\"'<>]{1,2048})"), "s"),
    ("auth-header", re.compile(r"(?i)\b(?:proxy-)?authorization\b[\"']?[ \t]{0,16}[:=][ \t]{0,16}[\"']?"
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
    # a Chinese label that says a secret follows ("数据库密码：x", "API密钥=x", "令牌: x"): the value up to a space
    # or Chinese text (a secret is not written in Chinese; "密码: 已重置" is a status, not a password)
    ("zh-label", re.compile(r"(?:密码|口令|密钥|秘钥|私钥|令牌|凭证|凭据|授权码)[\u4e00-\u9fff]{0,4}[ \t]*[:：=＝][ \t]*"
                            r"(?P<s>[^\s\u3000-\u303f\u4e00-\u9fff\uff00-\uffef\"'<>,;]{4,1024})"), "s"),
]
# "KEY=value", "key: value", "\"key\": \"value\"": the value sits in a lookahead, so a pair whose key
# is not secret ("https://host/?token=x") does not swallow the secret pair inside its value
KEY_VALUE = re.compile(r"(?<![\w.-])(?P<key>[A-Za-z_][\w.-]*)[\"']?[ \t]*(?::|=>|=)[ \t]*(?=" + _VALUE + ")")
# cheap substring tests: a shape is only tried on text containing one of its hints (lowercased)
HINTS = {
    "url-password": ("://",), "url-query": ("=",), "jwt": ("eyj",),
    "auth-header": ("authorization", "bearer", "basic"),
    "api-key": ("sk-", "sk_", "pk_", "rk_", "akia", "asia", "gh", "xox", "glpat-", "aiza", "sb_", "npm_", "hf_",
                "sg.", ":aa"),
    "zh-label": ("密码", "口令", "密钥", "秘钥", "私钥", "令牌", "凭证", "凭据", "授权码"),
}
# "Cookie: a=1; sid=2" / "Set-Cookie: sid=2; Path=/": every cookie value, not the attributes
COOKIE_HEADER = re.compile(r"(?i)\b(?:set-)?cookie[\"']?[ \t]*[:=][ \t]*[\"']?(?P<rest>[^\r\n\"']*)")
COOKIE_PAIR = re.compile(r"(?:^|;)[ \t]*(?P<name>[!#$%&*+.^`|~\w-]+)=(?P<val>[^;\s]*)")
COOKIE_ATTRIBUTES = {"path", "domain", "expires", "max-age", "samesite", "secure", "httponly", "priority",
                      "partitioned", "version", "comment"}
# a long run of letters and digits mixed like random output ("mF3kT9qW2x..."), found without any key
RANDOM_CANDIDATE = re.compile(r"(?<![A-Za-z0-9_+-])[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_+-])")
