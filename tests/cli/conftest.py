import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from diagnose.kb.loader import load_pack
from diagnose.world.build import World

ROOT = Path(__file__).resolve().parents[2]


class Result:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.code, self.out, self.err = proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def diagnose(tmp_path, monkeypatch):
    """Run the real CLI in a subprocess (no TTY), from a scratch working directory."""
    def run(*args: str, timeout: float = 60) -> Result:
        # the environment as it is when the command runs (a test may set LANG after this fixture)
        env = dict(os.environ, DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
        env.pop("DIAGNOSE_PROFILE", None)
        env.pop("DIAGNOSE_CHECKS", None)
        proc = subprocess.run([sys.executable, "-m", "diagnose", *args], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=timeout, stdin=subprocess.DEVNULL)
        assert "Traceback" not in proc.stderr, proc.stderr
        return Result(proc)

    return run


@pytest.fixture(scope="session")
def pack():
    return load_pack()


@pytest.fixture
def world_profile(pg_server, pack, tmp_path):
    """``world_profile(example)`` -> path of a profile pointing at that example, built for real."""
    opened = []

    def build(example) -> Path:
        w = World(pack, example, pg_server, tmp_path / f"world-{len(opened)}-{example.name}")
        opened.append(w.__enter__())
        profile = tmp_path / f"profile-{len(opened)}-{example.name}.yaml"
        profile.write_text(yaml.safe_dump(w.profile.sources))
        return profile

    yield build
    for w in opened:
        w.close()


@pytest.fixture
def world(pack, world_profile):
    """``world("stale-positions", "healthy")`` -> path of a profile pointing at that built example."""

    def build(entry_id: str, example_name: str) -> Path:
        return world_profile(next(x for x in pack.get(entry_id).examples if x.name == example_name))

    return build
