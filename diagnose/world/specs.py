"""Checks on the parts of an example world that become servers and held sessions.

The pack schema checks example files as they load, but worlds are also merged (the stack's
faults over its baseline) and built from code. Either way a typo must end as ONE line that
names the endpoint and the key (``endpoint backend: websocket /ws/positions: unknown key
'replay' ...``), which the self-test prints as a broken example - never a traceback from
inside a server thread. So every spec is checked, and turned into plain values, before
anything is started.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class WorldSpecError(ValueError):
    """An example world that cannot be built as written; the message is one line."""


def fail(where: str, message: str) -> WorldSpecError:
    return WorldSpecError(f"{where}: {message}")


def mapping(where: str, value: Any, what: str = "a mapping") -> dict[str, Any]:
    """``value`` as a dict (``None`` -> empty), else an error naming ``where``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(where, f"must be {what}, not {_shown(value)}")
    return value


def known_keys(where: str, spec: dict[str, Any], allowed: tuple[str, ...] | list[str]) -> None:
    for key in spec:
        if key not in allowed:
            raise fail(where, f"unknown key '{key}' (use {_listed(allowed)})")


def number(where: str, key: str, value: Any, *, minimum: float = 0, maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(where, f"{key} must be a number, not {_shown(value)}")
    if value < minimum:
        raise fail(where, f"{key} must be at least {minimum:g}, not {value!r}")
    if maximum is not None and value > maximum:
        raise fail(where, f"{key} must be at most {maximum:g}, not {value!r}")
    return float(value)


def integer(where: str, key: str, value: Any, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(where, f"{key} must be a whole number, not {_shown(value)}")
    if not minimum <= value <= maximum:
        raise fail(where, f"{key} must be between {minimum} and {maximum}, not {value}")
    return value


def text(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise fail(where, f"{key} must be a text (quote it in YAML), not {_shown(value)}")
    return value


def flag(where: str, key: str, value: Any) -> None:
    """``key: true`` is the only way to write a behaviour switch."""
    if value is not True:
        raise fail(where, f"{key} must be true, not {_shown(value)} (leave the key out instead)")


def url_path(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise fail(where, f"path must start with '/': {value!r}")
    return value


#: settings a world may not give its server: they are how diagnose starts and reaches it
SERVER_OWNED = ("listen_addresses", "port", "unix_socket_directories", "unix_socket_group", "unix_socket_permissions",
                "data_directory", "config_file", "hba_file", "ident_file", "external_pid_file", "logging_collector")
_SETTING_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")


@dataclass(frozen=True)
class ServerSpec:
    """A world's own PostgreSQL server (``server:``): started with ``settings`` (``-c name=value``)."""

    settings: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """``dedicated server`` or ``dedicated server (max_connections=20)``, for the self-test's output."""
        shown = ", ".join(f"{k}={v}" for k, v in self.settings)
        return f"dedicated server ({shown})" if shown else "dedicated server"


def server_spec(world: dict[str, Any]) -> ServerSpec | None:
    """The world's ``server``: None (the shared server), or the dedicated one it needs.

    ``server: dedicated`` / ``{dedicated: true}``: a server of its own with our usual settings;
    ``server: {settings: {max_connections: 20}}``: one started with those settings (dedicated implied).
    """
    spec = world.get("server")
    if spec is None:
        return None
    if spec == "dedicated":
        return ServerSpec()
    spec = mapping("server", spec, "dedicated or a mapping such as {settings: {max_connections: 20}}")
    known_keys("server", spec, ("dedicated", "settings"))
    if "dedicated" in spec:
        flag("server", "dedicated", spec["dedicated"])
    if "settings" not in spec and "dedicated" not in spec:
        raise fail("server", "give settings ({settings: {max_connections: 20}}) or write server: dedicated")
    settings = []
    for name, value in mapping("server settings", spec.get("settings")).items():
        where = f"server settings {name}"
        if not isinstance(name, str) or not _SETTING_NAME.match(name):
            raise fail("server settings", f"{name!r} is not a setting name (such as max_connections)")
        if name in SERVER_OWNED:
            raise fail(where, "diagnose sets this one itself to start and reach the server")
        if isinstance(value, bool):
            value = "on" if value else "off"
        elif isinstance(value, (int, float)):
            value = str(value)
        elif not isinstance(value, str) or not value or any(ch in value for ch in "\n\r\0"):
            raise fail(where, f"must be a number, a boolean or a one-line text, not {_shown(value)}")
        settings.append((name, value))
    return ServerSpec(tuple(sorted(settings)))


def _shown(value: Any) -> str:
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "a text", list: "a list",
            dict: "a mapping", type(None): "empty"}.get(type(value), type(value).__name__)
    return f"{kind} ({value!r})" if not isinstance(value, (dict, list)) else kind


def _listed(names: tuple[str, ...] | list[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
