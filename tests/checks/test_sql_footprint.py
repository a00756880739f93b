"""diagnose's own footprint on a server short of connection slots, and the role it connects as.

On a real PostgreSQL with ``max_connections = 12`` (3 reserved for superusers): an application
holds most of the slots, and ``diagnose db-pool-exhausted`` runs as a non-superuser, as it would
at 3 a.m. while the desk cannot get a connection. It must take one connection, never count its
own sessions, never count the server's log line about its own refused attempt as evidence, and
say in the report what it did.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import psycopg
import pytest

from diagnose.checks.base import Status
from diagnose.kb.loader import load_pack
from diagnose.pg import TempPostgres
from diagnose.profile import Profile, Resolver
from diagnose.runner import run_entry

PACK = load_pack()
SCHEMAS = Path(__file__).resolve().parents[2] / "checks" / "schemas"
REFUSED = re.compile("too many clients already|remaining connection slots are reserved")


@pytest.fixture(scope="module")
def server():
    with TempPostgres(max_connections=12) as pg:
        pg.execute("CREATE DATABASE desk")
        pg.execute((SCHEMAS / "desk.sql").read_text(), "desk")
        pg.execute("CREATE ROLE app LOGIN; CREATE ROLE reader LOGIN IN ROLE pg_monitor;"
                   "GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;"
                   "CREATE ROLE writer LOGIN IN ROLE pg_monitor; GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO writer",
                   "desk")
        yield pg


def profile(pg: TempPostgres, user: str) -> Profile:
    result = Profile()
    result.sources["databases"]["desk"] = pg.dsn("desk", user=user)
    result.sources["logs"]["postgres"] = str(pg.log_path)
    return result


def diagnose(pg: TempPostgres, user: str, entry: str = "db-pool-exhausted"):
    return run_entry(PACK.get(entry), PACK, Resolver(profile(pg, user)), {}, default_timeout=10)


class Sampler:
    """Counts diagnose's sessions on the server while a run goes on (through a superuser's reserved slot)."""

    def __init__(self, pg: TempPostgres) -> None:
        self.conn = psycopg.connect(pg.dsn("desk"), autocommit=True)
        self.most = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self.done.is_set():
            n = self.conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'diagnose'").fetchone()[0]
            self.most = max(self.most, n)
            time.sleep(0.002)

    def __enter__(self) -> "Sampler":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join(5)
        self.conn.close()


def hold(pg: TempPostgres, count: int) -> list[psycopg.Connection]:
    return [psycopg.connect(pg.dsn("desk", user="app"), autocommit=True) for _ in range(count)]


def refusals_in_log(pg: TempPostgres) -> int:
    return len(REFUSED.findall(pg.log_path.read_text(errors="replace")))


def by_id(run) -> dict:
    return {r.id: r for r in run.results}


def test_with_few_free_slots_one_connection_is_used_and_said(server):
    held = hold(server, 6)  # 12 - 3 reserved - 6 = 3 free
    try:
        with Sampler(server) as sampler:
            run = diagnose(server, "reader")
        results = by_id(run)
        assert sampler.most == 1
        assert any("were free, so diagnose used at most 1 connection(s) (not 4)" in n for n in run.notes), run.notes
        slots = results["free-slots"]
        # 12 - 3 reserved - 6 held - the sampler's session = 2: diagnose's own session is not counted
        assert slots.vars if hasattr(slots, "vars") else True
        assert slots.evidence[0].rows[0][0] == 2, slots.message
    finally:
        for conn in held:
            conn.close()


def test_no_free_slot_one_attempt_and_the_log_line_about_it_is_not_evidence(server):
    """The application was refused once; then diagnose runs and is refused too. The server log then has
    two refusals: the application's counts, diagnose's own is said and not counted."""
    held = hold(server, 9)  # every slot that is not reserved
    try:
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(server.dsn("desk", user="app"))
        before = refusals_in_log(server)
        run = diagnose(server, "reader")
        time.sleep(0.1)
        assert refusals_in_log(server) - before == 1  # one attempt, not one per SQL check
        errors = [r for r in run.results if r.kind == "sql"]
        assert len(errors) >= 3 and all(r.status is Status.ERROR and REFUSED.search(r.message) for r in errors)
        refused_log = by_id(run)["server-refused-log"]
        assert refused_log.status is Status.FAIL and refused_log.evidence[0].total == 1, refused_log.message
        assert "1 line(s) about diagnose's own refused connection attempt(s) not counted" in refused_log.evidence[0].title
        assert any("refused diagnose's connection for lack of slots" in n for n in run.notes), run.notes
    finally:
        for conn in held:
            conn.close()


def test_the_role_is_named_when_it_is_a_superuser_or_may_write(server):
    notes = diagnose(server, "postgres").notes
    assert any("diagnose connected as postgres, a superuser" in n for n in notes), notes
    notes = diagnose(server, "writer", "rollover-task-stuck").notes  # reads rollover_tasks, which writer may insert into
    written = [n for n in notes if n.startswith("database 'desk': role writer can write to ")]
    assert len(written) == 1 and "rollover_tasks" in written[0] and written[0].endswith(
        "which the checks read; a read-only role is enough: see 'A role for diagnose' "
        "(reference/least-privilege on the FAQ site)"), notes
    assert not any("role reader" in n or "superuser" in n for n in diagnose(server, "reader", "rollover-task-stuck").notes)


def test_the_documented_role_reads_everything_the_pack_checks_and_is_not_flagged(server):
    """The recipe of the least-privilege page, run as printed, gives a role the built-in checks run
    with: every SQL check answers, and no note about the role."""
    import re as regex

    from diagnose.site.reference import least_privilege_page

    recipe = regex.search(r"```sql\n(.*?)```", least_privilege_page(), regex.S).group(1)
    server.execute(recipe.replace("'choose-one'", "'recipe-pw'"), "desk")
    for entry in ("rollover-task-stuck", "lock-trigger-failed", "db-pool-exhausted"):
        dsn = server.dsn("desk", user="diagnose", password="recipe-pw")
        profile = Profile()
        profile.sources["databases"]["desk"] = dsn
        run = run_entry(PACK.get(entry), PACK, Resolver(profile), {}, default_timeout=10)
        sql = [r for r in run.results if r.kind == "sql"]
        assert sql and all(r.status in (Status.PASS, Status.FAIL) for r in sql), [(r.id, r.message) for r in sql]
        assert not [n for n in run.notes if "role" in n or "superuser" in n], run.notes
