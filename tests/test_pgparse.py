"""SQL is parsed on one thread, whichever thread asks (diagnose.pgparse).

libpg_query takes a pthread TLS key in every thread that first parses and never returns it; a process
has 1024. Checks run on short-lived worker threads, so before this a long test session (or a long-lived
process) ran out of keys and the next library that needed one aborted the process."""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

from diagnose.checks.sql_grammar import inspect


def free_tls_keys() -> int:
    """How many pthread keys this process can still create (each taken, counted, then given back)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    keys = []
    try:
        while len(keys) < 4096:
            key = ctypes.c_uint()
            if libc.pthread_key_create(ctypes.byref(key), None) != 0:
                break
            keys.append(key)
    finally:
        for key in keys:
            libc.pthread_key_delete(key)
    return len(keys)


def test_parsing_on_many_threads_takes_no_tls_key_per_thread():
    inspect("SELECT 1")          # the parser thread exists (it may take its one key now)
    before = free_tls_keys()
    for i in range(200):
        thread = threading.Thread(target=inspect, args=(f"SELECT {i} FROM positions WHERE status = 'OPEN'",))
        thread.start()
        thread.join()
    assert before - free_tls_keys() <= 1
