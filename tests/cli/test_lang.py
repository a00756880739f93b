"""``--lang`` on every command, its default from the locale, and the translation tools of ``diagnose lint``."""

from __future__ import annotations

import shutil

import click
import pytest

from diagnose.cli import COMMANDS, cli
from diagnose.kb.loader import builtin_root, load_pack
from diagnose.kb.words import cjk
from tests.kb.conftest import edit

ENTRY = "data/stale-positions.yaml"
OVERLAY = "data/stale-positions.zh.yaml"


@pytest.fixture
def pack_copy(tmp_path):
    root = tmp_path / "checks"
    shutil.copytree(builtin_root(), root)
    return root


def translation_problems(root) -> list[str]:
    return [str(p) for p in load_pack(root, use_cache=False).translation_problems]


def _commands(group: click.Group, ctx: click.Context):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield name, command
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                yield f"{name} {sub.name}", sub


def test_every_command_has_lang():
    ctx = click.Context(cli)
    names = []
    for name, command in _commands(cli, ctx):
        option = next((p for p in command.params if p.name == "lang"), None)
        assert option is not None, f"{name} has no --lang"
        assert list(option.type.choices) == ["en", "zh"]
        names.append(name)
    assert set(COMMANDS) <= set(names)


@pytest.mark.parametrize("env, chinese", [({"LANG": "zh_CN.UTF-8"}, True), ({"LC_ALL": "zh_CN.UTF-8"}, True),
                                          ({"LANG": "en_US.UTF-8"}, False), ({}, False),
                                          ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, False)])
def test_list_speaks_the_locales_language(diagnose, monkeypatch, env, chinese):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = diagnose("list")
    assert result.code == 0
    assert ("个症状" in result.out) is chinese
    assert ("连接 (connection):" in result.out) is chinese
    assert ("后端拿不到数据库连接" in result.out) is chinese


def test_lang_wins_over_the_locale(diagnose, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    english = diagnose("show", "ws-disconnect", "--lang", "en")
    assert "## What you see" in english.out
    chinese = diagnose("show", "ws-disconnect", "--lang", "zh")
    assert "## 你看到的现象" in chinese.out
    assert "`ws-disconnect`" in chinese.out and "diagnose ws-disconnect" in chinese.out   # ids stay
    assert "/zh/faq/ws-disconnect/" in chinese.out and "/zh/" not in english.out
    assert diagnose("list", "--lang", "fr").code == 2


def test_explain_finds_english_text_from_chinese_and_back(diagnose):
    result = diagnose("explain", "ntfy推送收不到", "--lang", "zh")
    assert result.code == 0
    assert result.out.startswith("1. notification-failed  ")
    assert "下一步：diagnose notification-failed" in result.out
    english = diagnose("explain", "the phone gets no push notification from ntfy", "--lang", "en")
    assert english.out.startswith("1. notification-failed  ")


def test_stamp_records_todays_english(pack_copy, diagnose):
    edit(pack_copy / ENTRY, "title: Orders blocked", "title: Orders are blocked")
    before = (pack_copy / OVERLAY).read_text()
    result = diagnose("lint", "--no-builtin", "--stamp", str(pack_copy / OVERLAY), str(pack_copy))
    assert result.code == 0, result.out + result.err
    assert "stamped" in result.out
    after = (pack_copy / OVERLAY).read_text()
    assert after.count("translated-from:") == 1
    assert after.split("translated-from:")[0].rstrip() == before.split("translated-from:")[0].rstrip()
    assert translation_problems(pack_copy) == []


def test_lint_reports_each_missing_part_with_its_line(pack_copy, diagnose):
    overlay = pack_copy / OVERLAY
    text = overlay.read_text()
    start = text.index("\nprevention:")
    end = text.index("\ncauses:")
    overlay.write_text(text[:start] + text[end:])
    (pack_copy / "connection/ws-disconnect.zh.yaml").unlink()
    result = diagnose("lint", "--no-builtin", str(pack_copy))
    assert result.code == 2
    lines = result.out.splitlines()
    assert any(x.startswith(f"checks/{OVERLAY}:") and "prevention: missing translation" in x for x in lines), lines
    assert any(x.startswith("checks/connection/ws-disconnect.zh.yaml:1:") and "missing translation" in x
               for x in lines), lines
    # a run is never stopped by a translation: it shows the English
    pack = load_pack(pack_copy, lang="zh")
    assert not cjk(pack.get("ws-disconnect").title)




def test_stamp_keeps_the_file_as_written_and_lints_its_own_pack(pack_copy, diagnose):
    overlay = pack_copy / OVERLAY
    text = overlay.read_text(encoding="utf-8")
    block = text.index("translated-from:")
    crlf = (text[:block] + "# a comment of the translator\n" + text[block:]).replace("\n", "\r\n")
    crlf = crlf.replace("\r\ntranslated-from:", "\r\n\"translated-from\":") + "# last words\r\n...\r\n"
    overlay.write_bytes(crlf.encode("utf-8"))
    result = diagnose("lint", "--no-builtin", "--stamp", str(overlay))     # (a copy of the built-in pack)
    assert result.code == 0, result.out + result.err
    assert str(pack_copy) in result.out and "/work/main/checks" not in result.out.replace(str(pack_copy), "")
    after = overlay.read_bytes().decode("utf-8")
    assert "\r\n" in after and "\n" not in after.replace("\r\n", "")                     # line endings kept
    assert after.count("translated-from") == 1 and "# a comment of the translator" in after
    assert "# last words" in after and after.rstrip().endswith("...")
    assert translation_problems(pack_copy) == []


def test_stamp_writes_through_a_link_keeps_permissions_and_refuses_what_it_cannot_stamp(pack_copy, diagnose, tmp_path):
    import os

    overlay = pack_copy / OVERLAY
    real = tmp_path / "elsewhere.zh.yaml"
    real.write_text(overlay.read_text(encoding="utf-8"), encoding="utf-8")
    overlay.unlink()
    overlay.symlink_to(real)
    os.chmod(real, 0o640)
    assert diagnose("lint", "--no-builtin", "--stamp", str(overlay)).code == 0
    assert overlay.is_symlink() and oct(real.stat().st_mode & 0o777) == "0o640"
    os.chmod(real, 0o444)
    refused = diagnose("lint", "--stamp", str(overlay))
    assert refused.code == 2 and "read-only" in refused.err and len(refused.err.strip().splitlines()) == 1
    os.chmod(real, 0o644)
    real.write_text("{title: 流式写法}\n", encoding="utf-8")
    flow = diagnose("lint", "--stamp", str(overlay))
    assert flow.code == 2 and "block style" in flow.err and len(flow.err.strip().splitlines()) == 1
    for odd in (pack_copy / ENTRY, pack_copy / "data", tmp_path / "missing.zh.yaml"):
        said = diagnose("lint", "--stamp", str(odd))
        assert said.code == 2 and len(said.err.strip().splitlines()) == 1, said.err


def test_a_terminal_that_cannot_write_chinese_gets_question_marks_not_a_traceback(diagnose, monkeypatch):
    monkeypatch.setenv("PYTHONIOENCODING", "latin-1")
    result = diagnose("list", "--lang", "zh")
    assert result.code == 0 and "db-pool-exhausted" in result.out and "?" in result.out
    assert "Error" not in result.err
