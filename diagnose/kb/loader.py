"""Load a knowledge-base folder into a :class:`~diagnose.kb.model.Pack`, or list every problem.

A knowledge base is ``pack.yaml`` (optional manifest: name, version, declared source names)
plus one ``<category>/<id>.yaml`` per symptom. Loading never raises a traceback at the user:
every problem of every file is collected into one :class:`KnowledgeBaseError`, each naming
file, line and field.

A successfully validated pack is cached as JSON keyed by the digest of its files, so the
usual run skips YAML parsing and schema validation (jsonschema alone costs ~200 ms to import).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from diagnose.cache import cache_dir, code_stamp, read_cache_file, write_cache_file
from diagnose.kb.model import (Avoid, Cause, Check, Entry, Example, Fill, FixPolicy, Pack, Precondition, Solution,
                                Source, Step, provenance_of)
from diagnose.kb.problems import KnowledgeBaseError, Problem  # noqa: F401 (Problem: re-exported for callers)
from diagnose.i18n import DEFAULT as SOURCE, LANGUAGES, is_translation

CACHE_FORMAT = 7


def builtin_root() -> Path:
    """The built-in pack: inside the installed package, or ``checks/`` of a source checkout."""
    here = Path(__file__).resolve().parent.parent
    installed = here / "builtin_checks"
    return installed if installed.is_dir() else here.parent / "checks"


#: top-level folders of a pack that hold data for worlds and schemas, not entries
NON_ENTRY_DIRS = frozenset({"schemas", "worlds"})


def entry_files(root: Path) -> list[Path]:
    return pack_files(root)[0]


def pack_files(root: Path) -> tuple[list[Path], list[Path]]:
    """The pack's entries, and the translations of its entries and pack.yaml (``<name>.<lang>.yaml``), from
    one walk of its folder."""
    found = _yaml_files(root)
    return (sorted(p for p in found if not is_translation(p) and p != root / GLOSSARY),
            sorted(p for p in found if is_translation(p)))


#: the pack's domain glossary (terms in both languages), beside pack.yaml
GLOSSARY = "glossary.yaml"


def _yaml_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.name != "pack.yaml"
            and p.is_file() and p.relative_to(root).parts[0] not in NON_ENTRY_DIRS]


def digest_of(root: Path, files: list[Path], overlays: list[Path]) -> str:
    """sha256 over the pack's files (names and bytes); a file that cannot be read is a problem
    naming it, like any other (KnowledgeBaseError), never a traceback."""
    h = hashlib.sha256()
    unreadable = []
    for path in [root / "pack.yaml", *files, *overlays, root / GLOSSARY]:
        if path.is_file():
            try:
                data = path.read_bytes()
            except OSError as exc:
                unreadable.append(Problem(str(path), 1, "", f"cannot read the file ({exc.strerror or exc})"))
                continue
            h.update(str(path.relative_to(root)).encode())
            h.update(b"\0")
            h.update(data)
            h.update(b"\0")
    if unreadable:
        raise KnowledgeBaseError(unreadable)
    return h.hexdigest()


@dataclass(frozen=True)
class PackChoice:
    """Which packs a command uses: the built-in one (unless ``--no-builtin``), then the profile's
    ``packs:``, then each ``--checks`` (or ``$DIAGNOSE_CHECKS``, split on the OS path separator)."""

    paths: tuple[Path, ...] = ()
    builtin: bool = True


def load_packs(roots: Sequence[Path | str] = (), *, builtin: bool = True, use_cache: bool = True,
               allow_unfinished: bool = False, lang: str = SOURCE) -> Pack:
    """The built-in pack (unless ``builtin`` is false) and the packs at ``roots``, in that order, as
    one pack (:mod:`diagnose.kb.layers`); every problem of every pack, and every clash between them,
    in one KnowledgeBaseError. A folder given twice (or the built-in one given by path) counts once."""
    from diagnose.kb.layers import combine

    wanted = ([builtin_root()] if builtin else []) + [Path(r) for r in roots]
    if not wanted:
        raise KnowledgeBaseError([Problem("--no-builtin", 1, "", "no knowledge base left: give your pack "
                                          "with --checks DIR (or DIAGNOSE_CHECKS, or `packs:` in the profile)")])
    unique: dict[Path, Path] = {}
    for root in wanted:
        unique.setdefault(root.resolve(), root)
    packs, problems = [], []
    for root in unique.values():
        try:
            packs.append(load_pack(root, use_cache=use_cache, allow_unfinished=allow_unfinished, lang=lang))
        except KnowledgeBaseError as exc:
            problems += exc.problems
    if problems:
        raise KnowledgeBaseError(problems)
    return combine(packs)


def load_pack(root: Path | str | None = None, *, use_cache: bool = True, allow_unfinished: bool = False,
              lang: str = SOURCE) -> Pack:
    """Load and validate the one pack at ``root`` (default: the built-in one), its texts in ``lang`` where
    translated (:mod:`diagnose.kb.translations`; English elsewhere). An unfinished entry (no
    solution or example yet) is a problem unless ``allow_unfinished``: then the pack keeps it and lists
    what it lacks in ``pack.unfinished``. Translation problems never stop a load: lint reports them
    (``pack.translation_problems``)."""
    root = Path(root) if root is not None else builtin_root()
    if not root.is_dir():
        what = "is a file, not a knowledge-base folder" if root.exists() else "knowledge base folder does not exist"
        raise KnowledgeBaseError([Problem(str(root), 1, "", f"{what} (give a folder with pack.yaml and "
                                          "<category>/<id>.yaml files)")])
    files, overlays = pack_files(root)
    digest = digest_of(root, files, overlays)
    cached = _read_cache(digest) if use_cache else None
    if cached is not None:
        manifest, entries, unfinished = cached
    else:
        manifest, entries, unfinished = _validate(root, files, overlays)
        if use_cache:
            _write_cache(digest, manifest, entries, unfinished)
    if any(not p.translation for p in unfinished) and not allow_unfinished:
        raise KnowledgeBaseError([p for p in unfinished if not p.translation])
    pack = build_pack(root, digest, manifest, entries, lang=lang)
    pack.unfinished = [p for p in unfinished if not p.translation]
    pack.translation_problems = [p for p in unfinished if p.translation]
    return pack


def _validate(root: Path, files: list[Path], overlays: list[Path]) -> tuple[dict, list, list[Problem]]:
    from diagnose.kb import glossary, lint

    manifest, problems = lint.check_manifest(root)
    located = []
    for path in files:
        loc, file_problems = lint.check_file(root, path)
        problems += file_problems
        if loc is not None:
            located.append((path, loc))
    problems += lint.check_pack(root, manifest, located)
    terms, glossary_problems = glossary.check(root / GLOSSARY, lint.name_in_pack(root, root / GLOSSARY))
    problems += glossary_problems
    if not files:
        problems.append(Problem(str(root), 1, "", "no entries found (expected <category>/<id>.yaml files)"))
    if any(not p.unfinished and not p.translation for p in problems):
        raise KnowledgeBaseError(problems)
    for _, loc in located:
        _note_statement_kinds(loc.data)
    translated, translation_problems = _translations(root, manifest, located, overlays)
    manifest = {**manifest, "_translations": translated.pop("pack.yaml", {}), "_glossary": terms}
    entries = [(str(path.relative_to(root)), loc.data, translated.get(str(path.relative_to(root)), {}))
               for path, loc in located]
    return manifest, entries, problems + translation_problems


def _translations(root: Path, manifest: dict, located: list,
                  overlays: list[Path]) -> tuple[dict[str, dict[str, dict]], list[Problem]]:
    """Each file's usable translations (``{rel: {lang: {node: value}}}``, pack.yaml's under "pack.yaml") and
    every translation problem: each overlay checked against its English, each declared language complete."""
    from diagnose.kb import translations as tr
    from diagnose.kb.lint import name_in_pack

    declared = set(manifest.get("languages") or ()) - {SOURCE}
    out: dict[str, dict[str, dict]] = {}
    problems: list[Problem] = []
    english = {root / "pack.yaml": (manifest, tr.PACK)} if manifest else {}
    english.update({path: (loc.data, tr.ENTRY) for path, loc in located})
    for path, (data, spec) in english.items():
        for lang in LANGUAGES:
            if lang == SOURCE:
                continue
            overlay = tr.overlay_path(path, lang)
            if lang not in declared and not overlay.is_file():
                continue
            checked = tr.check(data, overlay, name_in_pack(root, overlay), spec, required=lang in declared)
            problems += checked.problems
            if checked.usable:
                out.setdefault(str(path.relative_to(root)), {})[lang] = checked.usable
    for overlay in overlays:
        lang, source = tr.language_of(overlay), tr.english_of(overlay)
        if source not in english:
            problems.append(Problem(name_in_pack(root, overlay), 1, "", f"a translation of {source.name}, which is not an "
                                    "entry of this pack (rename it with the entry, or remove it)", translation=True))
        elif lang not in declared:
            problems.append(Problem(name_in_pack(root, overlay), 1, "", f"'{lang}' is not among the pack's languages: add "
                                    f"`languages: [en, {lang}]` to pack.yaml (then every entry needs it)",
                                    translation=True))
    return out, problems


def _note_statement_kinds(entry: dict[str, Any]) -> None:
    """Each SQL step's statement kinds, parsed once here (lint has loaded the parser already) and kept with
    the validated entry in the cache (``_kinds``): showing or reporting a step then needs no parser."""
    from diagnose.kb.steps import statement_kinds

    for solution in entry.get("solutions") or []:
        for step in solution.get("steps") or []:
            if isinstance(step, dict) and isinstance(step.get("sql"), str):
                kinds = statement_kinds(step["sql"])
                if kinds is not None:
                    step["_kinds"] = kinds


def _cache_file(digest: str) -> Path:
    """The cache of a validated pack: its files' digest, the plugins installed (a kind or source type
    added, removed, upgraded or edited changes what validates) and diagnose's own code (an upgrade may
    validate differently: :func:`diagnose.cache.code_stamp`)."""
    from diagnose.plugins import signature

    plugins = hashlib.sha256(signature().encode()).hexdigest()[:12]
    return cache_dir() / f"kb-{digest}-{plugins}-{code_stamp()}.json"


def _read_cache(digest: str) -> tuple[dict, list, list[Problem]] | None:
    data = read_cache_file(_cache_file(digest))   # another owner's, or writable by others: validated again
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        return None
    return data["manifest"], data["entries"], [Problem(file, line, path, message, unfinished=not translation,
                                                       translation=translation)
                                               for file, line, path, message, translation in data["unfinished"]]


def _write_cache(digest: str, manifest: dict, entries: list, unfinished: list[Problem]) -> None:
    write_cache_file(_cache_file(digest), {"format": CACHE_FORMAT, "manifest": manifest, "entries": entries,
                                           "unfinished": [[p.file, p.line, p.path, p.message, p.translation]
                                                          for p in unfinished]})


def build_pack(root: Path, digest: str, manifest: dict, entries: list, lang: str = SOURCE) -> Pack:
    """The pack from its validated files, each text in ``lang`` where a usable translation has it."""
    from diagnose.sources import source_types

    translated = (manifest.get("_translations") or {}).get(lang)
    if translated:
        from diagnose.kb.translations import PACK, apply

        manifest = apply(manifest, translated, PACK)

    sources = {
        kind: {name: Source(kind, name, spec.get("description", ""), spec.get("example", ""))
               for name, spec in (manifest.get("sources") or {}).get(kind, {}).items()}
        for kind in source_types()
    }
    declared = manifest.get("categories") or {}
    found = sorted({data["category"] for _, data, _ in entries} - set(declared))
    pack = Pack(root=root, name=manifest.get("name", root.name), version=str(manifest.get("version", "0")),
                site_url=manifest.get("site_url", ""), digest=digest, sources=sources,
                reference_schemas={db: root / rel for db, rel in (manifest.get("reference_schemas") or {}).items()},
                fixes=build_policy(manifest), description=manifest.get("description", ""),
                title=manifest.get("title") or manifest.get("name", root.name),
                categories={**declared, **{c: c.replace("-", " ").capitalize() for c in found}})
    from diagnose.kb.glossary import terms_of

    pack.glossary = terms_of(manifest.get("_glossary") or [])
    pack.lang = lang
    pack.languages = (SOURCE, *[x for x in manifest.get("languages") or () if x != SOURCE])
    pack.entries = [build_entry(root / rel, _translated(data, overlays.get(lang))) for rel, data, overlays in entries]
    return pack


def _translated(data: dict[str, Any], usable: dict | None) -> dict[str, Any]:
    """An entry's data with its usable translation applied (an English run never imports the translations)."""
    if usable is None:
        return data
    from diagnose.kb.translations import ENTRY, apply

    return apply(data, usable, ENTRY)


