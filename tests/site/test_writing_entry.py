"""The entry that "Writing a new entry" walks through is valid and proves itself.

The page is hand-written, so this is what keeps it from going stale: its YAML is put into a
copy of the built-in pack, linted like any entry, and self-tested on a real PostgreSQL.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from diagnose.cli import cli
from diagnose.kb.loader import builtin_root, load_pack
from diagnose.selftest import run_selftest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "writing-an-entry.md"


def the_pages_entry(suffix: str = "") -> tuple[str, str]:
    """``(file name, YAML)`` of the block titled ``checks/<category>/<id><suffix>.yaml`` (``.zh``: its
    translation)."""
    match = re.search(rf'^```yaml title="checks/(\w+/[\w-]+{re.escape(suffix)}\.yaml)"\n(.*?)^```$',
                      PAGE.read_text(encoding="utf-8"), re.M | re.S)
    assert match, "the page has no ```yaml title=\"checks/<category>/<id>.yaml\" block"
    return match.group(1), match.group(2)


def test_the_example_entry_lints_and_passes_its_selftest(tmp_path, monkeypatch, pg_server):
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "checks"
    shutil.copytree(builtin_root(), root)
    name, text = the_pages_entry()
    (root / name).write_text(text, encoding="utf-8")
    entry_id = yaml.safe_load(text)["id"]
    assert entry_id in PAGE.read_text(encoding="utf-8").split("diagnose selftest ", 1)[1][:80]

    result = CliRunner().invoke(cli, ["lint", "--no-builtin", str(root)])
    assert result.exit_code == 2 and f"{name.replace('.yaml', '.zh.yaml')}:1: missing translation" in result.output
    zh_name, zh_text = the_pages_entry(".zh")     # the page's translation completes it
    assert zh_name == name.replace(".yaml", ".zh.yaml")
    (root / zh_name).write_text(zh_text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["lint", "--no-builtin", "--stamp", str(root / zh_name), str(root)])
    assert result.exit_code == 0, result.output
    assert load_pack(root, use_cache=False, lang="zh").get(entry_id).title == yaml.safe_load(zh_text)["title"]

    pack = load_pack(root, use_cache=False)
    entry = pack.get(entry_id)
    outcomes = run_selftest(pack, [entry], pg_server, jobs=2)
    assert [o.name for o in outcomes] == [f"{entry_id}/{x.name}" for x in entry.examples]
    assert all(o.ok for o in outcomes), [(o.name, o.problems) for o in outcomes]
