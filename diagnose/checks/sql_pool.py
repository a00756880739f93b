"""Database connections shared by the SQL checks of one run.

Opening a PostgreSQL connection (fork, authentication, session setup) costs several times
more than the small diagnostic queries themselves, and a triage runs dozens of them at once.
Checks of one run therefore borrow connections per DSN, at most ``MAX_PER_DSN`` open at a
time (a borrower waits for one to come back, within its own time budget). A connection goes
back only when its transaction ended cleanly (rolled back, status idle), so every check
still starts a fresh READ ONLY transaction with its own time limits; a broken one is closed
and its slot freed, never reused. It also keeps diagnose to a handful of sessions on a
database that may be short of connection slots (the very thing `db-pool-exhausted` checks).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any, Callable

MAX_PER_DSN = 4


class PoolTimeout(Exception):
    """No connection came back within the borrower's budget."""


class SqlPool:
    def __init__(self, max_per_dsn: int = MAX_PER_DSN) -> None:
        self.max_per_dsn = max_per_dsn
        self._idle: dict[str, list[Any]] = defaultdict(list)
        self._open: dict[str, int] = defaultdict(int)
        self._cond = threading.Condition()
        self._closed = False
        self.opened = 0          # connections opened during the run (for tests and benchmarks)

    def acquire(self, dsn: str, connect: Callable[[], Any], wait: float) -> Any:
        """An idle connection to ``dsn``, a new one if fewer than the maximum are open, else wait."""
        deadline = time.monotonic() + wait
        with self._cond:
            while True:
                if self._idle[dsn]:
                    return self._idle[dsn].pop()
                if self._open[dsn] < self.max_per_dsn:
                    self._open[dsn] += 1
                    self.opened += 1
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise PoolTimeout(f"all {self.max_per_dsn} connections stayed busy")
                self._cond.wait(left)
        try:
            return connect()
        except BaseException:
            self._forget(dsn)
            raise

    def release(self, dsn: str, conn: Any) -> None:
        """Keep ``conn`` for the next check if it is healthy and idle, else close it."""
        from psycopg.pq import TransactionStatus

        healthy = not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE
        with self._cond:
            if healthy and not self._closed:
                self._idle[dsn].append(conn)
                self._cond.notify()
                return
        conn.close()
        self._forget(dsn)

    def _forget(self, dsn: str) -> None:
        with self._cond:
            self._open[dsn] -= 1
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()
