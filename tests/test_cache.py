"""The cache folder: files written whole and readable by their owner alone to change, and only such files trusted."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


def test_a_pack_validated_by_other_code_is_validated_again(tmp_path, monkeypatch):
    """An upgrade of diagnose (or an edit of a checkout) may validate differently: a pack it validated before is
    not taken on trust."""
    from diagnose.kb import loader

    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "cache"))
    loader.load_pack()
    validations: list[int] = []
    real = loader._validate
    monkeypatch.setattr(loader, "_validate", lambda *a: validations.append(1) or real(*a))
    loader.load_pack()
    assert validations == []
    monkeypatch.setattr(loader, "code_stamp", lambda: "0123456789ab")
    loader.load_pack()
    assert validations == [1]


def test_the_code_stamp_changes_with_any_file_of_the_package(tmp_path):
    from diagnose.cache import code_stamp

    package = tmp_path / "pkg"
    (package / "kb").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    module = package / "kb" / "schema.py"
    module.write_text("A = 1\n")
    first = code_stamp(package)
    assert code_stamp.__wrapped__(package) == first, "the same code, the same stamp"
    module.write_text("A = 22\n")
    assert code_stamp.__wrapped__(package) != first
    second = code_stamp.__wrapped__(package)
    (package / "kb" / "lint.py").write_text("")
    assert code_stamp.__wrapped__(package) != second
    third = code_stamp.__wrapped__(package)
    (package / "kb" / "notes.txt").write_text("data a module reads (the volatile functions' list)")
    assert code_stamp.__wrapped__(package) != third, "a data file of the package counts too"
    fourth = code_stamp.__wrapped__(package)
    (package / "kb" / "deep" / "deeper").mkdir(parents=True)
    (package / "kb" / "deep" / "deeper" / "rules.py").write_text("")
    assert code_stamp.__wrapped__(package) != fourth, "however deep"
    fifth = code_stamp.__wrapped__(package)
    (package / "kb" / "__pycache__").mkdir()
    (package / "kb" / "__pycache__" / "schema.cpython-311.pyc").write_bytes(b"\0")
    assert code_stamp.__wrapped__(package) == fifth, "byte-code is not code"


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


def test_every_file_the_product_writes_to_the_cache_has_a_name_pruning_knows(tmp_path, monkeypatch):
    """A new kind of cache file must be added to CACHE_NAMES, or the folder would grow with it again."""
    from diagnose.cache import TAG, cache_dir, is_cache_file
    from diagnose.checks import sql_verdicts
    from diagnose.kb.loader import load_pack
    from diagnose.kb.search import explain
    from diagnose.site.examples import cache_key

    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "cache"))
    sql_verdicts.forget()
    try:
        pack = load_pack()
        explain(pack, "order rejected: position_mutex_blocked")
        sql_verdicts.inspect("SELECT 1 AS diagnose_cache_name_test")
    finally:
        sql_verdicts.forget()
    from diagnose import profile

    profile._remember_valid({"databases": {"trading": "postgresql://127.0.0.1/t"}})
    written = sorted(p for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.name != TAG
                     and not p.name.startswith(".pruned-"))   # the tag and the stamps are not pruned
    assert {p.name.split("-")[0] for p in written} >= {"kb", "explain", "sql"} and \
        any(p.parent.name == "profiles" for p in written)
    site_example = cache_dir() / f"site-example-{cache_key(pack, pack.entries[0])}.json"
    for path in [*written, site_example]:
        assert is_cache_file(path, cache_dir()), path


def test_a_file_that_is_not_json_reads_as_missing(tmp_path):
    from diagnose.cache import read_cache_file

    write_cache_file(tmp_path / "c" / "ok.json", {"a": [1]})
    (tmp_path / "c" / "bad.json").write_text("{half")
    (tmp_path / "c" / "bad.json").chmod(0o644)
    assert read_cache_file(tmp_path / "c" / "ok.json") == {"a": [1]}
    assert read_cache_file(tmp_path / "c" / "bad.json") is None
    assert read_cache_file(tmp_path / "c" / "none.json") is None


def _aged(path: Path, days: float, size: int = 200_000) -> Path:
    """A cache file of ``size`` bytes last used ``days`` ago (large enough that disk blocks do not count)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    then = time.time() - days * 86400
    os.utime(path, (then, then))
    return path


