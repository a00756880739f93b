"""Coverage of a knowledge base by its own examples: does every check and cause get proven?

An entry claims to tell causes apart with checks. That claim is only worth something when a
broken world exists in which each check fails (its ``fails`` list names it) and each cause is
demonstrated (an example's ``causes`` names it); the self-test then proves those worlds do
what they say. Coverage is a lint rule, not a load rule: a half-finished pack still runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from diagnose.kb.model import Entry, Pack


@dataclass
class EntryCoverage:
    entry: Entry
    unexercised_checks: list[str] = field(default_factory=list)
    undemonstrated_causes: list[str] = field(default_factory=list)
    broken_without_fails: list[str] = field(default_factory=list)
    unknown_fails: list[tuple[str, str]] = field(default_factory=list)   # (example, check id) in `fails`
    unknown_skips: list[tuple[str, str]] = field(default_factory=list)   # (example, check id) in `skips`

    @property
    def complete(self) -> bool:
        return not (self.unexercised_checks or self.undemonstrated_causes or self.broken_without_fails
                    or self.unknown_fails or self.unknown_skips)

    def summary(self) -> str:
        e = self.entry
        checks, causes = len(e.checks), len(e.causes)
        broken = sum(1 for x in e.examples if x.verdict in ("problem", "risk"))
        healthy = sum(1 for x in e.examples if x.verdict == "healthy")
        return (f"{e.id}: checks {checks - len(self.unexercised_checks)}/{checks} exercised, "
                f"causes {causes - len(self.undemonstrated_causes)}/{causes} demonstrated, "
                f"{broken} broken + {healthy} healthy example(s)")

    def problems(self) -> list[str]:
        out = [f"check '{c}' fails in no broken example (add it to an example's `fails`, "
               "or an example where it fails)" for c in self.unexercised_checks]
        out += [f"cause '{c}' is demonstrated by no example (name it in an example's `causes`)"
                for c in self.undemonstrated_causes]
        out += [f"example '{x}' is broken but has no `fails` list (the checks that must fail in it)"
                for x in self.broken_without_fails]
        out += [f"example '{x}' lists unknown check '{c}' in `fails`" for x, c in self.unknown_fails]
        out += [f"example '{x}' lists unknown check '{c}' in `skips`" for x, c in self.unknown_skips]
        return out


def entry_coverage(entry: Entry) -> EntryCoverage:
    cov = EntryCoverage(entry)
    check_ids = [c.id for c in entry.checks]
    exercised: set[str] = set()
    demonstrated: set[str] = set()
    for example in entry.examples:
        demonstrated.update(example.causes)
        if example.verdict in ("problem", "risk") and example.fails is None:
            cov.broken_without_fails.append(example.name)
        cov.unknown_skips += [(example.name, c) for c in example.skips if c not in check_ids]
        for check_id in example.fails or ():
            if check_id not in check_ids:
                cov.unknown_fails.append((example.name, check_id))
            elif example.verdict in ("problem", "risk"):
                exercised.add(check_id)
    cov.unexercised_checks = [c for c in check_ids if c not in exercised]
    cov.undemonstrated_causes = [c.id for c in entry.causes if c.id not in demonstrated]
    return cov


def pack_coverage(pack: Pack) -> list[EntryCoverage]:
    return [entry_coverage(e) for e in pack.entries]


def untimed_logs(world: dict) -> set[str]:
    """The log sources of a world written without timestamps: the first line has no ``{now...}``
    (uvicorn's default output, ``print()``, ``docker compose logs`` without ``--timestamps``)."""
    out = set()
    for name, text in (world.get("logs") or {}).items():
        first = next((line for line in str(text).splitlines() if line.strip()), "")
        if first and "{now" not in first:
            out.add(name)
    return out


def untimed_windows(pack: Pack, stack_worlds: list[dict] | None = None) -> list[tuple[Entry, str]]:
    """``(entry, check id)`` of the windowed log checks (``since`` or ``after``) that no example of
    their entry, nor any of ``stack_worlds`` (the whole-stack world's variants), runs on a log
    without timestamps: what they do there is unproven. A warning, not a problem."""
    shared = set().union(*(untimed_logs(w) for w in stack_worlds or [])) if stack_worlds else set()
    found = []
    for entry in pack.entries:
        own = set().union(*(untimed_logs(x.world) for x in entry.examples)) if entry.examples else set()
        for check in entry.checks:
            raw = check.raw
            if check.kind == "log" and (raw.get("since") or raw.get("after")) and raw.get("log") not in own | shared:
                found.append((entry, check.id))
    return found
