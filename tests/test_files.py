"""Input files are read without ever blocking: a FIFO, a device or a directory is refused at once."""

from __future__ import annotations

import os
import threading

import pytest

from diagnose.checks.base import CheckError
from diagnose.files import NotRegularFile, read_regular_text
from diagnose.masking import Masker
from diagnose.profile import parse_env_file, register_profile_secrets


def bounded(fifo, call, seconds: float = 10):
    """``call()``'s result or exception; fails (and frees the reader) if it blocks on ``fifo``."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))   # a writer unblocks the stuck open()
        pytest.fail(f"blocked on the FIFO for {seconds} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def test_a_fifo_a_device_or_a_directory_is_not_read(fifo, tmp_path):
    for path in (fifo, "/dev/null", tmp_path):
        with pytest.raises(NotRegularFile, match="not a regular file"):
            bounded(fifo, lambda p=path: read_regular_text(p))
    (tmp_path / "f.env").write_text("A=1\n")
    assert read_regular_text(tmp_path / "f.env") == "A=1\n"
    with pytest.raises(FileNotFoundError):
        read_regular_text(tmp_path / "missing")


def test_an_env_file_that_is_a_fifo_is_a_check_error_not_a_hang(fifo, tmp_path):
    with pytest.raises(CheckError, match=r"env file .*fifo: not a regular file"):
        bounded(fifo, lambda: parse_env_file(fifo))
    masker = Masker()
    bounded(fifo, lambda: register_profile_secrets({"env": {"trading": str(fifo)}}, masker, lambda p: tmp_path / p))
