"""The three report formats: golden files, hostile data, escaping, self-containment.

Golden files live in ``tests/reports/golden/<scenario>.<exit code>.<format>``, and those of the same
documents in Chinese (``--lang zh``, the knowledge base loaded in Chinese) in
``tests/reports/golden/zh/<scenario>.<exit code>.<format>``; after an intended change, regenerate them
with ``DIAGNOSE_UPDATE_GOLDEN=1 pytest tests/reports`` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from diagnose.reports import render

GOLDEN = Path(__file__).parent / "golden"
FORMATS = ("md", "html", "json")
LANGS = ("en", "zh")


def golden_dir(lang: str) -> Path:
    """Where the golden files of ``lang`` are: English beside this module's ``golden``, others in a folder each."""
    return GOLDEN if lang == "en" else GOLDEN / lang


def check_golden(path: Path, actual: str) -> None:
    if os.environ.get("DIAGNOSE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path.name} missing: run with DIAGNOSE_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8"), \
        f"{path} differs; if intended, regenerate with DIAGNOSE_UPDATE_GOLDEN=1 and review the diff"


def normalise(text: str, document: dict) -> str:
    """Blank out what legitimately changes between runs and machines."""
    for value, stand_in in ((document["tool"]["version"], "<VERSION>"),
                            (document["knowledge_base"]["digest"], "<DIGEST>"),
                            (document["knowledge_base"]["root"], "<KB-ROOT>"), (document["host"], "<HOST>")):
        text = text.replace(value, stand_in)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<TIME>", text)
    text = re.sub(r'("duration_ms": )[\d.]+', r"\1<MS>", text)
    return re.sub(r"\b\d+(\.\d+)? ms\b", "<MS> ms", text)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("scenario", ["stale-positions", "risk", "healthy", "inconclusive"])
@pytest.mark.parametrize("lang", LANGS)
def test_golden(scenarios, build, speak, in_lang, scenario, fmt, lang):
    speak(lang)
    document = build(in_lang(scenarios[scenario](), lang))
    actual = normalise(render(document, fmt), document)
    check_golden(golden_dir(lang) / f"{scenario}.{document['exit_code']}.{fmt}", actual)


def test_golden_scenarios_have_the_expected_exit_codes():
    for lang in LANGS:
        names = {p.name for p in golden_dir(lang).iterdir()}
        for stem in ("stale-positions.1", "risk.4", "healthy.0", "inconclusive.3"):
            assert {f"{stem}.{fmt}" for fmt in FORMATS} <= names


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_secret_in_any_format(scenarios, build, secrets, fmt):
    for make in scenarios.values():
        text = render(build(make()), fmt)
        assert [k for k, v in secrets.items() if v in text] == []
        assert "«masked-1»" in text or make.__name__ in ("healthy_run", "risk_run")


# -- Markdown --------------------------------------------------------------------------------------

