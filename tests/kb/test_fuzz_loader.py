"""Property: whatever bytes sit in an entry file, loading the pack either works or raises
KnowledgeBaseError whose every problem is one line ``file:line: ...`` - never another exception,
never a hang. Inputs: random bytes and text, a real entry mutated (fields removed, wrong types,
huge values, 200-deep nesting, unknown keys), alias bombs, tabs, invalid UTF-8, duplicate keys,
catastrophic and invalid regexes in a log check's ``pattern`` and ``expect.matches``.
"""

import copy
import shutil
import signal
from contextlib import contextmanager

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnose.kb.loader import KnowledgeBaseError, builtin_root, load_pack

FUZZ = settings(deadline=1000, max_examples=120, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
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


@contextmanager
def hard_limit(seconds: float = 5.0):
    """A real hang would never reach hypothesis' deadline check: interrupt it instead."""
    def expired(signum, frame):
        raise TimeoutError(f"loading took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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


def nest(depth: int, leaf=1):
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


WRONG = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.sampled_from([10**300, -(10**300), 2**64, float("inf"), "x" * 100_000, "", " ", "\t", "{x}"]),
    st.text(max_size=50), st.lists(st.integers(), max_size=5), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.integers(150, 220).map(nest),
)


def paths_of(value, prefix=()):
    yield prefix
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from paths_of(child, prefix + (key,))


@st.composite
def mutated_entries(draw):
    """The real entry with a few edits at random places, dumped back to YAML."""
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        paths = list(paths_of(data))[1:]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        op = draw(st.sampled_from(["delete", "replace", "unknown-key"]))
        if op == "delete":
            del parent[path[-1]]
        elif op == "replace":
            parent[path[-1]] = draw(WRONG)
        elif isinstance(parent, dict):
            parent[draw(st.one_of(st.text(min_size=1, max_size=20), st.integers(), st.booleans()))] = draw(WRONG)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**6)


def bomb(width: int, levels: int, merge: bool = False) -> str:
    """Billion laughs: each level repeats the previous one ``width`` times."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for n in range(1, levels + 1):
        refs = ", ".join([f"*l{n - 1}"] * width)
        lines.append(f"l{n}: &l{n} {{<<: [{refs}]}}" if merge and n > 1 else f"l{n}: &l{n} [{refs}]")
    return "\n".join(lines) + "\n"


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
@given(content=mutated_entries())
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


@st.composite
def damaged_text(draw):
    """The real file's text with tabs, bad bytes, duplicated lines or a cut at random places."""
    data = BASE_TEXT.encode()
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["tab", "bad-utf8", "dup-line", "truncate", "nul", "anchor-self"]))
        if op == "tab":
            data = data[:at] + b"\t" + data[at:]
        elif op == "bad-utf8":
            data = data[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xfe\xff"])) + data[at:]
        elif op == "dup-line":
            lines = data.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            data = b"\n".join(lines[:i + 1] + [lines[i]] + lines[i + 1:])
        elif op == "truncate":
            data = data[:at]
        elif op == "nul":
            data = data[:at] + b"\x00" + data[at:]
        else:
            data = data + b"\nrelated: &r [*r]\n"
    return data


@settings(FUZZ)
@given(content=damaged_text())
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
