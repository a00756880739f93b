"""The terminal summary (plain and rich) and the live progress indicator."""

from __future__ import annotations

import io
import threading

import pytest

from diagnose.checks.base import Status
from diagnose.reports.terminal import next_step, print_summary, progress, verdict_line

ANSI = "\x1b["


class TTY(io.StringIO):
    """A text stream that says it is a terminal, so rich emits colour and live displays."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def colour_env(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "120")


def plain(document, path="diagnose-reports/r.md", **kw) -> str:
    out = io.StringIO()
    print_summary(document, path, stream=out, rich=False, **kw)
    return out.getvalue()


def test_plain_problem_summary(scenarios, build):
    text = plain(build(scenarios["stale-positions"]()))
    lines = text.splitlines()
    assert ANSI not in text
    assert lines[0] == "PROBLEM stale-positions: Positions stop updating (2 pass, 2 fail)"
    assert lines[1].startswith("  [FAIL   ] OPEN positions refreshed recently")
    assert lines[1].endswith("2 OPEN position(s) not updated for 2h | oldest: BTCUSDT  (42.1 ms)")
    assert [line[3:10].strip() for line in lines[1:5]] == ["FAIL", "FAIL", "PASS", "PASS"]
    assert lines[5] == ("Cause: The position sync task stopped: "
                        "position_sync no longer runs, so nothing refreshes rows.")
    assert lines[6] == "Next step: Restart the sync task (risk: outage, approval first (change); steps in the report)"
    assert lines[7].startswith("Note: database 'desk': diagnose connected as desk, a superuser")
    assert lines[8] == ("Note: database 'desk': 3 connection slot(s) were free, so diagnose used at most 1 "
                        "connection(s) (not 4); DSN postgresql://desk:«masked-1»@127.0.0.1:5432/desk")
    assert lines[9] == "Report: diagnose-reports/r.md"


def test_plain_inconclusive_and_healthy(scenarios, build):
    text = plain(build(scenarios["inconclusive"]()))
    assert text.startswith("INCONCLUSIVE stale-positions")
    for word in ("[ERROR  ]", "[TIMEOUT]", "[SKIP   ]", "[PASS   ]"):
        assert word in text
    assert "Cause:" not in text and "Next step: make the checks that did not conclude runnable" in text
    healthy = plain(build(scenarios["healthy"]())).splitlines()
    assert healthy[0].startswith("HEALTHY ") and len(healthy) == 6
    assert not [line for line in healthy if line.startswith(("Cause:", "Next step:"))]


def test_quiet_prints_only_verdict_and_path(scenarios, build):
    for make in scenarios.values():
        lines = plain(build(make()), quiet=True).splitlines()
        assert len(lines) == 2 and lines[1] == "Report: diagnose-reports/r.md"
    assert plain(build(scenarios["healthy"]()), path=None, quiet=True).count("\n") == 1


def test_messages_are_kept_on_one_line(factory, build):
    check = factory.make_check("c", "C")
    run = factory.make_run(factory.make_entry("x", [check]),
                           [factory.result(check, Status.ERROR, "first line\nsecond\tline")])
    assert "  first line second line  (" in plain(build(run))


def test_rich_summary_has_colour_and_symbols(scenarios, build, colour_env):
    out = TTY()
    print_summary(build(scenarios["stale-positions"]()), "diagnose-reports/r.md", stream=out, rich=True)
    text = out.getvalue()
    assert ANSI in text
    for piece in ("PROBLEM", "✗ fail", "✓ pass", "OPEN positions refreshed recently", "Cause:",
                  "Next step:", "diagnose-reports/r.md"):
        assert piece in text


def test_rich_prints_data_literally_not_as_markup(factory, build, colour_env):
    check = factory.make_check("c", "[bold]title[/bold]")
    run = factory.make_run(factory.make_entry("x", [check]),
                           [factory.result(check, Status.FAIL, "[red]not markup[/red] [link=http://x]y")])
    out = TTY()
    print_summary(build(run), None, stream=out, rich=True)
    assert "[bold]title[/bold]" in out.getvalue()
    assert "[red]not markup[/red] [link=http://x]y" in out.getvalue()


def test_rich_quiet(scenarios, build, colour_env):
    out = TTY()
    print_summary(build(scenarios["inconclusive"]()), "r.md", stream=out, rich=True, quiet=True)
    text = out.getvalue()
    assert "INCONCLUSIVE" in text and "r.md" in text and "did not finish" not in text


def test_plain_degrades_on_a_narrow_encoding(scenarios, build):
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    print_summary(build(scenarios["inconclusive"]()), "r.md", stream=stream, rich=False)
    assert b"postgresql://desk:?masked-1?@127.0.0.1" in raw.getvalue()


def test_next_step_prefers_the_first_applicable_solution(scenarios, build):
    assert next_step(build(scenarios["stale-positions"]())) == \
        "Restart the sync task (risk: outage, approval first (change); steps in the report)"
    assert next_step(build(scenarios["healthy"]())) is None


def test_verdict_line_notes_interrupted_runs(factory, build):
    check = factory.make_check("c", "C")
    run = factory.make_run(factory.make_entry("x", [check]), [], incomplete=True)
    assert verdict_line(build(run)) == "HEALTHY x: Positions stop updating (no checks) (interrupted)"


def test_progress_disabled_is_a_silent_no_op():
    with progress(3, enabled=False) as tick:
        assert tick("anything") is None


def test_progress_enabled_shows_and_accepts_ticks_from_threads(scenarios, colour_env):
    run = scenarios["stale-positions"]()
    out = TTY()
    with progress(len(run.results), enabled=True, stream=out) as tick:
        threads = [threading.Thread(target=tick, args=(r,)) for r in run.results]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    text = out.getvalue()
    assert "running checks" in text or "done:" in text
    assert "4/4" in text
