"""Support bundles: round trip, contents from the masked document, checksums, refusal of bad bundles."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from diagnose.checks.base import Evidence, Status
from diagnose.reports import render
from diagnose.reports.bundle import BundleError, bundle_bytes, bundle_path, read_bundle, write_bundle
from diagnose.reports.document import log_line

from .conftest import SCENARIOS, SECRETS
from .test_triage_formats import SCENARIOS as TRIAGE_SCENARIOS
from .test_triage_formats import document as triage_document

FORMATS = ("md", "html", "json")


@pytest.fixture(params=[*SCENARIOS, *(f"triage-{name}" for name in TRIAGE_SCENARIOS)])
def doc(request, build):
    name = request.param
    if name.startswith("triage-"):
        return triage_document(TRIAGE_SCENARIOS[name.removeprefix("triage-")]())
    return build(SCENARIOS[name]())


@pytest.fixture
def problem_doc(build):
    return build(SCENARIOS["stale-positions"]())


def members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}


def repack(path, contents: dict[str, bytes], *, extra: list[tarfile.TarInfo] = ()) -> None:
    """Write ``contents`` (name -> bytes, in order) as a .tar.gz, plus raw headers such as links."""
    with tarfile.open(path, mode="w:gz") as tar:
        for name, data in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info)


def with_manifest(contents: dict[str, bytes]) -> dict[str, bytes]:
    """``contents`` with a manifest recomputed for them: checksums that match whatever is inside."""
    index = json.loads(contents["manifest.json"])
    index["members"] = [{"name": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
                        for n, d in contents.items() if n != "manifest.json"]
    return {**contents, "manifest.json": json.dumps(index).encode()}


def test_round_trip_renders_exactly_what_a_direct_render_gives(doc, tmp_path):
    path = write_bundle(doc, tmp_path / "b.tar.gz")
    back = read_bundle(path)
    inside = members(path.read_bytes())
    for fmt in FORMATS:
        assert render(back, fmt) == render(doc, fmt), fmt
        assert inside[f"report.{fmt}"].decode() == render(doc, fmt), fmt


def test_manifest_lists_every_member_with_size_and_sha256(doc, tmp_path):
    inside = members(write_bundle(doc, tmp_path / "b.tar.gz").read_bytes())
    index = json.loads(inside.pop("manifest.json"))
    assert {m["name"] for m in index["members"]} == set(inside)
    for m in index["members"]:
        assert m["size"] == len(inside[m["name"]])
        assert m["sha256"] == hashlib.sha256(inside[m["name"]]).hexdigest()
    assert index["format"] == "diagnose-bundle" and index["bundle_version"] == 1
    assert index["diagnose_version"] == doc["tool"]["version"]
    assert (index["generated_at"], index["verdict"], index["exit_code"]) == (
        doc["generated_at"], doc["verdict"], doc["exit_code"])
    assert index["kind"] == doc.get("kind", "symptom")
    assert index["symptom"] == (None if doc.get("kind") == "triage" else doc["symptom"]["id"])


def test_same_document_same_bytes_with_fixed_headers(doc, tmp_path):
    first = write_bundle(doc, tmp_path / "one.tar.gz").read_bytes()
    assert write_bundle(doc, tmp_path / "two.tar.gz").read_bytes() == first == bundle_bytes(doc)
    with tarfile.open(fileobj=io.BytesIO(first), mode="r:gz") as tar:
        infos = tar.getmembers()
    names = [i.name for i in infos]
    assert names[:5] == ["manifest.json", "report.json", "report.md", "report.html", "profile.yaml"]
    assert len({(i.mtime, i.uid, i.gid, i.uname, i.gname, i.mode) for i in infos}) == 1
    assert (infos[0].uid, infos[0].gid, infos[0].uname) == (0, 0, "diagnose")
    assert all(i.isreg() and not i.name.startswith("/") and ".." not in i.name.split("/") for i in infos)
    assert first[4:8] == b"\0\0\0\0"  # gzip header mtime: 0, not the time of writing


def test_evidence_files_profile_and_no_secret_anywhere(problem_doc, tmp_path):
    inside = members(write_bundle(problem_doc, tmp_path / "b.tar.gz").read_bytes())
    checks = {c["id"]: c for c in problem_doc["checks"]}
    rows = checks["open-positions-stale"]["evidence"][0]
    table = list(csv.reader(io.StringIO(inside["evidence/open-positions-stale.csv"].decode())))
    assert table == [rows["columns"], *[[str(v) for v in row] for row in rows["rows"]]]  # "multi\nline" survives
    lines = checks["sync-errors"]["evidence"][0]["lines"]
    assert inside["evidence/sync-errors.log"].decode().splitlines() == [log_line(x) for x in lines]
    assert inside["evidence/sync-errors.log"].startswith(b"/var/log/desk/execution.log:1041: ")
    assert json.loads(inside["evidence/bybit-key-set.json"]) == checks["bybit-key-set"]["evidence"][0]["values"]
    assert yaml.safe_load(inside["profile.yaml"]) == problem_doc["profile"]
    for name, data in inside.items():
        for secret in SECRETS.values():
            assert secret.encode() not in data, (name, secret)


def test_triage_evidence_goes_in_one_folder_per_symptom(tmp_path):
    doc = triage_document(TRIAGE_SCENARIOS["mixed"]())
    inside = members(write_bundle(doc, tmp_path / "t.tar.gz").read_bytes())
    evidence = sorted(n for n in inside if n.startswith("evidence/"))
    assert "evidence/stale-positions/open-positions-stale.csv" in evidence
    assert "evidence/stale-positions/sync-errors.log" in evidence
    index = json.loads(inside["manifest.json"])
    row = next(m for m in index["members"] if m["name"] == "evidence/stale-positions/sync-errors.log")
    assert (row["symptom"], row["check"], row["evidence"]) == ("stale-positions", "sync-errors", "lines")


def test_several_evidence_items_and_odd_check_ids_get_distinct_safe_names(factory, build, tmp_path):
    check = factory.make_check("../../etc/passwd", "Hostile id")
    entry = factory.make_entry("odd", [check])
    evidence = [Evidence(kind="text", text="first"), Evidence(kind="text", text="second"),
                Evidence(kind="values", values={"a": 1}), Evidence(kind="lines", lines=[{"offset": 512, "text": "x"}])]
    doc = build(factory.make_run(entry, [factory.result(check, Status.FAIL, "bad", evidence=evidence)]))
    inside = members(write_bundle(doc, tmp_path / "b.tar.gz").read_bytes())
    assert inside["evidence/etc_passwd.txt"] == b"first" and inside["evidence/etc_passwd-2.txt"] == b"second"
    assert json.loads(inside["evidence/etc_passwd.json"]) == {"a": 1}
    assert inside["evidence/etc_passwd.log"] == b"byte 512: x\n"
    assert read_bundle(tmp_path / "b.tar.gz")["checks"][0]["id"] == "../../etc/passwd"


def test_tampered_member_is_detected(problem_doc, tmp_path):
    path = write_bundle(problem_doc, tmp_path / "b.tar.gz")
    contents = members(path.read_bytes())
    contents["report.json"] = contents["report.json"].replace(b'"verdict": "problem"', b'"verdict": "healthy"')
    repack(path, contents)
    with pytest.raises(BundleError, match=r"checksum mismatch for 'report.json'") as err:
        read_bundle(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_member_added_or_removed_after_writing_is_detected(problem_doc, tmp_path):
    path = write_bundle(problem_doc, tmp_path / "b.tar.gz")
    contents = members(path.read_bytes())
    repack(path, {**contents, "evidence/extra.txt": b"planted"})
    with pytest.raises(BundleError, match="not in the manifest"):
        read_bundle(path)
    del contents["report.md"]
    repack(path, contents)
    with pytest.raises(BundleError, match="'report.md' listed in the manifest is missing"):
        read_bundle(path)


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil", "evidence/../../evil", "C:\\evil", "a\\..\\b"])
def test_unsafe_member_names_are_refused(problem_doc, tmp_path, name):
    path = write_bundle(problem_doc, tmp_path / "b.tar.gz")
    repack(path, with_manifest({**members(path.read_bytes()), name: b"x"}))
    with pytest.raises(BundleError, match="unsafe member name"):
        read_bundle(path)


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.DIRTYPE])
def test_links_devices_and_folders_are_refused(problem_doc, tmp_path, kind):
    path = write_bundle(problem_doc, tmp_path / "b.tar.gz")
    info = tarfile.TarInfo("evidence/link")
    info.type, info.linkname = kind, "/etc/passwd"
    repack(path, members(path.read_bytes()), extra=[info])
    with pytest.raises(BundleError, match="not a regular file"):
        read_bundle(path)


def test_oversized_member_is_refused_before_reading(problem_doc, tmp_path, monkeypatch):
    import diagnose.reports.bundle as bundle

    path = write_bundle(problem_doc, tmp_path / "b.tar.gz")
    monkeypatch.setattr(bundle, "MAX_MEMBER_BYTES", 4000)  # report.json is larger than this
    with pytest.raises(BundleError, match="too large"):
        read_bundle(path)


def test_truncated_corrupt_and_foreign_files_are_refused(problem_doc, tmp_path):
    good = write_bundle(problem_doc, tmp_path / "b.tar.gz").read_bytes()
    cases = {
        "truncated": good[: len(good) // 2],
        "flipped": good[:400] + bytes([good[400] ^ 0xFF]) + good[401:],
        "text": b"just a report\n",
        "empty": b"",
        "plain-gzip": gzip.compress(b"not a tar archive" * 100),
    }
    for name, data in cases.items():
        path = tmp_path / f"{name}.tar.gz"
        path.write_bytes(data)
        with pytest.raises(BundleError) as err:
            read_bundle(path)
        assert str(path) in str(err.value) and "\n" not in str(err.value), name
    with pytest.raises(BundleError, match="No such file"):
        read_bundle(tmp_path / "missing.tar.gz")


def test_an_archive_without_manifest_is_not_a_bundle(problem_doc, tmp_path):
    path = write_bundle(problem_doc, tmp_path / "b.tar.gz")
    contents = members(path.read_bytes())
    del contents["manifest.json"]
    repack(path, contents)
    with pytest.raises(BundleError, match=r"not a diagnose bundle \(no manifest.json\)"):
        read_bundle(path)


def test_consistent_checksums_over_an_invalid_report_are_still_refused(problem_doc, tmp_path):
    path = write_bundle(problem_doc, tmp_path / "b.tar.gz")
    contents = members(path.read_bytes())
    report = json.loads(contents["report.json"])
    report["checks"] = "not a list"
    repack(path, with_manifest({**contents, "report.json": json.dumps(report).encode()}))
    with pytest.raises(BundleError, match="report.json is not a valid report: checks"):
        read_bundle(path)


def test_failed_write_leaves_nothing_behind(problem_doc, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(BundleError, match=r"cannot write bundle .*a-file/b.tar.gz: .*a-file is a file, not a folder"):
        write_bundle(problem_doc, blocker / "b.tar.gz")
    target = tmp_path / "taken"
    target.mkdir()  # os.replace onto a folder fails after the temp file is fully written
    with pytest.raises(BundleError, match="cannot write bundle"):
        write_bundle(problem_doc, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "taken"]
    assert list(target.iterdir()) == []


def test_a_folder_gets_a_default_name_and_never_overwrites(problem_doc, tmp_path):
    target, overwrite = bundle_path(tmp_path, "stale-positions")
    assert target.parent == tmp_path and target.name.startswith("stale-positions-")
    assert target.name.endswith(".tar.gz") and not overwrite
    first = write_bundle(problem_doc, target, overwrite=False)
    second = write_bundle(problem_doc, target, overwrite=False)
    assert first == target and second.name == target.name.replace(".tar.gz", "-2.tar.gz")
    assert bundle_path(tmp_path / "x.tgz", "s") == (tmp_path / "x.tgz", True)


# --- hostile bundles: built with consistent checksums, so only the limits stand in the way -------------

def hostile(problem_doc, tmp_path, change) -> Path:
    path = write_bundle(problem_doc, tmp_path / "b.tar.gz")
    contents = members(path.read_bytes())
    report = contents["report.json"]
    repack(path, with_manifest({**contents, "report.json": change(report)}))
    return path


def test_deeply_nested_json_is_refused_in_one_line(problem_doc, tmp_path):
    """100,000 nested lists once gave a RecursionError traceback."""
    deep = lambda report: report[:-2] + b', "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"\n}"  # noqa: E731
    with pytest.raises(BundleError, match=r"report\.json (nests deeper than any report|nests more than 32 levels)"):
        read_bundle(hostile(problem_doc, tmp_path, deep))
    nested = lambda report: report[:-2] + b', "deep": ' + b"[" * 500 + b"]" * 500 + b"\n}"  # noqa: E731
    with pytest.raises(BundleError, match=r"report\.json nests more than 32 levels deep"):
        read_bundle(hostile(problem_doc, tmp_path, nested))


def test_a_small_bundle_that_expands_to_a_huge_report_is_refused(problem_doc, tmp_path):
    """Highly compressible: a 40 KB bundle whose report.json holds a million values (its render once took
    540 MB): refused by the size and count limits before anything is rendered."""
    def bomb(report):
        doc = json.loads(report)
        doc["checks"][0]["evidence"].append({"kind": "lines", "title": "x", "lines": [{"text": "x"}] * 300_000})
        return json.dumps(doc).encode()

    path = hostile(problem_doc, tmp_path, bomb)
    assert path.stat().st_size < 200_000
    with pytest.raises(BundleError, match=r"report\.json has more than 250000 values"):
        read_bundle(path)


def test_the_largest_report_a_bundle_may_hold_renders_in_bounded_memory(problem_doc, tmp_path):
    """Just under the limits (~15 MB of report.json): every format renders in a child process whose
    peak memory stays far from what an unbounded bundle cost."""
    def large(report):
        doc = json.loads(report)
        doc["checks"][0]["evidence"].append({"kind": "lines", "title": "x", "lines": [{"text": "y" * 100}] * 100_000})
        return json.dumps(doc).encode()

    path = hostile(problem_doc, tmp_path, large)
    # VmHWM is the child's own peak: getrusage's ru_maxrss would include the test process's size, which a
    # child spawned with vfork inherits as its high-water mark
    code = ("import sys\nfrom diagnose.reports import render\nfrom diagnose.reports.bundle import read_bundle\n"
            "doc = read_bundle(sys.argv[1])\nfor fmt in ('md', 'html', 'json'): render(doc, fmt)\n"
            "print(next(int(line.split()[1]) // 1024 for line in open('/proc/self/status') if line.startswith('VmHWM')))")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip()) < 400  # MB: the measured figure is in docs/reference/faults.md


def test_a_fifo_as_the_bundle_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "b.tar.gz"
    os.mkfifo(fifo)
    with pytest.raises(BundleError, match="not a regular file"):
        read_bundle(fifo)


# --- tar headers that cost memory before any member limit applies (the CLI test measures a 320 MiB one) ----

def raw_header(name: str, kind: bytes, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.size = kind, size
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def raw_bundle(path: Path, *headers: bytes) -> Path:
    """``headers`` (each a header and its padded payload) then one small member, as a .tar.gz."""
    path.write_bytes(gzip.compress(b"".join(headers) + raw_header("notes.txt", tarfile.REGTYPE, 1)
                                   + b"x".ljust(512, b"\0") + bytes(1024)))
    return path


def padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % 512)


@pytest.mark.parametrize("kind", [tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE,
                                  tarfile.SOLARIS_XHDTYPE])
def test_an_oversized_extension_header_is_refused_before_it_is_read(tmp_path, kind):
    payload = b"a" * (2 * 1024 * 1024)
    if kind in (tarfile.XHDTYPE, tarfile.SOLARIS_XHDTYPE):
        payload = f"{len(payload)} comment=".encode() + payload[:-20] + b"\n"
    path = raw_bundle(tmp_path / "b.tar.gz", raw_header("././@LongLink", kind, len(payload)) + padded(payload))
    with pytest.raises(BundleError, match=r"refused: extended tar headers at offset 0 are too large") as err:
        read_bundle(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_a_chain_of_small_long_name_headers_is_refused(tmp_path):
    """3,000 chained 1-block long names: each small, together unbounded (and deeper than the recursion limit)."""
    link = raw_header("././@LongLink", tarfile.GNUTYPE_LONGNAME, 100) + padded(b"a" * 100)
    with pytest.raises(BundleError, match=r"refused: extended tar headers at offset \d+ are too large"):
        read_bundle(raw_bundle(tmp_path / "b.tar.gz", link * 3000))


def test_global_pax_sparse_and_negative_size_headers_are_refused(tmp_path):
    record = b"19 comment=global\n"
    sparse_map = b"22 GNU.sparse.major=1\n22 GNU.sparse.minor=0\n"  # its map would be read from the data
    negative = tarfile.TarInfo("././@LongLink")
    negative.type, negative.size = tarfile.GNUTYPE_LONGNAME, -(2**20)  # tarfile would read(-2**20): everything
    cases = [
        ("global PAX header", raw_header("pax", tarfile.XGLTYPE, len(record)) + padded(record)),
        ("sparse member", raw_header("evidence/x.log", tarfile.GNUTYPE_SPARSE, 0)),
        ("sparse member", raw_header("pax", tarfile.XHDTYPE, len(sparse_map)) + padded(sparse_map)
         + raw_header("evidence/x.log", tarfile.REGTYPE, 0)),
        ("negative size", negative.tobuf(format=tarfile.GNU_FORMAT)),
    ]
    for expected, headers in cases:
        path = raw_bundle(tmp_path / "b.tar.gz", headers)
        with pytest.raises(BundleError, match=f"refused: .*{expected}"):
            read_bundle(path)


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_long_names_in_gnu_or_pax_headers_still_read(problem_doc, tmp_path, fmt):
    """A bundle repacked by another tar, with names longer than 100 characters, is still a bundle."""
    path = write_bundle(problem_doc, tmp_path / "b.tar.gz")
    contents = with_manifest({**members(path.read_bytes()), "evidence/" + "ü" * 150 + ".log": b"x\n"})
    with tarfile.open(path, mode="w:gz", format=fmt) as tar:
        for name, data in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert read_bundle(path) == json.loads(contents["report.json"])
