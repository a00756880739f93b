"""Finding plugins: the entry points of installed distributions, read the way importlib.metadata finds
them (first distribution of a name on sys.path wins), without its cost at every start-up."""

import sys
from importlib.metadata import entry_points

import pytest

from diagnose import plugins


def dist(site, folder: str, text: str | None) -> None:
    info = site / folder
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {folder.split('-')[0]}\n")
    if text is not None:
        (info / "entry_points.txt").write_text(text)


@pytest.fixture
def sites(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    dist(first, "acme_disk-1.2.dist-info", "# kinds\n[diagnose.kinds]\nlogsize = acme_disk.logsize\n\n"
                                           "[console_scripts]\nacme = acme_disk:main\n"
                                           "[diagnose.formats]\n text =  acme_disk.text:render \n")
    dist(second, "acme_disk-1.0.dist-info", "[diagnose.kinds]\nold = acme_disk.old\n")   # shadowed by the first
    dist(second, "other-3.dist-info", "[mkdocs.plugins]\nx = other.x\n")                # no diagnose group
    dist(second, "plain-1.dist-info", None)                                                # no entry points
    dist(second, "legacy-0.5.egg-info", "[diagnose.sources]\ndirectories = legacy.dirs\n")
    monkeypatch.setattr(sys, "path", [str(first), str(second), *sys.path])
    plugins.installed.cache_clear()
    yield
    plugins.installed.cache_clear()


def test_entry_points_are_found_as_importlib_metadata_finds_them(sites):
    assert plugins.entry_points_of("diagnose.kinds", builtin=()) == {"logsize": "acme_disk.logsize"}
    assert plugins.entry_points_of("diagnose.formats", builtin=()) == {"text": "acme_disk.text:render"}
    assert plugins.entry_points_of("diagnose.sources", builtin=()) == {"directories": "legacy.dirs"}
    assert plugins.entry_points_of("diagnose.kinds", builtin=("logsize",)) == {}
    for group in ("diagnose.kinds", "diagnose.formats", "diagnose.sources"):
        assert {p.name: p.value for p in entry_points(group=group)} == plugins.entry_points_of(group, builtin=())


def test_the_signature_changes_with_a_version_or_a_plugin(sites, tmp_path):
    before = plugins.signature()
    assert "acme_disk==1.2" in before and "legacy==0.5" in before and "other" not in before
    (tmp_path / "first" / "acme_disk-1.2.dist-info").rename(tmp_path / "first" / "acme_disk-1.3.dist-info")
    plugins.installed.cache_clear()
    assert plugins.signature() != before and "acme_disk==1.3" in plugins.signature()
