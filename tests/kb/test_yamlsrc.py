from pathlib import Path

import pytest

from diagnose.kb.yamlsrc import MAX_NODES, YamlError, format_path, load


def test_lines_are_remembered_for_nested_paths():
    loc = load(Path("x.yaml"), "id: a\nchecks:\n  - id: one\n    kind: sql\n  - id: two\n    kind: log\n")
    assert loc.data["checks"][1]["kind"] == "log"
    assert loc.line_of(("checks", 1, "kind")) == 6
    assert loc.line_of(("checks", 1, "missing", "deeper")) == 5  # closest parent


def test_duplicate_keys_are_problems_not_silently_merged():
    loc = load(Path("x.yaml"), "id: a\ntitle: x\nid: b\n")
    assert loc.problems == [(("id",), "duplicate key 'id'")]
    assert loc.line_of(("id",)) == 3


def test_invalid_yaml_names_the_line():
    with pytest.raises(YamlError) as info:
        load(Path("bad.yaml"), "id: a\nchecks: [\n  - x\n")
    assert str(info.value).startswith("bad.yaml:")
    assert info.value.line >= 2


def test_alias_bomb_fails_fast():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        bomb += f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    with pytest.raises(YamlError, match=f"more than {MAX_NODES}"):
        load(Path("bomb.yaml"), bomb)


def test_scalars_keep_yaml_types_but_dates_stay_text():
    loc = load(Path("x.yaml"), "n: 3\nf: 0.5\nb: true\nz: null\nd: 2026-11-21\ns: '007'\n")
    assert loc.data == {"n": 3, "f": 0.5, "b": True, "z": None, "d": "2026-11-21", "s": "007"}


def test_format_path():
    assert format_path(("checks", 2, "kind")) == "checks[2].kind"
    assert format_path(()) == "(top level)"
