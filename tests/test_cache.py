"""The cache folder: files written whole and readable by their owner alone to change, and only such files trusted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from diagnose.cache import trusted, write_cache_file

ROOT = Path(__file__).resolve().parents[1]


def test_a_cache_file_is_written_that_only_its_owner_may_change_whatever_the_umask(tmp_path):
    folder = tmp_path / "cache"
    code = ("import os, sys\nos.umask(0o002)\nfrom pathlib import Path\nfrom diagnose.cache import write_cache_file\n"
            "write_cache_file(Path(sys.argv[1]) / 'x.json', {'a': 1})\n")
    subprocess.run([sys.executable, "-c", code, str(folder)], check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    written = folder / "x.json"
    assert written.read_text() == '{"a": 1}'
    assert written.stat().st_mode & 0o022 == 0 and trusted(written)
    assert [p.name for p in folder.iterdir()] == ["x.json"]    # no temporary file left


def test_only_a_file_no_one_else_may_write_is_trusted(tmp_path):
    write_cache_file(tmp_path / "c" / "x.json", [1])
    path = tmp_path / "c" / "x.json"
    assert trusted(path)
    path.chmod(0o664)
    assert not trusted(path)
    path.chmod(0o644)
    path.parent.chmod(0o777)
    assert not trusted(path), "a folder others may write: the file could be replaced"
    path.parent.chmod(0o755)
    assert not trusted(tmp_path / "c" / "missing.json")
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)
        assert not trusted(path), "another user's file"


def test_a_pack_cache_someone_else_could_have_written_is_validated_again(tmp_path, monkeypatch):
    from diagnose.kb import loader

    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "cache"))
    loader.load_pack()
    cached = next((tmp_path / "cache").glob("kb-*.json"))
    validations: list[int] = []
    real = loader._validate
    monkeypatch.setattr(loader, "_validate", lambda *a: validations.append(1) or real(*a))
    loader.load_pack()
    assert validations == []
    cached.chmod(0o666)
    loader.load_pack()
    assert validations == [1]


def test_every_reader_of_the_cache_goes_through_the_trusted_read(tmp_path, monkeypatch):
    """The example reports (published as they are), the search entries, the explain index, the profile markers,
    the query verdicts and the packs: a file of theirs that others may write is read as missing."""
    from diagnose.cache import read_cache_file
    from diagnose.site import examples, search_memo

    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "cache"))
    report = tmp_path / "cache" / "site-example-x.json"
    write_cache_file(report, {"format": examples.CACHE_FORMAT, "report": {"entry": "x", "markdown": "<script>"}})
    assert examples._read_cache(report).markdown == "<script>"
    report.chmod(0o666)
    assert examples._read_cache(report) is None and read_cache_file(report) is None

    pages = tmp_path / "cache" / "site-search-x.json"
    write_cache_file(pages, {"format": search_memo.FORMAT, "pages": {"k": [{"location": "", "text": "x"}]}})
    pages.chmod(0o666)
    assert search_memo._known(pages) == {}

    from diagnose import profile

    data = {"databases": {"trading": "postgresql://127.0.0.1/t"}}
    profile._remember_valid(data)
    assert profile._validated_before(data)
    profile._marker(data).chmod(0o666)
    assert not profile._validated_before(data)


def test_a_file_that_is_not_json_reads_as_missing(tmp_path):
    from diagnose.cache import read_cache_file

    write_cache_file(tmp_path / "c" / "ok.json", {"a": [1]})
    (tmp_path / "c" / "bad.json").write_text("{half")
    (tmp_path / "c" / "bad.json").chmod(0o644)
    assert read_cache_file(tmp_path / "c" / "ok.json") == {"a": [1]}
    assert read_cache_file(tmp_path / "c" / "bad.json") is None
    assert read_cache_file(tmp_path / "c" / "none.json") is None
