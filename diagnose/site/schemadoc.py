"""JSON Schemas as field tables: the reference pages are generated from the schemas themselves.

Every field is listed by its full path (``checks[].expect.rows``, ``examples[].world.env.<name>``):
``[]`` steps into a list's items, ``.<name>`` into a mapping keyed by names the author
chooses. Alternatives (``anyOf``) contribute their fields at the same path. Expectations
(:data:`diagnose.checks.expect.SCHEMA`) appear everywhere, so they are one type, documented
once, instead of the same nine operators under every field that takes one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

from diagnose.checks import expect
from diagnose.site.mdtext import cell, code

EXPECTATION_LINK = "entry-format.md#expectations"


@dataclass(frozen=True)
class Field:
    path: str
    schema: dict[str, Any]
    required: bool


def is_expectation(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("anyOf") is expect.SCHEMA["anyOf"]


def fields(schema: dict[str, Any], prefix: str = "") -> Iterator[Field]:
    """Every field under ``schema``, depth first, each path once."""
    seen: set[str] = set()
    for field in _walk(schema, prefix):
        if field.path not in seen:
            seen.add(field.path)
            yield field


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _walk(schema: Any, prefix: str) -> Iterator[Field]:
    if not isinstance(schema, dict) or is_expectation(schema):
        return
    required = set(schema.get("required") or ())
    properties = schema.get("properties") or {}
    for name, child in properties.items():
        path = _join(prefix, name)
        yield Field(path, child if isinstance(child, dict) else {}, name in required)
        yield from _walk(child, path)
    for name in sorted(required - set(properties)):  # required but not described (free-form objects)
        yield Field(_join(prefix, name), {}, True)
    items = schema.get("items")
    if isinstance(items, dict):
        yield from _walk(items, f"{prefix}[]")
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and extra:
        path = _join(prefix, "<name>")
        yield Field(path, extra, False)
        yield from _walk(extra, path)
    for key in ("anyOf", "oneOf"):
        for alternative in schema.get(key) or ():
            yield from _walk(alternative, prefix)
    for part in schema.get("allOf") or ():
        yield from _walk(part.get("then", part) if isinstance(part, dict) else part, prefix)


def type_text(schema: dict[str, Any]) -> str:
    """A short human type: ``string``, ``list of string``, ``one of `low`, `high```..."""
    if is_expectation(schema):
        return f"[expectation]({EXPECTATION_LINK})"
    if "const" in schema:
        return code(json.dumps(schema["const"]))
    if "enum" in schema:
        return "one of " + ", ".join(code(v) for v in schema["enum"])
    kinds = schema.get("type")
    if kinds is None and ("anyOf" in schema or "oneOf" in schema):
        parts = [type_text(alt) for alt in schema.get("anyOf") or schema["oneOf"]]
        return " or ".join(dict.fromkeys(p for p in parts if p))
    if isinstance(kinds, list):
        return " or ".join(kinds)
    if kinds == "array":
        items = schema.get("items")
        return f"list of {type_text(items)}" if isinstance(items, dict) else "list"
    if kinds == "object" and isinstance(schema.get("additionalProperties"), dict) and not schema.get("properties"):
        return f"mapping of name to {type_text(schema['additionalProperties'])}"
    return kinds or "any"


def constraints(schema: dict[str, Any]) -> str:
    """Limits worth knowing when writing a value (pattern, bounds, default)."""
    parts = []
    if "pattern" in schema:
        parts.append(f"pattern {code(schema['pattern'])}")
    for key, word in (("minimum", "at least"), ("exclusiveMinimum", "more than"), ("maximum", "at most"),
                      ("minLength", "length at least"), ("maxLength", "length at most"),
                      ("minItems", "at least"), ("default", "default")):
        if key in schema:
            value = schema[key]
            if key == "minLength" and value == 1:
                parts.append("not empty")
            elif key == "minItems":
                parts.append(f"{word} {value} item(s)")
            elif key == "maxLength" and value >= 10000:
                continue
            else:
                parts.append(f"{word} {code(json.dumps(value))}")
    return "; ".join(parts)


def field_table(schema: dict[str, Any], prefix: str = "", *, skip: set[str] | frozenset = frozenset(),
                only_under: str | None = None) -> str:
    """A Markdown table of the fields of ``schema`` (paths in ``skip`` left out)."""
    rows = ["| Field | Type | Required | Description |", "|---|---|---|---|"]
    for field in fields(schema, prefix):
        if field.path in skip or (only_under is not None and not field.path.startswith(only_under)):
            continue
        description = field.schema.get("description", "")
        limits = constraints(field.schema)
        text = cell(description) + (f" ({cell(limits)})" if limits else "")
        rows.append(f"| {code(field.path)} | {cell(type_text(field.schema))} | "
                    f"{'yes' if field.required else ''} | {text} |")
    return "\n".join(rows)


def expectation_table() -> str:
    """The operators of an expectation (the ``expect`` mini-language shared by every kind)."""
    operators = expect.SCHEMA["anyOf"][1]["properties"]
    rows = ["| Operator | Type | Meaning |", "|---|---|---|"]
    rows += [f"| {code(name)} | {cell(type_text(spec))} | {cell(spec.get('description', ''))} |"
             for name, spec in operators.items()]
    return "\n".join(rows)


def schema_block(schema: dict[str, Any], title: str) -> str:
    """The raw JSON Schema in a collapsed block, for editors and tools."""
    body = json.dumps(schema, indent=2, ensure_ascii=False)
    fence = "```"
    return f'??? note "{title}"\n\n    {fence}json\n' + "\n".join(
        ("    " + line) if line else "" for line in body.split("\n")) + f"\n    {fence}\n"
