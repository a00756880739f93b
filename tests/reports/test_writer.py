"""Writing reports: default names, atomic replace, no partial files, one-line errors."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from diagnose.reports.writer import ReportWriteError, default_path, output_path, write_report

NOW = datetime(2026, 11, 21, 8, 15, 2, 987654, tzinfo=timezone.utc)


@pytest.mark.parametrize("fmt,ext", [("md", "md"), ("html", "html"), ("json", "json")])
def test_default_path(fmt, ext):
    assert default_path("stale-positions", fmt, NOW) == Path(f"diagnose-reports/stale-positions-20261121T081502Z.{ext}")


def test_default_path_converts_to_utc_and_takes_a_base():
    local = NOW.astimezone(timezone(timedelta(hours=8)))
    assert default_path("ws-disconnect", "md", local, base=Path("/r")) == Path("/r/ws-disconnect-20261121T081502Z.md")


def test_output_path_rules(tmp_path):
    assert output_path(None, "x", "md", NOW) == (default_path("x", "md", NOW), False)
    assert output_path(tmp_path, "x", "json", NOW) == (tmp_path / "x-20261121T081502Z.json", False)
    assert output_path(tmp_path / "mine.md", "x", "md", NOW) == (tmp_path / "mine.md", True)


def test_write_creates_parents_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "a" / "b" / "report.md"
    assert write_report("# report «masked-1» 行情\n", target) == target
    assert target.read_text(encoding="utf-8") == "# report «masked-1» 行情\n"
    assert os.listdir(target.parent) == ["report.md"]


def test_written_file_has_ordinary_permissions(tmp_path):
    target = write_report("x", tmp_path / "r.md")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_explicit_output_is_replaced(tmp_path):
    target = tmp_path / "r.md"
    target.write_text("old")
    write_report("new", target, overwrite=True)
    assert target.read_text() == "new"


def test_default_output_never_overwrites(tmp_path):
    target = tmp_path / "s-20261121T081502Z.md"
    target.write_text("first")
    second = write_report("second", target, overwrite=False)
    third = write_report("third", target, overwrite=False)
    assert (second.name, third.name) == ("s-20261121T081502Z-2.md", "s-20261121T081502Z-3.md")
    assert [target.read_text(), second.read_text(), third.read_text()] == ["first", "second", "third"]
    assert sorted(os.listdir(tmp_path)) == sorted([target.name, second.name, third.name])


def test_parent_is_a_file_gives_one_line_error(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("I am a file")
    with pytest.raises(ReportWriteError) as info:
        write_report("report", blocker / "sub" / "r.md")
    message = str(info.value)
    assert "\n" not in message and str(blocker / "sub" / "r.md") in message
    assert message.startswith("cannot write report ")
    assert blocker.read_text() == "I am a file"


def test_unwritable_directory_gives_one_line_error_and_no_file():
    # /proc refuses new files even for root, which chmod cannot provoke
    with pytest.raises(ReportWriteError, match=r"^cannot write report /proc/diagnose-test\.md: "):
        write_report("report", Path("/proc/diagnose-test.md"))
    assert not Path("/proc/diagnose-test.md").exists()


def test_target_is_a_directory_fails_cleanly_without_leftovers(tmp_path):
    target = tmp_path / "report.md"
    target.mkdir()
    with pytest.raises(ReportWriteError, match="report.md"):
        write_report("report", target)
    assert os.listdir(tmp_path) == ["report.md"] and os.listdir(target) == []


def test_failure_while_writing_removes_the_temp_file(tmp_path):
    """A lone surrogate cannot be encoded: the write fails midway, after the temp file exists."""
    with pytest.raises(ReportWriteError, match="cannot write report .*r.md: .*surrogate"):
        write_report("half \udcff written", tmp_path / "r.md")
    assert os.listdir(tmp_path) == []
