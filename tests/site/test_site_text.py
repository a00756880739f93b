"""The text helpers behind the pages: list indentation, error samples, psql text, docstrings."""

from __future__ import annotations

import re

import markdown
import pytest

from diagnose.kb.loader import load_pack
from diagnose.site.manual import paste_sql
from diagnose.site.mdtext import cell, demote_headings, docstring_markdown, plain, python_markdown
from diagnose.site.samples import sample


def render(text: str) -> str:
    return markdown.markdown(text, extensions=["pymdownx.superfences", "tables"])


def first_item_text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html[html.index("<li>"):html.index("</li>")])


def test_fences_nested_in_commonmark_list_items_stay_in_the_item():
    source = "1. List them:\n\n   ```sql\n   SELECT 1;\n   ```\n\n2. Close them\n"
    assert "SELECT 1;" not in first_item_text(render(source))  # what Python-Markdown does unaided
    html = render(python_markdown(source))
    assert "SELECT 1;" in first_item_text(html), html
    assert html.count("<ol>") == 1, "the list was cut in two"


def test_lists_nested_at_the_markers_width_stay_nested():
    source = "1. Close them:\n   - by id\n   - by symbol\n2. Verify\n"
    assert "<ul>" not in render(source)  # what Python-Markdown does unaided: one flat list
    html = render(python_markdown(source))
    assert re.search(r"<li>Close them:<ul>\s*<li>by id</li>\s*<li>by symbol</li>\s*</ul>", html), html


def test_a_list_right_after_a_paragraph_becomes_a_list():
    assert "<ul>" not in render("Steps:\n- one\n- two")
    assert "<li>one</li>" in render(python_markdown("Steps:\n- one\n- two"))


def test_code_inside_fences_keeps_its_own_indentation():
    source = "1. Code:\n   ```python\n   def f():\n       return 1\n   ```\n"
    out = python_markdown(source)
    assert "        return 1" in out and "    def f():" in out


@pytest.mark.parametrize("pattern, expected", [
    (r"(?i)(code[ =:]*|close[ds]?\W{0,10})1006\b", "code 1006"),
    (r"(WebSocket|WS)\s*连接\s*(已)?(断开|关闭)", "WebSocket 连接断开"),
    (r"获取(行情数据|到期日)[^,，:：]{0,10}失败", "获取行情数据失败"),
    (r"PoolTimeout: couldn.t get a connection after [\d.]+ sec", "PoolTimeout: couldn't get a connection after 0 sec"),
    (r"(?i)rollover[ _]?task.{0,40}\bfailed", "rollover task failed"),
])
def test_error_samples_are_readable_and_match(pattern, expected):
    assert sample(pattern) == expected
    assert re.search(pattern, expected)


def test_every_error_pattern_of_the_pack_gets_a_matching_sample():
    for entry in load_pack().entries:
        for pattern in entry.error_patterns:
            text = sample(pattern)
            assert text and re.search(pattern, text), (entry.id, pattern, text)


def test_no_sample_when_none_can_be_written():
    assert sample(r"(a)\1") is None
    assert sample(r"^$") is None


def test_paste_sql_binds_values_and_sets_env_parameters_as_psql_variables():
    entry = load_pack().get("stale-positions")
    check = next(c for c in entry.checks if "current_mode" in (c.raw.get("params") or {}))
    text = paste_sql(check, entry)
    assert "\\set current_mode 'LIVE'" in text  # the value the entry's healthy world gives EXECUTION_MODE
    assert ":'current_mode'" in text and "%(" not in text
    interval = next(c for c in entry.checks if (c.raw.get("params") or {}).get("window") == {"window": "1h"})
    assert "'1 hour'::interval" in paste_sql(interval, entry)


def test_docstrings_become_markdown():
    doc = '''Kind ``x``: see :class:`~diagnose.checks.base.SkipCheck`.

    Example::

        - id: a
          kind: x

    After.
    '''
    out = docstring_markdown(doc)
    assert out.startswith("Kind `x`: see `SkipCheck`.")
    assert "Example:\n\n```yaml\n- id: a\n  kind: x\n```" in out and out.endswith("After.")


def test_table_cells_and_plain_text_escape_what_markdown_would_eat():
    assert cell("a|b `x|y`") == "a\\|b `x|y`"
    assert plain("{:error, :signature_error} <b>*x*</b>") == "\\{:error, :signature\\_error\\} &lt;b>\\*x\\*&lt;/b>"
    rendered = render("| m |\n|---|\n| " + plain("a|b <i> *c*", in_table=True) + " |")
    assert "a|b &lt;i&gt; *c*" in rendered


def test_report_headings_are_demoted_but_not_inside_code():
    text = "# Title\n\n```sh\n# a comment\n```\n## Part"
    assert demote_headings(text, 3) == "#### Title\n\n```sh\n# a comment\n```\n##### Part"
