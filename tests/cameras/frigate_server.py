"""Frigate's export API on a loopback port: a real aiohttp server that records each
request and answers as Frigate's ``frigate/api/export.py`` does, and its
``GET /api/config`` (``config``, as Frigate answers it, or an HTTP status).

Shared by the frigate plugin's tests (``tests/cameras/test_frigate_api.py``) and the
end-to-end tests, where a hub keeps a hold-up's recordings at it
(``tests/e2e/test_cameras_e2e.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["Export", "FakeFrigate", "frigate_api"]


@dataclass
class Export:
    """One export request, as Frigate received it."""

    camera: str
    start: int
    end: int
    body: dict[str, Any]


@dataclass
class FakeFrigate:
    """Frigate's export endpoint on a loopback port.

    ``answers`` are played in turn (the last one repeats): an HTTP status (200 answers
    Frigate's success body), or ``"drop"`` to close the connection unanswered.
    """

    answers: list[int | str] = field(default_factory=lambda: [200])
    requests: list[Export] = field(default_factory=list)
    hold: asyncio.Event | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""
    #: What ``GET /api/config`` answers: Frigate's configuration, or an HTTP status.
    config: dict[str, Any] | int = field(default_factory=dict)
    config_requests: int = 0

    async def _config(self, request: web.Request) -> web.StreamResponse:
        self.config_requests += 1
        if isinstance(self.config, int):
            return web.Response(status=self.config, text="Internal Server Error")
        return web.json_response(self.config)

    async def _export(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(
            Export(
                request.match_info["camera"],
                int(request.match_info["start"]),
                int(request.match_info["end"]),
                body,
            )
        )
        self.arrived.set()
        if self.hold is not None:
            await self.hold.wait()
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if answer == "drop":
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        if answer == 200:
            export_id = f"{request.match_info['camera']}_{len(self.requests):06d}"
            payload = {
                "success": True,
                "message": "Starting export of recording.",
                "export_id": export_id,
            }
            return web.json_response(payload)
        if answer == 400:
            payload = {"success": False, "message": "No recordings found for time range"}
            return web.json_response(payload, status=400)
        if answer == 404:
            camera = request.match_info["camera"]
            payload = {"success": False, "message": f"{camera} is not a valid camera."}
            return web.json_response(payload, status=404)
        return web.Response(status=int(answer), text="Internal Server Error")

    async def wait(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.requests) < count:
                self.arrived.clear()
                await self.arrived.wait()


@contextlib.asynccontextmanager
async def frigate_api() -> AsyncIterator[FakeFrigate]:
    """Serve Frigate's export endpoint on a free loopback port (``FakeFrigate.url``)
    while the block runs."""
    fake = FakeFrigate()
    app = web.Application()
    app.router.add_post(r"/api/export/{camera}/start/{start:\d+}/end/{end:\d+}", fake._export)
    app.router.add_get("/api/config", fake._config)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield fake
    finally:
        if fake.hold is not None:
            fake.hold.set()
        await runner.cleanup()
