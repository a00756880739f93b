"""Faults never lose the report: each fault ends in a finished report, the right exit code, no traceback.

Every test runs the real CLI (``diagnose`` fixture of ``conftest.py``) on a small knowledge
base aimed at one fault, against real parts: the session PostgreSQL, HTTP/TCP/WebSocket
servers on 127.0.0.1 (``tests/checks/netservers.py``), real files. The table of
``docs/reference/faults.md`` points at these tests (``tests/site/test_faults_doc.py``
keeps it honest). Faults proven end to end elsewhere (Ctrl-C, ``--deadline``, a query or a
service slower than its timeout) are only referenced from that table.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "checks"))
from netservers import HttpServer, Route, SilentTcpServer, WsServer, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SYMPTOM = "fault-probe"


def knowledge_base(folder: Path, *checks: dict) -> Path:
    """A one-symptom knowledge base whose checks are ``checks`` (each gets title/expects/cause and
    shows the symptom itself: a failure is a problem, exit 1)."""
    full = [{"title": c["id"], "expects": "no fault", "cause": "broken", "symptom": True, **c} for c in checks]
    entry = {
        "id": SYMPTOM, "title": "A probe of one fault", "category": "service", "severity": "low",
        "summary": "Checks aimed at one fault of the environment.",
        "causes": [{"id": "broken", "title": "Something is broken", "text": "The fault under test."}],
        "checks": full,
        "solutions": [{"id": "fix", "title": "Fix it", "steps": [{"do": "Fix the fault.", "risk": "read-only"}]}],
        "examples": [{"name": "broken", "verdict": "problem", "world": {}},
                     {"name": "healthy", "verdict": "healthy", "world": {}}],
    }
    kb = folder / "kb"
    (kb / "service").mkdir(parents=True)
    (kb / "service" / f"{SYMPTOM}.yaml").write_text(yaml.safe_dump(entry, allow_unicode=True))
    return kb


def profile(folder: Path, **sources: dict) -> Path:
    path = folder / "profile.yaml"
    path.write_text(yaml.safe_dump(sources))
    return path


def run_fault(diagnose, tmp_path: Path, checks: list[dict], expected_code: int, timeout: float = 60,
              **sources: dict) -> dict:
    """Run the symptom, assert the exit code and a clean terminal; return the finished JSON report."""
    kb = knowledge_base(tmp_path, *checks)
    report = tmp_path / "report.json"
    result = diagnose(SYMPTOM, "--checks", str(kb), "--profile", str(profile(tmp_path, **sources)),
                      "--format", "json", "-o", str(report), "--timeout", "10", timeout=timeout)
    assert "Traceback" not in result.out + result.err, result.out + result.err
    assert result.code == expected_code, (result.code, result.out, result.err)
    doc = json.loads(report.read_text())      # complete JSON: the report was finished
    assert doc["exit_code"] == expected_code and doc["incomplete"] is False
    assert [c["id"] for c in doc["checks"]] == [c["id"] for c in checks]
    for check in doc["checks"]:
        assert check["message"] and "\n" not in check["message"], check
    assert f"Report: {report}" in result.out
    return {c["id"]: c for c in doc["checks"]}


# --- PostgreSQL -------------------------------------------------------------------------------

SELECT_ONE = {"kind": "sql", "database": "db", "query": "SELECT 1 AS one", "expect": {"rows": 1}}


def test_database_down_is_an_error_naming_the_database(diagnose, tmp_path):
    checks = run_fault(diagnose, tmp_path, [{"id": "db-down", **SELECT_ONE}], 3,
                       databases={"db": f"postgresql://app:pw-down@127.0.0.1:{free_port()}/trading"})
    assert checks["db-down"]["status"] == "error"
    assert checks["db-down"]["message"].startswith("cannot connect to database 'db'")
    assert "Connection refused" in checks["db-down"]["message"]
    assert "pw-down" not in json.dumps(checks)


def test_wrong_password_is_an_error_without_the_password(diagnose, tmp_path, pg_server):
    pg_server.create_user("faults_reader", password="right-pw")
    wrong = "Wr0ng-pw-faults"
    dsn = pg_server.dsn("postgres", user="faults_reader", password=wrong)
    checks = run_fault(diagnose, tmp_path, [{"id": "bad-password", **SELECT_ONE}], 3, databases={"db": dsn})
    message = checks["bad-password"]["message"]
    assert checks["bad-password"]["status"] == "error"
    assert "password authentication failed" in message and wrong not in message
    assert wrong not in (tmp_path / "report.json").read_text()


def test_unknown_database_is_an_error_naming_it(diagnose, tmp_path, pg_server):
    checks = run_fault(diagnose, tmp_path, [{"id": "no-db", **SELECT_ONE}], 3,
                       databases={"db": pg_server.dsn("no_such_db_faults")})
    assert checks["no-db"]["status"] == "error"
    assert 'database "no_such_db_faults" does not exist' in checks["no-db"]["message"]


def test_query_slower_than_its_timeout_is_a_timeout_and_the_next_check_runs(diagnose, tmp_path, make_db):
    dsn = make_db("trading")
    checks = run_fault(diagnose, tmp_path, [
        {"id": "sleepy", "kind": "sql", "database": "db", "query": "SELECT pg_sleep(5)", "timeout": 0.5,
         "expect": {"rows": 1}},
        {"id": "after", **SELECT_ONE},
    ], 3, databases={"db": dsn})
    assert checks["sleepy"]["status"] == "timeout" and checks["sleepy"]["duration_ms"] < 4000
    assert checks["sleepy"]["message"] == ("query on database 'db' did not finish within 0.5s "
                                          "(canceling statement due to statement timeout)")
    assert checks["after"]["status"] == "pass"


# --- network services -------------------------------------------------------------------------

def test_host_that_accepts_tcp_but_never_answers_times_out(diagnose, tmp_path):
    with SilentTcpServer() as silent:
        checks = run_fault(diagnose, tmp_path, [
            {"id": "silent-http", "kind": "http", "endpoint": "svc", "path": "/health", "timeout": 0.5},
            {"id": "silent-ws", "kind": "websocket", "endpoint": "ws", "send": "ping", "timeout": 0.5},
            {"id": "port-open", "kind": "tcp", "endpoint": "svc"},
        ], 3, endpoints={"svc": silent.url, "ws": f"ws://127.0.0.1:{silent.port}"})
    assert checks["silent-http"]["status"] == checks["silent-ws"]["status"] == "timeout"
    assert checks["silent-http"]["message"] == f"no answer from {silent.url}/health within 0.5s"
    assert checks["silent-ws"]["message"] == f"no WebSocket handshake from ws://127.0.0.1:{silent.port} within 0.5s"
    assert checks["port-open"]["status"] == "pass"     # TCP itself is fine: the service hangs


def test_http_500_and_invalid_json_fail_with_the_reason(diagnose, tmp_path):
    routes = {"/boom": Route(500, "internal error"), "/json": Route(200, '{"status": "ok",',
                                                                     {"Content-Type": "application/json"})}
    with HttpServer(routes) as server:
        checks = run_fault(diagnose, tmp_path, [
            {"id": "server-error", "kind": "http", "endpoint": "api", "path": "/boom", "expect": {"status": 200},
             "message": "{reason}"},
            {"id": "bad-json", "kind": "http", "endpoint": "api", "path": "/json",
             "expect": {"json": {"path": "status", "equals": "ok"}},
             "message": "{reason}"},
        ], 1, endpoints={"api": server.url})
    assert (checks["server-error"]["status"], checks["server-error"]["message"]) == ("fail", "status 500, expected = 200")
    assert (checks["bad-json"]["status"], checks["bad-json"]["message"]) == ("fail", "body is not JSON")
    assert '{\\"status\\": \\"ok\\",' in json.dumps(checks["bad-json"]["evidence"])   # the body, as evidence


def test_websocket_refused_closed_and_cut_mid_frame_fail_with_the_reason(diagnose, tmp_path):
    roundtrip = {"kind": "websocket", "send": "hello", "expect": {"reply": {"matches": "Connected"}, "within": 2},
                 "message": "{error}"}
    with WsServer("refuse", refuse_status=403) as refusing, WsServer("cut") as cutting, \
            WsServer("close", close_code=1011, close_reason="db down") as closing:
        checks = run_fault(diagnose, tmp_path, [
            {"id": "ws-refused", "endpoint": "refusing", **roundtrip},
            {"id": "ws-closed", "endpoint": "closing", **roundtrip},
            {"id": "ws-cut", "endpoint": "cutting", **roundtrip},
            {"id": "ws-closed-port", "endpoint": "nobody", **roundtrip},
        ], 1, endpoints={"refusing": refusing.url, "cutting": cutting.url, "closing": closing.url,
                         "nobody": f"ws://127.0.0.1:{free_port()}"})
    assert {c["status"] for c in checks.values()} == {"fail"}, checks
    said = {c: checks[c]["message"] for c in checks}
    assert said["ws-refused"] == "handshake rejected: HTTP 403"
    assert said["ws-closed"] == "closed before a reply: the server closed the connection: code 1011 (db down)"
    assert said["ws-cut"] == "closed before a reply: the connection was dropped without a close frame"
    assert said["ws-closed-port"].startswith("connection refused by 127.0.0.1:")


# --- logs -------------------------------------------------------------------------------------

def log_check(check_id: str, log: str, pattern: str = "position_sync_failed", **extra) -> dict:
    return {"id": check_id, "kind": "log", "log": log, "pattern": pattern, **extra}


def test_missing_and_unreadable_logs_are_errors_naming_the_path(diagnose, tmp_path):
    folder = tmp_path / "a-directory.log"
    folder.mkdir()
    checks = run_fault(diagnose, tmp_path, [
        log_check("missing", "missing"), log_check("directory", "directory"), log_check("unreadable", "unreadable"),
    ], 3, logs={"missing": str(tmp_path / "nope.log"), "directory": str(folder),
                # a regular file nobody can read, root included: reading offset 0 of it is EIO
                "unreadable": "/proc/self/mem"})
    assert {c["status"] for c in checks.values()} == {"error"}, checks
    assert checks["missing"]["message"] == f"log 'missing': no file matches {tmp_path / 'nope.log'}"
    assert checks["directory"]["message"] == f"log 'directory': no file matches {folder}"
    assert checks["unreadable"]["message"].startswith("log 'unreadable': cannot read /proc/self/mem: ")


def test_binary_and_invalid_utf8_logs_are_read_as_text(diagnose, tmp_path):
    binary = tmp_path / "binary.log"
    binary.write_bytes(b"\x00\x01\x02" * 1000 + b"\nposition_sync_failed \x00\xff\x00\n" + b"\x00" * 5000)
    garbled = tmp_path / "garbled.log"
    garbled.write_bytes(b"ok \xc3(\n\xff\xfe position_sync_failed \xed\xa0\x80 end\n")
    checks = run_fault(diagnose, tmp_path, [log_check("binary", "binary"), log_check("garbled", "garbled")], 1,
                       logs={"binary": str(binary), "garbled": str(garbled)})
    assert checks["binary"]["status"] == checks["garbled"]["status"] == "fail"
    lines = {c: checks[c]["evidence"][0]["lines"] for c in checks}
    assert [ln["line"] for ln in lines["binary"]] == [2] and [ln["line"] for ln in lines["garbled"]] == [2]
    assert "\ufffd" in lines["garbled"][0]["text"] and "position_sync_failed" in lines["garbled"][0]["text"]


def test_2gb_log_without_a_newline_finishes_within_its_timeout(diagnose, tmp_path):
    huge = tmp_path / "huge.log"
    with open(huge, "wb") as f:   # sparse: 2 GB of NULs that take no disk and read fast
        f.write(b"2026-11-21 08:00:00,000 ERROR position_sync_failed ")
        f.truncate(2 * 10**9)
    checks = run_fault(diagnose, tmp_path, [log_check("huge", "huge", timeout=60)], 1, logs={"huge": str(huge)})
    assert checks["huge"]["status"] == "fail"
    assert checks["huge"]["evidence"][0]["total"] == 1
    assert len(checks["huge"]["evidence"][0]["lines"][0]["text"]) < 1 << 20   # evidence is capped


def _open_by(pid: int, path: Path) -> bool:
    """Whether process ``pid`` or one of its children (ripgrep) has ``path`` open."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    for p in pids:
        try:
            fds = list(Path(f"/proc/{p}/fd").glob("*"))
        except OSError:           # the process (ripgrep) has exited since it was listed
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == str(path):
                    return True
            except OSError:
                pass
    return False


