"""Report formats are a registry: the built-in ones and another package's (tests/plugin: ``text``, one module
and one entry point in ``diagnose.formats``), used through the command line as their authors would: a run
writes ``.txt``, a bundle holds ``report.txt``, ``diagnose report`` re-renders it, ``--help`` lists it. A
format only ever sees the masked document."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from diagnose import plugins

from diagnose.reports.formats import (
    BUILTIN_FORMATS,
    DEFAULT_FORMAT,
    FormatError,
    format_names,
    protocol_problems,
    report_format,
)

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "tests" / "plugin"
SECRET = "Zq8sEcret77"

ENTRY = textwrap.dedent("""\
    id: app-login
    title: The app cannot log in to its database
    category: service
    severity: medium
    summary: The app's log says its database login fails.
    causes:
      - {id: old-password, title: An old password, text: The app still uses the password before the rotation.}
    checks:
      - id: login-errors
        kind: log
        title: login errors in the app log
        expects: no failed login in the app log
        log: app
        pattern: 'login failed'
        cause: old-password
        symptom: true
        message:
          pass: no failed login
          fail: "{count} failed login(s); last: {last}"
    solutions:
      - id: rotate
        title: Give the app the new password
        steps:
          - do: See which password the app has.
            risk: read-only
            where: host
            shell: grep -c DATABASE_URL /srv/app/.env
    examples:
      - name: rotated
        verdict: problem
        causes: [old-password]
        fails: [login-errors]
        world:
          logs:
            app: |
              {now-5m} ERROR login failed: postgresql://app:old@db:5432/trading refused
      - name: healthy
        verdict: healthy
        world:
          logs:
            app: |
              {now-5m} INFO connected
    """)
LOG = f"2026-11-21T08:15:02Z ERROR login failed: postgresql://app:{SECRET}@db:5432/trading refused\n"


def install(site: Path) -> Path:
    """What ``pip install`` leaves in site-packages: the package and a dist-info with its entry points."""
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]
    shutil.copytree(PLUGIN / "diagnose_disk", site / "diagnose_disk")
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in items.items())
        for group, items in project["entry-points"].items()))
    return site


@pytest.fixture
def target(tmp_path):
    """A pack with one log check and a log whose failing line holds a password: the run's arguments."""
    pack = tmp_path / "pack"
    (pack / "service").mkdir(parents=True)
    (pack / "pack.yaml").write_text(yaml.safe_dump({"name": "apps", "version": "1",
                                                    "sources": {"logs": {"app": {"description": "the app's log"}}}}))
    (pack / "service" / "app-login.yaml").write_text(ENTRY)
    log = tmp_path / "app.log"
    log.write_text(LOG)
    return ["--no-builtin", "--checks", str(pack), "--log", f"app={log}"]


