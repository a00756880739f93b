"""Connections an example world holds open on its own databases while it exists.

::

    sessions:
      desk: [{state: idle in transaction, count: 3, application_name: backend}]

* ``idle``: connected, nothing running;
* ``idle in transaction``: ``BEGIN`` + ``SELECT 1``, the transaction left open (what a
  service that forgot to commit looks like, holding its snapshot and locks);
* ``active``: ``SELECT pg_sleep(3600)`` running in a background thread; the world is not
  ready until PostgreSQL reports every such query active, so checks never race it.

``idle_for: 6`` makes the world wait until those sessions have been in their state that many
seconds (a leak is a transaction idle for a while; one idle for a millisecond between two
statements of a busy pool is not), at most ``MAX_IDLE_FOR``.

:meth:`HeldSessions.close` cancels the sleeping queries, closes every connection and waits
until their server processes are gone from ``pg_stat_activity``: a closed world leaves no
session behind to disturb the next one (worlds share one server).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from diagnose.world.specs import fail, integer, known_keys, mapping, text

STATES = ("idle", "idle in transaction", "active")
MAX_COUNT = 50
READY_TIMEOUT = 10.0           # seconds for sleeping queries to show as active
GONE_TIMEOUT = 5.0             # seconds for closed sessions to leave pg_stat_activity
CONNECT_TIMEOUT = 10
MAX_IDLE_FOR = 30              # seconds a world may wait for its sessions to age


@dataclass(frozen=True)
class SessionGroup:
    database: str
    state: str
    count: int
    application_name: str | None
    idle_for: int = 0


def validate(sessions: Any, databases: set[str] | frozenset[str]) -> list[SessionGroup]:
    """The world's ``sessions`` as groups, or a one-line WorldSpecError naming database and key."""
    groups = []
    for database, items in mapping("sessions", sessions).items():
        where = f"sessions {database}"
        if database not in databases:
            raise fail(where, f"no database '{database}' in this world (known: {', '.join(sorted(databases)) or 'none'})")
        if not isinstance(items, list):
            raise fail(where, "must be a list such as [{state: idle, count: 2}]")
        for i, item in enumerate(items):
            at = f"{where}[{i}]"
            item = mapping(at, item)
            known_keys(at, item, ("state", "count", "application_name", "idle_for"))
            if item.get("state") not in STATES:
                raise fail(at, f"state must be one of {', '.join(STATES)}, not {item.get('state')!r}")
            name = item.get("application_name")
            groups.append(SessionGroup(database, item["state"], integer(at, "count", item.get("count", 1), 1, MAX_COUNT),
                                       None if name is None else text(at, "application_name", name),
                                       integer(at, "idle_for", item.get("idle_for", 0), 0, MAX_IDLE_FOR)))
    return groups


class HeldSessions:
    """Every session a world holds; :meth:`close` is idempotent and safe after a failed open."""

    def __init__(self) -> None:
        self._held: list[tuple[Any, threading.Thread | None]] = []
        self._dsn: str | None = None     # where to watch pg_stat_activity from
        self._aged_at = 0.0              # monotonic time when every group is as old as its idle_for

    def open(self, dsn: str, group: SessionGroup) -> None:
        """Open ``group.count`` connections to ``dsn`` and leave them in ``group.state``."""
        import psycopg

        self._dsn = self._dsn or dsn
        extra = {} if group.application_name is None else {"application_name": group.application_name}
        sleepers = []
        for _ in range(group.count):
            conn = psycopg.connect(dsn, autocommit=group.state != "idle in transaction",
                                   connect_timeout=CONNECT_TIMEOUT, **extra)
            thread = None
            try:
                if group.state == "idle in transaction":
                    conn.execute("SELECT 1")          # psycopg sent BEGIN first; nothing commits it
                elif group.state == "active":
                    thread = threading.Thread(target=_sleep, args=(conn,), daemon=True)
                    thread.start()
                    sleepers.append(conn.info.backend_pid)
            finally:
                self._held.append((conn, thread))
        self._aged_at = max(self._aged_at, time.monotonic() + group.idle_for)
        if sleepers:
            self._wait(dsn, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s) AND state = 'active' "
                            "AND query LIKE 'SELECT pg_sleep%%'", sleepers, len(sleepers), READY_TIMEOUT,
                       f"sessions {group.database}: the active sessions did not start their query")

    def age(self) -> None:
        """Wait until every group has been in its state for its ``idle_for`` seconds."""
        time.sleep(max(0.0, self._aged_at - time.monotonic()))

    def close(self) -> None:
        held, self._held = self._held, []
        pids = []
        for conn, thread in held:
            try:
                pids.append(conn.info.backend_pid)
                deadline = time.monotonic() + READY_TIMEOUT
                while thread is not None and thread.is_alive() and time.monotonic() < deadline:
                    conn.cancel()        # repeated: the query may not have reached the server yet
                    thread.join(0.2)
            except Exception:  # a broken connection has nothing left to cancel
                pass
            finally:
                conn.close()
        if pids and self._dsn:
            try:
                self._wait(self._dsn, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", pids, 0,
                           GONE_TIMEOUT, "held sessions did not end")
            except Exception:  # the server itself is gone: so are the sessions
                pass

    @staticmethod
    def _wait(dsn: str, query: str, pids: list[int], wanted: int, timeout: float, problem: str) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        with psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as watcher:
            while True:
                count = watcher.execute(query, (pids,)).fetchone()[0]
                if count == wanted:
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{problem} within {timeout:g}s ({count} of {len(pids)} seen)")
                time.sleep(0.01)


def _sleep(conn: Any) -> None:
    import psycopg

    try:
        conn.execute("SELECT pg_sleep(3600)")
    except psycopg.Error:  # cancelled by close(), or the connection went away
        pass
