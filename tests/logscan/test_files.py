"""Which files a LogSpec means (globs, ~, rotated siblings) and how their bytes are read."""

from __future__ import annotations

import gzip
import os
import sys
from datetime import datetime, timezone

import pytest

from diagnose.checks.base import CheckError, CheckTimeout, Context
from diagnose.logscan.files import command_chunks, file_chunks, log_files
from diagnose.sources import LogSpec

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)


def ctx(timeout: float = 5) -> Context:
    return Context(timeout=timeout, now=NOW, resolve=lambda kind, name: None)


def write(path, text: str = "x\n") -> str:
    path.write_bytes(gzip.compress(text.encode()) if str(path).endswith(".gz") else text.encode())
    return str(path)


def paths(spec: LogSpec) -> list[str]:
    return [f.path for f in log_files(spec)]


def test_rotated_siblings_oldest_first_then_the_live_file(tmp_path):
    names = ["execution.log", "execution.log.1", "execution.log.2.gz", "execution.log.10.gz"]
    for name in names:
        write(tmp_path / name)
    write(tmp_path / "execution.log.bak")        # not a rotation style
    write(tmp_path / "execution.logger")         # another file altogether
    live = str(tmp_path / "execution.log")
    assert paths(LogSpec("execution", paths=(live,))) == [
        live + ".10.gz", live + ".2.gz", live + ".1", live]


def test_dated_siblings_by_date(tmp_path):
    for name in ["app.log", "app.log-20261120.gz", "app.log-20261119", "app.log-20261121"]:
        write(tmp_path / name)
    live = str(tmp_path / "app.log")
    assert paths(LogSpec("app", paths=(live,))) == [
        live + "-20261119", live + "-20261120.gz", live + "-20261121", live]


def test_python_timed_rotating_handler_suffix(tmp_path):
    for name in ["sync.log", "sync.log.2026-11-20", "sync.log.2026-11-19"]:
        write(tmp_path / name)
    live = str(tmp_path / "sync.log")
    assert paths(LogSpec("sync", paths=(live,))) == [live + ".2026-11-19", live + ".2026-11-20", live]


def test_rotated_false_reads_only_the_file_itself(tmp_path):
    live = write(tmp_path / "execution.log")
    write(tmp_path / "execution.log.1")
    log = log_files(LogSpec("execution", paths=(live,), rotated=False))
    assert [f.path for f in log] == [live] and not log[0].rotated


def test_rotated_flag_marks_siblings_and_gz(tmp_path):
    live = write(tmp_path / "x.log")
    write(tmp_path / "x.log.1")
    write(tmp_path / "x.log.2.gz")
    assert [(os.path.basename(f.path), f.rotated) for f in log_files(LogSpec("x", paths=(live,)))] == [
        ("x.log.2.gz", True), ("x.log.1", True), ("x.log", False)]


def test_glob_and_siblings_without_duplicates(tmp_path):
    for name in ["execution.log", "execution.log.1", "execution-worker.log", "backend.log"]:
        write(tmp_path / name)
    spec = LogSpec("execution", paths=(str(tmp_path / "execution*.log"), str(tmp_path / "execution.log")))
    assert [os.path.basename(p) for p in paths(spec)] == ["execution-worker.log", "execution.log.1", "execution.log"]


def test_glob_matching_a_rotated_set_orders_it_by_age(tmp_path):
    for name in ["a.log", "a.log.1", "a.log.2.gz", "a.log.3.gz"]:
        write(tmp_path / name)
    spec = LogSpec("a", paths=(str(tmp_path / "a.log*"),))
    assert [os.path.basename(p) for p in paths(spec)] == ["a.log.3.gz", "a.log.2.gz", "a.log.1", "a.log"]


def test_tilde_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "logs").mkdir()
    live = write(tmp_path / "logs" / "execution.log")
    assert paths(LogSpec("execution", paths=("~/logs/execution.log",))) == [live]


def test_only_siblings_left_after_rotation_still_count(tmp_path):
    sibling = write(tmp_path / "execution.log.1")
    assert paths(LogSpec("execution", paths=(str(tmp_path / "execution.log"),))) == [sibling]


def test_no_file_at_all_is_a_clear_error(tmp_path):
    missing = str(tmp_path / "nope" / "execution*.log")
    with pytest.raises(CheckError, match=r"^log 'execution': no file matches .*nope/execution\*\.log$"):
        log_files(LogSpec("execution", paths=(missing,)))


