"""The ``reference/own-session`` page is built from the code constants it documents, and is on the site.

What a real server shows inside a check is compared with the page in ``tests/checks/test_own_session.py``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from diagnose.checks import sql_pool, sql_session
from diagnose.probes import DEFAULT_TIMEOUT, PREPARE_TIMEOUT
from diagnose.site.own_session import own_session_page, own_settings

ROOT = Path(__file__).resolve().parents[2]


def table_row(page: str, name: str) -> str:
    [row] = [line for line in page.splitlines() if line.startswith(f"| `{name}` |")]
    return row


def test_the_page_carries_the_values_of_the_code():
    page = own_session_page()
    assert table_row(page, "application_name").startswith(f"| `application_name` | `{sql_session.APPLICATION_NAME}` |")
    for name, value in {**sql_session.SESSION_OPTIONS, **sql_session.TRANSACTION_SETTINGS}.items():
        assert table_row(page, name).startswith(f"| `{name}` | `{value}` |")
    assert f"less {sql_session.BUDGET_MARGIN_MS} ms" in table_row(page, "statement_timeout")
    assert f"`statement_timeout` + {sql_session.IDLE_GRACE_MS} ms" in table_row(page, "idle_in_transaction_session_timeout")
    assert f"at most {int(DEFAULT_TIMEOUT * 1000) - sql_session.BUDGET_MARGIN_MS} ms" in page
    assert f"default {DEFAULT_TIMEOUT:g} s" in page and f"at most {PREPARE_TIMEOUT:g} s" in page
    assert f"at least {sql_session.MIN_CONNECT_TIMEOUT} s" in page
    assert f"at most {sql_pool.MAX_PER_DSN} per database" in page and f"1/{sql_session.SLOT_SHARE} of the free" in page
    assert page.count(f"application_name <> '{sql_session.APPLICATION_NAME}'") == 4   # the text and three queries
    assert len([line for line in page.splitlines() if line.startswith("| `")]) == len(own_settings())


def test_changing_a_constant_changes_the_page(monkeypatch):
    before = own_session_page()
    monkeypatch.setattr(sql_session, "APPLICATION_NAME", "diag-x7")
    monkeypatch.setattr(sql_session, "BUDGET_MARGIN_MS", 37)
    monkeypatch.setattr(sql_session, "IDLE_GRACE_MS", 4321)
    monkeypatch.setattr(sql_session, "MIN_CONNECT_TIMEOUT", 9)
    monkeypatch.setattr(sql_session, "SLOT_SHARE", 6)
    monkeypatch.setattr(sql_session, "SESSION_OPTIONS", {"default_transaction_read_only": "on", "work_mem": "1MB"})
    monkeypatch.setattr(sql_session, "TRANSACTION_SETTINGS", {"jit": "off", "search_path": "pg_catalog"})
    monkeypatch.setattr(sql_pool, "MAX_PER_DSN", 7)
    page = own_session_page()
    assert page != before
    assert "`diag-x7`" in page and "'diagnose'" not in page and page.count("application_name <> 'diag-x7'") == 4
    assert "less 37 ms" in page and "+ 4321 ms" in page and "at least 9 s" in page
    assert "at most 7 per database" in page and "1/6 of the free" in page
    assert table_row(page, "work_mem").startswith("| `work_mem` | `1MB` | at connection")
    assert table_row(page, "search_path").startswith("| `search_path` | `pg_catalog` | in each check's transaction")
    assert "| `standard_conforming_strings` |" not in page
    assert "WHERE name IN ('jit', 'search_path')" in page


def test_the_page_is_generated_in_the_navigation_and_linked(pack):
    from diagnose.site.generate import site_files

    files = site_files(pack, {})
    assert files["reference/own-session.md"] == own_session_page()
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    [reference] = [item["Reference"] for item in nav if isinstance(item, dict) and "Reference" in item]
    assert "reference/own-session.md" in reference
    guide = (ROOT / "docs" / "reference" / "writing-an-entry.md").read_text(encoding="utf-8")
    assert "](own-session.md)" in guide
