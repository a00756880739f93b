"""Markdown text helpers for the generated pages.

Knowledge-base authors write CommonMark habits into YAML: list items continued with the
marker's width (three spaces under ``1.``), code fences nested in list items at that width,
lists right after a paragraph line. Python-Markdown (which mkdocs uses) wants four spaces
per level and a blank line before a list, or it renders fences as stray paragraphs.
:func:`python_markdown` rewrites the indentation without touching the content, so the
entries stay as authors write them and the site still renders them correctly.
"""

from __future__ import annotations

import re

_ITEM = re.compile(r"(?P<marker>[-*+]|\d{1,9}[.)])(?P<gap>[ ]{1,4}|$)")
_FENCE = re.compile(r"(?P<fence>`{3,}|~{3,})")


def python_markdown(text: str) -> str:
    """``text`` with list indentation rewritten for Python-Markdown (4 spaces a level).

    A stack holds, for each open list item, the column its content starts at in the source
    and in the output; every line is moved by the difference of the innermost item that
    contains it. Fenced blocks move as a whole, keeping their inner indentation.
    """
    out: list[str] = []
    stack: list[tuple[int, int, int]] = []  # (source marker col, source content col, output content col)
    fence: tuple[str, int] | None = None    # (closing fence, shift)
    prev_item = prev_blank = True
    for line in text.replace("\r\n", "\n").split("\n"):
        stripped = line.lstrip(" ")
        col = len(line) - len(stripped)
        if fence is not None:
            closing, shift = fence
            out.append(" " * max(0, col + shift) + stripped if stripped else "")
            if stripped.startswith(closing) and not stripped[len(closing):].strip():
                fence = None
            continue
        if not stripped:
            out.append("")
            prev_blank = True
            continue
        depth_before = len(stack)
        while stack and col < stack[-1][1]:
            stack.pop()
        src_base, out_base = (stack[-1][1], stack[-1][2]) if stack else (0, 0)
        item = _ITEM.match(stripped)
        if item and col - src_base < 4:
            if not prev_blank and not prev_item and len(stack) == depth_before:
                out.append("")  # Python-Markdown starts a list only after a blank line
            content = col + len(item.group("marker")) + max(1, len(item.group("gap")))
            out.append(" " * out_base + stripped)
            stack.append((col, content, out_base + 4))
            prev_item, prev_blank = True, False
            continue
        shift = out_base - src_base
        opening = _FENCE.match(stripped)
        if opening:
            fence = (opening.group("fence")[0] * len(opening.group("fence")), shift)
        out.append(" " * max(0, col + shift) + stripped)
        prev_item, prev_blank = False, False
    return "\n".join(out)


def indent(text: str, spaces: int = 4) -> str:
    """Every non-empty line indented (content of admonitions and content tabs)."""
    pad = " " * spaces
    return "\n".join(pad + line if line.strip() else "" for line in text.split("\n"))


def fence(text: str, lang: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=0)
    marks = "`" * max(3, longest + 1)
    return f"{marks}{lang}\n{text.rstrip()}\n{marks}"


def code(text: str) -> str:
    """An inline code span that survives backticks in ``text``."""
    text = str(text).replace("\n", " ")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    marks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{marks}{pad}{text}{pad}{marks}"


def heading_text(text: str) -> str:
    """Heading text safe next to an ``{ #id }`` attribute: literal braces escaped."""
    return " ".join(str(text).split()).replace("{", "\\{").replace("}", "\\}")


_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def cell(text: str) -> str:
    """Text for one table cell: one line, pipes escaped (Markdown inside is kept).

    Pipes inside code spans stay as they are: Python-Markdown's tables do not split there,
    and an escape would show as a backslash.
    """
    flat, out, pos = " ".join(str(text).split()), [], 0
    for match in _CODE_SPAN.finditer(flat):
        out += [flat[pos:match.start()].replace("|", "\\|"), match.group(0)]
        pos = match.end()
    out.append(flat[pos:].replace("|", "\\|"))
    return "".join(out)


_PLAIN_SPECIAL = re.compile(r"([\\`*_\[\]{}#])")


def plain(text: str, *, in_table: bool = False) -> str:
    """Literal text (a message as users see it) on one line: every Markdown sign escaped."""
    text = _PLAIN_SPECIAL.sub(r"\\\1", " ".join(str(text).split())).replace("<", "&lt;")
    return text.replace("|", "\\|") if in_table else text


def demote_headings(text: str, levels: int) -> str:
    """Headings outside code blocks moved ``levels`` down (max h6), e.g. to nest a report."""
    out, fence_mark = [], None
    for line in text.split("\n"):
        stripped = line.lstrip()
        opening = _FENCE.match(stripped)
        if fence_mark is None and opening:
            fence_mark = opening.group("fence")
        elif fence_mark is not None and stripped.startswith(fence_mark):
            fence_mark = None
        elif fence_mark is None:
            match = re.match(r"(#{1,6})(\s)", line)
            if match:
                line = "#" * min(6, len(match.group(1)) + levels) + line[len(match.group(1)):]
        out.append(line)
    return "\n".join(out)


def first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of a Markdown paragraph, on one line (for tables and descriptions)."""
    flat = " ".join(text.split())
    match = re.match(r"(.+?[.!?。])(\s|$)", flat)
    sentence = match.group(1) if match else flat
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


_ROLE = re.compile(r":(?:class|func|mod|meth|data|attr|exc|obj):`(~?)([^`]+)`")


def docstring_markdown(doc: str | None) -> str:
    """A module docstring (reST habits: ````x````, roles, ``::`` blocks) as Markdown.

    The reference pages quote the code's own docstrings, so what a kind or a world part does
    is written once, next to the code, and the site cannot drift from it.
    """
    import inspect

    text = inspect.cleandoc(doc or "")
    text = _ROLE.sub(lambda m: f"``{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}``", text)
    text = re.sub(r"``(.+?)``", r"`\1`", text)
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.rstrip().endswith("::"):
            out.append(line)
            continue
        head = line.rstrip()[:-2].rstrip()
        if head:
            out.append(head + ":")
        base = len(line) - len(line.lstrip())
        block: list[str] = []
        while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > base):
            block.append(lines[i])
            i += 1
        while block and not block[-1].strip():
            block.pop()
        body = inspect.cleandoc("\n".join(block)) if block else ""
        if body:
            lang = "yaml" if re.match(r"\s*(- )?[\w/.-]+:", body) else ""
            out += ["", fence(body, lang), ""]
    return python_markdown("\n".join(out).strip())
