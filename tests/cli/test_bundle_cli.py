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


def header_bomb(path, kind: bytes, payload_mib: int) -> None:
    """A bundle whose first header is an extension header (GNU long name/link, PAX) announcing a payload of
    ``payload_mib`` MiB of 'a', then a small member: ~1 KB per MiB, as concatenated gzip members (which gzip
    readers join), so that writing it takes neither the memory nor the time of the payload."""
    import gzip

    def header(name: str, type_: bytes, size: int) -> bytes:
        info = tarfile.TarInfo(name)
        info.type, info.size = type_, size
        return info.tobuf(format=tarfile.USTAR_FORMAT)

    size = payload_mib * 1024 * 1024
    record = f"{size} comment=".encode() if kind in (tarfile.XHDTYPE, tarfile.XGLTYPE) else b""  # one huge PAX record
    mib = gzip.compress(b"a" * (1024 * 1024), mtime=0)
    with open(path, "wb") as out:
        out.write(gzip.compress(header("././@LongLink", kind, size) + record, mtime=0))
        out.write(mib * (payload_mib - 1))
        out.write(gzip.compress(b"a" * (1024 * 1024 - len(record) - 1) + b"\n", mtime=0))
        out.write(gzip.compress(header("manifest.json", tarfile.REGTYPE, 2) + b"{}".ljust(512, b"\0") + bytes(1024),
                                mtime=0))


@pytest.mark.parametrize("kind", [tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE,
                                  tarfile.XGLTYPE])
def test_a_header_bomb_is_refused_before_tarfile_reads_it(tmp_path, kind):
    """A 1 MB bundle whose GNU long name (or PAX header) held 1 GiB once made `diagnose report` read it all
    into memory (peak RSS 2.1 GB, 3.9 s) before any member limit applied. Here 320 MiB in a ~330 KB file
    (it took 640 MB to 940 MB): refused in one line, exit 2, the child's peak memory far below the payload."""
    import os
    import subprocess
    import sys

    from .conftest import ROOT, Result

    bundle = tmp_path / "bomb.tar.gz"
    header_bomb(bundle, kind, 320)
    assert bundle.stat().st_size < 400_000
    # a wrapper whose only child is diagnose, so that RUSAGE_CHILDREN is the peak of that run alone
    wrapper = ("import resource, subprocess, sys\n"
               "done = subprocess.run([sys.executable, '-m', 'diagnose', 'report', sys.argv[1]], capture_output=True,"
               " text=True, stdin=subprocess.DEVNULL)\n"
               "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
               "sys.stderr.write(done.stderr); sys.stdout.write(done.stdout)")
    env = dict(os.environ, PYTHONPATH=str(ROOT), DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", wrapper, str(bundle)], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120, check=False)
    first, _, rest = proc.stdout.partition("\n")
    code, peak_mb = map(int, first.split())
    result = Result(subprocess.CompletedProcess([], code, rest, proc.stderr))
    assert "Traceback" not in result.err, result.err
    one_line_error(result, bundle)
    assert peak_mb < 200, f"peak RSS {peak_mb} MB reading a bundle with a 320 MiB header"
    assert "refused" in result.err and ("too large" in result.err or "global PAX header" in result.err), result.err
