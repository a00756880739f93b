"""``.gz`` logs inflate the same with ISA-L (``isal``, the default when installed) and with zlib
(the fallback, forced by ``DIAGNOSE_GUNZIP=zlib``): the same bytes in the same bounded chunks,
the same errors with the same messages, on multi-member files, padding and damaged files."""

from __future__ import annotations

import gzip
import random
import shutil
import subprocess
import sys
import zlib

import pytest

from diagnose.checks.base import CheckError
from diagnose.logscan import files
from diagnose.logscan.files import gz_chunks

INFLATERS = ["isal", "zlib"]


@pytest.fixture(params=INFLATERS)
def inflater(request, monkeypatch) -> str:
    """Each test runs once with ISA-L and once with zlib forced; asserts which one is in use."""
    if request.param == "zlib":
        monkeypatch.setenv("DIAGNOSE_GUNZIP", "zlib")
        assert files.inflater_module() is zlib
    else:
        monkeypatch.delenv("DIAGNOSE_GUNZIP", raising=False)
        assert files.inflater_module().__name__ == "isal.isal_zlib"
    return request.param


def test_isal_is_the_default_and_zlib_the_fallback(monkeypatch):
    monkeypatch.delenv("DIAGNOSE_GUNZIP", raising=False)
    from isal import isal_zlib

    assert files.inflater_module() is isal_zlib
    monkeypatch.setenv("DIAGNOSE_GUNZIP", " ZLIB ")
    assert files.inflater_module() is zlib
    monkeypatch.delenv("DIAGNOSE_GUNZIP")
    files._isal.cache_clear()
    monkeypatch.setitem(sys.modules, "isal", None)     # as if not installed: the import fails
    try:
        assert files.inflater_module() is zlib
    finally:
        files._isal.cache_clear()


def read(path, size: int, limit: int) -> list[bytes]:
    """The chunks of ``path``, stopping (a failure) once more than ``limit`` bytes came out."""
    chunks, total = [], 0
    for chunk in gz_chunks("app", str(path), size):
        chunks.append(chunk)
        total += len(chunk)
        assert total <= limit, "more bytes than the file holds"
    return chunks


def log_text(rng: random.Random, lines: int) -> bytes:
    words = [b"position_sync_failed account=7", b"ok", "行情数据不足".encode(), b"\xff\xfe", b"", b"x" * 300]
    return b"".join(b"2026-11-21 08:%02d:00,000 ERROR %s\n" % (i % 60, rng.choice(words)) for i in range(lines))


def members(data: bytes, cuts: list[int], level: int = 6) -> bytes:
    bounds = [0, *sorted(cuts), len(data)]
    return b"".join(gzip.compress(data[a:b], level) for a, b in zip(bounds, bounds[1:]))


def fixtures() -> dict[str, tuple[bytes, bytes]]:
    """name: (file bytes, content)."""
    rng = random.Random(7)
    text = log_text(rng, 3000)
    runs = b"a" * 5000 + b"b" * 5000
    out = {
        "one member": (gzip.compress(text), text),
        "level 1": (gzip.compress(text, 1), text),
        "two members": (members(text, [13]), text),
        "many members": (members(text, rng.sample(range(1, len(text)), 40)), text),
        "empty members": (gzip.compress(b"") + gzip.compress(text) + gzip.compress(b""), text),
        "zero padding": (members(text, [len(text) // 2]) + b"\0" * 1000, text),
        # a member ending in the call after one that filled a chunk: zlib then leaves the next
        # member's bytes both in unused_data and in unconsumed_tail (they were read twice, for ever)
        "member ends after a full chunk": (gzip.compress(runs[:5000]) + gzip.compress(runs[5000:]), runs),
        "bomb": (members(b"z" * 3_000_000 + b"\n", [1]), b"z" * 3_000_000 + b"\n"),
        "empty file": (b"", b""),
    }
    if shutil.which("gzip"):   # a real gzip's header: file name and time in it
        made = subprocess.run(["gzip", "-c", "-n"], input=text, capture_output=True, check=True).stdout
        out["gzip -c"] = (made + made, text + text)
    return out


FIXTURES = fixtures()


@pytest.mark.parametrize("name", list(FIXTURES))
@pytest.mark.parametrize("size", [7, 4096, 1 << 20])
def test_members_padding_and_bounded_chunks(tmp_path, inflater, name, size):
    blob, content = FIXTURES[name]
    path = tmp_path / "app.log.1.gz"
    path.write_bytes(blob)
    chunks = read(path, size, len(content))
    assert b"".join(chunks) == content
    assert all(0 < len(c) <= size for c in chunks)


def damaged() -> dict[str, tuple[bytes, str]]:
    """name: (file bytes, the reason in the message, the same whichever inflater)."""
    text = log_text(random.Random(3), 2000)
    good = gzip.compress(text)
    bad_crc = bytearray(good)
    bad_crc[-8] ^= 1
    bad_size = bytearray(good)
    bad_size[-4] ^= 1
    bad_block = bytearray(good)
    bad_block[10] = 0xFF   # the first deflate block: reserved block type 3
    return {
        "truncated": (good[:-16], "compressed file ended before the end-of-stream marker was reached"),
        "truncated second member": (good + good[:len(good) // 2], "compressed file ended before"),
        "header only": (good[:10], "compressed file ended before"),
        "not gzip": (b"plain text, not gzip\n" * 10, "not in gzip format"),
        "trailing garbage": (good + b"garbage after the member", "not in gzip format"),
        "bad crc": (bytes(bad_crc), r"checksum mismatch \(corrupt data\)"),
        "bad size": (bytes(bad_size), r"checksum mismatch \(corrupt data\)"),
        "bad block": (bytes(bad_block), "corrupt compressed data"),
        "corrupt": (b"\x1f\x8b\x08\x00garbage-garbage-garbage", "corrupt compressed data"),
    }


DAMAGED = damaged()


@pytest.mark.parametrize("name", list(DAMAGED))
@pytest.mark.parametrize("size", [7, 1 << 20])
def test_damaged_files_give_one_message_whichever_inflater(tmp_path, inflater, name, size):
    blob, reason = DAMAGED[name]
    path = tmp_path / "app.log.2.gz"
    path.write_bytes(blob)
    with pytest.raises(CheckError, match=rf"^log 'app': cannot read {path}: {reason}"):
        read(path, size, 10 << 20)


def test_both_inflaters_agree_on_every_fixture(monkeypatch, tmp_path):
    """The two side by side (not only each against the expected bytes): outcome and chunking."""
    def run(blob: bytes, forced: str | None):
        if forced:
            monkeypatch.setenv("DIAGNOSE_GUNZIP", forced)
        else:
            monkeypatch.delenv("DIAGNOSE_GUNZIP", raising=False)
        path = tmp_path / "x.log.1.gz"
        path.write_bytes(blob)
        try:
            return [len(c) for c in read(path, 4096, 10 << 20)]
        except CheckError as exc:
            return str(exc)

    blobs = [b for b, _ in FIXTURES.values()] + [b for b, _ in DAMAGED.values()]
    assert [run(b, None) for b in blobs] == [run(b, "zlib") for b in blobs]