def build_policy(manifest: dict[str, Any]) -> FixPolicy:
    """The pack's fix policy (approvers, windows, preconditions, restarts, commands) from pack.yaml."""
    return FixPolicy(
        approvers=dict(manifest.get("approvers") or {}), windows=dict(manifest.get("windows") or {}),
        preconditions={k: Precondition(k, v["title"], v["database"], v["sql"], v["why"])
                       for k, v in (manifest.get("preconditions") or {}).items()},
        restarts={k: tuple(v) for k, v in (manifest.get("restarts") or {}).items()},
        commands={k: tuple(v) for k, v in (manifest.get("commands") or {}).items()},
    )


def build_step(data: dict[str, Any]) -> Step:
    verify = data.get("verify")
    return Step(
        do=data["do"], risk=data["risk"], where=data.get("where"), sql=data.get("sql"), shell=data.get("shell"),
        env=data.get("env"), scope=data.get("scope"),
        fill={k: Fill(v["check"], v["column"]) for k, v in (data.get("fill") or {}).items()},
        rows=data.get("rows"), confirm=data.get("confirm"), undo=data.get("undo"),
        verify=tuple(verify) if isinstance(verify, list) else verify,
        approve=data.get("approve"), when=data.get("when"), requires=_tuple(data.get("requires")),
        provenance=provenance_of(data.get("provenance")),
        kinds=tuple(data["_kinds"]) if isinstance(data.get("_kinds"), list) else None,
    )


