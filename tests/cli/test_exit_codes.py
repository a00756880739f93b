"""Exit codes 0/1/2/3 and clean one-line errors for bad input."""

import json
import shutil
import socket
import textwrap
import threading

import pytest

from diagnose.kb.loader import builtin_root


def test_unknown_symptom_suggests_the_closest(diagnose):
    result = diagnose("stale-position")
    assert result.code == 2
    assert "unknown symptom 'stale-position'; did you mean: stale-positions?" in result.err


def test_broken_knowledge_base_is_exit_2_with_file_and_line(diagnose, tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(builtin_root(), pack)
    entry = pack / "data" / "stale-positions.yaml"
    entry.write_text(entry.read_text().replace("kind: log\n    title: position_mutex_blocked",
                                               "kind: sqll\n    title: position_mutex_blocked"))
    for args in (["stale-positions", "--checks", str(pack)], ["lint", str(pack)], ["list", "--checks", str(pack)]):
        result = diagnose(*args)
        assert result.code == 2
        assert "data/stale-positions.yaml:" in (result.out + result.err)
        assert "checks[1].kind: unknown kind 'sqll'" in (result.out + result.err)


def test_bad_profile_and_bad_override_are_exit_2(diagnose, tmp_path):
    (tmp_path / "p.yaml").write_text("databases: [1, 2]\n")
    result = diagnose("stale-positions", "--profile", str(tmp_path / "p.yaml"))
    assert result.code == 2 and "p.yaml:1: databases:" in result.err
    result = diagnose("stale-positions", "--dsn", "trading")
    assert result.code == 2 and "a --dsn value: expected NAME=VALUE" in result.err
    result = diagnose("stale-positions", "--format", "pdf")
    assert result.code == 2


def test_unwritable_output_is_exit_2_and_leaves_nothing(diagnose, tmp_path):
    (tmp_path / "afile").write_text("x")
    result = diagnose("stale-positions", "-o", str(tmp_path / "afile" / "r.md"))
    assert result.code == 2 and "afile" in result.err and "Traceback" not in result.err
    assert (tmp_path / "afile").read_text() == "x"


@pytest.fixture
def silent_port():
    """A TCP port that accepts connections and never says anything."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    stop.set()
    for conn in held:
        conn.close()
    server.close()


def test_timeouts_end_as_timeout_and_the_rest_still_runs(diagnose, tmp_path, make_db, silent_port):
    dsn = make_db("trading")
    pack = tmp_path / "pack" / "data"
    pack.mkdir(parents=True)
    (pack / "slow-things.yaml").write_text(textwrap.dedent("""\
        id: slow-things
        title: Things that hang
        category: data
        severity: low
        summary: a query and a service that never answer
        causes: [{id: slow, title: Slow, text: it is slow}]
        checks:
          - {id: sleepy-sql, kind: sql, title: pg_sleep, expects: fast, database: db, timeout: 1,
             query: "SELECT pg_sleep(10)", expect: {rows: 1}}
          - {id: silent-http, kind: http, title: silent service, expects: answers, endpoint: silent, timeout: 1,
             path: /health}
          - {id: count-positions, kind: sql, title: positions, expects: none, database: db, cause: slow,
             query: "SELECT count(*) FROM positions", expect: {value: 0}}
        solutions: [{id: wait, title: Wait, steps: [{do: wait, risk: read-only}]}]
        examples:
          - {name: broken, verdict: problem, world: {}}
          - {name: healthy, verdict: healthy, world: {}}
        """))
    out = tmp_path / "r.json"
    result = diagnose("slow-things", "--checks", str(tmp_path / "pack"), "--dsn", f"db={dsn}",
                      "--endpoint", f"silent=http://127.0.0.1:{silent_port}", "--format", "json", "-o", str(out))
    report = json.loads(out.read_text())
    status = {c["id"]: c["status"] for c in report["checks"]}
    assert status == {"sleepy-sql": "timeout", "silent-http": "timeout", "count-positions": "pass"}, report["checks"]
    assert result.code == 3 and report["verdict"] == "inconclusive"
    assert all(c["duration_ms"] < 5000 for c in report["checks"])


@pytest.mark.parametrize("option, value", [("--timeout", "nan"), ("--timeout", "inf"), ("--deadline", "nan"),
                                           ("--deadline", "-1"), ("--timeout", "NaN")])
def test_non_finite_or_out_of_range_seconds_are_refused(diagnose, option, value):
    """``--timeout nan`` once became 0.05 s and ``--deadline nan`` was ignored."""
    result = diagnose("stale-positions", option, value)
    assert result.code == 2 and f"'{value}' is not a number of seconds" in result.err


def test_outputs_never_replace_anything_but_a_regular_file(diagnose, tmp_path):
    """As root, ``-o /dev/null`` would have replaced the system's device node with a file."""
    import os

    fifo, link, target = tmp_path / "fifo", tmp_path / "link", tmp_path / "target.md"
    os.mkfifo(fifo)
    target.write_text("untouched")
    link.symlink_to(target)
    for option, path, kind in (("-o", "/dev/null", "a character device"), ("-o", fifo, "a FIFO"),
                               ("--bundle", fifo, "a FIFO"), ("-o", link, "a symbolic link"),
                               ("--bundle", link, "a symbolic link")):
        result = diagnose("stale-positions", option, str(path))
        assert result.code == 2 and f"refusing to replace it: it is {kind}, not a regular file" in result.err
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
    assert link.is_symlink() and target.read_text() == "untouched"
    assert not list((tmp_path).glob("diagnose-reports"))  # refused before the run: nothing written


def test_inputs_that_are_not_regular_files_are_refused_at_once(diagnose, tmp_path):
    """A FIFO as profile or env file once blocked open() for ever, deaf to SIGTERM and Ctrl-C."""
    import os
    import subprocess

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "p.yaml").write_text("env: {trading: fifo}\n")
    for args, where in ((["--env-file", f"trading={fifo}"], f"--env-file trading={fifo}: "),
                        (["--profile", str(fifo)], f"--profile {fifo}: "),
                        (["--profile", str(tmp_path / "p.yaml")], f"{tmp_path / 'p.yaml'}: env.trading: {fifo}: "),
                        (["--env-file", f"trading={tmp_path}"], f"--env-file trading={tmp_path}: ")):
        try:
            result = diagnose("stale-positions", *args, "-o", str(tmp_path / "r.md"), timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{args}: still blocked after 30 s")
        assert result.code == 2, (args, result.err)
        assert result.err == f"diagnose: {where}not a regular file (a FIFO, a device or a directory)\n"
    assert not (tmp_path / "r.md").exists()


def test_an_unreadable_knowledge_base_file_is_one_line_exit_2(diagnose, tmp_path):
    """/proc/self/mem: a regular file no one can read from offset 0 (root reads anything else)."""
    pack = tmp_path / "pack"
    shutil.copytree(builtin_root(), pack)
    (pack / "data" / "unreadable.yaml").symlink_to("/proc/self/mem")
    for args in (["stale-positions", "--checks", str(pack)], ["lint", str(pack)]):
        result = diagnose(*args)
        assert result.code == 2 and "Traceback" not in result.err
        assert "data/unreadable.yaml:1: cannot read the file" in (result.out + result.err)
