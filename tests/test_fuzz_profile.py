"""Property: whatever a profile file holds, ``load_profile`` either returns a Profile or raises
ProfileError with one line ``path:line: ...`` - never another exception, never a hang.
Inputs: random bytes and text, a valid profile mutated (wrong types, huge values, deep nesting,
unknown keys, removed sections), alias bombs, tabs, invalid UTF-8, duplicate keys, and
catastrophic or invalid regexes in ``mask``.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnose.profile import Profile, ProfileError, load_profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from yamlfuzz import bomb, damaged, fuzz_settings, hard_limit, mutated, nest  # noqa: E402

FUZZ = fuzz_settings(150)
BASE = {
    "databases": {"trading": "postgresql://app:pw@db:5432/trading", "desk": "${DESK_DSN}"},
    "logs": {"execution": "logs/execution*.log", "many": ["a.log", "b.log"],
             "backend": {"command": "docker compose logs backend", "timezone": "UTC", "rotated": False}},
    "env": {"trading": "trading.env", "proc": {"process": True}},
    "endpoints": {"api": "http://127.0.0.1:8000"},
    "timezone": "Europe/Berlin",
    "mask": ["sk-[A-Za-z0-9]{20,}"],
}
BASE_TEXT = yaml.safe_dump(BASE, sort_keys=False)
REGEXES = ["(a+)+$", "(a|aa)+$", "(.*a){20}", "^(\\w+\\s?)*$", "(", ")", "[", "a{2,1}", "\\", "(?P<1>x)", "*",
           "(?<=a+)b", "a{99999999999}", "a{4294967296}", "x" * 5000, "(?i", "[z-a]", "\\1", ""]


@pytest.fixture(scope="module")
def profile_path(tmp_path_factory):
    """The file each example overwrites; the validation cache goes to a private folder."""
    base = tmp_path_factory.mktemp("fuzzprofile")
    saved = os.environ.get("DIAGNOSE_CACHE_DIR")
    os.environ["DIAGNOSE_CACHE_DIR"] = str(base / "cache")
    yield base / "diagnose.yaml"
    if saved is None:
        del os.environ["DIAGNOSE_CACHE_DIR"]
    else:
        os.environ["DIAGNOSE_CACHE_DIR"] = saved


def assert_loads_or_clean_error(path, content: bytes | str) -> Profile | None:
    path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
    try:
        with hard_limit():
            return load_profile(path)
    except ProfileError as exc:
        text = str(exc)
        assert re.match(rf"{re.escape(str(path))}:[1-9][0-9]*: \S", text), text
        assert "\n" not in text, text
        return None


WRONG = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.sampled_from([10**300, 2**64, float("inf"), "x" * 100_000, "", "${X", "${X:-${Y}}", {"process": False},
                     {1: "a", "b": "c"}, {"paths": 3}]),
    st.text(max_size=50), st.lists(st.text(max_size=5), max_size=5),
    st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), st.text(max_size=5), max_size=3),
    st.integers(150, 220).map(lambda depth: nest(depth, "x")),
)


TOKENS = list("[]{}:-,&*!|>'\"#%@`?<=\n\t  abcl01.~$") + [
    "databases: ", "logs: ", "mask: ", "env: ", "process: ", "!!int ", "!!float ", "!!bool ", "!!map ", "&a ",
    "*a", "<<: ", "---\n", "\x00", "\ud800", "\ufeff", "9" * 5000]


@settings(FUZZ)
@given(content=st.one_of(st.binary(max_size=2000), st.text(max_size=2000),
                         st.lists(st.sampled_from(TOKENS), max_size=200).map("".join)))
def test_random_bytes_and_text(profile_path, content):
    assert_loads_or_clean_error(profile_path, content)


@settings(FUZZ)
@given(content=mutated(BASE, WRONG, 3))
def test_mutated_profile(profile_path, content):
    assert_loads_or_clean_error(profile_path, content)


@settings(FUZZ)
@given(content=st.builds(bomb, st.integers(2, 12), st.integers(1, 14), st.booleans()),
       where=st.sampled_from(["top", "databases", "logs", "mask"]))
def test_alias_bombs(profile_path, content, where):
    if where != "top":  # the bomb next to a real profile, pointed at from one of its sections
        last = content.strip().splitlines()[-1].split(":")[0]
        rest = yaml.safe_dump({k: v for k, v in BASE.items() if k != where}, sort_keys=False)
        content = f"{rest}{content}{where}: *{last}\n"
    assert_loads_or_clean_error(profile_path, content)


@settings(FUZZ)
@given(content=damaged(BASE_TEXT, b"\nmask: &m [*m]\n"))
def test_damaged_profile(profile_path, content):
    assert_loads_or_clean_error(profile_path, content)


@settings(FUZZ)
@given(patterns=st.lists(st.one_of(st.sampled_from(REGEXES), st.text(max_size=30)), min_size=1, max_size=3))
def test_mask_regexes(profile_path, patterns):
    profile = assert_loads_or_clean_error(profile_path, yaml.safe_dump({**BASE, "mask": patterns}))
    if profile is not None:  # what loads must compile: the masker uses these later
        for pattern in profile.mask:
            re.compile(pattern)


@pytest.mark.parametrize("content, expected", [
    ("mask: ['a{99999999999}']\n", r":1: mask\[0\]: invalid regex"),
    ("mask:\n  - ok\n  - '('\n", r":3: mask\[1\]: invalid regex"),
    ("databases: {1: a, b: c}\n", None),  # keys of mixed types broke the validation cache's json.dumps
    ("databases: {a: " + "1" * 5000 + "}\n", r":1: .* not a valid int \(too many digits\)"),
    ("timezone: !!float\n", r":1: '' is not a valid float"),
    ("mask: &m [*m]\n", r":1: an anchor contains an alias to itself"),
    (bomb(10, 12, False), r"expands to more than"),
])
def test_known_crashers(profile_path, content, expected):
    """Inputs that crashed before the fixes in yamlsrc.py and profile.py."""
    if expected is None:
        assert assert_loads_or_clean_error(profile_path, content) is not None
        return
    with pytest.raises(ProfileError, match=expected):
        load_profile(_write(profile_path, content))


@pytest.mark.parametrize("depth", [65, 1_000, 100_000])
def test_deep_nesting_is_a_clean_error_in_a_child_process(tmp_path, depth):
    """100,000 nested ``[`` segfaulted libyaml's composer. Either layer may stop it first: our
    own depth limit (``nested more than 64 levels``) or a PyYAML that limits nesting itself
    (6.0.4: ``exceeded maximum nesting depth``). What must hold whatever the installed PyYAML:
    one ``file:line`` line naming the nesting, not a traceback, a crash or a hang. A child
    process, because a crash would take pytest down with it and a hang needs a hard limit."""
    path = _write(tmp_path / "diagnose.yaml", "x: " + "[" * depth + "\n")
    code = ("import sys\nfrom diagnose.profile import ProfileError, load_profile\n"
            "try:\n    load_profile(sys.argv[1])\nexcept ProfileError as exc:\n    print(exc)\n    sys.exit(2)\n")
    env = {**os.environ, "DIAGNOSE_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60,
                          env=env)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])  # not a crash (<0) nor a traceback (1)
    assert done.stderr == "", done.stderr
    line = done.stdout.rstrip("\n")
    assert "\n" not in line
    assert re.match(rf"{re.escape(str(path))}:1: (?=\S).*\bnest", line, re.I), line


def _write(path, content):
    path.write_text(content)
    return path
