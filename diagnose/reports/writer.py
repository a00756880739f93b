"""Writing reports to disk: atomic, never a partial file, never a silent overwrite by default.

A report is written to a temporary file in the destination folder and moved into place with
``os.replace`` (atomic on POSIX and Windows), so a crash or a full disk leaves either the
complete report or nothing. Errors become :class:`ReportWriteError` with one line naming the
path, which the CLI prints instead of a traceback.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from diagnose.reports.formats import report_format

DEFAULT_DIR = Path("diagnose-reports")


class ReportWriteError(OSError):
    """The report could not be written; the message is one line naming the path."""


def default_path(symptom_id: str, fmt: str, now: datetime | None = None, base: Path = DEFAULT_DIR) -> Path:
    """``<base>/<symptom>-<UTC time YYYYmmddTHHMMSSZ>.<ext>``, e.g. ``stale-positions-20261121T081502Z.md``
    (the extension is the format's, :mod:`diagnose.reports.formats`)."""
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is not None:
        now = now.astimezone(timezone.utc)
    return Path(base) / f"{symptom_id}-{now:%Y%m%dT%H%M%SZ}.{report_format(fmt).EXTENSION}"


def output_path(output: str | os.PathLike | None, symptom_id: str, fmt: str,
                now: datetime | None = None) -> tuple[Path, bool]:
    """Where ``--output`` (or its absence) puts the report, and whether overwriting is allowed.

    No ``--output``: the default path, never overwriting. An existing directory: the default
    file name inside it, never overwriting. Any other path: exactly that file, overwritten.
    """
    if output is None:
        return default_path(symptom_id, fmt, now), False
    path = Path(output).expanduser()
    if path.is_dir():
        return default_path(symptom_id, fmt, now, base=path), False
    return path, True


def write_report(text: str, path: str | os.PathLike, *, overwrite: bool = True) -> Path:
    """Write ``text`` to ``path`` atomically and return the path actually written.

    With ``overwrite=False`` an existing file is kept and the report goes to the first free
    ``<stem>-2<ext>``, ``<stem>-3<ext>``... (two runs in the same second must not clobber).
    """
    try:
        return write_atomic(text.encode("utf-8"), path, overwrite=overwrite)
    except (OSError, ValueError) as exc:  # ValueError: text that cannot be encoded
        detail = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        raise ReportWriteError(f"cannot write report {path}: {detail}") from None


def write_atomic(data: bytes, path: str | os.PathLike, *, overwrite: bool = True, suffix: str | None = None) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder (removed on any
    error: no partial file is ever left) and return the path written; OSError says why not.
    ``suffix``: the extension kept when ``overwrite=False`` numbers the name (``.tar.gz``)."""
    path = Path(path)
    tmp_name = None
    if overwrite:
        refuse_unless_regular(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        if overwrite:
            refuse_unless_regular(path)  # again: something may have been put there meanwhile
            os.replace(tmp_name, path)
        else:
            path = _place_without_overwrite(tmp_name, path, suffix or path.suffix)
        tmp_name = None
        return path
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass


def refuse_unless_regular(path: Path) -> None:
    """An output may replace a regular file, never anything else: as root, ``-o /dev/null`` would
    otherwise replace the system's device node, and a FIFO or a symlink would be swapped for a file."""
    import stat

    try:
        mode = os.lstat(path).st_mode
    except OSError:  # nothing there (or no folder to hold it): the write itself says what is wrong
        return
    if not stat.S_ISREG(mode):
        kind = ("a symbolic link" if stat.S_ISLNK(mode) else "a directory" if stat.S_ISDIR(mode) else
                "a FIFO" if stat.S_ISFIFO(mode) else "a character device" if stat.S_ISCHR(mode) else
                "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file")
        raise IsADirectoryError(f"refusing to replace it: it is {kind}, not a regular file")


def _place_without_overwrite(tmp_name: str, path: Path, suffix: str) -> Path:
    """Hard-link the finished temp file to the first free name (atomic no-clobber), then
    drop the temp name; where hard links are unsupported, fall back to check-then-replace."""
    stem = path.name[:-len(suffix)] if suffix and path.name.endswith(suffix) else path.stem
    for n in range(1, 1000):
        candidate = path if n == 1 else path.with_name(f"{stem}-{n}{suffix}")
        try:
            os.link(tmp_name, candidate)
        except FileExistsError:
            continue
        except OSError:
            if candidate.exists():
                continue
            os.replace(tmp_name, candidate)
            return candidate
        os.unlink(tmp_name)
        return candidate
    raise FileExistsError(f"no free file name next to {path}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
