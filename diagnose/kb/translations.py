"""An entry (and ``pack.yaml``) in another language: an overlay file beside it, keyed by ids.

``checks/connection/ws-disconnect.yaml`` is the source of truth, in English; its Chinese is
``checks/connection/ws-disconnect.zh.yaml``, which repeats only the prose (titles, summary, seen,
causes, check titles/expects/messages, solution titles and their steps' prose, avoid, prevention,
setting descriptions), each under the id it translates. Ids, SQL, patterns, commands and keys are
never in an overlay, so they cannot drift apart between languages.

Translations cannot rot silently: ``translated-from:`` records, per *node* (the title, the summary, one
cause, one check, one solution...), a stamp of the English it was translated from. When the English
changes, the stamp no longer matches: lint reports the node as stale (with the new stamp to record
once it is translated again), and runs show that node in English until then, never an outdated
sentence. A pack declares the languages it is complete in (``languages: [en, zh]`` in pack.yaml);
lint reports every missing node of a declared language. A pack that declares none stays English-only.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from diagnose.i18n import DEFAULT, is_translation
from diagnose.kb.model import MESSAGE_FIELD
from diagnose.kb.problems import Problem

#: the language of every entry and pack.yaml, and the languages an overlay may be in
SOURCE = DEFAULT
#: the key of an overlay that records what each node was translated from
STAMPS = "translated-from"

TEXT = "text"
TEXTS = "texts"          # a list of texts in the language's own words, any length (``seen``)


@dataclass(frozen=True)
class ById:
    """A list of items each with an ``id`` (causes, checks, solutions): the overlay keys them by id."""

    fields: dict[str, Any]
    key: str = "id"


@dataclass(frozen=True)
class ByIndex:
    """A list of items without ids (steps, avoid): the overlay has one item per item, in order."""

    fields: dict[str, Any]


@dataclass(frozen=True)
class ByKey:
    """A mapping (settings, categories, windows): the overlay keys it the same way."""

    fields: dict[str, Any] | str


@dataclass(frozen=True)
class AnyKeys:
    """A mapping of texts whose keys the English decides (a check's ``message: {pass, fail}``)."""


#: what of an entry is prose, and how an overlay addresses it; a top-level key, or one item of a
#: top-level collection, is a node (it has one stamp)
ENTRY = {
    "title": TEXT, "summary": TEXT, "seen": TEXTS, "prevention": TEXT,
    "causes": ById({"title": TEXT, "text": TEXT}),
    "checks": ById({"title": TEXT, "expects": TEXT, "message": AnyKeys()}),
    "solutions": ById({"title": TEXT, "steps": ByIndex({"do": TEXT, "scope": TEXT, "undo": TEXT, "confirm": TEXT,
                                                          "verify": TEXT})}),   # verify: when it is prose
    "avoid": ByIndex({"dont": TEXT, "why": TEXT}),
    "settings": ByKey({"description": TEXT}),
}
PACK = {
    "title": TEXT, "description": TEXT,
    "categories": ByKey(TEXT), "approvers": ByKey(TEXT), "windows": ByKey(TEXT),
    "preconditions": ByKey({"title": TEXT, "why": TEXT}),
}


def overlay_path(path: Path, lang: str) -> Path:
    """``x/ws-disconnect.yaml`` -> ``x/ws-disconnect.zh.yaml``."""
    return path.with_name(f"{path.stem}.{lang}{path.suffix}")


def english_of(overlay: Path) -> Path:
    """The English file an overlay translates, beside it (``x/a.zh.yaml`` -> ``x/a.yaml``)."""
    return overlay.with_name(overlay.name.replace(f".{language_of(overlay)}.", "."))


def language_of(path: Path) -> str:
    """The language of an overlay, from its name (``x.zh.yaml`` -> ``zh``)."""
    return Path(path.stem).suffix[1:]


# --- nodes: what is translated, and its stamp -------------------------------------------------------


def _pick(value: Any, spec: Any) -> Any:
    """The translatable part of ``value`` under ``spec`` (None: nothing to translate there)."""
    if spec == TEXT:
        return value if isinstance(value, str) and value.strip() else None
    if spec == TEXTS:
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) and value else None
    if isinstance(spec, AnyKeys):
        if isinstance(value, str):
            value = {"fail": value}
        return {k: v for k, v in value.items() if isinstance(v, str)} if isinstance(value, dict) and value else None
    if isinstance(spec, ByIndex):
        if not isinstance(value, list):
            return None
        return [_fields(item, spec.fields) for item in value]
    if isinstance(spec, dict):
        return _fields(value, spec)
    return None