@pytest.mark.parametrize("engine", ["plain", "default"])
def test_log_rotated_while_it_is_read_gives_one_whole_file_never_a_mix(tmp_path, engine):
    """logrotate renames the live file and creates a new one while diagnose holds it open.

    Either engine opens the file once and reads that file to its end: the old content. With
    ripgrep first, the open file is ripgrep's stdin, and when a 600 MB line makes ripgrep give
    up the Python engine reads the same open file again from its start, not the new file at
    the path. The count is the old file's, never a mix, and the report is finished."""
    log = tmp_path / "execution.log"
    with open(log, "wb") as f:   # one match, then a 600 MB sparse line: the read takes a while
        f.write(b"2026-11-21 08:00:00,000 ERROR position_sync_failed\n")
        f.truncate(600_000_000)
    kb = knowledge_base(tmp_path, log_check("rotating", "execution", timeout=30))
    report = tmp_path / "report.json"
    argv = [sys.executable, "-m", "diagnose", SYMPTOM, "--checks", str(kb), "--log", f"execution={log}",
            "--format", "json", "-o", str(report)]
    env = dict(os.environ, DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    env.pop("DIAGNOSE_LOGSCAN", None)
    if engine == "plain":
        env["DIAGNOSE_LOGSCAN"] = "plain"
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=tmp_path)
    rotated = False
    try:
        give_up = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < give_up:
            if _open_by(proc.pid, log):
                os.rename(log, tmp_path / "execution.log.1")
                log.write_text("2026-11-21 09:00:00,000 ERROR position_sync_failed\n" * 5)
                rotated = True
                break
            time.sleep(0.001)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert rotated, "diagnose never held the log open"
    assert "Traceback" not in out + err and proc.returncode == 1, err
    check = json.loads(report.read_text())["checks"][0]
    assert check["status"] == "fail"
    found = (check["evidence"][0]["total"], {line["text"][:19] for line in check["evidence"][0]["lines"]})
    old, new = (1, {"2026-11-21 08:00:00"}), (5, {"2026-11-21 09:00:00"})
    assert found == old and found != new


