"""The target profile: where this deployment's databases, logs, env files and endpoints are.

The knowledge base names sources (``database: trading``); the profile (``diagnose.yaml``,
``--profile FILE`` or ``$DIAGNOSE_PROFILE``) maps those names to places, and single flags
(``--dsn trading=...``) override entries. ``${VAR}`` / ``${VAR:-default}`` expand from the
environment so secrets need not be written into the file.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from diagnose import safe_regex
from diagnose.failures import SkipCheck
from diagnose.sources.base import Masker
from diagnose.sources.base import expand  # noqa: F401 (re-exported: callers expand profile values)
from diagnose.sources.env import parse_env_file  # noqa: F401 (re-exported)


def sections() -> tuple[str, ...]:
    """The profile sections of every source type (``databases``, ``logs``, ``env``, ``endpoints``, plugins')."""
    from diagnose.sources import source_types

    return tuple(source_types())


def schema() -> dict[str, Any]:
    """The profile's JSON Schema: one section per source type (each with its type's value schema), and the
    settings that are not sources."""
    from diagnose.sources import source_types

    sources = {section: {"type": "object", "additionalProperties": module.SCHEMA,
                         "description": f"name -> {module.SCHEMA.get('description', 'where it is')}"}
               for section, module in source_types().items()}
    return {"type": "object", "additionalProperties": False, "properties": {**sources, **OTHER_FIELDS}}


#: the fields of a profile that are not source sections
OTHER_FIELDS: dict[str, Any] = {
        "timezone": {"type": "string", "description": "zone of log timestamps that carry none (default: local)"},
        "mask": {"type": "array", "items": {"type": "string", "format": "regex"},
                 "description": "extra regexes whose matches are masked in reports"},
        "packs": {"type": "array", "items": {"type": "string", "minLength": 1},
                  "description": "knowledge-base folders used with the built-in pack, relative to this file "
                                 "(as --checks; ids and aliases may not clash)"},
        "settings": {"type": "object", "description": (
                         "entry id -> setting name -> value: this deployment's thresholds where they differ from "
                         "the entry's defaults (its FAQ page lists them); an unknown entry or setting, or a value "
                         "of the wrong type, is an error"),
                     "additionalProperties": {"type": "object", "additionalProperties": {
                         "type": ["string", "number", "boolean"]}}},
        "approvers": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 500},
                      "description": "role (the pack's `approvers`) -> the people or channel who sign off its "
                                     "steps, shown beside every trading or outage step"},
}


class ProfileError(Exception):
    """A profile that cannot be used; the message names file, line and field."""


@dataclass
class Profile:
    sources: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: {} for k in sections()})
    path: Path | None = None
    timezone: str | None = None
    mask: list[str] = field(default_factory=list)
    #: role -> who signs off (people or a channel), for the steps that name the role
    approvers: dict[str, str] = field(default_factory=dict)
    #: entry id -> setting name -> value (the entries' thresholds for this deployment)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: line of each ``settings`` key in the file, ``("settings", entry[, name])`` -> line, for errors
    setting_lines: dict[tuple, int] = field(default_factory=dict)
    #: knowledge-base folders this deployment adds to the built-in pack (``packs:``, resolved)
    packs: list[Path] = field(default_factory=list)

    def where(self, path: tuple) -> str:
        """``file:line: `` of a key of the profile (``""`` for a profile without a file)."""
        if self.path is None:
            return ""
        return f"{self.path}:{self.setting_lines.get(path, 1)}: "

    def view(self) -> dict[str, Any]:
        """What the report shows of the profile (secrets are masked later, by the report)."""
        out: dict[str, Any] = {"file": str(self.path) if self.path else None}
        for kind in sections():
            out[kind] = {name: (value if isinstance(value, (str, list)) else dict(value))
                         for name, value in self.sources.get(kind, {}).items()}
        return out


