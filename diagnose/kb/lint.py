"""Every way a knowledge base can be wrong, each reported with file, line and what to change.

Three layers: the YAML itself (:mod:`diagnose.kb.yamlsrc`), the schema (field names, types,
the check kind and its own fields), and the pack as a whole (duplicate ids, ids that shadow a
subcommand, causes and related entries that do not exist, undeclared source names, regexes
that do not compile, SQL that is not a query, settings bound but not declared or declared but not used).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Callable

from diagnose import safe_regex
from diagnose.checks import KindError, kind_names, load_kind
from diagnose.sources import fields as source_fields
from diagnose.kb.fixlint import check_solutions, schema_keys
from diagnose.kb.problems import Problem
from diagnose.kb.settings import lint as lint_settings
from diagnose.kb.yamlsrc import Located, YamlError, format_path, load, printable

#: subcommand names (diagnose.cli.COMMANDS, which tests/kb/test_lint.py holds this to); a symptom id or
#: alias equal to one of these could never be run
RESERVED = frozenset({"list", "show", "explain", "triage", "lint", "selftest", "docs", "demo", "schema",
                      "report", "run", "init", "new", "help", "version"})
_TYPE_NAMES = {"string": "text", "integer": "a whole number", "number": "a number", "object": "a mapping",
               "array": "a list", "boolean": "true or false", "null": "null"}


def name_in_pack(root: Path, path: Path) -> str:
    """How a problem names a file of the pack at ``root``: relative to the pack's parent (``checks/x.yaml``)."""
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def check_manifest(root: Path) -> tuple[dict, list[Problem]]:
    path = root / "pack.yaml"
    if not path.is_file():
        return {}, []
    try:
        loc = load(path)
    except YamlError as exc:
        return {}, [Problem(name_in_pack(root, path), exc.line, "", exc.message)]
    from diagnose.kb.schema import pack_schema

    problems = schema_problems(loc, pack_schema(), (), name_in_pack(root, path))
    return (loc.data if isinstance(loc.data, dict) and not problems else {}), problems


#: what :func:`check_file` and the solution rules last found for each file of a pack, with a digest of what they
#: read, in a process that asked for it (:func:`remember`): ``diagnose docs serve`` validates the edited pack again
#: at each rebuild, and only the edited entry changed
_MEMO: dict[tuple, tuple[str, Any]] = {}
_REMEMBER = [False]
#: at most this many files are remembered (a pack of a thousand entries)
MEMO_MOST = 2000


def remember(on: bool = True) -> None:
    """Validate each unchanged entry only once in this process (a served site's rebuilds); one result per file is
    kept, so memory stays that of one validated pack."""
    _REMEMBER[0] = on
    if not on:
        _MEMO.clear()


def _remembered(place: tuple, digest: str, make: Callable[[], Any]) -> Any:
    """``make()``, or a copy of what it gave at ``place`` for the same ``digest`` (results are never shared)."""
    if not _REMEMBER[0]:
        return make()
    known = _MEMO.get(place)
    if known is None or known[0] != digest:
        if place not in _MEMO and len(_MEMO) >= MEMO_MOST:
            _MEMO.clear()
        _MEMO[place] = known = (digest, make())
    return copy.deepcopy(known[1])


def check_file(root: Path, path: Path) -> tuple[Located | None, list[Problem]]:
    """Parse and validate one entry file against the schema (the same bytes give the same answer: remembered
    when :func:`remember` asked for it)."""
    if not _REMEMBER[0]:
        return _check_file(root, path)
    try:
        content = path.read_bytes()
    except OSError:
        return _check_file(root, path)
    return _remembered(("file", str(root), str(path)), hashlib.sha256(content).hexdigest(),
                       lambda: _check_file(root, path))


