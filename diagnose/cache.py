"""diagnose's cache folder: what it derives from a pack, a profile or a query and keeps between runs.

Everything here can be rebuilt from its sources, so the cache is best effort: a read-only home or a
full disk costs the next run some speed, never a failure. Each file is named after everything that
could change its content (a digest of the files it was derived from, the code's own version), so a
stale file is never read, only left behind.

What is left behind is cleared away: every edit of a pack writes a new validated pack (about 1 MB for the
built-in one), a new explain index and new site files, so an author's cache would grow without end. The
folder is held under ``$DIAGNOSE_CACHE_MAX_MB`` (default :data:`DEFAULT_MAX_MB`): a writer that finds it
larger deletes the files used longest ago (:func:`prune`). A file's modification time is its last use: a
read refreshes it, at most once a day (:data:`TOUCH_AFTER`). Only files the cache writes are ever deleted
(:data:`CACHE_NAMES`), only this user's, and only in a folder the cache made itself, or its default one (it holds a
``CACHEDIR.TAG``, which also tells backup tools to skip it): a ``$DIAGNOSE_CACHE_DIR`` pointed by mistake at a
home or a project loses nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

#: the cache folder's size, in MB, above which the files used longest ago are deleted
DEFAULT_MAX_MB = 128
#: a prune deletes down to this share of the limit, so the writes that follow do not prune again at once
PRUNE_TO = 0.75
#: seconds between two looks at the folder's size (a site build writes hundreds of files: one look is enough)
PRUNE_EVERY = 3600
#: a read refreshes the file's time when it is older than this (seconds): one write a day, not one a run
TOUCH_AFTER = 86400
#: a temporary file this old belongs to a writer that died: deleted whatever the folder's size
STALE_TMP = 3600
#: every name the cache writes (``PREFIX-<hex digits and dashes>.json``, ``profiles/<sha256>``), and the
#: temporary names of a write in progress (:func:`write_cache_file`); nothing else is ever deleted
CACHE_NAMES = re.compile(r"(?:(?:kb|explain|sql-verdicts|site-example|site-search)-[0-9a-f-]+(?=[.])(?:\.json)?"
                         r"|profiles/[0-9a-f]{64})(?P<tmp>\.\d+-\d+\.tmp)?")
#: the mark of a folder the cache made (https://bford.info/cachedir/): only such a folder is pruned
TAG = "CACHEDIR.TAG"
TAG_TEXT = ("Signature: 8a477f597d28d172789f06886806bc55\n"
            "# This file marks diagnose's cache folder: its files are rebuilt when missing.\n")


def cache_dir() -> Path:
    """``$DIAGNOSE_CACHE_DIR``, else ``$XDG_CACHE_HOME/diagnose``, else ``~/.cache/diagnose``."""
    if os.environ.get("DIAGNOSE_CACHE_DIR"):
        return Path(os.environ["DIAGNOSE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "diagnose"


#: diagnose's own package folder (:func:`code_stamp`)
PACKAGE = Path(__file__).resolve().parent


#: the libraries whose version can change what validates (a kind's JSON Schema, PostgreSQL's grammar)
VALIDATING_LIBRARIES = ("jsonschema", "pglast")


@functools.cache
def code_stamp(package: Path = PACKAGE) -> str:
    """What the running code is, as 12 hex digits: the path, size and modification time of every file of
    ``package`` (modules and the data they read, such as the list of volatile PostgreSQL functions), and of the
    top module of each of :data:`VALIDATING_LIBRARIES`. A cache file whose worth depends on the code (a pack
    validated by it) carries this in its name, so an upgrade, or an edit of a checkout, makes it new rather
    than trusting what older code decided. Sizes and times, not contents: about a millisecond a run."""
    import importlib.util

    h = hashlib.sha256()
    files: list[str] = []
    for folder, subfolders, names in os.walk(package):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__" and not d.startswith("."))
        files += [os.path.join(folder, name) for name in sorted(names)]
    for library in VALIDATING_LIBRARIES:
        try:
            spec = importlib.util.find_spec(library)
        except (ImportError, ValueError):
            spec = None
        files.append(spec.origin if spec is not None and spec.origin else f"<no {library}>")
    for path in files:
        try:
            info = os.stat(path)
            h.update(f"{path}:{info.st_size}:{info.st_mtime_ns}\0".encode())
        except OSError:
            h.update(f"{path}:?\0".encode())
    return h.hexdigest()[:12]


def trusted(path: Path) -> bool:
    """May a run believe ``path``: a file of this user's, in a folder of this user's, that no one else may write
    (as ssh judges its own files)? A cache shared with others (``$DIAGNOSE_CACHE_DIR`` on a group folder), or a
    root run reading a user's cache (``sudo`` keeps ``$HOME``), is then read as missing: whatever it says is
    worked out again, never taken from someone who could have forged it."""
    uid = _uid()
    if uid is None:   # not POSIX: no owners to compare
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
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    _used(path)
    return data


def write_cache_file(target: Path, data: Any) -> None:
    """``data`` as JSON at ``target`` in the cache folder, atomically (a reader never sees half a file). Best
    effort: a read-only home or a full disk only costs the next run some speed, never a failure."""
    try:
        _make_folder(target.parent)
        # one temporary name per process and thread: two writers never share a half-written file
        tmp = target.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.chmod(tmp, 0o644)   # whatever the umask: a file others may write would not be trusted (trusted())
        os.replace(tmp, target)
    except OSError:
        return
    _prune_now_and_then(target)


def _make_folder(folder: Path) -> None:
    """Create ``folder`` (and the cache folder above it) if need be; a cache folder created here is tagged
    as such (:data:`TAG`), which lets :func:`prune` clear it. One that existed before is not tagged: it may be
    a folder of the user's own that ``$DIAGNOSE_CACHE_DIR`` names by mistake."""
    root = cache_dir()
    if folder == root or root in folder.parents:
        created = not root.is_dir()
        root.mkdir(mode=0o755, parents=True, exist_ok=True)
        # the default folder is diagnose's by its name, even when an older version made it without the tag
        if (created or not os.environ.get("DIAGNOSE_CACHE_DIR")) and not (root / TAG).exists():
            (root / TAG).write_text(TAG_TEXT, encoding="utf-8")
    folder.mkdir(mode=0o755, parents=True, exist_ok=True)


