"""Reports in Chinese (``--lang zh``): the tool's words translated, evidence and enum values as they are.

The golden files of both languages are in ``test_formats.py`` and ``test_triage_formats.py``; these
tests say what must hold whatever the wording.
"""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from diagnose.reports import render
from diagnose.reports.document import REPORT_SCHEMA
from diagnose.reports.triage_document import TRIAGE_SCHEMA

from .test_triage_formats import document as triage_document
from .test_triage_formats import mixed

FORMATS = ("md", "html", "json")


@pytest.fixture
def chinese(scenarios, build, speak, factory):
    """``chinese(name)``: the document of a scenario run with ``--lang zh`` and the pack in Chinese (Chinese
    from then on)."""
    def make(name: str) -> dict:
        speak("zh")
        return build(factory.in_chinese(scenarios[name]()))

    return make


def test_json_records_the_language_of_its_texts(scenarios, build, chinese):
    english = build(scenarios["stale-positions"]())
    assert english["lang"] == "en"
    document = chinese("stale-positions")
    assert document["lang"] == "zh"
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(document)
    assert list(document)[:3] == ["schema_version", "tool", "lang"]


def test_lang_is_optional_in_the_schema(scenarios, build):
    """A report written before ``lang`` existed (same ``schema_version``) still validates: the field is additive."""
    document = build(scenarios["healthy"]())
    del document["lang"]
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(document)
    assert "lang" not in REPORT_SCHEMA["required"] and "lang" not in TRIAGE_SCHEMA["required"]
    document["lang"] = "fr"
    assert list(jsonschema.Draft202012Validator(REPORT_SCHEMA).iter_errors(document))


def test_triage_json_records_its_language(speak, factory):
    speak("zh")
    document = json.loads(render(triage_document(factory.in_chinese(mixed())), "json"))
    jsonschema.validate(document, TRIAGE_SCHEMA)
    assert document["lang"] == "zh"
    assert [s["verdict"] for s in document["symptoms"]] == ["problem", "risk", "inconclusive", "healthy"]


def test_json_keeps_keys_and_enum_values(chinese):
    document = chinese("stale-positions")
    assert document["verdict"] == "problem"
    assert [c["status"] for c in document["checks"]] == ["fail", "fail", "pass", "pass"]
    assert document["counts"] == {"pass": 2, "fail": 2, "error": 0, "timeout": 0, "skip": 0}
    steps = [step for solution in document["solutions"] for step in solution["steps"]]
    assert {step["risk"] for step in steps} == {"read-only", "reversible", "outage"}
    assert {s["risk"] for s in document["solutions"]} == {"read-only", "outage"}
    assert document["symptom"]["severity"] == "high"
    # the texts are Chinese: the pack's, and the tool's own in each solution's steps
    assert document["symptom"]["title"] == "持仓不再更新"
    assert "**步骤 1** · 风险：**中断服务**" in document["solutions"][0]["markdown"]


def test_evidence_is_never_translated(scenarios, build, chinese):
    english, document = build(scenarios["stale-positions"]()), chinese("stale-positions")
    assert [c["evidence"] for c in document["checks"]] == [c["evidence"] for c in english["checks"]]
    assert document["notes"] == english["notes"] and document["profile"] == english["profile"]
    text = render(document, "md")
    assert "/var/log/desk/execution.log:1041: 2026-11-21 08:01:02,001 ERROR position_sync_failed" in text
    assert "| 17 | BTCUSDT | 2026-11-21 06:01:00+00 | qty \\| side \\`LONG\\` |" in text
    assert "```sh\ngrep -n 'position_sync_failed' /var/log/desk/execution.log\n```" in text
    assert "**execution log**（共 14 条，显示前 2 条）" in text
    assert '"desk": "postgresql://desk:«masked-1»@127.0.0.1:5432/desk"' in text
    assert "```bash\ndocker compose up -d backend\n```" in text


