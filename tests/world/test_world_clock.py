"""A world at another moment: the clock spec, the refusal to build it at the wrong moment, and a
PostgreSQL server living at a faked moment (libfaketime) with the world's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import psycopg
import pytest
import yaml

from diagnose.pg import TempPostgres
from diagnose.world.build import World
from diagnose.world.clock import FakeClock, library, moment

from .conftest import example

SATURDAY = {"at": "2026-12-05 14:00", "timezone": "Asia/Shanghai"}
SATURDAY_UTC = datetime(2026, 12, 5, 6, 0, tzinfo=timezone.utc)


def server_now(dsn: str) -> tuple[datetime, str]:
    with psycopg.connect(dsn) as conn:
        now, zone = conn.execute("SELECT now(), current_setting('TimeZone')").fetchone()
    return now, zone


# --- moment(): the aware moment a clock spec names ----------------------------------------------------

def test_moment_is_the_local_time_in_the_named_zone():
    at = moment(SATURDAY)
    assert at == SATURDAY_UTC
    assert at.tzinfo == ZoneInfo("Asia/Shanghai") and at.isoformat() == "2026-12-05T14:00:00+08:00"


def test_moment_without_a_zone_is_utc():
    assert moment({"at": "2026-12-05 14:00"}) == SATURDAY_UTC + timedelta(hours=8)
    assert moment({"at": "2026-12-05 14:00"}).utcoffset() == timedelta(0)


def test_moment_reads_what_yaml_makes_of_an_unquoted_time():
    spec = yaml.safe_load("at: 2026-12-05 14:00:00\ntimezone: Asia/Shanghai\n")
    assert isinstance(spec["at"], datetime)
    assert moment(spec) == SATURDAY_UTC


@pytest.mark.parametrize("spec", [{}, None, {"timezone": "UTC"}, {"at": ""}])
def test_no_at_is_no_moment(spec):
    assert moment(spec) is None


# --- a world at a moment refuses a builder living at another ----------------------------------------------

def test_a_world_at_another_moment_refuses_a_builder_at_the_real_time(pg_server, schema_pack, tmp_path):
    world = World(schema_pack, example({"clock": SATURDAY, "logs": {"backend": "{now-5m} INFO x\n"}}),
                  pg_server, tmp_path / "w", now=datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc))
    with pytest.raises(ValueError) as caught:
        world.__enter__()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("this world happens at 2026-12-05T14:00:00+08:00: build it with a FakeClock at "
                              "that moment (diagnose.world.clock), not at 2026-11-21T09:00:00+00:00")
    assert not (tmp_path / "w" / "logs").exists()        # refused before anything was made


def test_a_world_at_the_current_moment_builds_without_a_fake_clock(build_world, pg_server):
    here = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    world = build_world({"clock": {"at": here, "timezone": "Asia/Shanghai"}})
    assert world.profile.timezone == "Asia/Shanghai"


def test_a_clock_with_only_a_zone_sets_the_hosts_zone(build_world):
    world = build_world({"clock": {"timezone": "America/New_York"}, "databases": {"desk": "SELECT 1;"},
                         "logs": {"backend": "{now-5m} INFO x\n"}})
    assert world.profile.timezone == "America/New_York" and world.timezone == "America/New_York"
    for dsn in world.profile.sources["databases"].values():
        assert server_now(dsn)[1] == "America/New_York"
    line = (world.workdir / "logs" / "backend.log").read_text()
    expected = (world.now - timedelta(minutes=5)).astimezone(ZoneInfo("America/New_York"))
    assert line.startswith(expected.strftime("%Y-%m-%d %H:%M:%S,"))


# --- FakeClock: a server living at the world's moment --------------------------------------------------------

@pytest.fixture(scope="module")
def saturday_server():
    if library() is None:
        pytest.skip("libfaketime is not installed")
    clock = FakeClock.at_moment(moment(SATURDAY))
    with TempPostgres(env=clock.env) as server:
        yield server, clock


def test_fake_clock_environment():
    if library() is None:
        pytest.skip("libfaketime is not installed")
    clock = FakeClock.at_moment(moment(SATURDAY))
    assert clock.env["LD_PRELOAD"] == library() and clock.env["DONT_FAKE_MONOTONIC"] == "1"
    assert clock.env["FAKETIME"] == f"{clock.offset:+d}s"
    assert abs(clock.now() - SATURDAY_UTC) < timedelta(minutes=1)


def test_a_server_started_with_the_clock_lives_at_its_moment(saturday_server):
    server, clock = saturday_server
    now, _ = server_now(server.dsn("postgres"))
    assert abs(now - SATURDAY_UTC) < timedelta(minutes=1)
    assert abs(now - clock.now()) < timedelta(minutes=1)


def test_a_world_built_on_it_has_the_clocks_zone_and_moment(saturday_server, schema_pack, tmp_path):
    server, clock = saturday_server
    spec = {"clock": SATURDAY, "databases": {"desk": "SELECT 1;"}, "logs": {"backend": "{now-5m} INFO x\n"}}
    with World(schema_pack, example(spec), server, tmp_path / "w", now=clock.now()) as world:
        assert world.profile.timezone == "Asia/Shanghai"
        assert set(world.profile.sources["databases"]) == {"desk", "trading"}
        for dsn in world.profile.sources["databases"].values():
            now, zone = server_now(dsn)
            assert zone == "Asia/Shanghai"
            assert abs(now - SATURDAY_UTC) < timedelta(minutes=1)
            assert now.astimezone(ZoneInfo("Asia/Shanghai")).weekday() == 5     # the server's Saturday
        # the log's local times are the world's, in its zone
        assert (world.workdir / "logs" / "backend.log").read_text().startswith("2026-12-05 13:5")
