"""Several packs in one run: the built-in pack first, then the user's own, in the order given.

Each pack is loaded and validated on its own (so each keeps its own cache, lint and examples); then
they are combined into one :class:`~diagnose.kb.model.Pack` whose ``layers`` are the packs. What two
packs may not both claim is an error naming both files: a symptom id or alias (``diagnose X`` would
be ambiguous), and a precondition id with two definitions (a page would link a step to the other
pack's query). Each entry keeps its own pack's fix policy (:meth:`Pack.policy_of`): a step is held to
the approvers, windows and preconditions of the pack that lint checked it against. What packs may
share is merged for the pages of the whole: source names (both packs read the same ``trading``
database), categories, approver roles and windows (the first description wins).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Iterable

from diagnose.kb.model import FixPolicy, Pack
from diagnose.kb.problems import KnowledgeBaseError, Problem

#: how to resolve a clash, said with every clash
RESOLVE = "rename one, or leave a pack out (--no-builtin leaves out the built-in one)"


def combine(packs: list[Pack]) -> Pack:
    """One pack made of ``packs`` (KnowledgeBaseError listing every clash)."""
    if len(packs) == 1:
        return packs[0]
    problems = clashes(packs)
    if problems:
        raise KnowledgeBaseError(problems)
    sources: dict[str, dict] = {}
    categories: dict[str, str] = {}
    schemas: dict[str, Path] = {}
    for pack in packs:
        for kind, named in pack.sources.items():
            for name, source in named.items():
                sources.setdefault(kind, {}).setdefault(name, source)
        for category, title in pack.categories.items():
            categories.setdefault(category, title)
        for database, path in pack.reference_schemas.items():
            schemas.setdefault(database, path)
    digest = hashlib.sha256("\0".join(p.digest for p in packs).encode()).hexdigest()
    first = packs[0]
    return Pack(root=first.root, name=" + ".join(p.name for p in packs),
                version=" + ".join(p.version for p in packs), site_url=first.site_url, digest=digest,
                sources=sources, entries=[e for p in packs for e in p.entries], reference_schemas=schemas,
                fixes=_merged_policy([p.fixes for p in packs]), description=first.description, title=first.title,
                categories=categories, layers=tuple(packs), unfinished=[p for pack in packs for p in pack.unfinished],
                lang=first.lang, languages=first.languages, glossary=tuple(t for p in packs for t in p.glossary),
                translation_problems=[p for pack in packs for p in pack.translation_problems])


def clashes(packs: list[Pack]) -> list[Problem]:
    """Every id or alias two packs both use, and every precondition they define differently."""
    problems: list[Problem] = []
    owners: dict[str, tuple[str, Path]] = {}     # name -> (entry id, file)
    for pack in packs:
        for entry in pack.entries:
            for name in (entry.id, *entry.aliases):
                owner = owners.get(name)
                if owner is not None and owner[1] != entry.path:
                    what = "id" if name == entry.id else "alias"
                    problems.append(Problem(str(entry.path), _line_of(entry.path, name), what,
                                            f"'{name}' is also used by entry '{owner[0]}' ({owner[1]}): {RESOLVE}"))
                owners.setdefault(name, (entry.id, entry.path))
    defined: dict[str, tuple[object, Path]] = {}
    for pack in packs:
        manifest = pack.root / "pack.yaml"
        for key, value in pack.fixes.preconditions.items():
            mine = (value.database, value.sql.strip())
            if key in defined and defined[key][0] != mine:
                problems.append(Problem(str(manifest), _line_of(manifest, key), f"preconditions.{key}",
                                        f"also defined with another query in {defined[key][1]}: {RESOLVE}"))
            defined.setdefault(key, (mine, manifest))
    return problems


def _merged_policy(policies: Iterable[FixPolicy]) -> FixPolicy:
    merged = FixPolicy()
    for policy in policies:
        for key, value in policy.approvers.items():
            merged.approvers.setdefault(key, value)
        for key, value in policy.windows.items():
            merged.windows.setdefault(key, value)
        for key, pre in policy.preconditions.items():
            merged.preconditions.setdefault(key, pre)
        for service, required in policy.restarts.items():
            merged.restarts[service] = tuple(dict.fromkeys(merged.restarts.get(service, ()) + required))
        for where, names in policy.commands.items():
            merged.commands[where] = tuple(dict.fromkeys(merged.commands.get(where, ()) + names))
    return merged


def _line_of(path: Path, name: str) -> int:
    """The first line of ``path`` that holds ``name`` as a YAML key or value (1 when none does)."""
    pattern = re.compile(rf"(^|[\s\-:\[,'\"]){re.escape(name)}($|[\s:,\]'\"])")
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line.split("#", 1)[0]):
                return number
    except (OSError, UnicodeDecodeError):
        pass
    return 1
