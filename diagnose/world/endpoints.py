"""Which stand-in plays an endpoint of an example world, from the keys of its spec.

``routes`` / ``websocket`` -> :class:`diagnose.world.http.WorldHTTPServer` (one port for both);
``refuse`` / ``silent`` / ``tcp`` (with an optional ``scheme``) -> :mod:`diagnose.world.tcp`;
``uvicorn`` -> :class:`diagnose.world.uvicorn.SeedBackend`, the seed's backend under real uvicorn
(its output is a log source of the world).
Each stand-in is bound when made (its ``url`` is known), serves after ``start()`` and is gone
after ``stop()``, which is safe to call at any point - also when a build failed half way.
"""

from __future__ import annotations

from typing import Any

from diagnose.world import http, tcp
from diagnose.world.specs import fail, known_keys, mapping

KEYS = http.SECTIONS + tcp.MODES + ("scheme", "uvicorn")


def validate(name: str, spec: Any) -> None:
    """Raise a one-line WorldSpecError (a ValueError) naming endpoint and key if ``spec`` is wrong."""
    where = f"endpoint {name}"
    spec = mapping(where, spec, "a mapping such as {routes: {...}} or {refuse: true}")
    known_keys(where, spec, KEYS)
    if not spec:
        raise fail(where, f"say what it does: {', '.join(KEYS)}")
    if "uvicorn" in spec:
        from diagnose.world import uvicorn

        if len(spec) > 1:
            raise fail(where, "uvicorn plays the whole endpoint: give nothing else beside it")
        uvicorn.validate(name, spec["uvicorn"])
    elif tcp.is_tcp_spec(spec):
        tcp.validate(name, spec)
    elif "scheme" in spec:
        raise fail(where, "scheme goes only with refuse, silent or tcp (routes are served over http)")
    else:
        http.validate(name, spec)


def make(name: str, spec: dict[str, Any], logs_dir: Any = None) -> Any:
    """The bound, not yet started stand-in for endpoint ``name``: has ``url``, ``start()``, ``stop()``
    (a ``uvicorn`` one also ``log_name`` and ``log_path``, in ``logs_dir``)."""
    validate(name, spec)
    if "uvicorn" in spec:
        from diagnose.world.uvicorn import SeedBackend

        return SeedBackend(name, spec["uvicorn"], logs_dir)
    if tcp.is_tcp_spec(spec):
        return tcp.make(name, spec)
    return http.WorldHTTPServer(spec, name)
