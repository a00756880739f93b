"""A pack's domain glossary (``glossary.yaml`` beside pack.yaml): each term in English and Chinese, with the
other words operators use for it.

``diagnose explain`` treats the words of one term as one word (换月 finds "rollover", "ntfy" finds 通知), the
translators write a term the same way in every entry, and the FAQ site prints it as the glossary page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from diagnose.kb.model import Term
from diagnose.kb.problems import Problem

#: the file's JSON Schema (validated like every other file of a pack, errors at their lines)
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "diagnose knowledge pack glossary (glossary.yaml)",
    "type": "object", "additionalProperties": False, "required": ["terms"],
    "properties": {"terms": {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": ["zh", "en"],
        "properties": {
            "zh": {"type": "string", "minLength": 1, "description": "the Chinese word the pack uses"},
            "en": {"type": "string", "minLength": 1, "description": "the English word the pack uses"},
            "also": {"type": "array", "items": {"type": "string", "minLength": 1},
                     "description": "other words for the same thing, in either language"},
            "note": {"type": "string"},
        }}}},
}


def check(path: Path, name: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The terms of the glossary at ``path`` (none when there is no file) and its problems. Like a
    translation's, they are lint's to report and never stop a run: without its glossary, `explain` still
    matches each language's own words."""
    from diagnose.kb.lint import schema_problems
    from diagnose.kb.yamlsrc import YamlError, format_path, load

    if not path.is_file():
        return [], []
    try:
        loc = load(path)
    except YamlError as exc:
        return [], [Problem(name, exc.line, "", exc.message, translation=True)]
    problems = [Problem(name, loc.line_of(p), format_path(p), message, translation=True) for p, message in loc.problems]
    problems += [Problem(p.file, p.line, p.path, p.message, translation=True)
                 for p in schema_problems(loc, SCHEMA, (), name)]
    if problems:
        return [], problems
    seen: dict[str, int] = {}
    for index, term in enumerate(loc.data["terms"]):
        for word in (term["en"], term["zh"], *term.get("also", ())):
            key = word.lower()
            if key in seen and seen[key] != index:
                problems.append(Problem(name, loc.line_of(("terms", index)), f"terms[{index}]",
                                        f"'{word}' is already a word of terms[{seen[key]}]: a word names one term",
                                        translation=True))
            seen.setdefault(key, index)
    return loc.data["terms"], problems


def terms_of(data: list[dict[str, Any]]) -> tuple[Term, ...]:
    """The validated ``terms:`` of a glossary (as the pack cache keeps them) as :class:`Term` objects."""
    return tuple(Term(t["zh"], t["en"], tuple(t.get("also", ())), t.get("note", "")) for t in data)