def test_directories_are_not_log_files(tmp_path):
    (tmp_path / "execution.log").mkdir()
    with pytest.raises(CheckError, match="no file matches"):
        log_files(LogSpec("execution", paths=(str(tmp_path / "execution.log"),)))


def test_gz_is_streamed_in_chunks(tmp_path):
    text = "".join(f"2026-11-21 08:00:00,000 INFO line {i}\n" for i in range(50_000))
    path = write(tmp_path / "big.log.1.gz", text)
    chunks = list(file_chunks("big", path, chunk_size=64 * 1024))
    assert len(chunks) > 10 and max(map(len, chunks)) <= 64 * 1024
    assert b"".join(chunks) == text.encode()


def test_corrupt_gz_names_the_file(tmp_path):
    path = tmp_path / "execution.log.2.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage-garbage-garbage")
    with pytest.raises(CheckError, match=r"log 'execution': cannot read .*execution\.log\.2\.gz"):
        list(file_chunks("execution", str(path)))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_names_the_file(tmp_path):
    path = write(tmp_path / "execution.log")
    os.chmod(path, 0)
    with pytest.raises(CheckError, match=r"log 'execution': cannot read .*execution\.log: Permission denied"):
        list(file_chunks("execution", path))


def test_command_output_is_streamed():
    argv = [sys.executable, "-c", "import sys\nfor i in range(3): print('line', i, flush=True)"]
    assert b"".join(command_chunks("docker", argv, ctx())) == b"line 0\nline 1\nline 2\n"


def test_command_failing_without_output_gives_its_first_stderr_line():
    argv = [sys.executable, "-c", "import sys; sys.stderr.write('\\nno such service: backend\\nmore\\n'); sys.exit(3)"]
    with pytest.raises(CheckError, match=r"exited with status 3: no such service: backend$"):
        list(command_chunks("docker", argv, ctx()))


def test_command_failing_after_output_keeps_the_output():
    argv = [sys.executable, "-c", "print('position_sync_failed'); raise SystemExit(1)"]
    assert b"".join(command_chunks("docker", argv, ctx())) == b"position_sync_failed\n"


def test_missing_command_is_a_clear_error():
    with pytest.raises(CheckError, match="command not found: no-such-command-xyz"):
        list(command_chunks("docker", ["no-such-command-xyz", "logs"], ctx()))


def test_hanging_command_times_out_and_is_killed(tmp_path):
    pid_file = tmp_path / "pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); print('x', flush=True); time.sleep(30)"
    with pytest.raises(CheckTimeout):
        list(command_chunks("docker", [sys.executable, "-c", code], ctx(timeout=0.5)))
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_sleep_times_out():
    with pytest.raises(CheckTimeout):
        list(command_chunks("docker", ["sleep", "30"], ctx(timeout=0.3)))


def test_reader_stopping_early_kills_the_command(tmp_path):
    pid_file = tmp_path / "pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); print('x', flush=True); time.sleep(30)"
    chunks = command_chunks("docker", [sys.executable, "-c", code], ctx())
    seen = b""
    while not seen.endswith(b"\n"):  # a pipe may hand the line over in pieces
        seen += next(chunks)
    assert seen == b"x\n"
    chunks.close()
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_gz_members_padding_and_bombs_stream_in_bounded_chunks(tmp_path):
    """Concatenated members are all read, trailing zero padding is ignored (as gzip does), and
    no chunk exceeds the chunk size even when 5 MB inflate from a few KB."""
    import gzip as gz

    from diagnose.logscan.files import gz_chunks

    data = b"first member\n" + b"z" * 5_000_000 + b"\nlast line\n"
    path = tmp_path / "app.log.1.gz"
    path.write_bytes(gz.compress(data[:13]) + gz.compress(data[13:]) + b"\0" * 64)
    for size in (7, 4096, 1 << 20):
        chunks = list(gz_chunks("app", str(path), size))
        assert b"".join(chunks) == data
        assert max(len(c) for c in chunks) <= size
    path.write_bytes(gz.compress(data)[:-16])
    with pytest.raises(CheckError, match=r"log 'app': cannot read .*app\.log\.1\.gz: compressed file ended"):
        list(gz_chunks("app", str(path)))
