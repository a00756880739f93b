"""Where a run's secrets are written: DSNs, URLs, command lines, env files.

The masker masks known secrets wherever they appear, in every spelling, so the run must know
them before anything is shown. These functions read them the way the programs that use them
do: a URL's password follows the first ``:`` of its user info, which libpq ends at the *first*
``@`` before the first ``/`` (``#`` and ``?`` are ordinary characters there: libpq accepts
``postgresql://app:Pa#ss@db/x``), and URL clients (``urlsplit``, browsers) at the *last* ``@``
before the path; every reading is registered. A libpq keyword DSN's value may be single-quoted
with ``\\'`` and ``\\\\`` escapes; a command line's password follows ``--password``, ``-p`` of
sshpass and mysql, or the ``user:`` of curl's ``-u``. Each returns ``(secret, kind)`` pairs;
what it gets wrong errs on the side of masking more.
"""

from __future__ import annotations

import os
import re
import shlex
from typing import Iterable, Iterator
from urllib.parse import parse_qsl, unquote, urlsplit

from diagnose.secret_shapes import key_looks_secret

Found = tuple[str, str]
#: URL query keys that hold a credential although their name alone does not say so everywhere
QUERY_SECRET_KEYS = frozenset({"pass", "pwd", "passwd", "key", "sig", "signature", "auth", "code", "sid",
                               "session", "ticket", "apikey", "api_key", "access_token", "token"})
#: programs whose ``-p`` takes a password (elsewhere -p is a port, a path, a pid...)
_P_IS_PASSWORD = frozenset({"sshpass", "mysql", "mysqladmin", "mysqldump", "mariadb", "mariadb-dump"})
_KEYWORD = re.compile(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")
_SCHEME = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]{0,30}://")


def from_dsn(dsn: str) -> list[Found]:
    """The password of a PostgreSQL DSN, URL or keyword form, raw and decoded."""
    if _SCHEME.match(dsn or ""):          # postgresql://, and any other URL a --dsn may be given
        return list(from_url(dsn, "dsn-password"))
    found = []
    for key, raw in _KEYWORD.findall(dsn or ""):
        if key_looks_secret(key):
            value = re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith("'") and len(raw) > 1 else raw
            found += [(value, "dsn-password"), (raw, "dsn-password")]
    return found


def from_url(url: str, kind: str = "url-password") -> Iterator[Found]:
    """The password of ``scheme://user:password@host`` and the values of credential query
    parameters, each raw and percent-decoded. The user info is read as libpq reads it (up to the
    first ``@`` before the first ``/``, ``#`` and ``?`` included) and as URL clients read it (up to
    the last ``@`` before the path: ``p@ss@word``); what only one of them sees is registered too."""
    text = (url or "").strip()
    scheme = _SCHEME.match(text)
    if scheme:
        authority = text[scheme.end():].partition("/")[0]       # libpq: the user info ends before any "/"
        netloc = re.split(r"[?#]", authority, maxsplit=1)[0]     # urlsplit: before "/", "?" or "#"
        passwords = []
        for userinfo in (authority.partition("@")[0] if "@" in authority else "",   # libpq
                         authority.rpartition("@")[0], netloc.rpartition("@")[0]):   # URL clients
            user, colon, password = userinfo.partition(":")
            if colon and password and password not in passwords:
                passwords.append(password)
        for password in passwords:
            yield password, kind
            yield unquote(password), kind
        rest = text[scheme.end():]
        after_user = rest.partition("@")[2] if "@" in authority else rest
        queries = {after_user.partition("?")[2]}   # libpq's query: from there to the end, "#" included
    else:
        queries = set()
    try:
        queries.add(urlsplit(text).query)
    except ValueError:
        pass
    for query in queries:
        for key, value in parse_qsl(query, keep_blank_values=False):
            if value and (key_looks_secret(key) or key.lower() in QUERY_SECRET_KEYS):
                yield value, "url-query"


def from_command(command: str | Iterable[str]) -> list[Found]:
    """Credentials on a command line (a ``logs: {command: ...}`` of the profile)."""
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError:
            argv = command.split()
    else:
        argv = [str(a) for a in command]
    found: list[Found] = []
    program = ""
    for i, arg in enumerate(argv):
        nxt = argv[i + 1] if i + 1 < len(argv) else ""
        name, eq, value = arg.partition("=")
        assigning = not program or program == "env"        # PGPASSWORD=x cmd, env PGPASSWORD=x cmd
        if assigning and eq and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            if key_looks_secret(name) and value:
                found.append((value, "command-arg"))
            continue
        if not program or (program == "env" and not arg.startswith("-")):
            program = os.path.basename(arg)
        if arg.startswith("--") and len(arg) > 2:
            option = arg[2:].partition("=")[0]
            if key_looks_secret(option):
                found.append((arg.partition("=")[2] if "=" in arg else nxt, "command-arg"))
            elif option == "user" and ":" in (arg.partition("=")[2] if "=" in arg else nxt):
                found.append(((arg.partition("=")[2] if "=" in arg else nxt).partition(":")[2], "command-arg"))
        elif arg == "-u" and ":" in nxt:                       # curl -u user:password
            found.append((nxt.partition(":")[2], "command-arg"))
        elif arg.startswith("-p") and program in _P_IS_PASSWORD:
            found.append((arg[2:] or nxt, "command-arg"))
        elif "://" in arg:
            found += list(from_url(arg))
    return [(secret, kind) for secret, kind in found if secret]


def from_env(values: dict[str, str], unterminated: dict[str, str] | None = None) -> list[Found]:
    """The values of an env file's secret-looking keys; for a value left unterminated by a missing
    quote, the rest of the file after it, line by line (a PEM key cut short is still a secret)."""
    found = [(v, "env-value") for k, v in values.items() if isinstance(v, str) and key_looks_secret(str(k))]
    for key, rest in (unterminated or {}).items():
        if key_looks_secret(key):
            found += [(line.strip(), "env-value") for line in rest.splitlines() if line.strip()]
    return found
