"""The faults table of ``docs/reference/faults.md`` cannot rot: every test it names exists,
every end-to-end fault test is in it, every fault of the issue has a row, and the page is in
the site's navigation."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "reference" / "faults.md"
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")

#: the faults the issue "Faults never lose the report" lists: each needs a row (words of its Fault cell)
REQUIRED_FAULTS = [
    "database down", "wrong database password", "unknown database", "query slower than its timeout",
    "accepts tcp but never answers", "http 500", "not json", "websocket refused", "cut mid-frame",
    "log file missing", "log file unreadable", "binary log", "invalid utf-8", "2 gb log with no newline",
    "rotated mid-read", "env file with a syntax error", "output folder read-only", "full disk", "ctrl-c",
    "--deadline", "sql check that would write", "log fast path",
]


def fault_rows() -> list[tuple[str, str, str]]:
    """``(fault, what it does, tests)`` of each row of the table under "The faults tried"."""
    text = PAGE.read_text(encoding="utf-8").split("## The faults tried", 1)[1]
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 3 and cells[0] != "Fault" and not set(cells[0]) <= set("-"):
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def defined_tests(path: Path) -> set[str]:
    """Names of the test functions defined at the top level of a test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")}


def test_every_row_names_a_test_and_every_named_test_exists():
    rows = fault_rows()
    assert len(rows) >= len(REQUIRED_FAULTS) - 2
    missing = []
    for fault, does, tests in rows:
        refs = TEST_REF.findall(tests)
        assert refs, f"row {fault!r} names no test"
        assert does, f"row {fault!r} does not say what diagnose does"
        for file, name in refs:
            path = ROOT / file
            if not path.is_file() or name not in defined_tests(path):
                missing.append(f"{file}::{name}")
    assert not missing, f"the faults table names tests that do not exist: {missing}"


def test_every_fault_of_the_issue_has_a_row():
    faults = " / ".join(fault for fault, _, _ in fault_rows()).lower()
    assert [f for f in REQUIRED_FAULTS if f not in faults] == []


def test_every_end_to_end_fault_test_is_in_the_table():
    named = {name for _, _, tests in fault_rows() for file, name in TEST_REF.findall(tests)
             if file == "tests/cli/test_faults.py"}
    assert defined_tests(ROOT / "tests" / "cli" / "test_faults.py") - named == set()


def test_the_page_is_in_the_navigation():
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    reference = next(section["Reference"] for section in nav if isinstance(section, dict) and "Reference" in section)
    assert "reference/faults.md" in reference