def _fields(item: Any, fields: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(item, dict):
        return {}
    out = {}
    for name, spec in fields.items():
        picked = _pick(item.get(name), spec)
        if picked is not None:
            out[name] = picked
    return out


def nodes(data: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """Every node of an English mapping: ``{"title": "...", "causes.backend-down": {"title", "text"},
    "avoid.1": {...}}`` (list items without ids are numbered from 1)."""
    if not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    for name, sub in spec.items():
        value = data.get(name)
        if isinstance(sub, ById):
            for item in value if isinstance(value, list) else ():
                if isinstance(item, dict) and isinstance(item.get(sub.key), str):
                    out[f"{name}.{item[sub.key]}"] = _fields(item, sub.fields)
        elif isinstance(sub, ByIndex):
            for number, item in enumerate(value if isinstance(value, list) else (), 1):
                out[f"{name}.{number}"] = _fields(item, sub.fields)
        elif isinstance(sub, ByKey):
            for key, item in (value.items() if isinstance(value, dict) else ()):
                picked = _pick(item, sub.fields) if isinstance(sub.fields, str) else _fields(item, sub.fields)
                if picked:
                    out[f"{name}.{key}"] = picked
        else:
            picked = _pick(value, sub)
            if picked is not None:
                out[name] = picked
    return out


def overlay_nodes(data: Any, spec: dict[str, Any]) -> dict[str, tuple[Any, tuple]]:
    """Every node of an overlay, with its path in the file: ``{"causes.x": ({...}, ("causes", "x"))}``."""
    if not isinstance(data, dict):
        return {}
    out: dict[str, tuple[Any, tuple]] = {}
    for name, sub in spec.items():
        value = data.get(name)
        if value is None:
            continue
        if isinstance(sub, (ById, ByKey)):
            for key, item in (value.items() if isinstance(value, dict) else ()):
                out[f"{name}.{key}"] = (item, (name, key))
        elif isinstance(sub, ByIndex):
            for number, item in enumerate(value if isinstance(value, list) else (), 1):
                out[f"{name}.{number}"] = (item, (name, number - 1))
        else:
            out[name] = (value, (name,))
    return out


def _normal(value: Any) -> Any:
    """Whitespace runs as one space: re-wrapping a paragraph does not make its translation stale."""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


def stamp(value: Any) -> str:
    """A short fingerprint of an English node (8 hex digits of sha256 over its normalised text)."""
    text = json.dumps(_normal(value), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


# --- the overlay's shape (JSON Schema, so its errors have lines like every other file) ------------------


def _schema_of(spec: Any) -> dict[str, Any]:
    if spec == TEXT:
        return {"type": "string", "minLength": 1}
    if spec == TEXTS:
        return {"type": "array", "items": {"type": "string"}}
    if isinstance(spec, AnyKeys):
        return {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}}
    if isinstance(spec, ByIndex):
        return {"type": "array", "items": _schema_of(spec.fields)}
    if isinstance(spec, (ById, ByKey)):
        return {"type": "object", "additionalProperties": _schema_of(spec.fields)}
    if isinstance(spec, dict):
        return {"type": "object", "additionalProperties": False,
                "properties": {name: _schema_of(sub) for name, sub in spec.items()}}
    raise TypeError(spec)


def overlay_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of an overlay file for an entry (:data:`ENTRY`) or pack.yaml (:data:`PACK`)."""
    schema = _schema_of(spec)
    schema["properties"][STAMPS] = {
        "type": "object", "description": "node -> stamp of the English it was translated from",
        "additionalProperties": {"type": "string", "pattern": "^[0-9a-f]{8}$"}}
    return schema


# --- checking an overlay against its English -------------------------------------------------------------

#: a fenced code block of Markdown, from its opening fence line to the closing one
FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1[ \t]*$", re.S | re.M)
_CODE = re.compile(r"(?<!`)`([^`]+)`(?!`)")     # a span may wrap onto the next line


def _marks(text: str) -> tuple[list[str], set[str], set[str]]:
    """What a translation must keep as it is: fenced blocks, inline code spans, ``{placeholders}``."""
    fences = sorted(m.group(0).strip() for m in FENCE.finditer(text))
    rest = FENCE.sub("", text)
    return fences, {" ".join(c.split()) for c in _CODE.findall(rest)}, set(MESSAGE_FIELD.findall(text))


def _leaves(english: Any, translated: Any, path: tuple) -> Iterator[tuple[tuple, str, Any]]:
    """Pairs of (path, English text, translated value), walking both shapes; a structural difference
    yields ``(path, "", problem message)``."""
    if isinstance(english, str):
        yield path, english, translated
    elif isinstance(english, list):
        if not isinstance(translated, list) or len(translated) != len(english):
            got = len(translated) if isinstance(translated, list) else 0
            yield path, "", f"has {got} item(s), the English has {len(english)} (one per item, in order)"
            return
        for index, (en, tr) in enumerate(zip(english, translated)):
            yield from _leaves(en, tr, path + (index,))
    elif isinstance(english, dict):
        translated = translated if isinstance(translated, dict) else {}
        for key, en in english.items():
            if key not in translated:
                yield path + (key,), "", "is not translated"
            else:
                yield from _leaves(en, translated[key], path + (key,))
        for key in translated:
            if key not in english:
                yield path + (key,), "", "is not in the English (only what the English has is translated)"


def text_problems(english: str, translated: Any) -> list[str]:
    """Why a translated text does not keep what must not be translated (empty: it does)."""
    if not isinstance(translated, str) or not translated.strip():
        return ["is empty"]
    out = []
    fences_en, code_en, names_en = _marks(english)
    fences_tr, code_tr, names_tr = _marks(translated)
    if names_en != names_tr:
        missing, extra = sorted(names_en - names_tr), sorted(names_tr - names_en)
        said = "; ".join(filter(None, [f"lacks {', '.join('{' + n + '}' for n in missing)}" if missing else "",
                                       f"has {', '.join('{' + n + '}' for n in extra)} the English has not"
                                       if extra else ""]))
        out.append(f"placeholders differ from the English: {said} (evidence fills them: keep them as they are)")
    if fences_en != fences_tr:
        out.append("its code blocks differ from the English (copy each ``` block as it is)")
    missing_code = sorted(code_en - code_tr)
    if missing_code:
        out.append(f"lacks the code {', '.join('`' + c + '`' for c in missing_code[:3])} of the English "
                   "(ids, commands and names stay as they are)")
    return out


@dataclass
class Checked:
    """An overlay checked against its English: the nodes fit to use, and every problem."""

    usable: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def check(english: Any, overlay_file: Path, name: str, spec: dict[str, Any], *, required: bool) -> Checked:
    """Check the overlay at ``overlay_file`` (``name``: how problems name it) against ``english``; when
    ``required`` (the pack declares its language), a missing file or node is a problem."""
    from diagnose.kb.lint import schema_problems
    from diagnose.kb.yamlsrc import YamlError, format_path, load

    result = Checked()

    def problem(line: int, path: str, message: str) -> None:
        result.problems.append(Problem(name, line, path, message, translation=True))

    english_nodes = nodes(english, spec)
    if not overlay_file.is_file():
        if required and english_nodes:
            problem(1, "", f"missing translation: create {overlay_file.name} (the pack declares "
                           f"'{language_of(overlay_file)}' in languages:)")
        return result
    try:
        loc = load(overlay_file)
    except YamlError as exc:
        problem(exc.line, "", exc.message)
        return result
    if loc.data is None:
        loc.data = {}
    for path_of, message in loc.problems:      # a key written twice: YAML keeps the last, silently
        problem(loc.line_of(path_of), format_path(path_of), message)
    shape = schema_problems(loc, overlay_schema(spec), (), name)
    for p in shape:
        result.problems.append(Problem(p.file, p.line, p.path, p.message, translation=True))
    if shape:
        return result
    stamps = loc.data.get(STAMPS) or {}
    translated = overlay_nodes(loc.data, spec)
    for node, (_, path) in translated.items():
        if node not in english_nodes:
            section, _, key = node.partition(".")
            what = (f"no {section}" if not key else f"no item {key} in {section}" if key.isdigit()
                    else f"no '{key}' in {section}")
            problem(loc.line_of(path), node, f"translates nothing: the English has {what}")
    for node in stamps:
        if node not in english_nodes:
            problem(loc.line_of((STAMPS, node)), f"{STAMPS}.{node}", "stamps a node the English does not have")
    for node, english_value in english_nodes.items():
        now = stamp(english_value)
        if node not in translated:
            if required:
                problem(loc.line_of(_first_path(node)), node,
                        f"missing translation (translate it, then record `{node}: {now}` under {STAMPS}:)")
            continue
        value, path = translated[node]
        line = loc.line_of(path)
        bad = False
        # what users see is said in each language's own words, not item by item: its own list, any length
        pairs = [] if spec.get(node) == TEXTS else _leaves(english_value, value, ())
        for leaf_path, en, tr in pairs:
            where = node + "".join(f"[{p + 1}]" if isinstance(p, int) else f".{p}" for p in leaf_path)
            if not en:
                problem(loc.line_of(path + leaf_path), where, tr)
                bad = True
                continue
            for message in text_problems(en, tr):
                problem(loc.line_of(path + leaf_path), where, message)
                bad = True
        was = stamps.get(node)
        if spec.get(node) == TEXTS:
            pass      # not a translation of the English list but the language's own: nothing to go stale
        elif was is None:
            problem(line, node, f"not stamped: record what it was translated from (`{node}: {now}` under {STAMPS}:)")
            bad = True
        elif was != now:
            problem(loc.line_of((STAMPS, node)), node,
                    f"stale translation: its English changed since it was translated ({was} -> {now}); translate "
                    f"it again and record `{node}: {now}` under {STAMPS}: (shown in English until then)")
            bad = True
        if not bad:
            result.usable[node] = value
    return result


def _first_path(node: str) -> tuple:
    """Where in an overlay a node would be (``causes.x`` -> ``("causes", "x")``), for the line of a problem."""
    return tuple(node.split(".", 1))


# --- applying the usable nodes ---------------------------------------------------------------------------


def apply(english: dict[str, Any], usable: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of the English mapping with each usable node's texts put in their places."""
    out = copy.deepcopy(english)
    for node, value in usable.items():
        name, _, key = node.partition(".")
        sub = spec.get(name)
        if sub is None:
            continue
        if not key:
            if sub == TEXTS or isinstance(sub, str):
                out[name] = value
            continue
        target = out.get(name)
        if isinstance(sub, ById) and isinstance(target, list):
            item = next((i for i in target if isinstance(i, dict) and i.get(sub.key) == key), None)
            if item is not None:
                _merge(item, value)
        elif isinstance(sub, ByIndex) and isinstance(target, list) and key.isdigit() and int(key) <= len(target):
            _merge(target[int(key) - 1], value)
        elif isinstance(sub, ByKey) and isinstance(target, dict) and key in target:
            if isinstance(sub.fields, str):
                target[key] = value
            else:
                _merge(target[key], value)
    return out


def _merge(target: Any, value: Any) -> None:
    """Put the translated texts of ``value`` into the English mapping ``target`` (lists item by item)."""
    if not isinstance(target, dict) or not isinstance(value, dict):
        return
    for name, translated in value.items():
        if isinstance(translated, list) and isinstance(target.get(name), list):
            for item, item_value in zip(target[name], translated):
                _merge(item, item_value)
        elif isinstance(translated, dict) and isinstance(target.get(name), dict):
            target[name].update(translated)
        elif name == "message" and isinstance(translated, dict):
            target[name] = translated
        else:
            target[name] = translated


# --- recording what a translation was translated from ------------------------------------------------------


_STAMPS_KEY = re.compile(rf"^([\"']?){re.escape(STAMPS)}\1[ \t]*:")


def stamped_text(text: str, english: Any, spec: dict[str, Any], data: Any) -> str:
    """``text`` (an overlay file in block style whose parsed content is ``data``) with its ``translated-from:``
    block rewritten in place (or added at the end): a stamp of today's English for every part it
    translates. Every other line stays as written, comments and line endings included."""
    current = nodes(english, spec)
    translated = overlay_nodes(data, spec)
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _STAMPS_KEY.match(line)), None)
    if start is None:
        at = len(lines)
        while at and not lines[at - 1].strip():
            at -= 1
        if at and lines[at - 1].strip() == "...":       # an explicit end of the document stays the end
            at -= 1
        before, after = lines[:at], lines[at:]
    else:
        stop = start + 1
        while stop < len(lines) and (not lines[stop].strip() or lines[stop][0] in " \t"):
            stop += 1
        before, after = lines[:start], lines[stop:]
    block = [f"{STAMPS}:",
             "  # what each part was translated from, recorded by `diagnose lint --stamp`; a part whose",
             "  # English changed since is stale (lint says so, runs show it in English)"]
    block += [f'  {node}: "{stamp(current[node])}"' for node in translated
              if node in current and spec.get(node) != TEXTS]
    if len(block) == 3:
        block = []
    while before and not before[-1].strip():
        before.pop()
    return newline.join(before + block + after) + newline


