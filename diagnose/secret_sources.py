"""Where a run's secrets are written: DSNs, URLs, command lines, env files.

The masker masks known secrets wherever they appear, in every spelling, so the run must know
them before anything is shown. These functions read them the way the programs that use them
do: a URL's password is everything between the first ``:`` of its user info and the *last*
``@`` before the host (``urlsplit``, libpq); a libpq keyword DSN's value may be single-quoted
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


def from_dsn(dsn: str) -> list[Found]:
    """The password of a PostgreSQL DSN, URL or keyword form, raw and decoded."""
    if re.match(r"^\s*postgres(?:ql)?://", dsn or "", re.I):
        return list(from_url(dsn, "dsn-password"))
    found = []
    for key, raw in _KEYWORD.findall(dsn or ""):
        if key_looks_secret(key):
            value = re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith("'") and len(raw) > 1 else raw
            found += [(value, "dsn-password"), (raw, "dsn-password")]
    return found


def from_url(url: str, kind: str = "url-password") -> Iterator[Found]:
    """The password of ``scheme://user:password@host`` (up to the last ``@``) and the values of
    credential query parameters, each raw and percent-decoded."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        parts = None
    if parts is not None and parts.netloc and "@" in parts.netloc:
        userinfo = parts.netloc.rpartition("@")[0]
        user, colon, password = userinfo.partition(":")
        if colon and password:
            yield password, kind
            yield unquote(password), kind
            first = userinfo.split("@", 1)[0].partition(":")[2]   # as a reader stopping at the first @ sees it
            if first and first != password:
                yield first, kind
    if parts is not None and parts.query:
        for key, value in parse_qsl(parts.query, keep_blank_values=False):
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
