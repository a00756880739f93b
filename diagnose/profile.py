"""The target profile: where this deployment's databases, logs, env files and endpoints are.

The knowledge base names sources (``database: trading``); the profile (``diagnose.yaml``,
``--profile FILE`` or ``$DIAGNOSE_PROFILE``) maps those names to places, and single flags
(``--dsn trading=...``) override entries. ``${VAR}`` / ``${VAR:-default}`` expand from the
environment so secrets need not be written into the file.
"""

from __future__ import annotations

import os
import re
import shlex
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnose import safe_regex
from diagnose.checks.base import CheckError, SkipCheck
from diagnose.sources import LogSpec

KINDS = ("databases", "logs", "env", "endpoints")
SINGULAR = {"databases": "database", "logs": "log", "env": "env file", "endpoints": "endpoint"}
FLAGS = {"databases": "--dsn", "logs": "--log", "env": "--env-file", "endpoints": "--endpoint"}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "databases": {"type": "object", "additionalProperties": {"type": "string"},
                      "description": "name -> PostgreSQL DSN (postgresql://user:pass@host:5432/db)"},
        "logs": {"type": "object", "description": "name -> path, glob, list of them, or {command: ...}",
                 "additionalProperties": {"anyOf": [
                     {"type": "string"}, {"type": "array", "items": {"type": "string"}},
                     {"type": "object", "additionalProperties": False, "properties": {
                         "paths": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                         "command": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                         "timezone": {"type": "string"}, "rotated": {"type": "boolean"},
                         "window": {"type": "boolean", "description": (
                             "false: never add --since/--timestamps to a known log command "
                             "(docker/podman/kubectl logs, journalctl)")}}}]}},
        "env": {"type": "object", "description": "name -> .env file path, or {process: true} for this process's environment",
                "additionalProperties": {"anyOf": [{"type": "string"}, {
                    "type": "object", "additionalProperties": False, "properties": {"process": {"const": True}}}]}},
        "endpoints": {"type": "object", "additionalProperties": {"type": "string"},
                      "description": "name -> base URL (http://127.0.0.1:8000) or host:port"},
        "timezone": {"type": "string", "description": "zone of log timestamps that carry none (default: local)"},
        "mask": {"type": "array", "items": {"type": "string", "format": "regex"},
                 "description": "extra regexes whose matches are masked in reports"},
        "approvers": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 500},
                      "description": "role (the pack's `approvers`) -> the people or channel who sign off its "
                                     "steps, shown beside every trading or outage step"},
    },
}


class ProfileError(Exception):
    """A profile that cannot be used; the message names file, line and field."""


@dataclass
class Profile:
    sources: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: {} for k in KINDS})
    path: Path | None = None
    timezone: str | None = None
    mask: list[str] = field(default_factory=list)
    #: role -> who signs off (people or a channel), for the steps that name the role
    approvers: dict[str, str] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        """What the report shows of the profile (secrets are masked later, by the report)."""
        out: dict[str, Any] = {"file": str(self.path) if self.path else None}
        for kind in KINDS:
            out[kind] = {name: (value if isinstance(value, (str, list)) else dict(value))
                         for name, value in self.sources[kind].items()}
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

        errors = sorted(Draft202012Validator(SCHEMA).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
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
                      approvers=dict(data.get("approvers") or {}))
    for kind in KINDS:
        for name, value in (data.get(kind) or {}).items():
            profile.sources[kind][name] = value
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

    from diagnose.kb.loader import cache_dir

    try:
        text = json.dumps(data, sort_keys=True, default=str)
    except (TypeError, ValueError):  # {1: a, b: c} cannot sort its keys
        return None
    return cache_dir() / "profiles" / hashlib.sha256(text.encode()).hexdigest()


def _validated_before(data: Any) -> bool:
    """A profile whose exact content passed validation before skips jsonschema (~80 ms to import)."""
    marker = _marker(data)
    return marker is not None and marker.is_file()


def _remember_valid(data: Any) -> None:
    try:
        marker = _marker(data)
        if marker is not None:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
    except OSError:  # a read-only cache only costs speed
        pass


def apply_overrides(profile: Profile, kind: str, pairs: tuple[str, ...], option: str) -> None:
    """``--dsn trading=postgresql://...``: NAME=VALUE pairs replace single entries."""
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value:  # the value is not echoed: it may well be a password
            what = f"{option} {name.strip()}=" if sep and name else f"a {option} value"
            raise ProfileError(f"{what}: expected NAME=VALUE, e.g. {option} trading=... (the value is not shown)")
        profile.sources[kind][name.strip()] = value.strip()