def load_profile(path: str | Path | None) -> Profile:
    """Load ``path``; ``None`` means ``$DIAGNOSE_PROFILE`` or ``./diagnose.yaml`` if present."""
    if path is None:
        path = os.environ.get("DIAGNOSE_PROFILE") or ("diagnose.yaml" if Path("diagnose.yaml").is_file() else None)
    if path is None:
        return Profile()
    path = Path(path)
    from diagnose.kb.yamlsrc import YamlError, format_path, load

    from diagnose.files import NOT_REGULAR, NotRegularFile, read_regular_text

    try:
        text = read_regular_text(path)   # a FIFO would block open() for ever, deaf to signals
    except NotRegularFile:
        raise ProfileError(f"--profile {path}: {NOT_REGULAR}") from None
    except FileNotFoundError:
        raise ProfileError(f"{path}: profile file not found") from None
    except UnicodeDecodeError as exc:
        raise ProfileError(f"{path}:1: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ProfileError(f"{path}:1: cannot read: {exc.strerror}") from None
    try:
        loc = load(path, text)
    except YamlError as exc:
        raise ProfileError(str(exc)) from None
    if loc.problems:
        p, message = loc.problems[0]
        raise ProfileError(f"{path}:{loc.line_of(p)}: {format_path(p)}: {message}")
    data = loc.data or {}
    if not _validated_before(data):
        from jsonschema import Draft202012Validator

        errors = sorted(Draft202012Validator(schema()).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            e = errors[0]
            where = tuple(e.absolute_path)
            raise ProfileError(f"{path}:{loc.line_of(where)}: {format_path(where)}: {_without_value(e)}")
        _remember_valid(data)
    for i, pattern in enumerate(data.get("mask") or []):
        try:
            safe_regex.compile(pattern)   # also refuses what could backtrack for ever and RE2 cannot run
        except (re.error, OverflowError) as exc:  # OverflowError: a{99999999999}
            raise ProfileError(f"{path}:{loc.line_of(('mask', i))}: mask[{i}]: invalid regex {pattern!r:.60}: {exc}") from None
    profile = Profile(path=path, timezone=data.get("timezone"), mask=list(data.get("mask") or []),
                      approvers=dict(data.get("approvers") or {}),
                      packs=[path.parent / Path(p).expanduser() for p in data.get("packs") or []])
    for i, pack in enumerate(profile.packs):
        if not pack.is_dir():
            what = "is a file, not" if pack.exists() else "does not exist: give"
            raise ProfileError(f"{path}:{loc.line_of(('packs', i))}: packs[{i}]: {pack} {what} a knowledge-base "
                               "folder (pack.yaml and <category>/<id>.yaml files), relative to this profile")
    for kind in sections():
        for name, value in (data.get(kind) or {}).items():
            profile.sources[kind][name] = value
    for entry, values in (data.get("settings") or {}).items():
        profile.settings[entry] = dict(values or {})
        profile.setting_lines[("settings", entry)] = loc.line_of(("settings", entry))
        for name in profile.settings[entry]:
            profile.setting_lines[("settings", entry, name)] = loc.line_of(("settings", entry, name))
    return profile


def _without_value(error: Any) -> str:
    """A schema error's message without the value it is about (``{'dsn': 'postgresql://u:pw@...'}
    is not of type 'string'``): the line and field already say where, and the value may be a password."""
    message = error.message
    if isinstance(error.instance, (str, list, dict)):
        shown = repr(error.instance)
        message = message.replace(shown, "this value") if shown in message else message
    return message


def _marker(data: Any) -> Path | None:
    """Cache marker of ``data``; ``None`` when it cannot be serialised (keys of mixed types)."""
    import hashlib
    import json

    from diagnose.cache import cache_dir

    try:
        text = json.dumps(data, sort_keys=True, default=str)
    except (TypeError, ValueError):  # {1: a, b: c} cannot sort its keys
        return None
    return cache_dir() / "profiles" / hashlib.sha256(text.encode()).hexdigest()


def _validated_before(data: Any) -> bool:
    """A profile whose exact content passed validation before skips jsonschema (~80 ms to import); a marker
    someone else could have written does not count (:func:`diagnose.cache.read_cache_file`)."""
    from diagnose.cache import read_cache_file

    marker = _marker(data)
    return marker is not None and read_cache_file(marker) is True


def _remember_valid(data: Any) -> None:
    from diagnose.cache import write_cache_file   # best effort: a read-only cache only costs speed

    marker = _marker(data)
    if marker is not None:
        write_cache_file(marker, True)


def apply_overrides(profile: Profile, kind: str, pairs: tuple[str, ...], option: str) -> None:
    """``--dsn trading=postgresql://...``: NAME=VALUE pairs replace single entries."""
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value:  # the value is not echoed: it may well be a password
            what = f"{option} {name.strip()}=" if sep and name else f"a {option} value"
            raise ProfileError(f"{what}: expected NAME=VALUE, e.g. {option} trading=... (the value is not shown)")
        profile.sources[kind][name.strip()] = value.strip()


class Resolver:
    """Turns ``(section, name)`` into what check kinds read, through the source type of the section
    (:mod:`diagnose.sources`), remembering the secrets it read so the report's
    :class:`~diagnose.masking.Masker` can learn them. It is the :class:`~diagnose.sources.base.Place` a
    source type resolves in."""

    def __init__(self, profile: Profile):
        self.profile = profile
        self.dsns: list[str] = []
        self.urls: list[str] = []
        self._once: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def base_dir(self) -> Path:
        return self.profile.path.parent if self.profile.path else Path.cwd()

    def __call__(self, kind: str, name: str) -> Any:
        from diagnose.sources import source_types

        source = source_types().get(kind)
        value = self.profile.sources.get(kind, {}).get(name)
        if source is None or value is None:
            noun, flag = (source.NOUN, source.FLAG) if source else (kind, "--<source>")
            raise SkipCheck(f"{noun} '{name}' is not configured "
                            f"(add it under '{kind}:' in the profile, or pass {flag} {name}=...)")
        return source.resolve(name, value, f"{source.NOUN} '{name}'", self)

    # the Place protocol of diagnose.sources.base
    def path(self, text: str) -> Path:
        path = Path(os.path.expanduser(text))
        return path if path.is_absolute() else self.base_dir() / path

    def once(self, key: tuple[str, str], make: Any) -> Any:
        with self._lock:
            if key not in self._once:
                self._once[key] = make()
            return self._once[key]

    def secret(self, how: str, value: str) -> None:
        with self._lock:
            (self.dsns if how == "dsn" else self.urls).append(value)

    @property
    def timezone(self) -> str | None:
        return self.profile.timezone

    def register_secrets(self, masker: Masker) -> None:
        """Teach ``masker`` the secrets of every configured source, so a report masks them even
        where no check read them (a key from an env file quoted in a log line): DSN and endpoint
        passwords, credentials on log commands, secret-looking keys of env files (all that can be
        read of a file that does not parse, the failure itself is the check's to report)."""
        register_profile_secrets(self.profile.sources, masker, self.path)
        for dsn in self.dsns:
            masker.add_dsn(dsn)
        for url in self.urls:
            masker.add_url(url)


def register_profile_secrets(sources: dict[str, dict[str, Any]], masker: Masker,
                             path_of: Callable[[str], Path] | None = None) -> None:
    """The secrets of the sources of a profile (also of one that failed validation: its error
    message may quote them). ``path_of`` turns an env file's name into a path (None: no env files)."""
    from diagnose.sources import source_types

    for section, source in source_types().items():
        for value in (sources.get(section) or {}).values():
            source.secrets(value, masker, path_of)
