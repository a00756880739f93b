"""An endpoint of an example world played by the real thing: the seed's FastAPI backend under uvicorn.

::

    endpoints:
      backend:
        uvicorn:
          log: backend              # uvicorn's stdout and stderr become this log source
          timestamps: false         # uvicorn's default output (no time); true: the profile page's log config
          clients: {polite: 3, abrupt: 5, error: 1}
          database_host: null       # a host that does not resolve: startup fails, uvicorn exits

The log is what uvicorn and the handler really write, in the order they write it: uvicorn's
``INFO:     connection open`` lines, the handler's ``print("WebSocket disconnected")``, its
``Exception in ASGI application`` traceback. Clients, each one real WebSocket connection:

* ``polite``: sends a text, reads the reply, closes with 1000;
* ``abrupt``: sends a text, reads the reply, then drops the TCP connection with no close frame
  (a browser tab killed, a laptop lid closed);
* ``error``: sends a binary frame, which the seed handler's ``receive_text()`` cannot take: the
  handler raises and uvicorn logs the traceback.

The world is ready when uvicorn serves and every client's end is in the log (or, with a
``database_host`` that does not resolve, when uvicorn has exited). Needs FastAPI and uvicorn
(the ``test`` extra).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from diagnose.world.specs import fail, integer, known_keys, mapping, text

KEYS = ("log", "timestamps", "clients", "database_host")
CLIENTS = ("polite", "abrupt", "error")
READY_TIMEOUT = 20.0     # seconds for uvicorn to serve (or to exit, when startup must fail)
SETTLE_TIMEOUT = 10.0    # seconds for every client's end to reach the log
LOG_CONFIG = Path(__file__).resolve().parent.parent / "site" / "snippets" / "uvicorn-log.yaml"


def validate(name: str, spec: Any) -> dict[str, Any]:
    where = f"endpoint {name} uvicorn"
    spec = mapping(where, spec, "a mapping such as {log: backend, clients: {abrupt: 5}}")
    known_keys(where, spec, KEYS)
    text(where, "log", spec.get("log"))
    clients = mapping(f"{where} clients", spec.get("clients") or {}, "a mapping such as {polite: 3}")
    known_keys(f"{where} clients", clients, CLIENTS)
    for kind, count in clients.items():
        integer(f"{where} clients", kind, count, 0, 200)
    if spec.get("database_host") is not None:
        text(where, "database_host", spec["database_host"])
    return spec


class SeedBackend:
    """The seed backend under uvicorn on 127.0.0.1, its output in ``log_path``."""

    def __init__(self, name: str, spec: dict[str, Any], logs_dir: Path):
        self.name = name
        self.spec = validate(name, spec)
        self.log_name: str = self.spec["log"]
        self.log_path = logs_dir / f"{self.log_name}.log"
        from diagnose.pg.server import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen | None = None

    def start(self) -> SeedBackend:
        try:
            import fastapi  # noqa: F401
            import uvicorn  # noqa: F401
        except ImportError:
            raise fail(f"endpoint {self.name} uvicorn", "needs FastAPI and uvicorn: pip install 'diagnose[test]'") from None
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "uvicorn", "diagnose.world.seed_backend:app", "--host", "127.0.0.1",
                "--port", str(self.port)]
        if self.spec.get("timestamps"):
            argv += ["--log-config", str(LOG_CONFIG)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("DIAGNOSE_SEED_DATABASE_HOST", None)
        if self.spec.get("database_host"):
            env["DIAGNOSE_SEED_DATABASE_HOST"] = self.spec["database_host"]
        with open(self.log_path, "ab") as out:
            self._proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          env=env, start_new_session=True)
        if self.spec.get("database_host"):
            self._wait_exit()
        else:
            self._wait_serving()
            self._run_clients()
        return self

    def _log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def _wait_serving(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"endpoint {self.name}: uvicorn exited at startup: {self._log()[-500:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"endpoint {self.name}: uvicorn did not serve within {READY_TIMEOUT:g}s")

    def _wait_exit(self) -> None:
        assert self._proc is not None   # called by start(), once uvicorn runs
        try:
            self._proc.wait(READY_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"endpoint {self.name}: uvicorn did not exit although its startup must fail") from None

    def _run_clients(self) -> None:
        from websockets.sync.client import connect

        url = f"ws://127.0.0.1:{self.port}/ws/positions"
        clients = self.spec.get("clients") or {}
        for _ in range(int(clients.get("polite", 0))):
            with connect(url, open_timeout=5, close_timeout=5) as ws:
                ws.send("hello")
                ws.recv(timeout=5)
        for _ in range(int(clients.get("abrupt", 0))):
            try:
                with connect(url, open_timeout=5, close_timeout=1) as ws:
                    ws.send("hello")
                    ws.recv(timeout=5)
                    ws.socket.shutdown(socket.SHUT_RDWR)    # gone without a close frame
            except Exception:  # closing what is already gone: that is the point
                pass
        for _ in range(int(clients.get("error", 0))):
            with connect(url, open_timeout=5, close_timeout=5) as ws:
                ws.send(b"\x00\x01")                 # receive_text() cannot take a binary frame
                try:
                    ws.recv(timeout=5)
                except Exception:  # the server closes with 1011 after the handler raised
                    pass
        ends = int(clients.get("polite", 0)) + int(clients.get("abrupt", 0))
        errors = int(clients.get("error", 0))
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while time.monotonic() < deadline:
            log = self._log()
            if log.count("WebSocket disconnected") >= ends and log.count("Exception in ASGI application") >= errors:
                return
            time.sleep(0.05)
        raise RuntimeError(f"endpoint {self.name}: the clients' ends did not reach uvicorn's log within "
                           f"{SETTLE_TIMEOUT:g}s")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()           # uvicorn shuts down cleanly and says so in its log
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(5)
