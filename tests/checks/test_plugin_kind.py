"""Check kinds and a source type from another installed package (tests/plugin: one module and one entry
point each), used as their authors would: lint validates their fields with their own schemas, a run uses
them (the source type brings its profile section and its flag), the self-test proves them, and
diagnose.testing is the harness their own tests call."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
import yaml

from diagnose import plugins

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "tests" / "plugin"

ENTRY = textwrap.dedent("""\
    id: log-grows
    title: A log fills the disk
    category: storage
    severity: medium
    summary: The application's log is never rotated.
    causes:
      - {id: no-rotation, title: No rotation, text: Nothing rotates the log.}
    checks:
      - id: log-size
        kind: logsize
        title: size of the application log
        expects: under 200 bytes
        log: app
        max_bytes: 200
        cause: no-rotation
        symptom: true
        message: "the log is {bytes} bytes (at most {max_bytes})"
    solutions:
      - id: rotate
        title: Rotate it
        steps:
          - do: See how big it is.
            risk: read-only
            where: host
            shell: ls -l /var/log/app.log
    examples:
      - name: grown
        verdict: problem
        causes: [no-rotation]
        fails: [log-size]
        world:
          logs:
            app: |
    {big}
      - name: healthy
        verdict: healthy
        world:
          logs:
            app: |
              {now-5m} INFO started
    """)


def install(site: Path, plugin: Path = PLUGIN) -> Path:
    """What ``pip install`` leaves in site-packages: the package and a dist-info with its entry points."""
    project = tomllib.loads((plugin / "pyproject.toml").read_text())["project"]
    shutil.copytree(plugin / "diagnose_disk", site / "diagnose_disk")
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    points = "".join(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in items.items())
                     for group, items in project["entry-points"].items())
    (info / "entry_points.txt").write_text(points)
    return site


def write_pack(root: Path) -> Path:
    (root / "storage").mkdir(parents=True)
    (root / "pack.yaml").write_text(yaml.safe_dump({"name": "disks", "version": "1",
                                                    "sources": {"logs": {"app": {"description": "the app's log"}}}}))
    big = "\n".join(f"              {{now-{i}m}} INFO request {i} served in 12 ms" for i in range(20, 0, -1))
    (root / "storage" / "log-grows.yaml").write_text(ENTRY.replace("{big}", big))
    return root


@pytest.fixture
def cli(tmp_path):
    def run(*args: str, site: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIAGNOSE_")}
        path = os.pathsep.join(str(p) for p in (site, ROOT) if p)
        env.update(PYTHONPATH=path, DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"))
        proc = subprocess.run([sys.executable, "-m", "diagnose", *args], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=timeout, stdin=subprocess.DEVNULL)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc
    return run


def test_a_plugin_kind_is_linted_run_and_proven(cli, tmp_path):
    site = install(tmp_path / "site")
    pack = write_pack(tmp_path / "pack")
    proc = cli("lint", "--no-builtin", str(pack), site=site)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    log = tmp_path / "app.log"
    log.write_text("x" * 500)
    proc = cli("log-grows", "--no-builtin", "--checks", str(pack), "--log", f"app={log}", "--format", "json",
               "-o", str(tmp_path / "r.json"), site=site)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (check,) = json.loads((tmp_path / "r.json").read_text())["checks"]
    assert check["kind"] == "logsize" and check["status"] == "fail"
    assert check["message"] == "the log is 500 bytes (at most 200)"
    assert check["manual"] == "du -cb <files of log app>"
    proc = cli("selftest", "--no-builtin", "--checks", str(pack), site=site, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_plugin_s_schema_and_lint_are_diagnose_lint_s(cli, tmp_path):
    site = install(tmp_path / "site")
    pack = write_pack(tmp_path / "pack")
    entry = pack / "storage" / "log-grows.yaml"
    entry.write_text(entry.read_text().replace("max_bytes: 200", "max_byte: 200"))
    proc = cli("lint", "--no-builtin", str(pack), site=site)
    line = entry.read_text().splitlines().index("    max_byte: 200") + 1
    assert proc.returncode == 2
    assert f"log-grows.yaml:{line}: checks[0].max_byte: unknown field 'max_byte' (did you mean 'max_bytes'?)" in proc.stdout
    entry.write_text(entry.read_text().replace("max_byte: 200", "max_bytes: 20000000000000"))
    proc = cli("lint", "--no-builtin", str(pack), site=site)
    assert proc.returncode == 2 and "checks[0].max_bytes: more than a terabyte" in proc.stdout


def test_without_the_plugin_the_kind_is_unknown(cli, tmp_path):
    pack = write_pack(tmp_path / "pack")
    proc = cli("lint", "--no-builtin", str(pack))
    assert proc.returncode == 2 and "checks[0].kind: unknown kind 'logsize'" in proc.stdout


def test_a_broken_plugin_is_named_where_its_kind_is_used(cli, tmp_path):
    site = install(tmp_path / "site")
    kind = site / "diagnose_disk" / "logsize.py"
    kind.write_text(kind.read_text().replace('KIND = "logsize"', 'KIND = "log-size"'))
    proc = cli("lint", "--no-builtin", str(write_pack(tmp_path / "pack")), site=site)
    assert proc.returncode == 2
    assert ("checks[0].kind: kind 'logsize' (entry point diagnose.kinds -> diagnose_disk.logsize) is not a check kind: "
            "KIND must be 'logsize'") in proc.stdout
    # a pack that does not use it, and the pages and schema of every kind, are not held back by it
    proc = cli("lint", "--no-builtin", str(write_dir_pack(tmp_path / "other")), site=site)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    schema = cli("schema", site=site)
    assert schema.returncode == 0, schema.stderr
    branches = {b["if"]["properties"]["kind"]["const"]
                for b in json.loads(schema.stdout)["properties"]["checks"]["items"]["allOf"]}
    assert "dirsize" in branches and "logsize" not in branches
    assert cli("docs", "show", "check-kinds", site=site).returncode == 0


def test_the_shipped_harness_runs_a_plugin_kind(tmp_path, monkeypatch):
    import diagnose.checks as registry
    import diagnose.sources as sources
    from diagnose.testing import assert_is_kind, installed_plugin_kinds, lint_check, run_check

    site = install(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    registry.plugin_kinds.cache_clear()
    registry._load_plugin.cache_clear()
    sources.source_types.cache_clear()
    plugins.installed.cache_clear()
    try:
        assert installed_plugin_kinds() == {"logsize": "diagnose_disk.logsize", "dirsize": "diagnose_disk.dirsize"}
        assert_is_kind("logsize")
        check = {"id": "size", "kind": "logsize", "title": "size", "expects": "small", "log": "app", "max_bytes": 10}
        (problem,) = lint_check({**check, "max_bytes": "ten"})
        assert problem.startswith("max_bytes: ")
        assert lint_check(check) == []
        log = tmp_path / "app.log"
        log.write_text("0123456789abc")
        result = run_check(check, logs={"app": str(log)})
        assert result.status == "fail" and result.evidence[0].values == {str(log): 13}
        uploads = tmp_path / "uploads"
        uploads.mkdir()
        (uploads / "x.bin").write_bytes(b"x" * 20)
        sized = {"id": "up", "kind": "dirsize", "title": "up", "expects": "small", "directory": "up", "max_bytes": 10}
        assert run_check(sized, directories={"up": str(uploads)}).status == "fail"   # a plugin's own section
        log.write_text("short")
        assert run_check(check, logs={"app": str(log)}).status == "pass"
        assert run_check(check).status == "skip"      # no such log in the profile: skipped, never failed
        with pytest.raises(AssertionError, match="unknown kind 'nope'"):
            assert_is_kind("nope")
    finally:
        registry.plugin_kinds.cache_clear()
        registry._load_plugin.cache_clear()
        sources.source_types.cache_clear()
        plugins.installed.cache_clear()


DIR_ENTRY = textwrap.dedent("""\
    id: uploads-full
    title: Uploads fill the disk
    category: storage
    severity: medium
    summary: Nothing removes old uploads.
    causes:
      - {id: no-cleanup, title: No clean-up, text: Nothing removes old uploads.}
    checks:
      - id: uploads-size
        kind: dirsize
        title: size of the uploads folder
        expects: under 1000 bytes
        directory: uploads
        max_bytes: 1000
        cause: no-cleanup
        symptom: true
        message: "the uploads are {bytes} bytes (at most {max_bytes})"
    solutions:
      - id: look
        title: Look at them
        steps:
          - do: List the largest files.
            risk: read-only
            where: host
            shell: ls -lS /srv/app/uploads
    examples:
      - name: full
        verdict: problem
        causes: [no-cleanup]
        fails: [uploads-size]
        world:
          directories:
            uploads: {files: {a.bin: 800, b.bin: 900}}
      - name: healthy
        verdict: healthy
        world:
          directories:
            uploads: {files: {a.bin: 10}}
    """)


def write_dir_pack(root: Path) -> Path:
    (root / "storage").mkdir(parents=True)
    (root / "pack.yaml").write_text(yaml.safe_dump({
        "name": "uploads", "version": "1",
        "sources": {"directories": {"uploads": {"description": "user uploads", "example": "/srv/app/uploads"}}}}))
    (root / "storage" / "uploads-full.yaml").write_text(DIR_ENTRY)
    return root


def test_a_plugin_source_type_brings_its_section_flag_and_world(cli, tmp_path):
    site = install(tmp_path / "site")
    pack = write_dir_pack(tmp_path / "pack")
    assert cli("lint", "--no-builtin", str(pack), site=site).returncode == 0
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "big.bin").write_bytes(b"x" * 1500)
    # its flag, on every command that reads a profile, with its help
    assert "--dir NAME=PATH" in cli("uploads-full", "--help", site=site).stdout
    proc = cli("uploads-full", "--no-builtin", "--checks", str(pack), "--dir", f"uploads={uploads}",
               "--format", "json", "-o", str(tmp_path / "r.json"), site=site)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (check,) = json.loads((tmp_path / "r.json").read_text())["checks"]
    assert check["message"] == "the uploads are 1500 bytes (at most 1000)" and check["source"] == "directory:uploads"
    # its profile section, validated with its schema (a path relative to the profile)
    profile = tmp_path / "diagnose.yaml"
    profile.write_text(yaml.safe_dump({"directories": {"uploads": "uploads"}}))
    proc = cli("uploads-full", "--no-builtin", "--checks", str(pack), "-o", str(tmp_path / "r.md"), site=site)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    profile.write_text(yaml.safe_dump({"directories": {"uploads": ["not", "a", "path"]}}))
    proc = cli("uploads-full", "--no-builtin", "--checks", str(pack), site=site)
    assert proc.returncode == 2 and "diagnose.yaml:2: directories.uploads" in proc.stderr
    # not configured: skipped with the flag that would configure it
    profile.unlink()
    proc = cli("uploads-full", "--no-builtin", "--checks", str(pack), "-o", str(tmp_path / "s.md"), site=site)
    assert "directory 'uploads' is not configured" in (tmp_path / "s.md").read_text()
    assert "--dir uploads=" in (tmp_path / "s.md").read_text()
    # its example worlds are built by the type itself
    proc = cli("selftest", "--no-builtin", "--checks", str(pack), site=site, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_without_the_plugin_the_source_section_is_unknown(cli, tmp_path):
    proc = cli("lint", "--no-builtin", str(write_dir_pack(tmp_path / "pack")))
    assert proc.returncode == 2 and "sources.directories" in proc.stdout


@pytest.mark.parametrize("hook", ["lint", "manual"])
def test_a_plugin_hook_that_raises_is_one_line_not_a_traceback(cli, tmp_path, hook):
    site = install(tmp_path / "site")
    kind = site / "diagnose_disk" / "logsize.py"
    kind.write_text(kind.read_text() + f"\n\ndef {hook}(check):\n    raise RuntimeError('plugin bug')\n")
    pack = write_pack(tmp_path / "pack")
    proc = cli("lint", "--no-builtin", str(pack), site=site)
    if hook == "lint":
        assert proc.returncode == 2
        assert "checks[0].kind: the lint of kind 'logsize' (diagnose_disk.logsize) failed: RuntimeError: plugin bug" \
            in proc.stdout
    else:   # no command by hand to show: the page, show and the report go on without it
        assert proc.returncode == 0, proc.stdout
        assert cli("show", "log-grows", "--no-builtin", "--checks", str(pack), site=site).returncode == 0


@pytest.mark.parametrize("breakage, why", [
    (('FLAG = "--dir"', 'FLAG = "--profile"'), "FLAG must be a long option"),
    (('SCHEMA: dict[str, Any] = {"type": "string"', 'SCHEMA: dict[str, Any] = {"type": "path"'),
     "SCHEMA is not a valid JSON Schema"),
])
def test_a_broken_source_type_is_one_line_on_every_command(cli, tmp_path, breakage, why):
    site = install(tmp_path / "site")
    source = site / "diagnose_disk" / "directories.py"
    assert breakage[0] in source.read_text()
    source.write_text(source.read_text().replace(*breakage))
    (tmp_path / "diagnose.yaml").write_text("directories:\n  uploads: /srv/uploads\n")
    for args in (["list"], ["lint"], ["ws-disconnect"], ["schema", "--pack"]):
        proc = cli(*args, site=site)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        [line] = proc.stderr.splitlines()
        assert line.startswith("diagnose: source type 'directories' (entry point diagnose.sources -> "
                               f"diagnose_disk.directories) is not a source type: {why}"), line


def test_installing_or_removing_a_plugin_revalidates_a_cached_pack(cli, tmp_path):
    site = install(tmp_path / "site")
    pack = write_dir_pack(tmp_path / "pack")
    assert cli("list", "--no-builtin", "--checks", str(pack), site=site).returncode == 0      # validated, cached
    proc = cli("list", "--no-builtin", "--checks", str(pack))                                    # plugin gone
    assert proc.returncode == 2 and "directories" in proc.stderr
    # a plugin edited in place (a field made required) is validated again too
    dirsize = site / "diagnose_disk" / "dirsize.py"
    dirsize.write_text(dirsize.read_text().replace('"required": ["directory", "max_bytes"]',
                                                   '"required": ["directory", "max_bytes", "min_bytes"]'))
    proc = cli("list", "--no-builtin", "--checks", str(pack), site=site)
    assert proc.returncode == 2 and "missing required field 'min_bytes'" in proc.stderr


def test_a_plugin_world_is_handed_back_when_the_world_closes(tmp_path, monkeypatch):
    import diagnose.sources as sources
    from diagnose.kb.model import Example, Pack
    from diagnose.world.build import World

    site = install(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    sources.source_types.cache_clear()
    plugins.installed.cache_clear()
    try:
        pack = Pack(root=tmp_path, name="t", version="0", site_url="", digest="-", sources={})
        example = Example(name="full", verdict="problem", causes=(),
                          world={"directories": {"uploads": {"files": {"a.bin": 3}}}})
        with World(pack, example, None, tmp_path / "w") as world:
            folder = Path(world.profile.sources["directories"]["uploads"])
            assert (folder / "a.bin").stat().st_size == 3
        assert not folder.exists()
        # also when a later part of the world fails to build
        broken = Example(name="broken", verdict="problem", causes=(),
                         world={"directories": {"uploads": {"files": {"a.bin": 3}}}, "modified": {"nope": "1d"}})
        with pytest.raises(ValueError, match="modified.nope"):
            with World(pack, broken, None, tmp_path / "w2"):
                pass
        assert not (tmp_path / "w2" / "directories" / "uploads").exists()
    finally:
        sources.source_types.cache_clear()
        plugins.installed.cache_clear()