def rendered_markdown(text: str) -> str:
    """The Markdown as a ticket system would show it (raw HTML allowed, as on most renderers)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table").render(text)


def table_rows(html: str) -> list[int]:
    return [row.count("<td") + row.count("<th") for row in re.findall(r"<tr>(.*?)</tr>", html, re.S)]


def test_markdown_tables_survive_pipes_backticks_and_newlines(scenarios, build):
    text = render(build(scenarios["stale-positions"]()), "md")
    assert "qty \\| side \\`LONG\\`" in text and "multi<br>line" in text
    html = rendered_markdown(text)
    checks_table, rows_table = re.findall(r"<table>.*?</table>", html, re.S)[:2]
    assert set(table_rows(checks_table)) == {4} and len(table_rows(checks_table)) == 5
    assert set(table_rows(rows_table)) == {4}
    assert "qty | side `LONG`" in html  # shown as written once rendered


def test_markdown_never_lets_data_become_html(scenarios, build):
    html = rendered_markdown(render(build(scenarios["stale-positions"]()), "md"))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_markdown_evidence_shapes(scenarios, build):
    text = render(build(scenarios["stale-positions"]()), "md")
    assert "/var/log/desk/execution.log:1041: 2026-11-21 08:01:02,001 ERROR position_sync_failed" in text
    assert "**execution log** (first 2 of 14)" in text
    assert "```sh\ngrep -n 'position_sync_failed' /var/log/desk/execution.log\n```" in text
    assert "1. **The position sync task stopped** (score 1, from `open-positions-stale`)" in text
    assert "<https://faq.example.test/faq/stale-positions/>" in text
    assert '"desk": "postgresql://desk:«masked-1»@127.0.0.1:5432/desk"' in text


def test_markdown_code_blocks_outlast_backticks_in_data(factory, build):
    from diagnose.checks.base import Evidence, Status

    check = factory.make_check("c", "C", kind="ws")
    evidence = [Evidence(kind="text", title="reply", text="before\n```\n# not a heading\n```\nafter"),
                Evidence(kind="values", values={"`tick`": "a ``b`` c", "multi": "x\n```y"})]
    run = factory.make_run(factory.make_entry("x", [check]),
                           [factory.result(check, Status.FAIL, "# 1. | `x`", evidence=evidence)])
    text = render(build(run), "md")
    assert "````\nbefore\n```\n# not a heading\n```\nafter\n````" in text
    html = rendered_markdown(text)
    assert "<h1>not a heading</h1>" not in html and "# not a heading" in html
    assert "<code>a ``b`` c</code>" in html
    assert "<p># 1. | `x`</p>" in html  # the message is text: no heading, no code span, no table


def test_markdown_inconclusive_lists_every_non_pass_check(scenarios, build):
    text = render(build(scenarios["inconclusive"]()), "md")
    for status in ("error", "timeout", "skip"):
        assert re.search(rf"^### \S+ {status}: ", text, re.M)
    assert "Inconclusive" in text and "exit code 3" in text


# -- HTML --------------------------------------------------------------------------------------------

class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_html_shows_hostile_log_line_without_running_it(scenarios, build):
    html = render(build(scenarios["stale-positions"]()), "html")
    parser = Tags()
    parser.feed(html)
    assert "script" not in {tag for tag, _ in parser.tags}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_html_is_self_contained(scenarios, build):
    for make in scenarios.values():
        parser = Tags()
        parser.feed(render(build(make()), "html"))
        tags = {tag for tag, _ in parser.tags}
        assert not tags & {"script", "link", "img", "iframe", "object", "embed"}
        assert not [a for _, a in parser.tags if "src" in a]
        assert not [a for tag, a in parser.tags if tag == "a" and not a["href"].startswith("https://")]
        assert "style" in tags


def test_html_escapes_every_field_and_kb_markdown(factory, build):
    from diagnose.checks.base import Evidence, Status
    from diagnose.kb.model import Solution, Step

    hostile = '<img src=x onerror="alert(1)">'
    check = factory.make_check("c", hostile, kind="http", expects=hostile)
    evidence = [Evidence(kind="rows", title=hostile, columns=[hostile], rows=[[hostile]]),
                Evidence(kind="values", values={hostile: hostile}), Evidence(kind="text", text=hostile)]
    solution = Solution("s", hostile, (Step(f"{hostile}\n\n[click](javascript:alert(1))", "read-only"),), causes=())
    entry = factory.make_entry("x", [check], solutions=(solution,))
    run = factory.make_run(entry, [factory.result(check, Status.FAIL, hostile, evidence=evidence)],
                           profile={"note": hostile}, pack=factory.make_pack(entry))
    html = render(build(run), "html")
    parser = Tags()
    parser.feed(html)
    assert "img" not in {tag for tag, _ in parser.tags}
    assert not [a for _, a in parser.tags if "onerror" in a or "javascript" in a.get("href", "")]
    assert html.count("&lt;img src=x onerror=") >= 8


def test_html_status_colours(scenarios, build):
    html = render(build(scenarios["inconclusive"]()), "html")
    for status in ("pass", "error", "timeout", "skip"):
        assert f'class="badge s-{status}"' in html
        assert re.search(rf"\.s-{status} {{ background: var\(--{status}\); }}", html)


# -- JSON and plumbing -------------------------------------------------------------------------------

def test_json_is_the_document(scenarios, build):
    document = build(scenarios["stale-positions"]())
    text = render(document, "json")
    assert json.loads(text) == document
    assert "«masked-1»" in text  # ensure_ascii=False: labels stay readable


def test_unknown_format_is_a_clear_error(scenarios, build):
    with pytest.raises(ValueError, match="unknown report format 'pdf': use one of md, html, json"):
        render(build(scenarios["healthy"]()), "pdf")


def test_heavy_libraries_load_only_when_rendering():
    code = ("import sys, diagnose.reports, diagnose.reports.html, diagnose.reports.markdown, "
            "diagnose.reports.terminal, diagnose.reports.document, diagnose.reports.writer, diagnose.masking; "
            "print(sorted(m for m in ('jinja2', 'rich', 'markdown_it', 'jsonschema') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
