"""Connections an example world holds open on its own databases while it exists.

::

    sessions:
      desk:
        - {state: idle in transaction, count: 3, application_name: backend}
        - application_name: holder          # takes a row lock and keeps it
          sql: ["UPDATE positions SET size = 0 WHERE id = 1"]
          hold: open
        - application_name: waiter          # queues behind the holder's lock
          sql: ["UPDATE positions SET size = 1 WHERE id = 1"]
          wait: true

A session is either a ``state`` (the short forms) or the ``sql`` it runs:

* ``state: idle``: connected, nothing running;
* ``state: idle in transaction``: ``BEGIN`` + ``SELECT 1``, the transaction left open (a service
  that forgot to commit; it holds no snapshot, xid or lock: give ``sql`` with ``hold: open`` for that);
* ``state: active``: ``SELECT pg_sleep(3600)`` running; the world is not ready until PostgreSQL
  reports every such query active, so checks never race it;
* ``sql``: statements the session runs one after another (a text is one statement), each in its own
  transaction unless the statements open one (``BEGIN``); then the session stays connected, idle.
  ``PREPARE TRANSACTION 'name'`` leaves a prepared transaction (it needs ``server: {settings:
  {max_prepared_transactions: 5}}``), rolled back when the world closes;
* ``hold: open``: the statements run in a transaction (``BEGIN`` first unless the first statement is
  ``BEGIN ...`` / ``START TRANSACTION ...``, e.g. ``BEGIN ISOLATION LEVEL REPEATABLE READ``) that is
  left open: it keeps its snapshot (``backend_xmin``), its xid once it wrote, and its locks;
* ``wait: true``: the last statement blocks (a lock a session before it holds, ``pg_sleep``); the
  world is not ready until ``pg_stat_activity`` shows it active and waiting (``wait_event_type``),
  and a statement that finishes instead is a broken example (nothing held what it waits for).

Sessions open in the order they are listed, so a lock holder comes before its waiters. ``idle_for:
6`` makes the world wait until those sessions have been in their state (idle, holding, waiting) that
many seconds (a leak is a transaction idle for a while; one idle for a millisecond between two
statements of a busy pool is not), at most ``MAX_IDLE_FOR``.

:meth:`HeldSessions.close` cancels running and waiting statements (the last opened first, so no
waiter gets the lock it queued for), closes every connection and waits until their server processes
are gone from ``pg_stat_activity``: a closed world leaves no session behind to disturb the next one.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from diagnose.world.specs import fail, flag, integer, known_keys, mapping, text

STATES = ("idle", "idle in transaction", "active")
STATE_KEYS = ("state", "count", "application_name", "idle_for")
SQL_KEYS = ("sql", "hold", "wait", "count", "application_name", "idle_for")
HOLDS = ("open",)
MAX_COUNT = 50
MAX_STATEMENTS = 50
READY_TIMEOUT = 10.0           # seconds for running or waiting statements to show as such
GONE_TIMEOUT = 5.0             # seconds for closed sessions to leave pg_stat_activity
CONNECT_TIMEOUT = 10
MAX_IDLE_FOR = 30              # seconds a world may wait for its sessions to age
POLL = 0.01
#: wait_event_type values a running statement passes through (reading a page, a short internal lock),
#: or none at all: not yet the wait that ``wait: true`` is ready on (Lock, Timeout for pg_sleep, BufferPin...)
PASSING_WAITS = (None, "LWLock", "IO", "Client")

_BEGINS = re.compile(r"^\s*(BEGIN|START\s+TRANSACTION)\b", re.I)


@dataclass(frozen=True)
class SessionGroup:
    database: str
    state: str | None          # one of STATES, or None for a session given its ``sql``
    count: int
    application_name: str | None
    idle_for: int = 0
    sql: tuple[str, ...] = ()
    hold: str | None = None    # "open": the statements' transaction is left open
    wait: bool = False         # the last statement blocks; ready once it waits
    where: str = ""            # ``sessions desk[1] (waiter)``: how messages name it


def validate(sessions: Any, databases: set[str] | frozenset[str]) -> list[SessionGroup]:
    """The world's ``sessions`` as groups in list order, or a one-line WorldSpecError naming the session."""
    groups = []
    for database, items in mapping("sessions", sessions).items():
        where = f"sessions {database}"
        if database not in databases:
            raise fail(where, f"no database '{database}' in this world (known: {', '.join(sorted(databases)) or 'none'})")
        if not isinstance(items, list):
            raise fail(where, "must be a list such as [{state: idle, count: 2}]")
        for i, item in enumerate(items):
            groups.append(_group(f"{where}[{i}]", database, mapping(f"{where}[{i}]", item)))
    return groups


