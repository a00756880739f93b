"""Which files a test's code opened and which programs it started, seen through Python's audit
hooks (real events, no mocks). Shared by test_engine.py and test_passes.py: import with
``from auditlog import recording`` after putting this folder on ``sys.path``.

The hook is installed once, when this module is first imported (audit hooks cannot be removed),
and records only inside :func:`recording`.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager

_RECORDING = threading.Event()
EVENTS: list[tuple[str, str]] = []


def _audit(event: str, args: tuple) -> None:
    if not _RECORDING.is_set():
        return
    try:
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            EVENTS.append(("open", os.fsdecode(args[0])))
        elif event == "subprocess.Popen":
            EVENTS.append(("popen", os.fsdecode(args[1][0])))
    except Exception:
        pass


sys.addaudithook(_audit)


@contextmanager
def recording():
    """``("open", path)`` and ``("popen", program)`` events while the block runs."""
    EVENTS.clear()
    _RECORDING.set()
    try:
        yield EVENTS
    finally:
        _RECORDING.clear()
