"""Reading the user's input files (profile, env files) without ever blocking on one.

``open()`` of a FIFO waits for a writer, for ever, and retries after every signal, so a run given
a FIFO as its profile or env file would hang where even SIGTERM cannot stop it. Input files are
opened with ``O_NONBLOCK`` (which returns at once for a FIFO), checked with ``fstat`` on the
opened descriptor (no race with a rename) and refused unless they are regular files.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

NOT_REGULAR = "not a regular file (a FIFO, a device or a directory)"


class NotRegularFile(OSError):
    """The path exists but is not a regular file: a FIFO, a device, a socket or a directory."""

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__(f"{os.fspath(path)}: {NOT_REGULAR}")
        self.path, self.strerror = os.fspath(path), NOT_REGULAR


def refuse_unless_regular(path: str | os.PathLike) -> None:
    """NotRegularFile if ``path`` exists and is not a regular file (``stat`` never blocks on a FIFO);
    a missing path is left to whoever reads it."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not stat.S_ISREG(mode):
        raise NotRegularFile(path)


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """The regular file at ``path``, opened for reading in binary (blocking reads from then on);
    NotRegularFile for anything else, OSError (FileNotFoundError...) when it cannot be opened."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(path)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_bytes(path: str | os.PathLike) -> bytes:
    """The content of the regular file at ``path`` (see :func:`open_regular`)."""
    with open_regular(path) as file:
        return file.read()


def read_regular_text(path: str | os.PathLike, encoding: str = "utf-8", errors: str = "strict") -> str:
    """:func:`read_regular_bytes` decoded (``Path.read_text`` for regular files only)."""
    return read_regular_bytes(Path(path)).decode(encoding, errors)