def stamp_file(overlay: Path) -> int:
    """Record in ``overlay`` that each part it translates is translated from today's English (written
    atomically, through a symbolic link to the file it names, its permissions kept); how many parts it
    stamped. :class:`StampError` names the file and why not."""
    from diagnose.kb.yamlsrc import YamlError, load

    if not is_translation(overlay):
        raise StampError(f"{overlay}: not a translation (expected <entry>.<lang>.yaml, e.g. "
                         f"{Path(overlay.stem).stem}.zh.yaml)")
    target = overlay.resolve()
    if not target.is_file():
        raise StampError(f"{overlay}: no such file")
    source = english_of(overlay)        # beside the overlay in its pack, wherever a link leads
    if not source.is_file():
        raise StampError(f"{overlay}: its English {source.name} is not there")
    mode = stat.S_IMODE(target.stat().st_mode)
    if not mode & stat.S_IWUSR:
        raise StampError(f"{overlay}: the file is read-only (make it writable to stamp it)")
    try:
        english, data = load(source).data, load(target).data
        with open(target, encoding="utf-8", newline="") as file:     # its own line endings, as they are
            text = file.read()
    except (YamlError, UnicodeDecodeError) as exc:
        raise StampError(str(exc) if isinstance(exc, YamlError) else f"{overlay}: not UTF-8 text") from None
    if data is not None and not isinstance(data, dict):
        raise StampError(f"{overlay}: not a mapping of translated parts")
    body = [x for x in text.splitlines() if x.strip() and not x.lstrip().startswith("#") and x.strip() != "---"]
    if body and body[0].lstrip().startswith("{"):
        raise StampError(f"{overlay}: written as one flow mapping ({{...}}); write it one key a line (block style) "
                         "to stamp it")
    spec = PACK if source.name == "pack.yaml" else ENTRY
    new = stamped_text(text, english, spec, data or {})
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as out:
            out.write(new)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StampError(f"{overlay}: cannot write ({exc.strerror})") from None
    return sum(1 for node in overlay_nodes(data or {}, spec) if node in nodes(english, spec) and spec.get(node) != TEXTS)


class StampError(Exception):
    """An overlay that cannot be stamped: one line naming it."""