def _check_file(root: Path, path: Path) -> tuple[Located | None, list[Problem]]:
    from diagnose.kb.schema import check_schema, entry_schema

    name = name_in_pack(root, path)
    try:
        loc = load(path)
    except YamlError as exc:
        return None, [Problem(name, exc.line, "", exc.message)]
    problems = [Problem(name, loc.line_of(p), format_path(p), msg) for p, msg in loc.problems]
    if not isinstance(loc.data, dict):
        return None, problems + [Problem(name, 1, "", "an entry must be a YAML mapping (id: ..., title: ...)")]
    problems += schema_problems(loc, entry_schema(), (), name, unfinished=UNFINISHED_FIELDS)
    for i, check in enumerate(loc.data.get("checks") or []):
        if isinstance(check, dict) and isinstance(check.get("kind"), str) and check["kind"] in kind_names():
            try:
                schema = check_schema(check["kind"])
            except KindError as exc:   # an installed plugin that is broken: say so where it is used
                problems.append(Problem(name, loc.line_of(("checks", i, "kind")), format_path(("checks", i, "kind")),
                                        str(exc)))
                continue
            problems += schema_problems(loc, schema, ("checks", i), name, check)
            problems += _kind_lint(loc, check, ("checks", i), name)
    if any(not p.unfinished for p in problems):
        return None, problems
    return loc, problems          # an unfinished entry is still an entry: it can run ad hoc


#: what an entry may still lack and still be loaded (a skeleton of `diagnose new` does not stop the other
#: entries): one without checks has nothing to run (``diagnose ID`` says so), one without the rest runs ad hoc
UNFINISHED_FIELDS = ("causes", "checks", "solutions", "examples")


def _format_checker():
    """jsonschema's format checks, with ``regex`` also refusing what ``re`` refuses with other
    exceptions than ``re.error`` (``a{99999999999}`` raises OverflowError)."""
    from jsonschema import FormatChecker

    checker = FormatChecker()

    @checker.checks("regex", raises=(re.error, OverflowError, RecursionError))
    def _is_regex(instance: Any) -> bool:
        return not isinstance(instance, str) or bool(re.compile(instance))

    return checker


def schema_problems(loc: Located, schema: dict, base: tuple, name: str, instance: Any = None, *,
                    unfinished: tuple[str, ...] = ()) -> list[Problem]:
    """Every way ``instance`` (default: the whole file) breaks ``schema``, each at its line. ``unfinished``:
    top-level fields whose absence or emptiness only says the thing is not finished yet
    (:attr:`Problem.unfinished`)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema, format_checker=_format_checker())
    data = loc.data if instance is None else instance
    problems = []
    seen = set()
    missing_seen: dict[tuple, int] = {}      # path -> required errors met there (one per missing field)
    for error in validator.iter_errors(data):
        for leaf in _leaves(error):
            path = base + tuple(leaf.absolute_path)
            field = None
            if leaf.validator == "required" and isinstance(leaf.instance, dict):
                missing = [r for r in leaf.validator_value if r not in leaf.instance]
                index = missing_seen[path] = missing_seen.get(path, -1) + 1
                field = missing[index] if index < len(missing) else None
            if leaf.validator == "additionalProperties" and isinstance(leaf.instance, dict):
                # every unknown key at its own line, not only the first
                extra = [k for k in leaf.instance if k not in leaf.schema.get("properties", {})]
                for key in extra or [None]:
                    message = _friendly(leaf, key)
                    where = path + (key,) if key is not None else path
                    if (where, message) not in seen:
                        seen.add((where, message))
                        problems.append(Problem(name, loc.line_of(where), format_path(where), message))
                continue
            message = _friendly(leaf, field)
            if (path, message) in seen:
                continue
            seen.add((path, message))
            lacking = (leaf.validator == "required" and field in unfinished and path == base) or \
                      (leaf.validator == "minItems" and len(path) == len(base) + 1 and path[-1] in unfinished)
            problems.append(Problem(name, loc.line_of(path), format_path(path), message, unfinished=lacking))
    return problems


def _leaves(error: Any) -> list[Any]:
    """For anyOf/oneOf, report the most specific sub-error, not 'is not valid under any'."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = max(error.context, key=lambda e: len(e.absolute_path))
        if len(best.absolute_path) > len(error.absolute_path):
            return _leaves(best)
    return [error]


