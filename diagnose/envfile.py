"""``.env`` files as docker compose reads them (compose-go's dotenv rules).

* ``KEY=value`` or ``KEY: value``, optionally after ``export``; keys are letters, digits and
  ``_ . - [ ]``; a line holding only a key takes its value from compose's environment (here:
  not set, since diagnose does not run in the deployment's environment);
* unquoted values end at the line's end, lose a `` #comment`` and trailing spaces, and expand
  ``${VAR}``/``$VAR`` from keys set earlier in the file (``$$`` is a literal ``$``);
* single-quoted values are literal; double-quoted ones understand ``\\n \\r \\t \\\\ \\" \\$`` and
  octal ``\\0NNN`` escapes and expand variables; both may span lines (a PEM key);
* after a closing quote, parsing goes on with whatever follows.

:func:`parse` never stops at the first problem: it returns every value it could read and every
problem with its line, so a file with one broken line still tells the masker all its other
secrets. Checks that read the file refuse it with the first problem (:func:`read`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_KEY_CHARS = re.compile(r"[\w.\-\[\]]")
_EXPORT = re.compile(r"export\s+")
_ESCAPES = re.compile(r"\\(?:[abfnrtv$\"\\]|0[0-7]{0,3})")
_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", '"': '"', "\\": "\\"}
_VARIABLE = re.compile(r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<rest>[^}]*)\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)")
_SPACE = " \t\v\f\r\x85\xa0"


class EnvFileError(ValueError):
    """One line of an env file that cannot be read; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(message)


@dataclass
class EnvFile:
    values: dict[str, str] = field(default_factory=dict)
    problems: list[EnvFileError] = field(default_factory=list)
    #: what an unterminated quote left unread, by key (still worth masking)
    unterminated: dict[str, str] = field(default_factory=dict)


def parse(text: str) -> EnvFile:
    """Every ``KEY=value`` of ``text`` that can be read, and every problem."""
    out = EnvFile()
    pos, size = 0, len(text)
    while True:
        pos = _statement_start(text, pos)
        if pos >= size:
            return out
        line = text.count("\n", 0, pos) + 1
        try:
            pos = _statement(text, pos, line, out)
        except EnvFileError as problem:
            out.problems.append(problem)
            newline = text.find("\n", pos)
            pos = size if newline < 0 else newline + 1


def read(path: Path) -> dict[str, str]:
    """The values of the env file at ``path``; ValueError naming the first problem's line, OSError
    (:class:`~diagnose.files.NotRegularFile` for a FIFO, which would block for ever, or a device)."""
    from diagnose.files import read_regular_text

    parsed = parse(read_regular_text(path, errors="replace"))
    if parsed.problems:
        first = parsed.problems[0]
        raise EnvFileError(first.line, f"{path}:{first.line}: {first}")
    return parsed.values


def _statement_start(text: str, pos: int) -> int:
    """Past blank space and comment lines."""
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
        elif text[pos] == "#":
            newline = text.find("\n", pos)
            pos = len(text) if newline < 0 else newline + 1
        else:
            break
    return pos


def _statement(text: str, pos: int, line: int, out: EnvFile) -> int:
    export = _EXPORT.match(text, pos)
    if export:
        pos = export.end()
    start = pos
    while pos < len(text) and text[pos] not in "=:\n":
        char = text[pos]
        if not (char in _SPACE or _KEY_CHARS.match(char)):
            raise EnvFileError(line, f"not a KEY=value line: {_line_at(text, start)!r} (unexpected {char!r} in the key)")
        pos += 1
    key = text[start:pos].strip(_SPACE)
    if not key:
        raise EnvFileError(line, f"not a KEY=value line: {_line_at(text, start)!r} (no key)")
    if " " in key:
        raise EnvFileError(line, f"not a KEY=value line: {_line_at(text, start)!r} (a key cannot contain a space)")
    if pos >= len(text) or text[pos] == "\n":   # a bare key: compose takes it from its own environment
        return pos + 1
    pos += 1
    while pos < len(text) and text[pos] in _SPACE:
        pos += 1
    quote = text[pos] if pos < len(text) and text[pos] in "'\"" else ""
    if not quote:
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        value = text[pos:end].split(" #", 1)[0].rstrip()
        out.values[key] = _expand(value, out.values)
        return end + 1
    value, pos = _quoted(text, pos + 1, quote, line, key, out)
    out.values[key] = _expand(_unescape(value), out.values) if quote == '"' else value
    return pos


def _line_at(text: str, pos: int) -> str:
    end = text.find("\n", pos)
    return text[pos:end if end >= 0 else len(text)][:60]


def _quoted(text: str, pos: int, quote: str, line: int, key: str, out: EnvFile) -> tuple[str, int]:
    """The raw value up to the closing ``quote`` (``\\<quote>`` is the quote itself) and the position after."""
    chars: list[str] = []
    escaped = False
    for index in range(pos, len(text)):
        char = text[index]
        if char == quote and not escaped:
            return "".join(chars), index + 1
        if char == "\\" and not escaped:
            escaped = True
            continue
        if escaped and char != quote:
            chars.append("\\")
        escaped = False
        chars.append(char)
    out.unterminated[key] = text[pos:]
    raise EnvFileError(line, f"unterminated {quote} quote in {key}")


def _unescape(value: str) -> str:
    def one(match: re.Match) -> str:
        escape = match.group(0)[1:]
        if escape == "$":
            return "$$"   # a literal dollar, left alone by the expansion that follows
        if escape.startswith("0"):
            return chr(int(escape[1:] or "0", 8))
        return _SIMPLE[escape]
    return _ESCAPES.sub(one, value)


def _expand(value: str, known: dict[str, str]) -> str:
    """``${VAR}``/``$VAR`` from keys set earlier in the file (others stay as written); ``$$`` -> ``$``."""
    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        rest = match.group("rest") or ""
        if name in known:
            return known[name]
        if rest.startswith((":-", "-")):
            return rest.split("-", 1)[1]
        return match.group(0)
    return _VARIABLE.sub(one, value)
