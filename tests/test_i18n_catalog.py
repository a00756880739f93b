"""The Chinese catalog (``diagnose/locale/zh.py``) against the code, and how the locale picks a language.

Every literal sentence the code passes to :func:`diagnose.i18n.t` (found in the AST of every module under
``diagnose/``, and in the ``t("...")`` calls of the report templates) must have an entry, each entry must
have the same ``{fields}`` as its English key, and each call must pass the fields its sentence names.
"""

from __future__ import annotations

import ast
import re
import string
from dataclasses import dataclass
from pathlib import Path

import pytest

from diagnose import i18n
from diagnose.locale.zh import MESSAGES

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "diagnose"


@dataclass(frozen=True)
class Call:
    """One ``t(...)`` call: where it is, its sentence (None: not a literal), the fields it passes (None: ``**``)."""

    where: str
    text: str | None
    passed: frozenset[str] | None
    formatted: bool = False     # an f-string: a sentence no catalog can hold


def fields(text: str) -> set[str]:
    """The ``{fields}`` of a sentence (``{{`` is a brace, not a field)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _is_t(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id == "t") or (
        isinstance(func, ast.Attribute) and func.attr == "t" and isinstance(func.value, ast.Name)
        and func.value.id == "i18n")


def python_calls() -> list[Call]:
    calls = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _is_t(node.func) and node.args):
                continue
            first = node.args[0]
            text = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
            names = [k.arg for k in node.keywords]
            passed = None if None in names else frozenset(n for n in names if n is not None and n != "lang")
            calls.append(Call(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}", text, passed,
                              isinstance(first, ast.JoinedStr)))
    return calls


def template_calls() -> list[Call]:
    """The ``t(...)`` calls of the Jinja templates, read by Jinja's own parser."""
    import jinja2
    from jinja2 import nodes

    env = jinja2.Environment()
    calls = []
    for path in sorted(PACKAGE.rglob("*.j2")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for node in tree.find_all(nodes.Call):
            if not (isinstance(node.node, nodes.Name) and node.node.name == "t" and node.args):
                continue
            first = node.args[0]
            text = first.value if isinstance(first, nodes.Const) and isinstance(first.value, str) else None
            passed = None if node.dyn_kwargs is not None else frozenset(k.key for k in node.kwargs if k.key != "lang")
            calls.append(Call(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}", text, passed))
    return calls


ALL_CALLS = python_calls() + template_calls()
SENTENCES = {c.text for c in ALL_CALLS if c.text is not None}


def test_the_code_calls_t():
    """The walk finds the calls (a broken walk would pass every other test here)."""
    assert len(SENTENCES) > 100
    assert "Likely causes" in SENTENCES and "Expected: {expects}" in SENTENCES


def test_every_sentence_has_a_chinese_entry():
    missing = sorted({f"{c.where}: {c.text!r}" for c in ALL_CALLS if c.text is not None and c.text not in MESSAGES})
    assert missing == [], "sentences without an entry in diagnose/locale/zh.py:\n" + "\n".join(missing)


def test_no_sentence_is_an_f_string():
    """``t(f"{n} checks")`` is a different sentence for every n: pass the fields, ``t("{n} checks", n=n)``."""
    assert [c.where for c in ALL_CALLS if c.formatted] == []


def test_every_entry_has_the_fields_of_its_english():
    wrong = [f"{key!r}: {sorted(fields(key))} -> {value!r}: {sorted(fields(value))}"
             for key, value in MESSAGES.items() if fields(key) != fields(value)]
    assert wrong == [], "entries whose {fields} differ from their English:\n" + "\n".join(wrong)


def test_every_entry_formats_like_its_english():
    """A translation formats with its English's fields (no stray ``{`` that only Chinese has), and is Chinese."""
    broken = []
    for key, value in MESSAGES.items():
        names = fields(key)
        if names:
            try:
                value.format(**dict.fromkeys(names, "x"))
            except (ValueError, IndexError, KeyError) as exc:
                broken.append(f"{key!r}: {exc}")
        if not value.strip() or (value == key and re.search(r"[A-Za-z]{3}", key)):
            broken.append(f"{key!r}: not translated")
    assert broken == [], "\n".join(broken)


def test_every_call_passes_the_fields_of_its_sentence():
    """``t("{n} checks", count=3)`` would fail at run time, in English and Chinese alike; ``text`` and
    ``lang`` are t's own parameters, never a field."""
    wrong = [f"{c.where}: {c.text!r} passes {sorted(c.passed)}" for c in ALL_CALLS
             if c.text is not None and c.passed is not None and c.passed != fields(c.text)]
    reserved = sorted({f"{c.text!r}" for c in ALL_CALLS if c.text and fields(c.text) & {"text", "lang"}})
    assert wrong == [] and reserved == [], "\n".join(wrong + reserved)


def nav_titles() -> set[str]:
    """The section titles of the repository's mkdocs.yml ``nav:``: the plugin translates them through the
    catalog (diagnose.site.generate.translate_nav), so their entries are used though no code names them."""
    import yaml

    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)

    def titles(nav) -> set[str]:
        if isinstance(nav, list):
            return set().union(*(titles(item) for item in nav)) if nav else set()
        if isinstance(nav, dict):
            return set(nav) | set().union(*(titles(v) for v in nav.values()))
        return set()

    return titles(config.get("nav", []))


def test_every_nav_title_has_a_chinese_entry():
    assert sorted(nav_titles() - set(MESSAGES)) == []


def test_no_entry_is_stale():
    """Every entry is a sentence the code still says (a sentence reworded in the code needs its entry
    reworded too, or the old entry stays here unused and the new one is missing)."""
    stale = sorted(set(MESSAGES) - SENTENCES - nav_titles())
    assert stale == [], "entries no t() call uses (reword or remove them):\n" + "\n".join(map(repr, stale))


def test_t_speaks_the_language_in_force():
    try:
        i18n.set_language("zh")
        assert i18n.t("Likely causes") == MESSAGES["Likely causes"]
        assert i18n.t("Expected: {expects}", expects="0 rows") == MESSAGES["Expected: {expects}"].format(
            expects="0 rows")
        assert i18n.t("a sentence nobody translated") == "a sentence nobody translated"
        assert i18n.t("Likely causes", lang="en") == "Likely causes"
        i18n.set_language("en")
        assert i18n.t("Likely causes") == "Likely causes"
    finally:
        i18n.set_language(None)


@pytest.mark.parametrize("environ,lang", [
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "zh_TW.UTF-8"}, "zh"),
    ({"LANG": "zh"}, "zh"),
    ({"LANG": "zh_CN"}, "zh"),
    ({"LANG": "C"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": ""}, "en"),
    ({}, "en"),
    ({"LC_MESSAGES": "zh_CN.UTF-8"}, "zh"),
    ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ({"LC_MESSAGES": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LC_ALL": "zh_CN.UTF-8", "LC_MESSAGES": "en_US.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ({"LC_ALL": "C", "LC_MESSAGES": "zh_CN.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LC_ALL": "", "LANG": "zh_CN.UTF-8"}, "zh"),                 # an empty variable is not set
    ({"LC_ALL": "", "LC_MESSAGES": "", "LANG": ""}, "en"),
    ({"LANG": "zh_CN.GB18030@stroke"}, "zh"),
    ({"LANG": "fr_FR.UTF-8"}, "en"),
])
def test_from_environment(environ, lang):
    assert i18n.from_environment(environ) == lang


def test_language_follows_the_locale_until_one_is_chosen(monkeypatch):
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    try:
        i18n.set_language(None)
        assert i18n.language() == "zh"
        i18n.set_language("en")
        assert i18n.language() == "en"
    finally:
        i18n.set_language(None)
