"""A tiny HTTP server on 127.0.0.1 that plays an endpoint of an example world.

Behaviour comes from the example's YAML::

    endpoints:
      api:
        routes:
          /v1/config: {json: {EXECUTION_MODE: LIVE}}
          /health: {status: 503, body: "db down"}
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WorldHTTPServer:
    def __init__(self, spec: dict[str, Any]):
        routes = spec.get("routes") or {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                route = routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self._send(404, b'{"detail": "Not Found"}', "application/json")
                    return
                if "json" in route:
                    body, ctype = json.dumps(route["json"]).encode(), "application/json"
                else:
                    body, ctype = str(route.get("body", "")).encode(), route.get("content_type", "text/plain")
                self._send(int(route.get("status", 200)), body, ctype)

            do_HEAD = do_GET

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # keep the terminal quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "WorldHTTPServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
