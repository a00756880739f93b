"""Standard output that cannot be written: no traceback, and never exit 1 (which reads "problem found").

Closed (``>&-``) or full (``/dev/full``): one line on stderr, exit 2, as for a report that cannot be
written. A reader that went away (``| head -1``): quiet, exit 141 (128 + SIGPIPE, what a shell
reports for a program killed by it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def diagnose(tmp_path: Path, *args: str, stdout, preexec_fn=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    env.pop("DIAGNOSE_PROFILE", None)
    env.pop("DIAGNOSE_CHECKS", None)
    return subprocess.run([sys.executable, "-m", "diagnose", *args], stdout=stdout, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, text=True, env=env, cwd=tmp_path, timeout=60,
                          preexec_fn=preexec_fn)


COMMANDS = [["list"], ["stale-positions", "-o", "report.md"]]


@pytest.mark.parametrize("args", COMMANDS)
def test_closed_stdout_is_one_line_and_exit_2(tmp_path, args):
    proc = diagnose(tmp_path, *args, stdout=subprocess.DEVNULL, preexec_fn=lambda: os.close(1))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "diagnose: standard output is closed (redirect it to /dev/null to discard the summary)\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", COMMANDS)
def test_full_stdout_is_one_line_and_exit_2(tmp_path, args):
    with open("/dev/full", "w") as full:
        proc = diagnose(tmp_path, *args, stdout=full)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "diagnose: cannot write to standard output: No space left on device\n"


@pytest.mark.parametrize("args", COMMANDS)
def test_a_reader_that_went_away_is_a_quiet_exit_141(tmp_path, args):
    read_end, write_end = os.pipe()
    os.close(read_end)   # as `| head -1` once it has its line: every write gets EPIPE
    try:
        proc = diagnose(tmp_path, *args, stdout=write_end)
    finally:
        os.close(write_end)
    assert proc.returncode == 141 and proc.stderr == "", proc.stderr
    if "-o" in args:
        assert (tmp_path / "report.md").is_file()   # written before the summary was printed
