"""The futures-desk backend's WebSocket handler, as the seed gives it, to run under real uvicorn.

From the desk's own notes (``backend/main.py``, the ``/ws/positions`` endpoint): it accepts,
answers every text with ``{"message": "Connected"}``, has no ping, no timeout, no auth, and on
``WebSocketDisconnect`` only ``print("WebSocket disconnected")`` (no time, no client). A
``/health`` route answers ``{"status": "ok"}``. With ``DIAGNOSE_SEED_DATABASE_HOST`` set, startup
resolves that host first, as the backend does when it connects to its database: a host that does
not resolve makes uvicorn log the traceback and ``Application startup failed. Exiting.``

Worlds run it with ``python -m uvicorn diagnose.world.seed_backend:app`` (FastAPI and uvicorn come
with the ``test`` extra); :mod:`diagnose.world.uvicorn` starts it and its clients.
"""

from __future__ import annotations

import os
import socket
from contextlib import asynccontextmanager

from fastapi import FastAPI, WebSocket, WebSocketDisconnect


@asynccontextmanager
async def lifespan(app: FastAPI):
    host = os.environ.get("DIAGNOSE_SEED_DATABASE_HOST")
    if host:
        socket.getaddrinfo(host, 5432)     # socket.gaierror when the name does not resolve
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.websocket("/ws/positions")
async def websocket_positions(websocket: WebSocket):
    await websocket.accept()
    try:
        while True:
            _ = await websocket.receive_text()
            await websocket.send_json({"message": "Connected"})
    except WebSocketDisconnect:
        print("WebSocket disconnected")
