import shutil
from pathlib import Path

import pytest

from diagnose.kb.loader import builtin_root


@pytest.fixture
def pack_copy(tmp_path, monkeypatch) -> Path:
    """A private copy of the built-in pack that a test may break; caching off."""
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "checks"
    shutil.copytree(builtin_root(), root)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))