def _tuple(value: Any) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)


def build_entry(path: Path, data: dict[str, Any]) -> Entry:
    """Model objects from one validated entry mapping; its checks' ``{setting: NAME}`` params carry the
    settings' defaults (a profile's values are bound later, :func:`diagnose.kb.settings.apply`)."""
    from diagnose.kb import settings as kb_settings

    settings = kb_settings.declared(data)
    defaults = {s.name: s.value for s in settings}
    checks = []
    for raw in data.get("checks") or ():
        message = raw.get("message") or {}
        if isinstance(message, str):
            message = {"fail": message}
        checks.append(Check(
            id=raw["id"], kind=raw["kind"], title=raw["title"], expects=raw["expects"],
            causes=_tuple(raw.get("cause")), messages=message, manual=raw.get("manual"),
            timeout=raw.get("timeout"), weight=float(raw.get("weight", 1.0)),
            raw=kb_settings.bind_raw(raw, defaults),
        ))
    return Entry(
        id=data["id"], title=data["title"], category=data["category"], severity=data["severity"],
        aliases=_tuple(data.get("aliases")), summary=data["summary"],
        error_patterns=_tuple(data.get("error_patterns")),
        causes=tuple(Cause(c["id"], c["title"], c["text"], provenance_of(c.get("provenance"))) for c in data.get("causes") or ()),
        checks=tuple(checks),
        solutions=tuple(Solution(s["id"], s["title"], tuple(build_step(x) for x in s["steps"]), _tuple(s.get("causes")))
                        for s in data.get("solutions") or ()),
        avoid=tuple(Avoid(a["dont"], a["why"], provenance_of(a.get("provenance"))) for a in data.get("avoid") or ()),
        prevention=data.get("prevention", ""), related=_tuple(data.get("related")),
        examples=tuple(Example(x["name"], x["verdict"], _tuple(x.get("causes")), x.get("world") or {},
                               x.get("description", ""),
                               _tuple(x["fails"]) if "fails" in x else None, _tuple(x.get("skips")),
                               (x.get("fix") or {}).get("solution"), dict((x.get("fix") or {}).get("values") or {}))
                      for x in data.get("examples") or ()),
        path=path, seen=_tuple(data.get("seen")), follows=_tuple(data.get("follows")), settings=settings,
    )
