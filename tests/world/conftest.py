"""Helpers for world tests: a minimal pack (the reference schemas only), worlds built for real,
and check contexts that resolve every source name to one value."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from diagnose.checks import load_kind
from diagnose.checks.base import Context
from diagnose.kb.model import Example, Pack
from diagnose.world.build import World

CHECKS_DIR = Path(__file__).resolve().parents[2] / "checks"


@pytest.fixture(scope="session")
def schema_pack() -> Pack:
    """A pack with no entries, only the reference schemas of the built-in one."""
    return Pack(root=CHECKS_DIR, name="world-tests", version="0", site_url="https://diagnose.invalid",
                digest="-", sources={}, reference_schemas={"trading": CHECKS_DIR / "schemas/trading.sql",
                                                           "desk": CHECKS_DIR / "schemas/desk.sql"})


def example(world: dict, name: str = "case") -> Example:
    return Example(name=name, verdict="problem", causes=(), world=world)


@pytest.fixture
def build_world(pg_server, schema_pack, tmp_path):
    """``build_world({...})`` -> an entered World, closed after the test (if the test did not)."""
    opened: list[World] = []

    def build(world: dict, name: str = "case") -> World:
        w = World(schema_pack, example(world, name), pg_server, tmp_path / f"world-{len(opened)}")
        opened.append(w)
        return w.__enter__()

    yield build
    for w in opened:
        w.close()


@pytest.fixture
def probe():
    """``probe("websocket", url, path=..., expect=...)``: the real check kind, every source -> ``url``."""

    def run(kind: str, url: str, timeout: float = 3, **check):
        ctx = Context(timeout=timeout, now=datetime.now(timezone.utc), resolve=lambda _kind, _name: url)
        return load_kind(kind).run({"id": "probe", "kind": kind, "endpoint": "x", **check}, ctx)

    return run
