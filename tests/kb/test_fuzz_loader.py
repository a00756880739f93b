"""Property: whatever bytes sit in an entry file, loading the pack either works or raises
KnowledgeBaseError whose every problem is one line ``file:line: ...`` - never another exception,
never a hang. Inputs: random bytes and text, a real entry mutated (fields removed, wrong types,
huge values, 200-deep nesting, unknown keys), alias bombs, tabs, invalid UTF-8, duplicate keys,
catastrophic and invalid regexes in a log check's ``pattern`` and ``expect.matches``.
"""

import copy
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnose.kb.loader import KnowledgeBaseError, builtin_root, load_pack

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from yamlfuzz import bomb, damaged, fuzz_settings, hard_limit, mutated, nest  # noqa: E402

FUZZ = fuzz_settings(120)
BASE_TEXT = (builtin_root() / "data" / "stale-positions.yaml").read_text()
BASE = yaml.safe_load(BASE_TEXT)
LOG_CHECKS = [i for i, c in enumerate(BASE["checks"]) if c["kind"] == "log"]
REGEXES = ["(a+)+$", "(a|aa)+$", "(.*a){20}", "^(\\w+\\s?)*$", "([a-z]+)*[0-9]", "(", ")", "[", "a{2,1}",
           "\\", "(?P<1>x)", "*", "(?<=a+)b", "\\p{L}", "x" * 5000, "(?i", "a**", "[z-a]", "\\1", ""]


@pytest.fixture(scope="module")
def pack_root(tmp_path_factory):
    """A pack with the real manifest and one entry file that each example overwrites."""
    root = tmp_path_factory.mktemp("fuzzpack") / "checks"
    (root / "data").mkdir(parents=True)
    shutil.copy(builtin_root() / "pack.yaml", root / "pack.yaml")
    return root


def assert_loads_or_clean_error(root, content: bytes | str) -> None:
    path = root / "data" / "fuzz.yaml"
    path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
    try:
        with hard_limit():
            load_pack(root, use_cache=False)
    except KnowledgeBaseError as exc:
        assert exc.problems
        for problem in exc.problems:
            text = str(problem)
            assert problem.file.endswith("data/fuzz.yaml"), text
            assert problem.line >= 1 and text.startswith(f"{problem.file}:{problem.line}: "), text
            assert "\n" not in text, text


WRONG = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.sampled_from([10**300, -(10**300), 2**64, float("inf"), "x" * 100_000, "", " ", "\t", "{x}"]),
    st.text(max_size=50), st.lists(st.integers(), max_size=5), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.integers(150, 220).map(nest),
)


@settings(FUZZ)
@given(content=st.one_of(st.binary(max_size=3000), st.text(max_size=3000)))
def test_random_bytes_and_text(pack_root, content):
    assert_loads_or_clean_error(pack_root, content)


TOKENS = list("[]{}:-,&*!|>'\"#%@`?<=\n\t  abcl01.~") + [
    "!!int ", "!!float ", "!!bool ", "!!map ", "!!set ", "!!binary ", "!!timestamp ", "&a ", "*a", "<<: ", "---\n",
    "...\n", "\\u0000", "\x00", "\ud800", "\ufeff", "9" * 5000]
YAMLISH = st.lists(st.sampled_from(TOKENS), max_size=200).map("".join)


@settings(FUZZ)
@given(content=YAMLISH)
def test_yaml_punctuation_soup(pack_root, content):
    assert_loads_or_clean_error(pack_root, content)


@settings(FUZZ)
@given(content=mutated(BASE, WRONG, 4))
def test_mutated_entry(pack_root, content):
    assert_loads_or_clean_error(pack_root, content)


@settings(FUZZ)
@given(content=st.builds(bomb, st.integers(2, 12), st.integers(1, 14), st.booleans()),
       where=st.sampled_from(["top", "aliases", "summary"]))
def test_alias_bombs(pack_root, content, where):
    if where != "top":  # the bomb inside a real entry, pointed at from a field
        last = content.strip().splitlines()[-1].split(":")[0]
        content = BASE_TEXT + "x-bomb:\n" + "".join(f"  {line}\n" for line in content.splitlines()) \
            + f"{where}x: *{last}\n"
    assert_loads_or_clean_error(pack_root, content)


@settings(FUZZ)
@given(content=damaged(BASE_TEXT, b"\nrelated: &r [*r]\n"))
def test_damaged_real_file(pack_root, content):
    assert_loads_or_clean_error(pack_root, content)


@settings(FUZZ)
@given(pattern=st.one_of(st.sampled_from(REGEXES), st.text(max_size=30)),
       matches=st.one_of(st.sampled_from(REGEXES), st.text(max_size=30)),
       check=st.sampled_from(LOG_CHECKS), field=st.sampled_from(["pattern", "matches", "error_patterns"]))
def test_regex_fields(pack_root, pattern, matches, check, field):
    data = copy.deepcopy(BASE)
    if field == "pattern":
        data["checks"][check]["pattern"] = pattern
    elif field == "matches":
        data["checks"][check]["expect"] = {"matches": matches}
    else:
        data["error_patterns"] = [pattern, matches]
    assert_loads_or_clean_error(pack_root, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def test_known_crashers_are_clean_errors(pack_root):
    """The inputs that crashed or hung before the fixes in yamlsrc, kept as plain examples."""
    for content in ["x: " + "[" * 100_000, "x: " + "1" * 5000, "x: !!int abc", "x: !!bool maybe",
                    "x: !!float abc", "a: &a [*a]", "a: &a {b: *a}", "x: !!map abc", bomb(10, 12), bomb(10, 12, True)]:
        path = pack_root / "data" / "fuzz.yaml"
        path.write_text(content)
        with pytest.raises(KnowledgeBaseError) as info:
            load_pack(pack_root, use_cache=False)
        assert all(p.file.endswith("data/fuzz.yaml") and p.line >= 1 for p in info.value.problems)


def test_regex_with_a_huge_repeat_count_is_a_clean_error(pack_root):
    data = copy.deepcopy(BASE)
    data["checks"][LOG_CHECKS[0]]["pattern"] = "a{99999999999}"
    assert_loads_or_clean_error(pack_root, yaml.safe_dump(data, sort_keys=False))


def test_expect_matches_that_is_not_text_is_a_clean_error(pack_root):
    data = copy.deepcopy(BASE)
    data["checks"][LOG_CHECKS[0]]["expect"] = {"matches": None}
    assert_loads_or_clean_error(pack_root, yaml.safe_dump(data, sort_keys=False))