def _cache_folder(tmp_path: Path) -> Path:
    """A cache folder as the cache makes one: tagged."""
    from diagnose.cache import TAG, TAG_TEXT

    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / TAG).write_text(TAG_TEXT)
    return folder


def test_prune_deletes_the_files_used_longest_ago_down_to_three_quarters_of_the_limit(tmp_path):
    from diagnose.cache import PRUNE_TO, prune

    folder = _cache_folder(tmp_path)
    oldest, old, recent = (_aged(folder / f"kb-{n}.json", days) for n, days in (("0a", 30), ("0b", 20), ("0c", 1)))
    marker = _aged(folder / "profiles" / ("ab" * 32), 25)          # a profile marker, in its subfolder
    kept = _aged(folder / "explain-0d.json", 40)                   # the file just written (old time: still kept)
    limit = 700_000
    done = prune(folder, limit, keep=kept)
    assert not oldest.exists() and not marker.exists() and not old.exists()
    assert recent.exists() and kept.exists()
    assert done.files == 3 and done.left <= limit * PRUNE_TO
    assert prune(folder, limit, keep=kept).files == 0, "under the limit: nothing to delete"


def test_prune_leaves_a_folder_under_its_limit_alone_but_clears_a_dead_writers_temporary_file(tmp_path):
    from diagnose.cache import prune

    folder = _cache_folder(tmp_path)
    files = [_aged(folder / f"kb-{n}.json", 300) for n in range(3)]
    dead = _aged(folder / "kb-0e.123-456.tmp", 1)
    live = _aged(folder / "kb-0f.123-789.tmp", 0)                 # another run is writing it now
    done = prune(folder, 10**9)
    assert all(f.exists() for f in files) and live.exists() and not dead.exists()
    assert done.files == 1


def test_prune_deletes_only_what_the_cache_writes_and_only_in_a_folder_it_made(tmp_path, monkeypatch):
    """$DIAGNOSE_CACHE_DIR pointed by mistake at a folder of the user's own: nothing of theirs is deleted, however
    old, even a file named like a cache file (an untagged folder is not pruned at all)."""
    from diagnose.cache import TAG, TAG_TEXT, prune

    own = tmp_path / "project"
    theirs = [_aged(own / name, 400) for name in ("README.md", ".git/HEAD", "kb-notes.json", "profiles/plan.txt")]
    named_like = _aged(own / "kb-0a.json", 400)
    assert prune(own, 1).files == 0
    assert all(f.exists() for f in theirs) and named_like.exists()
    (own / TAG).write_text(TAG_TEXT)
    assert prune(own, 1).files == 1 and not named_like.exists()
    assert all(f.exists() for f in theirs), "only the names the cache writes"
    monkeypatch.setenv("HOME", str(own))
    _aged(own / "kb-0b.json", 400)
    assert prune(own, 1).files == 0, "never the home folder"


def test_prune_follows_no_symbolic_link_out_of_the_cache_folder(tmp_path):
    """A cache file that is a link, or a profiles/ that is one, leads elsewhere: nothing there is deleted."""
    from diagnose.cache import prune

    folder = _cache_folder(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    named_like = [_aged(elsewhere / ("cd" * 32), 400), _aged(elsewhere / "kb-0a.json", 400)]
    (folder / "profiles").symlink_to(elsewhere, target_is_directory=True)
    (folder / "kb-0b.json").symlink_to(named_like[1])
    own = _aged(folder / "kb-0c.json", 300)
    assert prune(folder, 1).files == 1 and not own.exists()
    assert all(f.exists() for f in named_like) and (folder / "kb-0b.json").is_symlink()


def test_the_cache_tags_a_folder_it_makes_and_leaves_an_existing_one_of_the_users_untagged(tmp_path, monkeypatch):
    from diagnose.cache import TAG

    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "new"))
    write_cache_file(tmp_path / "new" / "kb-0a.json", {})
    assert (tmp_path / "new" / TAG).is_file()
    (tmp_path / "mine").mkdir()
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "mine"))
    write_cache_file(tmp_path / "mine" / "kb-0a.json", {})
    assert (tmp_path / "mine" / "kb-0a.json").is_file() and not (tmp_path / "mine" / TAG).exists()