def _friendly(error: Any, field: str | None = None) -> str:
    """The one-line message of a schema error; ``field``: the required field this error is about."""
    v, inst = error.validator, error.instance
    if v == "enum":
        what = "kind" if error.absolute_path and error.absolute_path[-1] == "kind" else "value"
        return f"unknown {what} {inst!r} (expected one of: {', '.join(map(str, error.validator_value))})"
    if v == "required":
        missing = [r for r in error.validator_value if isinstance(inst, dict) and r not in inst]
        return f"missing required field '{field or (missing[0] if missing else error.validator_value)}'"
    if v == "additionalProperties" and isinstance(inst, dict):
        allowed = list(error.schema.get("properties", {}))
        extra = [k for k in inst if k not in allowed]
        key = field if field is not None else (extra[0] if extra else None)
        hint = difflib.get_close_matches(str(key), allowed, n=1) if key is not None else []
        tip = f" (did you mean '{hint[0]}'?)" if hint else f" (allowed: {', '.join(allowed)})"
        return f"unknown field '{printable(str(key)) if key is not None else '?'}'{tip}"
    if v == "type":
        want: list[str] = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return f"expected {' or '.join(_TYPE_NAMES.get(t, t) for t in want)}, got {type(inst).__name__} {inst!r:.60}"
    if v == "pattern" and error.validator_value == "^[a-z0-9]+(-[a-z0-9]+)*$":
        return f"{inst!r} is not a kebab-case id (lower-case words joined by '-')"
    if v == "minItems":
        return f"needs at least {error.validator_value} item(s)"
    if v == "format" and error.validator_value == "regex":
        return f"invalid regex {inst!r}"
    return error.message


def _kind_lint(loc: Located, check: dict, base: tuple, name: str) -> list[Problem]:
    kind = load_kind(check["kind"])
    out = []
    try:
        found = list(getattr(kind, "lint", lambda c: [])(check))
    except Exception as exc:  # a plugin's lint that fails: one problem at the kind, naming the module
        at = base + ("kind",)
        return [Problem(name, loc.line_of(at), format_path(at), f"the lint of kind '{check['kind']}' "
                        f"({kind.__name__}) failed: {type(exc).__name__}: {exc}")]
    for rel, message in found:
        parts = tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", rel) if p)
        out.append(Problem(name, loc.line_of(base + parts), format_path(base + parts), message))
    return out


