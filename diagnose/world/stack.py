"""The whole-stack world of a pack: a healthy baseline and faults planted on top of it.

``checks/worlds/stack.yaml`` describes one deployment of the reference stack that is healthy
for every entry, and named faults, each a small world merged over the baseline with the
symptom it must make ``diagnose triage`` rank first. The demo builds it; the triage tests
use it (deliberately not the entries' own examples, which the self-test already covers).

Merging, fault over baseline: SQL is appended; log lines are merged and ordered by their
``{now-N}`` time (continuation lines stay with the line above); env keys are updated (a
``null`` value removes the key); endpoint routes are merged per path, and an endpoint given
as ``refuse``/``silent``/``tcp`` replaces the baseline's; held sessions are appended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diagnose.kb.model import Example, Pack

STACK_FILE = Path("worlds") / "stack.yaml"
_WHEN = re.compile(r"\{now(?:([+-])(\d+)([smhd]))?(?::\w+)?\}")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class StackError(Exception):
    """The stack file is missing or malformed; the message names file, line and field."""


@dataclass(frozen=True)
class Fault:
    name: str
    title: str
    symptom: str            # the entry that must rank first in triage
    cause: str | None       # the cause that entry must rank first, when given
    world: dict[str, Any]


@dataclass(frozen=True)
class Stack:
    path: Path
    description: str
    baseline: dict[str, Any]
    faults: tuple[Fault, ...]
    default: tuple[str, ...]        # the faults of the multi-fault demo

    def fault(self, name: str) -> Fault | None:
        return next((f for f in self.faults if f.name == name), None)

    def example(self, faults: list[str] | tuple[str, ...] = ()) -> Example:
        """The baseline with ``faults`` planted, as an example the world builder can build."""
        world = self.baseline
        for name in faults:
            fault = self.fault(name)
            if fault is None:
                raise StackError(f"{self.path}: unknown fault '{name}' (known: {', '.join(f.name for f in self.faults)})")
            world = merge(world, fault.world)
        return Example(name="stack-" + ("-".join(faults) or "healthy"), verdict="problem" if faults else "healthy",
                       causes=(), world=world, description=self.description)


def load_stack(pack: Pack) -> Stack:
    from diagnose.kb.yamlsrc import YamlError, format_path, load

    path = pack.root / STACK_FILE
    if not path.is_file():
        raise StackError(f"{path}: this knowledge base has no whole-stack world (worlds/stack.yaml)")
    try:
        loc = load(path)
    except YamlError as exc:
        raise StackError(str(exc)) from None
    data = loc.data
    rel = path.name

    def bad(where: tuple, message: str) -> StackError:
        return StackError(f"{rel}:{loc.line_of(where)}: {format_path(where)}: {message}")

    if loc.problems:  # e.g. a key given twice: YAML would silently keep the last one
        raise bad(*loc.problems[0])
    if not isinstance(data, dict) or not isinstance(data.get("baseline"), dict):
        raise StackError(f"{rel}:1: needs a `baseline` world and a list of `faults`")
    faults = []
    entries = {e.id: e for e in pack.entries}
    for i, raw in enumerate(data.get("faults") or []):
        for key in ("name", "title", "symptom", "world"):
            if key not in raw:
                raise bad(("faults", i), f"fault needs `{key}`")
        entry = entries.get(raw["symptom"])
        if entry is None:
            raise bad(("faults", i, "symptom"), f"unknown symptom '{raw['symptom']}'")
        if raw.get("cause") and entry.cause(raw["cause"]) is None:
            raise bad(("faults", i, "cause"), f"'{raw['symptom']}' has no cause '{raw['cause']}'")
        faults.append(Fault(raw["name"], raw["title"], raw["symptom"], raw.get("cause"), raw["world"]))
    names = {f.name for f in faults}
    for i, name in enumerate(data.get("default") or []):
        if name not in names:
            raise bad(("default", i), f"unknown fault '{name}'")
    return Stack(path, data.get("description", ""), data["baseline"], tuple(faults), tuple(data.get("default") or ()))


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: dict(v) for k, v in base.items()}
    for name, sql in (over.get("databases") or {}).items():
        prev = out.setdefault("databases", {}).get(name)
        out["databases"][name] = f"{prev.rstrip()}\n{sql}" if prev else sql
    for name, text in (over.get("logs") or {}).items():
        out.setdefault("logs", {})[name] = merge_logs(out.get("logs", {}).get(name, ""), text)
    for name, values in (over.get("env") or {}).items():
        env = dict(out.setdefault("env", {}).get(name) or {})
        for key, value in values.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        out["env"][name] = env
    for name, spec in (over.get("endpoints") or {}).items():
        prev = out.setdefault("endpoints", {}).get(name)
        out["endpoints"][name] = _merge_endpoint(prev, spec)
    for name, sessions in (over.get("sessions") or {}).items():
        out.setdefault("sessions", {})[name] = list(out.get("sessions", {}).get(name) or []) + list(sessions)
    return out


def _merge_endpoint(prev: dict[str, Any] | None, spec: dict[str, Any]) -> dict[str, Any]:
    if prev is None or any(k in spec for k in ("refuse", "silent", "tcp")) or \
            any(k in prev for k in ("refuse", "silent", "tcp")):
        return dict(spec)
    merged = dict(prev)
    for section in ("routes", "websocket"):
        if section in spec:
            merged[section] = {**(prev.get(section) or {}), **spec[section]}
    return merged


def merge_logs(first: str, second: str) -> str:
    """Both logs' lines, ordered by their relative time; untimed lines follow their line."""
    records = _records(first, 0) + _records(second, 1)
    records.sort(key=lambda r: (r[0], r[1], r[2]))
    return "".join(text for _, _, _, text in records)


def _records(text: str, source: int) -> list[tuple[float, int, int, str]]:
    records: list[list[Any]] = []
    for n, line in enumerate(text.splitlines(keepends=True)):
        if not line.endswith("\n"):
            line += "\n"
        match = _WHEN.search(line)
        if match is None and records:
            records[-1][3] += line
            continue
        records.append([_offset(match), source, n, line])
    return [tuple(r) for r in records]  # type: ignore[misc]


def _offset(match: re.Match | None) -> float:
    """Seconds relative to now (negative in the past); an untimed first line sorts first."""
    if match is None:
        return float("-inf")
    sign, amount, unit = match.group(1), match.group(2), match.group(3)
    if not amount:
        return 0.0
    value = int(amount) * _SECONDS[unit]
    return -value if sign == "-" else value