# --- env files --------------------------------------------------------------------------------

@pytest.mark.parametrize("bad_line, complaint", [
    ("THIS LINE HAS NO EQUALS SIGN", "not a KEY=value line: 'THIS LINE HAS NO EQUALS SIGN'"),
    ('SECRET="never closed', 'unterminated " quote in SECRET'),
])
def test_env_file_with_a_syntax_error_is_an_error_naming_file_and_line(diagnose, tmp_path, bad_line, complaint):
    env_file = tmp_path / "app.env"
    env_file.write_text(f"MODE=live\n# comment\n{bad_line}\nOTHER=1\n")
    checks = run_fault(diagnose, tmp_path, [
        {"id": "mode", "kind": "env", "env": "app", "key": "MODE", "expect": {"equals": "live"}},
        {"id": "port-closed", "kind": "tcp", "endpoint": "svc", "expect": {"reachable": False}},
    ], 3, env={"app": str(env_file)}, endpoints={"svc": f"127.0.0.1:{free_port()}"})
    assert checks["mode"]["status"] == "error"
    assert checks["mode"]["message"].startswith(f"{env_file}:3: {complaint}")
    assert checks["port-closed"]["status"] == "pass"     # the run went on with the other checks


# --- the report itself ------------------------------------------------------------------------