def _reference_keys(root: Path, manifest: dict) -> dict[str, dict[str, set[str]]]:
    """database -> table -> its key columns, from the pack's reference schemas (an unreadable one says
    nothing here: the self-test reports it)."""
    keys: dict[str, dict[str, set[str]]] = {}
    for database, rel in (manifest.get("reference_schemas") or {}).items():
        try:
            keys[database] = schema_keys((root / rel).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
    return keys


def _solution_problems(path: Path, data: dict, manifest: dict,
                       keys: dict[str, dict[str, set[str]]]) -> list[tuple[tuple, str]]:
    """What :func:`~diagnose.kb.fixlint.check_solutions` says of one entry (parsing its steps' SQL and shell
    is most of a pack's validation), remembered by the entry, the manifest and the reference keys."""
    def run() -> list[tuple[tuple, str]]:
        said: list[tuple[tuple, str]] = []
        check_solutions(data, manifest, lambda where, message: said.append((where, message)), keys)
        return said

    if not _REMEMBER[0]:
        return run()
    try:
        made_of = json.dumps([data, manifest, {db: {t: sorted(c) for t, c in tables.items()}
                                               for db, tables in keys.items()}], sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return run()
    return _remembered(("solutions", str(path)), hashlib.sha256(made_of.encode()).hexdigest(), run)


def check_pack(root: Path, manifest: dict, located: list[tuple[Path, Located]]) -> list[Problem]:
    """Cross-file rules: ids, references, sources, categories, examples."""
    problems: list[Problem] = []
    owners: dict[str, tuple[str, str]] = {}
    keys = _reference_keys(root, manifest)
    ids = {loc.data.get("id") for _, loc in located}
    declared = (manifest.get("sources") or {}) if manifest else None
    for path, loc in located:
        data, name = loc.data, name_in_pack(root, path)

        def problem(p: tuple, message: str) -> None:
            problems.append(Problem(name, loc.line_of(p), format_path(p), message))

        entry_id = data["id"]
        if path.stem != entry_id:
            problem(("id",), f"id '{entry_id}' must match the file name ({path.stem}.yaml)")
        categories = manifest.get("categories") if manifest else None
        if categories and data["category"] not in categories:
            problem(("category",), f"category '{data['category']}' is not declared in pack.yaml `categories` "
                                   f"(declared: {', '.join(categories)})")
        elif path.parent.name != data["category"]:
            problem(("category",), f"category '{data['category']}' but the file is in '{path.parent.name}/' "
                                   f"(move it to {data['category']}/)")
        for key, names in [(("id",), [entry_id])] + [(("aliases", i), [a]) for i, a in enumerate(data.get("aliases", []))]:
            for n in names:
                if n in RESERVED:
                    problem(key, f"'{n}' is a subcommand name; `diagnose {n}` could never reach this entry")
                if n in owners and owners[n][1] != name:
                    problem(key, f"'{n}' is already used by entry '{owners[n][0]}' ({owners[n][1]})")
                owners.setdefault(n, (entry_id, name))
        for field in ("causes", "checks", "solutions", "examples"):
            ident = "name" if field == "examples" else "id"
            seen: set = set()
            for i, item in enumerate(data.get(field, [])):
                if item[ident] in seen:
                    problem((field, i, ident), f"duplicate {field[:-1]} {ident} '{item[ident]}'")
                seen.add(item[ident])
        causes = {c["id"] for c in data.get("causes") or []}
        for i, pattern in enumerate(data.get("error_patterns", [])):
            try:
                safe_regex.compile(pattern)
            except re.error as exc:
                problem(("error_patterns", i), f"invalid regex: {exc}")
        for i, check in enumerate(data.get("checks") or []):
            cause = check.get("cause")
            for c in [cause] if isinstance(cause, str) else cause or []:
                if c not in causes:
                    problem(("checks", i, "cause"), f"unknown cause '{c}' (causes of this entry: {', '.join(sorted(causes))})")
            if check.get("history") and (not cause or check.get("symptom")):
                problem(("checks", i, "history"), "history: true needs a cause and no symptom: true (a past event "
                                                  "names the cause of a present symptom)")
            for field, kind in source_fields().items():
                if field in check and declared is not None and check[field] not in declared.get(kind, {}):
                    known = ", ".join(sorted(declared.get(kind, {}))) or "none"
                    problem(("checks", i, field), f"unknown {field} source '{check[field]}' "
                                                  f"(pack.yaml declares: {known})")
        for i, sol in enumerate(data.get("solutions") or []):
            for c in sol.get("causes", []):
                if c not in causes:
                    problem(("solutions", i, "causes"), f"unknown cause '{c}'")
        for where, message in _solution_problems(path, data, manifest, keys):
            problem(where, message)
        for where, message in lint_settings(data):
            problem(where, message)
        for i, rel in enumerate(data.get("related", [])):
            if rel not in ids:
                problem(("related", i), f"related entry '{rel}' does not exist")
        for i, origin in enumerate(data.get("follows", [])):
            if origin not in ids or origin == entry_id:
                problem(("follows", i), f"'{origin}' is not another entry of this pack")
        verdicts = {x["verdict"] for x in data.get("examples") or []}
        if data.get("examples") and ("healthy" not in verdicts or not verdicts & {"problem", "risk"}):
            problems.append(Problem(name, loc.line_of(("examples",)), "examples", "needs at least one broken "
                                    "(verdict: problem or risk) and one healthy example", unfinished=True))
        for i, ex in enumerate(data.get("examples") or []):
            for c in ex.get("causes", []):
                if c not in causes:
                    problem(("examples", i, "causes"), f"unknown cause '{c}'")
            for kind, worlds in (ex.get("world") or {}).items():
                if kind in ("clock", "server"):   # when and where, which server: not sources
                    continue
                kind = {"sessions": "databases", "autocommit": "databases", "modified": "logs"}.get(kind, kind)
                for src in worlds:
                    if declared is not None and src not in declared.get(kind, {}):
                        problem(("examples", i, "world", kind, src), f"unknown {kind} source '{src}'")
    return problems
