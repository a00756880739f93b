"""The whole-stack world of a pack: a healthy baseline, healthy variants, faults planted on top.

``checks/worlds/stack.yaml`` describes one deployment of the reference stack that is healthy
for every entry; healthy *variants* of it that differ the way real deployments do (a fresh
install, a busy desk, a Saturday afternoon, another tenant name, journald logs, a server clock
in Asia/Shanghai, sources missing from the profile); and named faults, each a small world
merged over the baseline (or a variant) with the symptom it must make ``diagnose triage`` rank
first. The demo builds it; the triage tests and ``bench/triage_precision.py`` use it
(deliberately not the entries' own examples, which the self-test already covers).

Merging, fault over baseline: SQL is appended; log lines are merged and ordered by their
``{now-N}`` time (continuation lines stay with the line above); env keys are updated (a
``null`` value removes the key); endpoint routes are merged per path, and an endpoint given
as ``refuse``/``silent``/``tcp`` replaces the baseline's; held sessions are appended; a
``clock`` replaces the one before. A variant may first ``replace`` whole sections or sources
of the baseline (``logs``, ``databases.desk``: started from empty), ``drop`` sources from the
profile at the end (``logs.realtime``: that deployment does not have it), and give its
services' log lines another ``log_style`` (``journald``, ``plain``, ``iso``).
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
    variants: tuple[str, ...] = ()   # healthy variants it is also planted on (the tests and the bench)
    also: tuple[str, ...] = ()       # other symptoms that truly follow from it (may be problems too)


@dataclass(frozen=True)
class Variant:
    """A healthy deployment that differs from the baseline the way real ones do."""

    name: str
    title: str
    world: dict[str, Any]
    replace: tuple[str, ...] = ()    # "logs", "databases.desk": started from empty, not from the baseline
    drop: tuple[str, ...] = ()       # "logs.realtime": sources its profile does not have
    log_style: str | None = None     # journald | plain | iso

LOG_STYLES = ("journald", "plain", "iso", "untimed")


@dataclass(frozen=True)
class Stack:
    path: Path
    description: str
    baseline: dict[str, Any]
    faults: tuple[Fault, ...]
    default: tuple[str, ...]        # the faults of the multi-fault demo
    variants: tuple[Variant, ...] = ()
    #: the moment the precision tests and the bench build it at (a clock spec: at, timezone), so
    #: what they see does not depend on the hour or the weekday they run; the demo uses the real time
    moment: dict[str, Any] | None = None

    def fault(self, name: str) -> Fault | None:
        return next((f for f in self.faults if f.name == name), None)

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)

    def example(self, faults: list[str] | tuple[str, ...] = (), variant: str | None = None,
                pinned: bool = False) -> Example:
        """The baseline (or ``variant`` of it) with ``faults`` planted, as an example the world builder
        can build; ``pinned``: at the stack's ``moment`` unless the variant has a clock of its own
        (building it then needs libfaketime, :mod:`diagnose.world.clock`)."""
        world = self.baseline
        if pinned and self.moment:
            world = merge(world, {"clock": self.moment})
        shape = self.variant(variant) if variant else None
        if variant and shape is None:
            raise StackError(f"{self.path}: unknown variant '{variant}' (known: {', '.join(v.name for v in self.variants)})")
        if shape is not None:
            world = merge(without(world, shape.replace), shape.world)
        for name in faults:
            fault = self.fault(name)
            if fault is None:
                raise StackError(f"{self.path}: unknown fault '{name}' (known: {', '.join(f.name for f in self.faults)})")
            world = merge(world, fault.world)
        if shape is not None:
            world = restyle(without(world, shape.drop), shape.log_style)
        name = "stack-" + "-".join([*(n for n in [variant] if n), *faults] or ["healthy"])
        return Example(name=name, verdict="problem" if faults else "healthy", causes=(), world=world,
                       description=self.description if shape is None else shape.title)


def load_stack(pack: Pack) -> Stack:
    from diagnose.kb.lint import schema_problems
    from diagnose.kb.yamlsrc import YamlError, format_path, load

    path = next((p.root / STACK_FILE for p in pack.packs if (p.root / STACK_FILE).is_file()), pack.root / STACK_FILE)
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
    problems = schema_problems(loc, stack_schema(), (), rel)   # the mechanism entries and pack.yaml go through
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise StackError(f"{problems[0]}{more}")
    faults = []
    entries = {e.id: e for e in pack.entries}
    for i, raw in enumerate(data.get("faults") or []):
        entry = entries.get(raw["symptom"])
        if entry is None:
            raise bad(("faults", i, "symptom"), f"unknown symptom '{raw['symptom']}'")
        if raw.get("cause") and entry.cause(raw["cause"]) is None:
            raise bad(("faults", i, "cause"), f"'{raw['symptom']}' has no cause '{raw['cause']}'")
        for j, other in enumerate(raw.get("also") or []):
            if other not in entries:
                raise bad(("faults", i, "also", j), f"unknown symptom '{other}'")
        faults.append(Fault(raw["name"], raw["title"], raw["symptom"], raw.get("cause"), raw["world"],
                            tuple(raw.get("variants") or ()), tuple(raw.get("also") or ())))
    variants = []
    for i, raw in enumerate(data.get("variants") or []):
        for field in ("replace", "drop"):
            for j, part in enumerate(raw.get(field) or []):
                if str(part).split(".", 1)[0] not in SECTIONS:
                    raise bad(("variants", i, field, j), f"'{part}' is not a section ({', '.join(SECTIONS)}) or "
                                                         "section.source")
        variants.append(Variant(raw["name"], raw["title"], raw.get("world") or {}, tuple(raw.get("replace") or ()),
                                tuple(raw.get("drop") or ()), raw.get("log_style")))
    names, kinds = {f.name for f in faults}, {v.name for v in variants}
    for i, name in enumerate(data.get("default") or []):
        if name not in names:
            raise bad(("default", i), f"unknown fault '{name}'")
    for i, fault in enumerate(faults):
        for j, name in enumerate(fault.variants):
            if name not in kinds:
                raise bad(("faults", i, "variants", j), f"unknown variant '{name}'")
    moment = data.get("moment")
    return Stack(path, data.get("description", ""), data["baseline"], tuple(faults), tuple(data.get("default") or ()),
                 tuple(variants), moment)


def stack_schema(world: dict[str, Any] | None = None) -> dict[str, Any]:
    """The schema of ``worlds/stack.yaml``: a pack's whole-stack world (a healthy baseline, healthy variants,
    faults planted over them), each world with the fields of an example's world (``world``: another schema
    in their place, for a page that documents those once)."""
    from diagnose.kb.schema import ID, TEXT, example_schema

    world = world or example_schema()["properties"]["world"]
    name = {**ID, "description": "its name on the command line (`diagnose demo --fault NAME`)"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "diagnose whole-stack world (worlds/stack.yaml)",
        "type": "object", "additionalProperties": False, "required": ["baseline"],
        "properties": {
            "description": TEXT,
            "moment": {"type": "object", "additionalProperties": False, "required": ["at"],
                       "description": "when the precision tests and bench build the stack (`diagnose demo` "
                                      "builds it now)",
                       "properties": {"at": {"type": "string", "description": "local time, YYYY-MM-DD HH:MM"},
                                      "timezone": {"type": "string", "description": "e.g. Asia/Shanghai"}}},
            "default": {"type": "array", "items": ID, "description": "the faults `diagnose demo` plants by default"},
            "baseline": {**world, "description": "one deployment, healthy for every entry of the pack"},
            "faults": {"type": "array", "description": "small worlds merged over the baseline (or a variant)",
                       "items": {"type": "object", "additionalProperties": False,
                                 "required": ["name", "title", "symptom", "world"],
                                 "properties": {
                                     "name": name, "title": TEXT, "world": world,
                                     "symptom": {**ID, "description": "the entry `diagnose triage` must rank first"},
                                     "cause": {**ID, "description": "the cause that entry must rank first"},
                                     "variants": {"type": "array", "items": ID, "description": (
                                         "healthy variants it is also planted on (the tests and the bench)")},
                                     "also": {"type": "array", "items": ID, "description": (
                                         "other symptoms that truly follow from it (may be problems too)")}}}},
            "variants": {"type": "array", "description": "healthy deployments that differ the way real ones do",
                         "items": {"type": "object", "additionalProperties": False, "required": ["name", "title"],
                                   "properties": {
                                       "name": name, "title": TEXT, "world": world,
                                       "replace": {"type": "array", "items": {"type": "string"}, "description": (
                                           "sections or section.source started from empty, not the baseline")},
                                       "drop": {"type": "array", "items": {"type": "string"}, "description": (
                                           "section.source this deployment's profile does not have")},
                                       "log_style": {"enum": list(LOG_STYLES), "description": (
                                           "how its services write their log lines")}}}},
        },
    }


SECTIONS = ("databases", "sessions", "logs", "env", "endpoints", "clock", "modified")


def without(world: dict[str, Any], parts: tuple[str, ...]) -> dict[str, Any]:
    """``world`` without whole sections (``logs``) or single sources (``logs.realtime``)."""
    out: dict[str, Any] = {k: dict(v) for k, v in world.items()}
    for part in parts:
        section, _, source = part.partition(".")
        if not source:
            out.pop(section, None)
        elif section in out:
            out[section].pop(source, None)
    return out


_SERVICE_LINE = re.compile(r"^(?P<service>[A-Za-z][\w.-]*?)-\d+\s+\| (?P<when>\{now[^}:]*)(?::\w+)?\}\s?(?P<rest>.*)$",
                           re.M)


def restyle(world: dict[str, Any], style: str | None) -> dict[str, Any]:
    """The services' log lines (``backend-1  | {now-5m:iso} ...``, as docker compose prints them) as
    another setup writes them: ``journald`` (``Dec 05 14:02:11 desk-01 backend[1234]: ...``),
    ``plain`` (Python logging's own time, no prefix), ``iso`` (an ISO time, no prefix) or
    ``untimed`` (no time at all: ``docker compose logs`` without ``--timestamps`` of services that
    log like uvicorn's default output or ``print()``)."""
    if style is None or not world.get("logs"):
        return world

    def line(match: re.Match) -> str:
        when, rest, service = match.group("when"), match.group("rest"), match.group("service")
        if style == "journald":
            pid = 1000 + sum(map(ord, service)) % 8000
            return f"{when}:syslog}} desk-01 {service}[{pid}]: {rest}"
        if style == "untimed":
            return f"{service}-1  | {rest}"
        return f"{when}:{'log' if style == 'plain' else 'iso'}}} {rest}"

    out = dict(world)
    out["logs"] = {name: _SERVICE_LINE.sub(line, text) for name, text in world["logs"].items()}
    return out


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: dict(v) for k, v in base.items()}
    if "clock" in over:
        out["clock"] = dict(over["clock"])
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
    for name, age in (over.get("modified") or {}).items():
        out.setdefault("modified", {})[name] = age
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
    return [tuple(r) for r in records]


def _offset(match: re.Match | None) -> float:
    """Seconds relative to now (negative in the past); an untimed first line sorts first."""
    if match is None:
        return float("-inf")
    sign, amount, unit = match.group(1), match.group(2), match.group(3)
    if not amount:
        return 0.0
    value = int(amount) * _SECONDS[unit]
    return -value if sign == "-" else value
