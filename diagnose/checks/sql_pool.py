"""Database connections shared by the SQL checks of one run.

Opening a PostgreSQL connection (fork, authentication, session setup) costs several times
more than the small diagnostic queries themselves, and a triage runs dozens of them at once.
Checks of one run therefore borrow connections per DSN, at most ``MAX_PER_DSN`` open at a
time (a borrower waits for one to come back, within its own time budget). A connection goes
back only when its transaction ended cleanly (rolled back, status idle), so every check
still starts a fresh READ ONLY transaction with its own time limits; a broken one is closed
and its slot freed, never reused.

It also keeps diagnose's footprint small on a server that may be short of connection slots
(the very thing ``db-pool-exhausted`` checks): once the first connection shows how many slots
are free, :meth:`SqlPool.limit` lowers the maximum (one connection when slots are short), and
a connection the server refused for lack of slots is never retried in the run
(:meth:`SqlPool.refused`): each attempt would be one more "too many clients" line in its log.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, Callable

MAX_PER_DSN = 4


class PoolTimeout(Exception):
    """No connection came back within the borrower's budget."""


class SqlPool:
    def __init__(self, max_per_dsn: int = MAX_PER_DSN) -> None:
        self.max_per_dsn = max_per_dsn
        self._limits: dict[str, int] = {}
        self._idle: dict[str, list[Any]] = defaultdict(list)
        self._open: dict[str, int] = defaultdict(int)
        self._cond = threading.Condition()
        self._closed = False
        self._seen: set[str] = set()
        self._refusals: dict[str, Exception] = {}
        #: what the first session of each DSN learned (role, superuser, tables it may write)
        self.sessions: dict[str, dict[str, Any]] = {}
        self.opened = 0          # connections opened during the run (for tests and benchmarks)
        #: when the server refused one of ours for lack of slots (UTC): not evidence of anything else
        self.refused_at: list[datetime] = []

    def first_use(self, dsn: str) -> bool:
        """True once per DSN: the caller then learns about the session (role, free slots)."""
        with self._cond:
            if dsn in self._seen:
                return False
            self._seen.add(dsn)
            return True

    def limit(self, dsn: str, most: int) -> None:
        """Open at most ``most`` (>= 1) connections to ``dsn`` from now on."""
        with self._cond:
            self._limits[dsn] = max(1, min(most, self.max_per_dsn))

    def refused(self, dsn: str, error: Exception) -> None:
        """The server refused a connection for lack of slots: ``error`` is raised to every later
        borrower of ``dsn`` in this run instead of trying again."""
        with self._cond:
            self._refusals.setdefault(dsn, error)
            self.refused_at.append(datetime.now(timezone.utc))

    def acquire(self, dsn: str, connect: Callable[[], Any], wait: float) -> Any:
        """An idle connection to ``dsn``, a new one if fewer than the maximum are open, else wait."""
        deadline = time.monotonic() + wait
        with self._cond:
            while True:
                if dsn in self._refusals:
                    raise self._refusals[dsn]
                if self._idle[dsn]:
                    return self._idle[dsn].pop()
                if self._open[dsn] < self._limits.get(dsn, self.max_per_dsn):
                    self._open[dsn] += 1
                    self.opened += 1
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise PoolTimeout(f"all {self._limits.get(dsn, self.max_per_dsn)} connections stayed busy")
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
