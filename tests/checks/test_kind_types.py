"""Each built-in kind's check TypedDict (what its hooks take, for mypy) says what its SCHEMA says (what
``diagnose lint`` validates): the same keys, the same required ones, the same types, so neither can drift
from the other.

The TypedDict of a kind is the type its ``run`` takes. Required keys are read from the annotations: under
``from __future__ import annotations`` Python 3.11's ``__required_keys__`` misses ``Required[...]``.
"""

from __future__ import annotations

import types
import typing
from typing import Any, NotRequired, Required, get_args, get_origin, get_type_hints, is_typeddict

import pytest

from diagnose.checks import BUILTIN_KINDS, load_kind
from diagnose.kb.schema import CHECK_COMMON, check_schema

KINDS = sorted(BUILTIN_KINDS)
#: the common fields every check must have (id, kind, title, expects)
COMMON_REQUIRED = set(check_schema()["required"])
JSON_TYPES = {"string": str, "integer": int, "number": float, "boolean": bool, "null": type(None),
              "array": list, "object": dict}


def check_type(kind: str) -> Any:
    return get_type_hints(load_kind(kind).run)["check"]


def fields(typed: Any) -> tuple[dict[str, Any], set[str]]:
    """(key -> annotation without Required/NotRequired, required keys) of a TypedDict."""
    hints = get_type_hints(typed, include_extras=True)
    annotations, required = {}, set()
    for key, hint in hints.items():
        origin = get_origin(hint)
        if origin is Required or (typed.__total__ and origin is not NotRequired):
            required.add(key)
        annotations[key] = get_args(hint)[0] if origin in (Required, NotRequired) else hint
    return annotations, required


def schema_types(schema: dict[str, Any]) -> set[type] | None:
    """The Python types of the values a schema allows (None: any value)."""
    if "anyOf" in schema:
        branches = [schema_types(branch) for branch in schema["anyOf"]]
        return None if any(b is None for b in branches) else set().union(*branches)
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return {JSON_TYPES[name] for name in names}
    if "enum" in schema or "const" in schema:
        return {type(value) for value in schema.get("enum", [schema.get("const")])}
    return None


def annotation_types(hint: Any) -> set[type] | None:
    """The Python types an annotation allows, as :func:`schema_types` names them (a TypedDict is a dict)."""
    if hint is Any:
        return None
    if is_typeddict(hint):
        return {dict}
    if get_origin(hint) in (typing.Union, types.UnionType):
        parts = [annotation_types(arg) for arg in get_args(hint)]
        return None if any(p is None for p in parts) else set().union(*parts)
    return {get_origin(hint) or hint}


def compare(typed: Any, properties: dict[str, Any], required: set[str], where: str,
            common: dict[str, Any] | None = None) -> list[str]:
    """Where the TypedDict ``typed`` and an object schema (its ``properties`` and ``required`` keys) differ;
    ``common``: fields the TypedDict may declare besides (the common fields of every check)."""
    common = common or {}
    annotations, required_keys = fields(typed)
    problems = []
    declared_common = {key for key in annotations if key not in properties and key in common}
    for key in sorted(set(properties) - set(annotations)):
        problems.append(f"{where}{key}: in the schema, not in {typed.__name__}")
    for key in sorted(set(annotations) - set(properties) - declared_common):
        problems.append(f"{where}{key}: in {typed.__name__}, not in the schema")
    wanted = required | (declared_common & COMMON_REQUIRED)
    if required_keys != wanted:
        problems.append(f"{where.rstrip('.') or 'the check'}: {typed.__name__} requires {sorted(required_keys)}, "
                        f"the schema {sorted(wanted)}")
    for key in sorted(set(annotations) & (set(properties) | declared_common)):
        problems += compare_value(annotations[key], properties.get(key) or common[key], f"{where}{key}")
    return problems


def compare_value(hint: Any, schema: dict[str, Any], where: str) -> list[str]:
    """Where an annotation and the schema of the value it types differ (nested objects and items too)."""
    allowed, annotated = schema_types(schema), annotation_types(hint)
    if allowed != annotated:
        return [f"{where}: the schema allows {_names(allowed)}, the annotation {_names(annotated)} ({hint})"]
    if "properties" in schema:
        if not is_typeddict(hint):
            return [f"{where}: an object with properties, annotated {hint} instead of a TypedDict"]
        return compare(hint, schema["properties"], set(schema.get("required", [])), f"{where}.")
    if "anyOf" in schema:
        # a TypedDict in the union types the one object branch (an expectation's operators); a plain dict
        # may stand for object branches (a param's {env, key} and {window} forms)
        typed = [arg for arg in get_args(hint) if is_typeddict(arg)]
        objects = [branch for branch in schema["anyOf"] if "properties" in branch]
        if not typed:
            return []
        if len(typed) > 1 or len(objects) != 1:
            return [f"{where}: {len(typed)} TypedDicts in {hint} for {len(objects)} object branches"]
        return compare_value(typed[0], objects[0], where)
    args = get_args(hint)
    if isinstance(schema.get("additionalProperties"), dict) and len(args) == 2:
        return compare_value(args[1], schema["additionalProperties"], f"{where}.*")
    if isinstance(schema.get("items"), dict) and len(args) == 1:
        return compare_value(args[0], schema["items"], f"{where}[]")
    return []


def _names(found: set[type] | None) -> str:
    return "any value" if found is None else " | ".join(sorted(t.__name__ for t in found))


@pytest.mark.parametrize("kind", KINDS)
def test_the_check_typeddict_is_the_schema(kind):
    module = load_kind(kind)
    typed = check_type(kind)
    assert is_typeddict(typed), f"{kind}: run takes {typed}, not the check's TypedDict"
    assert typed.__module__ == module.__name__, f"{kind}: declare {typed.__name__} next to SCHEMA"
    assert compare(typed, module.SCHEMA["properties"], set(module.SCHEMA.get("required", [])), "",
                   CHECK_COMMON) == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_hook_takes_the_check_typeddict(kind):
    module, typed = load_kind(kind), check_type(kind)
    for hook in ("lint", "manual"):
        if hasattr(module, hook):
            assert get_type_hints(getattr(module, hook))["check"] is typed, f"{kind}.{hook}"
    if hasattr(module, "prepare"):
        assert get_type_hints(module.prepare)["checks"] == list[typed], f"{kind}.prepare"


def test_the_comparison_sees_a_drift():
    """The comparison itself: a field missing, one too many, a requirement and a type that differ."""

    class Check(typing.TypedDict, total=False):
        id: Required[str]
        name: Required[int]
        extra: str
        expect: dict[str, str]

    schema = {"name": {"type": "string"}, "count": {"type": "integer"},
              "expect": {"type": "object", "properties": {"min": {"type": "number"}}}}
    problems = compare(Check, schema, {"name", "count"}, "", CHECK_COMMON)
    assert problems == [
        "count: in the schema, not in Check",
        "extra: in Check, not in the schema",
        "the check: Check requires ['id', 'name'], the schema ['count', 'id', 'name']",
        "expect: an object with properties, annotated dict[str, str] instead of a TypedDict",
        "name: the schema allows str, the annotation int (<class 'int'>)",
    ]