def _group(at: str, database: str, item: dict[str, Any]) -> SessionGroup:
    name = item.get("application_name")
    if name is not None:
        name = text(at, "application_name", name)
    shown = f"{at} ({name})" if name else at
    if "state" in item and "sql" in item:
        raise fail(shown, "give state or sql, not both")
    if "state" in item or "sql" not in item:
        if "wait" in item and "sql" not in item:
            raise fail(shown, "wait: true has nothing to wait on: give sql, the statements whose last one waits "
                              "(e.g. an UPDATE of a row a session listed before it holds with hold: open)")
        if "hold" in item and "sql" not in item:
            raise fail(shown, "hold: open needs sql, the statements whose transaction stays open")
        if "state" not in item:
            raise fail(shown, f"give state ({', '.join(STATES)}) or sql (the statements the session runs)")
        known_keys(at, item, STATE_KEYS)
        if item.get("state") not in STATES:
            raise fail(at, f"state must be one of {', '.join(STATES)}, not {item.get('state')!r}")
        return SessionGroup(database, item["state"], _count(at, item), name, _idle_for(at, item), where=shown)
    known_keys(shown, item, SQL_KEYS)
    statements = statement_list(shown, "sql", item["sql"])
    hold = item.get("hold")
    if hold is not None and hold not in HOLDS:
        raise fail(shown, f"hold must be open (the transaction stays open), not {hold!r}")
    if "wait" in item:
        flag(shown, "wait", item["wait"])
    return SessionGroup(database, None, _count(at, item), name, _idle_for(at, item), statements, hold,
                        bool(item.get("wait")), shown)


