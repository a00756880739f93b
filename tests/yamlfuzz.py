"""Hypothesis building blocks shared by the fuzz tests of the knowledge-base loader
(``tests/kb/test_fuzz_loader.py``) and of the profile parser (``tests/test_fuzz_profile.py``):
a hard time limit, deep nesting, a document mutated at random places, billion-laughs bombs and
a real file's bytes damaged. Import with ``from yamlfuzz import ...`` after putting ``tests/``
on ``sys.path``.
"""

from __future__ import annotations

import copy
import signal
from contextlib import contextmanager
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


def fuzz_settings(max_examples: int) -> settings:
    """Deterministic in CI (derandomized, no example database), a second per example."""
    return settings(deadline=1000, max_examples=max_examples, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


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


def nest(depth: int, leaf: Any = 1) -> Any:
    """``depth`` levels of alternating mappings and lists around ``leaf``."""
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def paths_of(value: Any, prefix: tuple = ()):
    yield prefix
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from paths_of(child, prefix + (key,))


@st.composite
def mutated(draw, base: dict, wrong: st.SearchStrategy, most: int) -> str:
    """``base`` with 1..``most`` edits at random places (a key deleted, a value replaced by a
    ``wrong`` one, an unknown key added), dumped back to YAML."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, most))):
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
            parent[path[-1]] = draw(wrong)
        elif isinstance(parent, dict):
            parent[draw(st.one_of(st.text(min_size=1, max_size=20), st.integers(), st.booleans()))] = draw(wrong)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**6)


def bomb(width: int, levels: int, merge: bool = False) -> str:
    """Billion laughs: each level repeats the previous one ``width`` times."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for n in range(1, levels + 1):
        refs = ", ".join([f"*l{n - 1}"] * width)
        lines.append(f"l{n}: &l{n} {{<<: [{refs}]}}" if merge and n > 1 else f"l{n}: &l{n} [{refs}]")
    return "\n".join(lines) + "\n"


@st.composite
def damaged(draw, text: str, self_anchor: bytes) -> bytes:
    """A real file's text with tabs, bad bytes, duplicated lines, a cut, a NUL or a
    self-referencing anchor (``self_anchor``, appended) at random places."""
    data = text.encode()
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
            data = data + self_anchor
    return data
