"""diagnose's cache folder: what it derives from a pack, a profile or a query and keeps between runs.

Everything here can be rebuilt from its sources, so the cache is best effort: a read-only home or a
full disk costs the next run some speed, never a failure. Each file is named after everything that
could change its content (a digest of the files it was derived from, the code's own version), so a
stale file is never read, only left behind.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    """``$DIAGNOSE_CACHE_DIR``, else ``$XDG_CACHE_HOME/diagnose``, else ``~/.cache/diagnose``."""
    if os.environ.get("DIAGNOSE_CACHE_DIR"):
        return Path(os.environ["DIAGNOSE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "diagnose"


def write_cache_file(target: Path, data: Any) -> None:
    """``data`` as JSON at ``target`` in the cache folder, atomically (a reader never sees half a file). Best
    effort: a read-only home or a full disk only costs the next run some speed, never a failure."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # one temporary name per process and thread: two writers never share a half-written file
        tmp = target.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, target)
    except OSError:
        pass