def env_only(tmp_path: Path) -> list[str]:
    env_file = tmp_path / "app.env"
    env_file.write_text("MODE=live\n")
    kb = knowledge_base(tmp_path, {"id": "mode", "kind": "env", "env": "app", "key": "MODE"})
    return [SYMPTOM, "--checks", str(kb), "--env-file", f"app={env_file}"]


def test_read_only_output_folder_is_exit_2_with_one_line(diagnose, tmp_path):
    # /proc refuses new files even to root (chmod does not stop root)
    result = diagnose(*env_only(tmp_path), "-o", "/proc/diagnose-faults-report.md")
    assert result.code == 2 and "Traceback" not in result.out
    assert result.err.startswith("diagnose: cannot write report /proc/diagnose-faults-report.md: ")
    assert result.err.count("\n") == 1
    assert not Path("/proc/diagnose-faults-report.md").exists()


def _limit_file_size() -> None:
    """In the child: files may not grow past 1 KB (a full disk, as far as the report goes);
    SIGXFSZ ignored, so the write fails with EFBIG instead of killing the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))


def test_full_disk_is_exit_2_and_leaves_no_half_written_report(tmp_path):
    out_dir = tmp_path / "reports"
    out_dir.mkdir()
    argv = [sys.executable, "-m", "diagnose", *env_only(tmp_path), "-o", str(out_dir / "r.md")]
    env = dict(os.environ, DIAGNOSE_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    proc = subprocess.run(argv, check=False, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
                          preexec_fn=_limit_file_size)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.startswith(f"diagnose: cannot write report {out_dir / 'r.md'}: File too large")
    assert proc.stderr.count("\n") == 1
    assert os.listdir(out_dir) == []       # neither a partial report nor its temporary file
