"""`--bundle` on a real run and `diagnose report BUNDLE` offline; every broken bundle is exit 2, one line."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from diagnose.kb.loader import load_pack
from diagnose.world.stack import load_stack

WORLD_SECRETS = ("k7Hq2vXw9LmN4pRt", "s3cr3tVa1ue-Zx81Qw77Lp0")


def members(path) -> dict[str, bytes]:
    with tarfile.open(path, mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}


def one_line_error(result, path) -> None:
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("diagnose: ") and str(path) in lines[0], result.err
    assert result.out == ""


@pytest.fixture
def bundled(diagnose, world, tmp_path):
    """A real `diagnose stale-positions --bundle` on the broken mode-switch world: (result, json report, bundle)."""
    profile = world("stale-positions", "mode-switch")
    report, bundle = tmp_path / "r.json", tmp_path / "ticket" / "b.tar.gz"
    result = diagnose("stale-positions", "--profile", str(profile), "--format", "json", "-o", str(report),
                      "--bundle", str(bundle))
    return result, report, bundle


def test_run_with_bundle_writes_report_and_bundle_and_prints_both(bundled):
    result, report, bundle = bundled
    assert result.code == 1, result.err
    assert f"Report: {report}" in result.out and f"Bundle: {bundle}" in result.out
    inside = members(bundle)
    assert inside["report.json"] == report.read_bytes()  # the same masked document as the report
    assert {"manifest.json", "report.md", "report.html", "profile.yaml"} <= set(inside)
    assert any(n.startswith("evidence/") and n.endswith(".csv") for n in inside)   # SQL rows
    logs = [n for n in inside if n.startswith("evidence/") and n.endswith(".log")]
    assert logs and any(b"execution.log:" in inside[n] for n in logs)             # log lines with file:line
    assert b"pos-paper-btc-1h" in b"".join(inside.values())
    for name, data in inside.items():
        for secret in WORLD_SECRETS:
            assert secret.encode() not in data, (name, secret)


@pytest.mark.parametrize("fmt", ["html", "json", "md"])
def test_report_re_renders_the_bundle_offline(diagnose, bundled, tmp_path, fmt):
    _, report, bundle = bundled
    shown = diagnose("report", str(bundle), "--format", fmt)
    assert shown.code == 0, shown.err
    assert shown.out == members(bundle)[f"report.{fmt}"].decode()
    if fmt == "json":
        assert shown.out == report.read_text()
    out = tmp_path / f"again.{fmt}"
    written = diagnose("report", str(bundle), "--format", fmt, "-o", str(out))
    assert written.code == 0 and f"Report: {out}" in written.out
    assert out.read_text() == shown.out


def test_report_with_an_output_folder_uses_the_symptom_name(diagnose, bundled, tmp_path):
    _, _, bundle = bundled
    folder = tmp_path / "out"
    folder.mkdir()
    assert diagnose("report", str(bundle), "-o", str(folder)).code == 0
    assert [p.name.startswith("stale-positions-") and p.suffix == ".md" for p in folder.iterdir()] == [True]


def test_broken_bundles_give_one_line_and_exit_2(diagnose, bundled, tmp_path):
    _, _, bundle = bundled
    good = bundle.read_bytes()
    tampered = tmp_path / "tampered.tar.gz"
    contents = members(bundle)
    contents["report.md"] = contents["report.md"].replace(b"Problem found", b"All good")
    with tarfile.open(tampered, mode="w:gz") as tar:
        for name, data in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    cases = {
        tampered: "checksum mismatch",
        tmp_path / "truncated.tar.gz": "not a readable diagnose bundle",
        tmp_path / "corrupt.tar.gz": "",
        tmp_path / "notes.txt": "not a readable diagnose bundle",
        tmp_path / "missing.tar.gz": "No such file",
    }
    (tmp_path / "truncated.tar.gz").write_bytes(good[: len(good) // 3])
    (tmp_path / "corrupt.tar.gz").write_bytes(good[:300] + bytes(64) + good[364:])
    (tmp_path / "notes.txt").write_text("the backend is down again\n")
    for path, needle in cases.items():
        for fmt in ("md", "json"):
            result = diagnose("report", str(path), "--format", fmt)
            one_line_error(result, path)
            assert needle in result.err, (path, result.err)


def test_unwritable_bundle_path_is_one_line_exit_2_and_no_partial_file(diagnose, world, tmp_path):
    profile = world("stale-positions", "healthy")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    report = tmp_path / "r.md"
    result = diagnose("stale-positions", "--profile", str(profile), "-o", str(report),
                      "--bundle", str(blocker / "b.tar.gz"))
    assert result.code == 2, (result.out, result.err)
    assert result.err.strip() == f"diagnose: cannot write bundle {blocker / 'b.tar.gz'}: {blocker} is a file, not a folder"
    assert report.exists()       # the report was already written and summarised
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".gz", ".tmp") or p.name.startswith(".")) == []


def test_triage_bundle_into_a_folder_re_renders_as_triage(diagnose, world_profile, tmp_path):
    stack = load_stack(load_pack())
    profile = world_profile(stack.example(["paper-leftovers"]))
    folder = tmp_path / "ticket"
    folder.mkdir()
    result = diagnose("triage", "--profile", str(profile), "-q", "-o", str(tmp_path / "t.md"),
                      "--bundle", str(folder))
    assert result.code == 1, result.err
    [bundle] = folder.glob("triage-*.tar.gz")
    assert f"Bundle: {bundle}" in result.out
    inside = members(bundle)
    assert any(n.startswith(f"evidence/{stack.fault('paper-leftovers').symptom}/") for n in inside)
    shown = diagnose("report", str(bundle), "--format", "json")
    assert shown.code == 0, shown.err
    doc = json.loads(shown.out)
    assert doc["kind"] == "triage" and doc["symptoms"][0]["verdict"] == "problem"
    assert diagnose("report", str(bundle)).out == (tmp_path / "t.md").read_text()
