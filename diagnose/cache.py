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


def trusted(path: Path) -> bool:
    """May a run believe ``path``: a file of this user's, in a folder of this user's, that no one else may write
    (as ssh judges its own files)? A cache shared with others (``$DIAGNOSE_CACHE_DIR`` on a group folder), or a
    root run reading a user's cache (``sudo`` keeps ``$HOME``), is then read as missing: whatever it says is
    worked out again, never taken from someone who could have forged it."""
    try:
        uid = os.geteuid()
    except AttributeError:   # not POSIX: no owners to compare
        return path.is_file()
    try:
        for item in (path, path.parent):
            info = item.stat()
            if info.st_uid != uid or info.st_mode & 0o022:
                return False
    except OSError:
        return False
    return True


def read_cache_file(path: Path) -> Any | None:
    """What :func:`write_cache_file` wrote at ``path``; None when there is nothing to believe there: no file, a
    file that is not JSON, or one someone else could have written (:func:`trusted`). Every reader of the cache
    goes through here, so none of them takes a forged file for its own work."""
    if not trusted(path):
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_cache_file(target: Path, data: Any) -> None:
    """``data`` as JSON at ``target`` in the cache folder, atomically (a reader never sees half a file). Best
    effort: a read-only home or a full disk only costs the next run some speed, never a failure."""
    try:
        target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        # one temporary name per process and thread: two writers never share a half-written file
        tmp = target.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.chmod(tmp, 0o644)   # whatever the umask: a file others may write would not be trusted (trusted())
        os.replace(tmp, target)
    except OSError:
        pass
