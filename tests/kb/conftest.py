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


#: the entry most lint tests break a copy of
ENTRY = "data/stale-positions.yaml"


def problems_after(pack_copy: Path, *edits: tuple[str, str]) -> list[str]:
    """Every problem loading ``pack_copy`` reports once ``edits`` (old, new) are made to :data:`ENTRY`."""
    from diagnose.kb.loader import KnowledgeBaseError, load_pack

    for old, new in edits:
        edit(pack_copy / ENTRY, old, new)
    with pytest.raises(KnowledgeBaseError) as info:
        load_pack(pack_copy)
    return [str(p) for p in info.value.problems]