def test_a_file_read_recently_outlives_one_written_recently_but_never_read(tmp_path, monkeypatch):
    from diagnose.cache import prune, read_cache_file

    folder = _cache_folder(tmp_path)
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(folder))
    used = folder / "kb-0a.json"
    write_cache_file(used, {"a": "x" * 200_000})
    then = time.time() - 10 * 86400
    os.utime(used, (then, then))
    unused = _aged(folder / "kb-0b.json", 5)
    assert read_cache_file(used) == {"a": "x" * 200_000}          # a run reads it: it is in use
    prune(folder, 300_000)                                         # room for one of the two
    assert used.exists() and not unused.exists(), "the file not used for five days goes first"


def test_a_write_prunes_the_folder_at_most_once_an_hour(tmp_path, monkeypatch):
    folder = _cache_folder(tmp_path)
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(folder))
    monkeypatch.setenv("DIAGNOSE_CACHE_MAX_MB", "1")
    junk = [_aged(folder / f"kb-{n}.json", 10 + n, size=400_000) for n in range(4)]
    write_cache_file(folder / "kb-0a.json", {"a": 1})
    assert (folder / "kb-0a.json").exists()
    assert [f.exists() for f in junk] == [True, False, False, False], "the old file used last stays"
    more = [_aged(folder / f"kb-1{n}.json", 50, size=400_000) for n in range(3)]
    write_cache_file(folder / "kb-0b.json", {"b": 2})
    assert all(f.exists() for f in more), "pruned a moment ago: not again"


def test_another_users_stamp_does_not_stop_this_users_pruning(tmp_path, monkeypatch):
    """Under sudo, root writes to the user's cache folder: its prune and its stamp are its own (it deletes none
    of the user's files, and the user's next write still prunes them)."""
    folder = _cache_folder(tmp_path)
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(folder))
    monkeypatch.setenv("DIAGNOSE_CACHE_MAX_MB", "1")
    junk = [_aged(folder / f"kb-{n}.json", 10 + n, size=400_000) for n in range(4)]
    me = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: me + 1)              # another user's run
    write_cache_file(folder / "kb-0c.json", {"c": 3})
    assert all(f.exists() for f in junk), "not its files to delete"
    monkeypatch.setattr(os, "geteuid", lambda: me)
    write_cache_file(folder / "kb-0a.json", {"a": 1})
    assert sum(f.exists() for f in junk) == 1


@pytest.mark.parametrize("value, limit", [("0", None), ("2", 2 * 1024 * 1024), ("", 128 * 1024 * 1024),
                                          ("-5", 128 * 1024 * 1024), ("1.5", 128 * 1024 * 1024),
                                          ("\u00b2", 128 * 1024 * 1024), ("lots", 128 * 1024 * 1024)])
def test_the_limit_is_a_whole_number_of_megabytes_zero_meaning_none(monkeypatch, value, limit):
    from diagnose.cache import max_bytes

    monkeypatch.setenv("DIAGNOSE_CACHE_MAX_MB", value)
    assert max_bytes() == limit


def test_a_run_keeps_a_cache_of_old_packs_under_its_limit(tmp_path):
    """What an author's cache looks like after weeks of edits: many old validated packs. The next run that
    writes a file (here the first `list` on a new cache key) deletes them, keeps what it needs and works."""
    folder = _cache_folder(tmp_path)
    old = [_aged(folder / f"kb-{n:02d}.json", 40 - n, size=300_000) for n in range(10)]
    env = dict(os.environ, DIAGNOSE_CACHE_DIR=str(folder), DIAGNOSE_CACHE_MAX_MB="2", PYTHONPATH=str(ROOT))
    env.pop("DIAGNOSE_CHECKS", None)
    listed = subprocess.run([sys.executable, "-m", "diagnose", "list"], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "stale-positions" in listed.stdout
    left = [f for f in old if f.exists()]
    assert left == old[len(old) - len(left):], "the files used longest ago go first"
    assert len(left) < len(old)
    assert sum(f.stat().st_size for f in left) <= 2 * 1024 * 1024 * 0.75
    assert any(f not in old for f in folder.glob("kb-*.json")), "the pack this run validated is kept"