@pytest.fixture
def cli(tmp_path):
    def run(*args: str, site: Path | None = None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIAGNOSE_")}
        env.update(PYTHONPATH=os.pathsep.join(str(p) for p in (site, ROOT) if p),
                   DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"))
        proc = subprocess.run([sys.executable, "-m", "diagnose", *args], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=120, stdin=subprocess.DEVNULL)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc
    return run


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}


def test_a_plugin_format_is_written_bundled_re_rendered_and_listed(cli, target, tmp_path):
    site = install(tmp_path / "site")
    reports, tickets = tmp_path / "reports", tmp_path / "tickets"
    reports.mkdir()
    tickets.mkdir()
    proc = cli("app-login", *target, "--format", "text", "-o", str(reports), "--bundle", str(tickets), site=site)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    [written] = reports.iterdir()
    assert written.name.startswith("app-login-") and written.suffix == ".txt"    # the format's extension
    text = written.read_text()
    assert text == ("fail login-errors: 1 failed login(s); last: 2026-11-21T08:15:02Z ERROR login failed: "
                    "postgresql://app:«masked-1»@db:5432/trading refused\n")
    assert SECRET not in text                                                   # the masked document only
    # the bundle holds every format, the plugin's too, after the built-in ones
    [bundle] = tickets.iterdir()
    inside = members(bundle)
    assert list(inside)[:6] == ["manifest.json", "report.json", "report.md", "report.html", "report.txt",
                                "profile.yaml"]
    assert inside["report.txt"].decode() == text
    assert all(SECRET.encode() not in data for data in inside.values())
    # and `diagnose report` re-renders it, printed or into a folder
    shown = cli("report", str(bundle), "--format", "text", site=site)
    assert shown.returncode == 0 and shown.stdout == text, shown.stderr
    again = tmp_path / "again"
    again.mkdir()
    assert cli("report", str(bundle), "--format", "text", "-o", str(again), site=site).returncode == 0
    assert [p.suffix for p in again.iterdir()] == [".txt"]
    # a triage document too: one line per check of every symptom
    proc = cli("triage", *target, "--format", "text", "-o", str(tmp_path / "t.txt"), site=site)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (tmp_path / "t.txt").read_text() == text.replace("fail login-errors", "fail app-login/login-errors")
    # every command that takes --format lists it, with its description
    for command in (["app-login"], ["triage"], ["report"]):
        shown = cli(*command, "--help", site=site).stdout
        assert "[md|html|json|text]" in shown and "text: one line per check" in " ".join(shown.split())


def test_without_the_plugin_text_is_no_format(cli, target, tmp_path):
    for args in (["app-login", *target], ["triage", *target], ["report", str(tmp_path / "b.tar.gz")]):
        proc = cli(*args, "--format", "text")
        assert proc.returncode == 2
        [line] = [line for line in proc.stderr.splitlines() if "--format" in line]
        assert "text" in line and all(name in line for name in ("md", "html", "json")), proc.stderr
    assert "[md|html|json]" in cli("app-login", "--help").stdout


@pytest.mark.parametrize("breakage,why", [
    (("NAME = \"text\"", "NAME = \"txt\""), "is not a report format: NAME must be 'text' (its entry point's name)"),
    (("from typing import Any", "import diagnose_missing_dependency"), "cannot be imported: ModuleNotFoundError"),
    (("EXTENSION = \"txt\"", "EXTENSION = \"md\""), "is not a report format: EXTENSION 'md' is taken by format 'md'"),
])
def test_a_broken_plugin_is_one_line_naming_its_entry_point_where_it_is_chosen(cli, target, tmp_path, breakage, why):
    site = install(tmp_path / "site")
    module = site / "diagnose_disk" / "text.py"
    assert breakage[0] in module.read_text()
    module.write_text(module.read_text().replace(*breakage))
    named = "diagnose: format 'text' (entry point diagnose.formats -> diagnose_disk.text) "
    proc = cli("app-login", *target, "--format", "text", "-o", str(tmp_path / "r.txt"), site=site)
    assert proc.returncode == 2 and not (tmp_path / "r.txt").exists()
    [line] = proc.stderr.splitlines()
    assert line.startswith(named + why), line
    # the other formats still work; help says which one cannot be loaded
    proc = cli("app-login", *target, "-o", str(tmp_path / "r.md"), site=site)
    assert proc.returncode == 1, proc.stderr
    assert "text: a plugin that cannot be loaded (--format text says why)" in " ".join(
        cli("report", "--help", site=site).stdout.split())
    # a bundle holds every format: it is not written without the plugin's
    proc = cli("app-login", *target, "-o", str(tmp_path / "s.md"), "--bundle", str(tmp_path / "b.tar.gz"), site=site)
    assert proc.returncode == 2 and (tmp_path / "s.md").exists() and not (tmp_path / "b.tar.gz").exists()
    [line] = proc.stderr.splitlines()
    assert line.startswith(f"diagnose: cannot write bundle {tmp_path / 'b.tar.gz'}: {named[len('diagnose: '):]}{why}")


def test_a_plugin_format_that_fails_to_render_is_one_line(cli, target, tmp_path):
    site = install(tmp_path / "site")
    module = site / "diagnose_disk" / "text.py"
    module.write_text(module.read_text() + "\n\ndef render(document):\n    raise KeyError('checks')\n")
    proc = cli("app-login", *target, "--format", "text", "-o", str(tmp_path / "r.txt"), site=site)
    assert proc.returncode == 2 and not (tmp_path / "r.txt").exists()
    [line] = proc.stderr.splitlines()[-1:]
    assert line.startswith("diagnose: --format text: the plugin format failed to render the report: KeyError")
    # a bundle holds every format: one line, the report itself written, no bundle
    proc = cli("app-login", *target, "-o", str(tmp_path / "r.md"), "--bundle", str(tmp_path / "b.tar.gz"), site=site)
    assert proc.returncode == 2 and (tmp_path / "r.md").exists() and not (tmp_path / "b.tar.gz").exists()
    [line] = proc.stderr.splitlines()[-1:]
    assert "format 'text' failed to render the report: KeyError" in line


# -- the registry itself -------------------------------------------------------------------------------

def test_every_built_in_format_is_one_registered_module_implementing_the_protocol():
    assert format_names()[:3] == list(BUILTIN_FORMATS) == ["md", "html", "json"] and DEFAULT_FORMAT == "md"
    for name, module in BUILTIN_FORMATS.items():
        fmt = report_format(name)
        assert fmt.__name__ == module and protocol_problems(fmt, name) == []
        assert (fmt.NAME, fmt.EXTENSION) == (name, name)


def test_a_built_in_name_wins_over_a_plugin_s(tmp_path, monkeypatch):
    import diagnose.reports.formats as formats

    info = tmp_path / "other-1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: other\nVersion: 1\n")
    (info / "entry_points.txt").write_text("[diagnose.formats]\nmd = other.md\nzz = other.zz\naa = other.aa\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    formats.plugin_formats.cache_clear()
    plugins.installed.cache_clear()
    try:
        assert formats.plugin_formats() == {"aa": "other.aa", "zz": "other.zz"}
        assert format_names() == ["md", "html", "json", "aa", "zz"]
        assert report_format("md").__name__ == "diagnose.reports.markdown"
    finally:
        formats.plugin_formats.cache_clear()
        plugins.installed.cache_clear()


def test_an_unknown_format_names_the_valid_ones():
    with pytest.raises(FormatError, match="unknown report format 'pdf': use one of md, html, json"):
        report_format("pdf")


def test_protocol_problems_say_what_a_module_lacks():
    module = ModuleType("half")
    module.NAME, module.EXTENSION, module.DESCRIPTION = "half", ".txt", "two\nlines"
    assert protocol_problems(module, "half") == [
        "EXTENSION must be a file extension without the dot (txt, tar.gz), not '.txt'",
        "DESCRIPTION must be one line of text",
        "render must be a function: render(document) -> str",
    ]


def test_the_plugin_format_renders_both_kinds(build, scenarios):
    spec = importlib.util.spec_from_file_location("text_format", PLUGIN / "diagnose_disk" / "text.py")
    text = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(text)
    assert protocol_problems(text, "text") == []
    document = build(scenarios["stale-positions"]())
    lines = text.render(document).splitlines()
    assert [line.split(" ", 2)[:2] for line in lines] == [[c["status"], f"{c['id']}:"] for c in document["checks"]]
    triage = {"kind": "triage", "symptoms": [{"id": "stale-positions", "checks": document["checks"]}]}
    assert text.render(triage).splitlines() == [line.replace(" ", " stale-positions/", 1) for line in lines]
