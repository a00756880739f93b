"""Which stand-in plays an endpoint of an example world, from the keys of its spec.

``routes`` / ``websocket`` -> :class:`diagnose.world.http.WorldHTTPServer` (one port for both);
``refuse`` / ``silent`` / ``tcp`` (with an optional ``scheme``) -> :mod:`diagnose.world.tcp`.
Each stand-in is bound when made (its ``url`` is known), serves after ``start()`` and is gone
after ``stop()``, which is safe to call at any point - also when a build failed half way.
"""

from __future__ import annotations

from typing import Any

from diagnose.world import http, tcp
from diagnose.world.specs import fail, known_keys, mapping

KEYS = http.SECTIONS + tcp.MODES + ("scheme",)


def validate(name: str, spec: Any) -> None:
    """Raise a one-line WorldSpecError (a ValueError) naming endpoint and key if ``spec`` is wrong."""
    where = f"endpoint {name}"
    spec = mapping(where, spec, "a mapping such as {routes: {...}} or {refuse: true}")
    known_keys(where, spec, KEYS)
    if not spec:
        raise fail(where, f"say what it does: {', '.join(KEYS[:-1])}")
    if tcp.is_tcp_spec(spec):
        tcp.validate(name, spec)
    elif "scheme" in spec:
        raise fail(where, "scheme goes only with refuse, silent or tcp (routes are served over http)")
    else:
        http.validate(name, spec)


def make(name: str, spec: dict[str, Any]) -> Any:
    """The bound, not yet started stand-in for endpoint ``name``: has ``url``, ``start()``, ``stop()``."""
    validate(name, spec)
    if tcp.is_tcp_spec(spec):
        return tcp.make(name, spec)
    return http.WorldHTTPServer(spec, name)
