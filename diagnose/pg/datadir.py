"""Where a throwaway data directory lives, and the cached initdb result that makes it quick.

initdb is most of a cold start (about 1 s on tmpfs, 3 s on a slow disk); copying a cached
result of it takes about 0.1 s. The cache is keyed by the binaries and the initdb options.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from .binaries import Binaries

INITDB_OPTIONS = ("--auth=trust", "-U", "postgres", "--encoding=UTF8", "--locale=C", "--no-sync")
MIN_SHM_FREE = 1 << 30  # bytes free in /dev/shm before we put a data directory there


def base_dir_parent(for_other_user: bool) -> str:
    """Where the temporary directory goes: ``DIAGNOSE_PG_TMP``, else RAM (/dev/shm), else temp.

    A tmpfs makes initdb two to three times faster than a disk. /dev/shm is used only with
    room to spare (Docker gives 64 MB by default); the server user must be able to reach it.
    """
    chosen = os.environ.get("DIAGNOSE_PG_TMP")
    if chosen:
        return chosen
    candidates = ["/dev/shm", tempfile.gettempdir(), "/tmp", "/var/tmp"]
    for parent in candidates:
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
            continue
        if parent == "/dev/shm":
            stats = os.statvfs(parent)
            if stats.f_bavail * stats.f_frsize < MIN_SHM_FREE:
                continue
        if for_other_user and not all(os.stat(p).st_mode & 0o001 for p in [parent, *map(str, Path(parent).parents)]):
            continue
        return parent
    return tempfile.gettempdir()


def template_dir(binaries: Binaries) -> Path | None:
    """Where the initdb result for these binaries is cached (``None``: no safe place).

    The cache must be ours and writable only by us: a data directory planted by someone
    else could configure the server to run their commands.
    """
    if os.environ.get("DIAGNOSE_PG_CACHE") == "off":
        return None
    root = Path(os.environ.get("DIAGNOSE_PG_CACHE") or Path(tempfile.gettempdir()) / f"diagnose-pg-cache-{os.geteuid()}")
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = root.stat()
    except OSError:
        return None
    if info.st_uid != os.geteuid() or info.st_mode & 0o022:
        return None
    postgres = (binaries.bin_dir / "postgres").stat()
    key = hashlib.sha256(f"{binaries.version}:{postgres.st_size}:{postgres.st_mtime_ns}:{INITDB_OPTIONS}".encode())
    return root / f"initdb-{binaries.version}-{key.hexdigest()[:12]}"


def save_template(data_dir: Path, template: Path) -> None:
    """Keep a copy of a fresh data directory (atomically; a failure only costs speed)."""
    staging = template.with_name(f"{template.name}.{os.getpid()}.tmp")
    try:
        shutil.copytree(data_dir, staging, symlinks=True)
        staging.rename(template)
    except OSError:
        pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)
