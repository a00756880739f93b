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


# -- in Chinese (--lang zh) -------------------------------------------------------------------------------

def test_plain_summary_in_chinese_keeps_evidence_verbatim(scenarios, build, speak, factory):
    speak("zh")
    text = plain(build(factory.in_chinese(scenarios["stale-positions"]())))
    lines = text.splitlines()
    assert lines[0] == "有问题 stale-positions: 持仓不再更新 (通过 2，失败 2)"
    assert [line[2:6] for line in lines[1:5]] == ["[失败]", "[失败]", "[通过]", "[通过]"]
    assert lines[1].endswith("有 2 个 OPEN 持仓已 2h 未更新 | 最早的：BTCUSDT  (42.1 ms)")
    assert lines[5] == "原因: 持仓同步任务停止了: position_sync 不再运行，所以没有任何东西刷新这些行。"
    assert lines[6] == "下一步: 重启同步任务（风险：中断服务，需先审批（change）；步骤见报告）"
    # the run's notes are evidence of how it went: verbatim, masked, only their label translated
    assert lines[8] == ("注意: database 'desk': 3 connection slot(s) were free, so diagnose used at most 1 "
                        "connection(s) (not 4); DSN postgresql://desk:«masked-1»@127.0.0.1:5432/desk")
    assert lines[9] == "报告: diagnose-reports/r.md"
    for english in ("PROBLEM", "FAIL", "Cause:", "Next step:", "Report:", "Note:"):
        assert english not in text


def test_plain_summary_in_chinese_lines_up_wide_characters(scenarios, build, speak, factory):
    """A Chinese character takes two columns: the titles are padded by columns, not characters."""
    import unicodedata

    def columns(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    speak("zh")
    lines = plain(build(factory.in_chinese(scenarios["stale-positions"]()))).splitlines()[1:5]
    messages = ["有 2 个 OPEN 持仓已 2h 未更新", "最近一小时内有 14 行", "BYBIT_API_KEY 已设置  (", "127.0.0.1:5432"]
    starts = {columns(line[:line.index(message, 8)]) for line, message in zip(lines, messages)}
    assert len(starts) == 1


def test_chinese_summary_of_an_inconclusive_run_keeps_the_tool_messages(scenarios, build, speak, factory):
    """Messages that are evidence (an error, a timeout) stay as they were; the labels are Chinese."""
    speak("zh")
    text = plain(build(factory.in_chinese(scenarios["inconclusive"]())))
    assert text.startswith("无法判断 stale-positions: 持仓不再更新 (通过 1，出错 1，超时 1，跳过 1)")
    for word in ("[出错]", "[超时]", "[跳过]", "[通过]"):
        assert word in text
    assert "cannot connect to database 'desk': password authentication failed for user \"desk\" " \
           "(postgresql://desk:«masked-1»@127.0.0.1:5432/desk)" in text
    assert "did not finish within 10s" in text
    assert "下一步: 让未能得出结论的检查能够运行" in text


def test_chinese_labels_around_an_english_pack(scenarios, build, speak):
    """A pack without a Chinese translation: the tool speaks Chinese, the pack's texts stay English."""
    speak("zh")
    text = plain(build(scenarios["risk"]()))
    assert text.splitlines()[0] == "风险 stale-positions: Positions stop updating (通过 3，失败 1)"
    assert "风险（症状尚未出现）: The exchange rejects the API key: " in text


def test_rich_summary_in_chinese(scenarios, build, speak, factory, colour_env):
    speak("zh")
    out = TTY()
    print_summary(build(factory.in_chinese(scenarios["stale-positions"]())), "diagnose-reports/r.md", stream=out,
                  rich=True)
    text = out.getvalue()
    for piece in ("有问题", "✗ 失败", "✓ 通过", "OPEN 持仓最近有刷新", "原因:", "下一步:", "报告:",
                  "diagnose-reports/r.md", "position_sync_failed"):
        assert piece in text
    assert "PROBLEM" not in text and "Cause:" not in text


def test_chinese_settings_line_keeps_its_label_bold(factory, build, speak, colour_env):
    from diagnose.reports.document import changed_settings_line

    speak("zh")
    check = factory.make_check("c", "C")
    document = build(factory.make_run(factory.make_entry("x", [check]), [factory.result(check, Status.PASS, "ok")]))
    document["settings"] = [{"name": "max_wait", "value": 30, "default": 60, "from": "profile", "unit": "minutes"}]
    assert changed_settings_line(document) == "设置: max_wait = 30 minutes (配置文件；默认 60 minutes)"
    out = TTY()
    print_summary(document, None, stream=out, rich=True)
    assert "设置: " in out.getvalue() and "max_wait = 30 minutes (配置文件；默认 60 minutes)" in out.getvalue()


def test_triage_summary_in_chinese(speak, factory):
    from .test_triage_formats import document, mixed

    speak("zh")
    out = io.StringIO()
    print_summary(document(factory.in_chinese(mixed())), "r.md", stream=out, rich=False)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("分诊: 1 个症状有问题，1 个有风险，1 个无法判断，1 个正常（12 项检查，9 个探测，")
    assert lines[1] == " 1. stale-positions: 持仓不再更新（得分 1.1）；可能的原因：持仓同步任务停止了"
    assert lines[2] == "      ✗ 有 2 个 OPEN 持仓已 2h 未更新 | 最早的：BTCUSDT"
    assert "风险（原因已存在，症状尚未出现；在症状出现之前修复）:" in lines
    assert "    market-data-delay: 交易所拒绝了 API 密钥" in lines
    assert "无法判断: polar-push-failed (出错 1，超时 1，跳过 1)" in lines
    assert "下一步: diagnose stale-positions  （排名第一的发现自己的报告和修复办法）" in lines
    assert lines[-1] == "报告: r.md"


def test_progress_in_chinese(scenarios, speak, colour_env):
    speak("zh")
    run = scenarios["stale-positions"]()
    out = TTY()
    with progress(len(run.results), enabled=True, stream=out) as tick:
        for result in run.results:
            tick(result)
    assert "正在运行检查" in out.getvalue() or "完成：" in out.getvalue()