def test_markdown_speaks_chinese(chinese):
    text = render(chinese("stale-positions"), "md")
    for heading in ("# diagnose 报告：持仓不再更新（`stale-positions`）", "## 检查", "## 证据", "## 可能的原因",
                    "## 解决办法", "## 预防", "## 相关条目", "## 目标配置文件（密钥已遮蔽）"):
        assert re.search(rf"^{re.escape(heading)}$", text, re.M), heading
    assert "❌ **发现问题**（退出码 1）：通过 2，失败 2" in text
    assert "| 状态 | 检查 | 结果 | 耗时 |" in text and "| ❌ 失败 | OPEN 持仓最近有刷新 |" in text
    assert "### 检查数据库（本次运行未牵涉）" in text
    for english in ("## Checks", "## Evidence", "Likely causes", "Shown, never run", "**Step 1**", "risk: **",
                    "Expected:", "Check it by hand", "exit code", "generated "):
        assert english not in text


def test_html_speaks_chinese_and_says_so(scenarios, build, chinese):
    assert '<html lang="en">' in render(build(scenarios["healthy"]()), "html")
    html = render(chinese("inconclusive"), "html")
    assert '<html lang="zh-CN">' in html
    assert "<title>diagnose: stale-positions — 无法判断</title>" in html
    assert '<span class="badge s-timeout">超时</span>' in html and '<span class="badge s-pass">通过</span>' in html
    assert "<h2>检查</h2>" in html and "<th>状态</th><th>检查</th><th>结果</th><th>耗时</th>" in html
    assert "did not finish within 10s" in html   # the tool's message of a timeout is evidence: as it was
    for english in ("<h2>Checks</h2>", ">TIMEOUT<", "Inconclusive:", "exit code", "Target profile"):
        assert english not in html


def test_triage_speaks_chinese(speak, factory):
    speak("zh")
    document = triage_document(factory.in_chinese(mixed()))
    text = render(document, "md")
    assert text.startswith("# diagnose 分诊\n\n**1 个症状有问题**，1 个有风险，1 个无法判断，1 个正常（退出码 1）")
    assert "| # | 结论 | 症状 | 标题 | 得分 | 首要原因 | 检查 |" in text
    assert "## 风险：发现了原因，但症状（尚）未出现" in text and "## 未能得出结论的检查" in text
    html = render(document, "html")
    assert '<html lang="zh-CN">' in html and '<span class="badge v-risk">风险</span>' in html
    assert "<title>diagnose 分诊 — 1 个问题</title>" in html


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_secret_in_any_chinese_format(secrets, speak, factory, scenarios, build, fmt):
    speak("zh")
    for make in scenarios.values():
        text = render(build(factory.in_chinese(make())), fmt)
        assert [k for k, v in secrets.items() if v in text] == []
    text = render(triage_document(factory.in_chinese(mixed())), fmt)
    assert [k for k, v in secrets.items() if v in text] == []


def test_the_language_is_the_one_in_force_when_rendering(scenarios, build, speak):
    """Headings follow the language in force when a document is rendered; what the document holds (its
    steps, its ``lang``) is the language it was built in."""
    document = build(scenarios["stale-positions"]())
    speak("zh")
    text = render(document, "md")
    assert "## 检查" in text and "**Step 1** · risk: **outage**" in text
    assert document["lang"] == "en"


def test_a_bundle_is_re_rendered_in_the_language_it_was_run_in(tmp_path, build, speak, factory):
    """``diagnose report BUNDLE``: the run's language unless --lang says otherwise, and then a note that the
    knowledge base's texts stay as they were run."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from diagnose.reports.bundle import write_bundle

    from .conftest import problem_run

    speak("zh")
    bundle = write_bundle(build(factory.in_chinese(problem_run())), tmp_path / "run.tar.gz")
    speak(None)
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root), DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"))

    def report(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "diagnose", "report", str(bundle), *args], capture_output=True,
                              text=True, env=env, timeout=60)

    as_run = report()
    assert as_run.returncode == 0, as_run.stderr
    assert as_run.stdout.startswith("# diagnose 报告：") and "\n## 检查\n" in as_run.stdout
    assert as_run.stderr == ""
    english = report("--lang", "en")
    assert english.returncode == 0
    assert "run in 中文" in english.stderr and "--lang en" in english.stderr
    assert english.stdout.startswith("# diagnose report: ") and "\n## Checks\n" in english.stdout
    assert "持仓" in english.stdout                      # the knowledge base's texts as the run wrote them