def statement_list(where: str, key: str, value: Any) -> tuple[str, ...]:
    """``value`` as statements: a text is one, a list holds one per item; never empty."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        shown = "an empty list" if items == [] else repr(value)
        raise fail(where, f"{key} must be a statement or a list of statements, not {shown}")
    if len(items) > MAX_STATEMENTS:
        raise fail(where, f"{key} holds {len(items)} statements, at most {MAX_STATEMENTS}")
    out = []
    for j, statement in enumerate(items):
        if not isinstance(statement, str) or not statement.strip():
            raise fail(where, f"{key}[{j}] must be a statement (a text), not {statement!r}")
        out.append(statement.strip())
    return tuple(out)


def _count(at: str, item: dict[str, Any]) -> int:
    return integer(at, "count", item.get("count", 1), 1, MAX_COUNT)


def _idle_for(at: str, item: dict[str, Any]) -> int:
    return integer(at, "idle_for", item.get("idle_for", 0), 0, MAX_IDLE_FOR)


class SessionError(RuntimeError):
    """A session that did not reach what its spec says (one line naming it)."""


class HeldSessions:
    """Every session a world holds; :meth:`close` is idempotent and safe after a failed open."""

    def __init__(self) -> None:
        self._held: list[tuple[Any, threading.Thread | None]] = []
        self._dsn: str | None = None     # where to watch pg_stat_activity from
        self._aged_at = 0.0              # monotonic time when every group is as old as its idle_for

    def open(self, dsn: str, group: SessionGroup) -> None:
        """Open ``group.count`` connections to ``dsn`` and leave them as the group says."""
        self._dsn = self._dsn or dsn
        if group.state is None:
            for _ in range(group.count):
                self._open_sql(dsn, group)
        else:
            self._open_state(dsn, group)
        self._aged_at = max(self._aged_at, time.monotonic() + group.idle_for)

    def _connect(self, dsn: str, group: SessionGroup, autocommit: bool) -> Any:
        import psycopg

        extra: dict[str, Any] = {} if group.application_name is None else {"application_name": group.application_name}
        return psycopg.connect(dsn, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT, **extra)

    def _open_state(self, dsn: str, group: SessionGroup) -> None:
        sleepers = []
        for _ in range(group.count):
            conn = self._connect(dsn, group, autocommit=group.state != "idle in transaction")
            thread = None
            try:
                if group.state == "idle in transaction":
                    conn.execute("SELECT 1")          # psycopg sent BEGIN first; nothing commits it
                elif group.state == "active":
                    thread = _Statement(conn, "SELECT pg_sleep(3600)")
                    thread.start()
                    sleepers.append(conn.info.backend_pid)
            finally:
                self._held.append((conn, thread))
        if sleepers:
            self._wait(dsn, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s) AND state = 'active' "
                            "AND query LIKE 'SELECT pg_sleep%%'", sleepers, len(sleepers), READY_TIMEOUT,
                       f"sessions {group.database}: the active sessions did not start their query")

    def _open_sql(self, dsn: str, group: SessionGroup) -> None:
        import psycopg
        from psycopg.pq import TransactionStatus

        conn = self._connect(dsn, group, autocommit=True)   # BEGIN only where the spec (or hold: open) says
        self._held.append((conn, None))
        statements = list(group.sql)
        if group.hold == "open" and not _BEGINS.match(statements[0]):
            statements.insert(0, "BEGIN")
        last = statements.pop() if group.wait else None
        for statement in statements:
            try:
                conn.execute(statement)
            except psycopg.Error as exc:
                raise SessionError(f"{group.where}: {_short(statement)} failed: {_first_line(exc)}") from None
        if last is None:
            status = conn.info.transaction_status
            if group.hold == "open" and status != TransactionStatus.INTRANS:
                raise SessionError(f"{group.where}: hold: open, but the statements end their transaction (COMMIT, "
                                   f"ROLLBACK or PREPARE TRANSACTION): leave hold out to keep the session idle")
            if group.hold is None and status != TransactionStatus.IDLE:
                raise SessionError(f"{group.where}: the statements leave a transaction open: say hold: open to "
                                   f"keep it open")
            return
        waiting = _Statement(conn, last)
        self._held[-1] = (conn, waiting)
        waiting.start()
        self._until_waiting(conn.info.backend_pid, waiting, group)

    def _until_waiting(self, pid: int, statement: "_Statement", group: SessionGroup) -> None:
        """Return once ``pid`` is active and waiting (lock, sleep, ...); a bounded wait."""
        import psycopg

        assert self._dsn is not None   # set by open(), the only caller
        deadline = time.monotonic() + READY_TIMEOUT
        seen = None
        with psycopg.connect(self._dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as watcher:
            for _ in range(int(READY_TIMEOUT / POLL) + 1):
                seen = watcher.execute("SELECT state, wait_event_type FROM pg_stat_activity WHERE pid = %s",
                                       (pid,)).fetchone()
                if seen is not None and seen[0] == "active" and seen[1] not in PASSING_WAITS:
                    return
                if not statement.is_alive():
                    if statement.error is not None:
                        raise SessionError(f"{group.where}: {_short(statement.sql)} failed instead of waiting: "
                                           f"{_first_line(statement.error)}")
                    raise SessionError(f"{group.where}: wait: true, but {_short(statement.sql)} finished at once: "
                                       f"nothing holds what it would wait for (list the session holding it first, "
                                       f"with hold: open)")
                if time.monotonic() > deadline:
                    break
                time.sleep(POLL)
        raise SessionError(f"{group.where}: {_short(statement.sql)} was not seen waiting within {READY_TIMEOUT:g}s "
                           f"(pg_stat_activity: {seen and f'{seen[0]}, wait_event_type {seen[1]}'})")

    def age(self) -> None:
        """Wait until every group has been in its state for its ``idle_for`` seconds."""
        time.sleep(max(0.0, self._aged_at - time.monotonic()))

    def close(self) -> None:
        held, self._held = self._held, []
        pids = []
        for conn, thread in reversed(held):     # waiters before what they wait on
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
            for _ in range(int(timeout / POLL) + 1):
                row = watcher.execute(query, (pids,)).fetchone()
                assert row is not None   # a count(*) has one row
                count = row[0]
                if count == wanted:
                    return
                if time.monotonic() > deadline:
                    break
                time.sleep(POLL)
        raise SessionError(f"{problem} within {timeout:g}s ({count} of {len(pids)} seen)")


class _Statement(threading.Thread):
    """One statement running on its own connection in the background until it ends or is cancelled."""

    def __init__(self, conn: Any, sql: str) -> None:
        super().__init__(daemon=True)
        self.conn, self.sql = conn, sql
        self.error: BaseException | None = None

    def run(self) -> None:
        import psycopg

        try:
            self.conn.execute(self.sql)
        except psycopg.Error as exc:  # cancelled by close(), the connection went away, or the statement failed
            self.error = exc


def _short(statement: str, width: int = 60) -> str:
    one = " ".join(statement.split())
    return repr(one if len(one) <= width else one[:width - 1] + "…")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
