"""Which files (or which command) a :class:`~diagnose.sources.LogSpec` means, and their bytes.

Paths are expanded (``~``, globs). With ``rotated`` a plain path ``X`` also brings in its
rotated siblings in the usual logrotate / Python-logging styles - ``X.1``, ``X.2.gz``,
``X-20261120``, ``X-20261120.gz``, ``X.2026-11-20`` - ordered oldest first (a higher number
is older; dated ones by date) with ``X`` itself last, so line order follows time.

Content is handed out as binary chunks: ``.gz`` files are decompressed as a stream, never
whole in memory, by ISA-L when the ``isal`` package is installed (zlib otherwise); a command's standard output is read as it comes, and the command (its whole
process group) is killed when the check runs out of time or is cancelled, when the reader stops,
and at the latest when diagnose exits: a run stopped by a signal exits as soon as its report is
written, without waiting for the thread that reads the command, and the command runs in a session
of its own that the terminal's Ctrl-C never reaches.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import glob
import os
import re
import selectors
import shlex
import signal
import subprocess
import threading
import zlib
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Generator, Iterator, Sequence

from diagnose.failures import CheckError

from .budget import Budget

CHUNK = 1 << 20          # bytes read at a time
STDERR_CAP = 64 * 1024   # bytes of a command's stderr kept for the error message

_ROTATED = re.compile(
    r"^(?P<base>.+?)(?:\.(?P<n>\d+)|[-.](?P<d>\d{8}(?:\d{2})?|\d{4}-\d{2}-\d{2}(?:[_T]\d{2}(?:-\d{2}){0,2})?))?"
    r"(?P<gz>\.gz)?$", re.S)


@dataclass(frozen=True)
class LogFile:
    """One file to read; ``rotated`` files (siblings and ``.gz``) may be skipped by mtime."""

    path: str
    rotated: bool

    @property
    def compressed(self) -> bool:
        return self.path.endswith(".gz")


def _rotation(path: str) -> tuple[str, tuple]:
    """``(base path, sort key)``: keys sort a rotated set oldest first, the live file last."""
    m = _ROTATED.match(path)
    assert m is not None   # any non-empty path matches
    if m["n"] is not None:
        return m["base"], (0, -int(m["n"]), "")
    if m["d"] is not None:
        return m["base"], (1, 0, m["d"])
    if m["gz"]:  # X.gz: a compressed earlier X
        return m["base"], (1, 0, "")
    return path, (2, 0, "")


def _is_rotated_name(path: str) -> bool:
    return _rotation(path)[1][0] < 2


def rotated_siblings(path: str) -> list[str]:
    """The rotated siblings of the live file ``path`` that exist (any order)."""
    found = []
    for candidate in glob.glob(glob.escape(path) + "[.-]*"):
        base, key = _rotation(candidate)
        if base == path and key[0] < 2 and os.path.isfile(candidate):
            found.append(candidate)
    return found


def _expand(raw: str) -> list[str]:
    pattern = os.path.expanduser(raw)
    if glob.has_magic(pattern):
        return glob.glob(pattern)
    return [pattern]


def log_files(spec) -> list[LogFile]:
    """The files of ``spec`` in reading order; :class:`CheckError` when none exists."""
    ordered: list[LogFile] = []
    seen: set[str] = set()
    for raw in spec.paths:
        group = set()
        for path in _expand(raw):
            if os.path.isfile(path):
                group.add(path)
            if spec.rotated and not _is_rotated_name(path):
                group.update(rotated_siblings(path))
        for path in sorted(group, key=lambda p: (_rotation(p), p)):
            if path not in seen:
                seen.add(path)
                ordered.append(LogFile(path, _is_rotated_name(path)))
    if not ordered:
        shown = ", ".join(os.path.expanduser(p) for p in spec.paths) or "(no paths configured)"
        raise CheckError(f"log '{spec.name}': no file matches {shown}")
    return ordered


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def read_error(log: str, path: str, exc: BaseException) -> CheckError:
    """The one message for a log file that cannot be read (to raise ``from exc``)."""
    return CheckError(f"log '{log}': cannot read {path}: {_reason(exc)}")


def file_chunks(log: str, path: str, chunk_size: int = CHUNK, offset: int = 0) -> Iterator[bytes]:
    """The bytes of ``path`` (decompressed if ``.gz``) in chunks of about ``chunk_size``,
    from byte ``offset`` of a plain file."""
    if path.endswith(".gz"):
        yield from gz_chunks(log, path, chunk_size)
        return
    with open_log(log, path) as stream:
        yield from stream_chunks(log, path, stream, chunk_size, offset)


def open_log(log: str, path: str):
    """``path`` opened for reading; :class:`CheckError` naming it when it cannot be."""
    try:
        return open(path, "rb", buffering=0)
    except OSError as exc:
        raise read_error(log, path, exc) from exc


def stream_chunks(log: str, path: str, stream, chunk_size: int = CHUNK, offset: int = 0) -> Iterator[bytes]:
    """The bytes of an open file from ``offset``: the file the engine looked at, even if the
    log is rotated (renamed, a new one created) while it reads."""
    try:
        stream.seek(offset)
        while True:
            chunk = stream.read(chunk_size)
            if not chunk:
                return
            yield chunk
    except OSError as exc:
        raise read_error(log, path, exc) from exc


_END = object()
GZ_AHEAD = 4   # decompressed chunks a .gz reader may run ahead of the scan (memory bound)


def gz_chunks(log: str, path: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
    """A ``.gz`` file's content, decompressed by a thread of its own while the caller scans
    (ISA-L's inflate and zlib's both let go of the GIL: :func:`inflater_module`), so the two
    overlap as ``zcat | grep`` does on two cores.
    Concatenated members are read in turn; no chunk exceeds ``chunk_size`` (a 1 KB bomb
    cannot fill memory); a truncated or corrupt file is a :class:`CheckError`."""
    import queue
    import threading

    try:
        raw = open(path, "rb")
    except OSError as exc:
        raise read_error(log, path, exc) from exc
    out: queue.Queue = queue.Queue(maxsize=GZ_AHEAD)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            with raw:
                _inflate(raw, chunk_size, put)
            put(_END)
        except (OSError, EOFError) as exc:
            put(read_error(log, path, exc))
        except Exception as exc:   # zlib.error, isal's IsalError: the file's data, not a bug
            if not isinstance(exc, (zlib.error, inflater_module().error)):
                raise
            put(read_error(log, path, _gzip_error(exc)))

    threading.Thread(target=produce, daemon=True, name="diagnose-gunzip").start()
    try:
        while True:
            item = out.get()
            if item is _END:
                return
            if isinstance(item, CheckError):
                raise item
            yield item
    finally:
        stop.set()


class InflatedTail:
    """The last ``size`` bytes of a stream being inflated, by offset: what a scan that reads the stream only
    once (ripgrep fed through a pipe) reads back to find the time of a continuation line.

    Thread-safe: the inflating thread appends while the scanning thread reads. Reading a range that
    is no longer held (or not yet written) is an :class:`OSError`: the caller then scans the file the
    plain way, whose result it would have matched anyway."""

    def __init__(self, size: int):
        self.size = size
        self._pieces: deque[tuple[int, bytes]] = deque()
        self._held = 0          # bytes in _pieces
        self._end = 0           # offset just past the last byte appended
        self._lock = threading.Lock()

    def append(self, piece: bytes) -> None:
        with self._lock:
            self._pieces.append((self._end, piece))
            self._end += len(piece)
            self._held += len(piece)
            while len(self._pieces) > 1 and self._held - len(self._pieces[0][1]) >= self.size:
                self._held -= len(self._pieces.popleft()[1])

    def read(self, begin: int, size: int) -> bytes:
        with self._lock:
            if not self._pieces or begin < self._pieces[0][0] or begin + size > self._end:
                raise OSError(0, "that part of the inflated stream is no longer held")
            out = []
            for start, piece in self._pieces:
                lo, hi = max(begin, start), min(begin + size, start + len(piece))
                if lo < hi:
                    out.append(piece[lo - start:hi - start])
            return b"".join(out)

    def __str__(self) -> str:
        return "the inflated stream"


def feed_gz(log: str, path: str, sink, tail: InflatedTail, failed: list[CheckError],
            chunk_size: int = CHUNK) -> None:
    """Inflate ``path`` into ``sink`` (a pipe to a scanning process, which owns it from here: closed at the
    end, so the reader sees the end of input), keeping its tail in ``tail``. A damaged file ends the input
    early and leaves its :class:`CheckError` in ``failed``; a reader that went away (broken pipe) just
    stops it. Runs on a thread of its own: the inflaters and ``write`` let go of the GIL."""
    fd = sink.fileno()

    def put(piece: bytes) -> bool:
        tail.append(piece)
        view = memoryview(piece)
        try:
            while view:
                view = view[os.write(fd, view):]
        except OSError:   # the scanner stopped (killed at a timeout, or failed): nothing more to do
            return False
        return True

    try:
        with open(path, "rb") as raw:
            _inflate(raw, chunk_size, put)
    except (OSError, EOFError) as exc:
        failed.append(read_error(log, path, exc))
    except Exception as exc:   # zlib.error, isal's IsalError: the file's data; anything else, said as it is
        data_error = isinstance(exc, (zlib.error, inflater_module().error))
        failed.append(read_error(log, path, _gzip_error(exc) if data_error else exc))
    finally:
        with contextlib.suppress(OSError):
            sink.close()


def _inflate(raw, chunk_size: int, put) -> None:
    """Decompress every gzip member of ``raw``, handing out chunks of at most ``chunk_size``."""
    decompressobj = inflater_module().decompressobj
    inflater = decompressobj(31)
    started = False   # inside a member (its end not seen yet)
    while True:
        data = raw.read(chunk_size // 4 or 1)
        if not data:
            if started:
                raise EOFError("compressed file ended before the end-of-stream marker was reached")
            return
        while data or started:
            if not started and not data.strip(b"\x00"):
                break            # zero padding after the last member, as gzip allows
            started = True
            piece = inflater.decompress(data, chunk_size)
            if piece and not put(piece):
                return
            if inflater.eof:
                # the input after this member; not ``+ unconsumed_tail``: at a member's end CPython's
                # zlib may leave the same bytes in both (after a call that hit ``chunk_size``)
                data = inflater.unused_data
                inflater, started = decompressobj(31), False
                continue
            data = inflater.unconsumed_tail
            if not data and len(piece) < chunk_size:
                break            # all input taken and no output held back: read more


def inflater_module() -> Any:
    """The module whose ``decompressobj(31)`` inflates ``.gz`` logs: ISA-L's (``isal.isal_zlib``,
    the same API as :mod:`zlib`, about twice as fast) when installed, else :mod:`zlib`; also
    :mod:`zlib` when ``DIAGNOSE_GUNZIP=zlib`` (to compare, or to rule ISA-L out)."""
    if os.environ.get("DIAGNOSE_GUNZIP", "").strip().lower() == "zlib":
        return zlib
    return _isal() or zlib


@functools.lru_cache(maxsize=1)
def _isal() -> Any:
    try:
        from isal import isal_zlib
    except ImportError:
        return None
    return isal_zlib


def _gzip_error(exc: Exception) -> OSError:
    """A decompression error as one message whichever inflater raised it (zlib and ISA-L word
    the same faults differently)."""
    text = str(exc).lower()
    if any(word in text for word in ("header", "wrapper", "unknown compression method")):
        why = "not in gzip format"
    elif any(word in text for word in ("data check", "length check", "checksum")):
        why = "checksum mismatch (corrupt data)"
    else:
        why = "corrupt compressed data"
    return OSError(0, why)


def command_label(argv: Sequence[str]) -> str:
    """How a command source is named in evidence and messages."""
    return shlex.join(argv)


def command_chunks(log: str, argv: Sequence[str], ctx: Budget, chunk_size: int = CHUNK,
                   exit: dict | None = None, started: Callable[[subprocess.Popen], None] | None = None,
                   stdin=None) -> Generator[bytes, None, None]:
    """Standard output of ``argv`` (no shell) as it arrives; the command (and its process
    group) is killed when the check's time runs out or the reader stops early.

    A command that fails without output raises :class:`CheckError`, unless ``exit`` is given:
    then its ``status`` and ``stderr`` are put there for the caller to judge. ``started`` sees
    the process as soon as it runs (e.g. to limit its memory); ``stdin`` an open file it reads, or
    ``subprocess.PIPE``: ``started`` then hands ``proc.stdin`` to whatever writes it (and closes it)."""
    argv = list(argv)
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL if stdin is None else stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except FileNotFoundError as exc:
        raise CheckError(f"log '{log}': command not found: {argv[0]}") from exc
    except OSError as exc:
        raise CheckError(f"log '{log}': cannot run {argv[0]}: {_reason(exc)}") from exc
    _track(proc)
    selector = selectors.DefaultSelector()
    stderr = bytearray()
    produced = False
    try:
        if started is not None:
            try:
                started(proc)
            except OSError as exc:
                raise CheckError(f"log '{log}': cannot run {argv[0]}: {_reason(exc)}") from exc
        assert proc.stdout is not None and proc.stderr is not None   # both are pipes
        selector.register(proc.stdout, selectors.EVENT_READ)
        selector.register(proc.stderr, selectors.EVENT_READ)
        while selector.get_map():
            ctx.check_time()
            for key, _ in selector.select(timeout=min(ctx.remaining(), 0.25)):
                data = os.read(key.fd, chunk_size)
                if not data:
                    selector.unregister(key.fileobj)
                elif key.fileobj is proc.stdout:
                    produced = True
                    yield data
                elif len(stderr) < STDERR_CAP:
                    stderr += data
        while True:
            ctx.check_time()
            try:
                status = proc.wait(timeout=min(ctx.remaining(), 0.25))
                break
            except subprocess.TimeoutExpired:
                continue
        if exit is not None:
            exit.update(status=status, stderr=bytes(stderr))
        elif status != 0 and not produced:
            lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
            why = lines[0][:300] if lines else "no output"
            raise CheckError(f"log '{log}': {command_label(argv)} exited with status {status}: {why}")
    finally:
        selector.close()
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """Kill the command (and anything it started) if it still runs; always reap it."""
    _kill(proc)
    proc.wait()
    with _lock:
        _running.discard(proc)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL to the command's process group (its own session: the command and what it started),
    also when the command itself has ended but left something running, as long as it is not reaped
    (until then its pid, the group's id, cannot be reused)."""
    if proc.returncode is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()


#: commands running now (their readers stop them); :func:`stop_commands` kills those left at exit
_running: set[subprocess.Popen] = set()
_lock = threading.Lock()
_exiting = False


def _track(proc: subprocess.Popen) -> None:
    with _lock:
        if not _exiting:
            _running.add(proc)
            return
    _kill(proc)  # started by a thread still running while diagnose exits: no one will read it


@atexit.register
def stop_commands() -> None:
    """Kill every command still running, and reap it: diagnose is exiting. A run stopped by a signal
    (or at its deadline) reports without waiting for the threads reading its commands, and the
    interpreter does not let those threads run their ``finally`` at exit."""
    global _exiting
    with _lock:
        _exiting = True
        left = list(_running)
        _running.clear()
    for proc in left:
        _kill(proc)
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