def max_bytes() -> int | None:
    """The folder's limit in bytes: ``$DIAGNOSE_CACHE_MAX_MB`` when it is a whole number, ``0`` meaning no limit
    (None), else :data:`DEFAULT_MAX_MB`."""
    try:
        wanted = int(os.environ.get("DIAGNOSE_CACHE_MAX_MB", "").strip() or DEFAULT_MAX_MB)
    except ValueError:
        wanted = DEFAULT_MAX_MB
    if wanted < 0:
        wanted = DEFAULT_MAX_MB
    return wanted * 1024 * 1024 if wanted else None


def is_cache_file(path: Path, folder: Path) -> bool:
    """Is ``path`` a file the cache writes (:data:`CACHE_NAMES`) in the cache folder ``folder``?"""
    try:
        relative = path.relative_to(folder).as_posix()
    except ValueError:
        return False
    return CACHE_NAMES.fullmatch(relative) is not None


class Pruned(NamedTuple):
    """What :func:`prune` did: the files it deleted and their bytes, and the bytes the cache's files take now."""

    files: int
    freed: int
    left: int


def prune(folder: Path, limit: int, *, keep: Path | None = None, now: float | None = None) -> Pruned:
    """Delete the cache files of ``folder`` (:func:`is_cache_file`) used longest ago until they take at most
    :data:`PRUNE_TO` of ``limit`` bytes, when they take more than ``limit``; and, whatever their size, temporary
    files older than :data:`STALE_TMP`. Only this user's files are deleted (a shared cache folder keeps the
    others'), never ``keep`` (the file just written), and nothing in a folder without the cache's :data:`TAG`
    or in the home folder or above it. A file's size is what it takes on disk: a 4-byte marker takes a block."""
    now = time.time() if now is None else now
    folder = folder.absolute()
    home = Path.home().absolute()
    if not (folder / TAG).is_file() or folder == home or folder in home.parents:
        return Pruned(0, 0, 0)
    uid = _uid()
    files: list[tuple[float, int, Path]] = []
    deleted = freed = 0
    for item in _files(folder):
        name = CACHE_NAMES.fullmatch(item.relative_to(folder).as_posix())
        if name is None:
            continue   # not the cache's: neither counted nor deleted
        try:
            info = item.lstat()
        except OSError:
            continue
        size = max(info.st_size, getattr(info, "st_blocks", 0) * 512)
        if uid is not None and info.st_uid != uid or item == keep:
            files.append((float("inf"), size, item))   # counted, never deleted
        elif name["tmp"] and now - info.st_mtime > STALE_TMP and _unlink(item):
            deleted, freed = deleted + 1, freed + size
        else:
            files.append((info.st_mtime, size, item))
    total = sum(size for _, size, _ in files)
    if total > limit:
        for mtime, size, item in sorted(files, key=lambda f: f[0]):
            if total <= limit * PRUNE_TO or mtime == float("inf"):
                break
            if _unlink(item):
                deleted, freed, total = deleted + 1, freed + size, total - size
    return Pruned(deleted, freed, total)


def _uid() -> int | None:
    """The user this process acts as; None where files have no owners (not POSIX)."""
    return os.geteuid() if hasattr(os, "geteuid") else None


def _files(folder: Path) -> list[Path]:
    """The files of ``folder`` and of its ``profiles/``; no symbolic link followed."""
    out: list[Path] = []
    for where in (folder, folder / "profiles"):
        if where.is_symlink():   # a profiles/ that leads elsewhere: what is there is not the cache's
            continue
        try:
            with os.scandir(where) as entries:
                out += [Path(e.path) for e in entries if e.is_file(follow_symlinks=False)]
        except OSError:
            continue
    return out


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except OSError:   # already gone (another run pruned it), or not ours to delete
        return False


def _used(path: Path) -> None:
    """Mark ``path`` as used now, when its time is more than :data:`TOUCH_AFTER` old (best effort)."""
    try:
        if time.time() - path.stat().st_mtime > TOUCH_AFTER:
            os.utime(path)
    except OSError:
        pass


def _prune_now_and_then(written: Path) -> None:
    """After a write: prune the cache folder, unless this user pruned it less than :data:`PRUNE_EVERY` ago
    (a stamp per user: another's, such as root's under ``sudo``, neither blocks nor is blocked), or it has no
    limit."""
    limit = max_bytes()
    folder = cache_dir().absolute()
    if limit is None or folder not in written.absolute().parents:
        return
    stamp = folder / f".pruned-{_uid() or 0}"
    try:
        if 0 <= time.time() - stamp.stat().st_mtime < PRUNE_EVERY:
            return
    except OSError:
        pass   # never pruned
    try:
        stamp.touch()
    except OSError:
        return   # a folder this run cannot write in: not its to prune
    prune(folder, limit, keep=written.absolute())