def expand(value: str, where: str) -> str:
    """Expand ``${VAR}`` and ``${VAR:-default}``; an unset variable skips the check that needs it."""

    def sub(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise SkipCheck(f"{where} uses ${{{name}}}, which is not set in the environment")

    return _VAR.sub(sub, value)


def parse_env_file(path: Path) -> dict[str, str]:
    """A ``.env`` file as docker compose reads it (:mod:`diagnose.envfile`); errors name file and line."""
    from diagnose.envfile import EnvFileError, read
    from diagnose.files import NOT_REGULAR, NotRegularFile

    try:
        return read(path)
    except FileNotFoundError:
        raise CheckError(f"env file {path} does not exist") from None
    except NotRegularFile:
        raise CheckError(f"env file {path}: {NOT_REGULAR}") from None
    except EnvFileError as exc:
        raise CheckError(str(exc)) from None
    except OSError as exc:
        raise CheckError(f"env file {path}: cannot read ({exc.strerror})") from None


class Resolver:
    """Turns ``(kind, name)`` into a usable source, remembering the DSNs and env values it read
    so the report's :class:`~diagnose.masking.Masker` can learn their secrets."""

    def __init__(self, profile: Profile):
        self.profile = profile
        self.dsns: list[str] = []
        self._env: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def base_dir(self) -> Path:
        return self.profile.path.parent if self.profile.path else Path.cwd()

    def __call__(self, kind: str, name: str) -> Any:
        value = self.profile.sources.get(kind, {}).get(name)
        if value is None:
            raise SkipCheck(f"{SINGULAR[kind]} '{name}' is not configured "
                            f"(add it under '{kind}:' in the profile, or pass {FLAGS[kind]} {name}=...)")
        where = f"{SINGULAR[kind]} '{name}'"
        if kind == "databases":
            dsn = expand(value, where)
            self.dsns.append(dsn)
            return dsn
        if kind == "endpoints":
            return expand(value, where)
        if kind == "env":
            return self._env_values(name, value, where)
        return self._log(name, value, where)

    def _env_values(self, name: str, value: Any, where: str) -> dict[str, str]:
        with self._lock:
            if name not in self._env:
                if isinstance(value, dict) and value.get("process"):
                    values = dict(os.environ)
                else:
                    values = parse_env_file(self._path(expand(value, where)))
                self._env[name] = values
            return self._env[name]

    def _path(self, text: str) -> Path:
        path = Path(os.path.expanduser(text))
        return path if path.is_absolute() else self.base_dir() / path

    def _log(self, name: str, value: Any, where: str) -> LogSpec:
        spec = value if isinstance(value, dict) else {"paths": value}
        paths = spec.get("paths") or []
        paths = [paths] if isinstance(paths, str) else list(paths)
        command = spec.get("command")
        if isinstance(command, str):
            command = shlex.split(expand(command, where))
        return LogSpec(name=name, paths=tuple(str(self._path(expand(p, where))) for p in paths),
                       command=tuple(command) if command else None,
                       timezone=spec.get("timezone") or self.profile.timezone, rotated=spec.get("rotated", True),
                       window=spec.get("window", True))

    def register_secrets(self, masker: Any) -> None:
        """Teach ``masker`` the secrets of every configured source, so a report masks them even
        where no check read them (a key from an env file quoted in a log line): DSN and endpoint
        passwords, credentials on log commands, secret-looking keys of env files (all that can be
        read of a file that does not parse, the failure itself is the check's to report)."""
        register_profile_secrets(self.profile.sources, masker, self._path)
        for dsn in self.dsns:
            masker.add_dsn(dsn)


def register_profile_secrets(sources: dict[str, dict[str, Any]], masker: Any, path_of: Any = None) -> None:
    """The secrets of the sources of a profile (also of one that failed validation: its error
    message may quote them). ``path_of`` turns an env file's name into a path (None: no env files)."""
    from diagnose.envfile import parse
    from diagnose.files import read_regular_text

    def expanded(value: Any) -> str | None:
        try:
            return expand(value, "profile") if isinstance(value, str) else None
        except SkipCheck:
            return None

    for value in (sources.get("databases") or {}).values():
        if expanded(value):
            masker.add_dsn(expanded(value))
    for value in (sources.get("endpoints") or {}).values():
        if expanded(value):
            masker.add_url(expanded(value))
    for value in (sources.get("logs") or {}).values():
        command = value.get("command") if isinstance(value, dict) else None
        if isinstance(command, list):
            masker.add_command([expanded(c) or "" for c in command])
        elif expanded(command):
            masker.add_command(expanded(command))
    for value in (sources.get("env") or {}).values():
        if isinstance(value, dict) and value.get("process"):
            masker.add_env(dict(os.environ))
        elif path_of is not None and expanded(value):
            try:
                parsed = parse(read_regular_text(path_of(expanded(value)), errors="replace"))
            except OSError:   # missing, unreadable, or a FIFO that would block for ever
                continue
            masker.add_env(parsed.values, parsed.unterminated)
