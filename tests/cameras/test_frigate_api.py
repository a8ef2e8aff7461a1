"""Keeping a hold-up's recordings at Frigate: the exports asked of a Frigate played by
a real HTTP server on loopback, which records each request and answers as Frigate's
``frigate/api/export.py`` does (failures first, then success)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from hub.plugins import PluginManager
from hub.sdk import MemorySession
from plugins.cameras.frigate import TYPE, FrigateCamera, FrigateExporter

BuildDevice = Callable[..., Any]
Running = Callable[[Any], Any]
T0 = datetime(2026, 3, 10, 11, 0, 0, tzinfo=UTC)
LOG = logging.getLogger("test.frigate.api")


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


@pytest.fixture
async def frigate() -> AsyncIterator[FakeFrigate]:
    fake = FakeFrigate()
    app = web.Application()
    app.router.add_post(r"/api/export/{camera}/start/{start:\d+}/end/{end:\d+}", fake._export)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield fake
    if fake.hold is not None:
        fake.hold.set()
    await runner.cleanup()


class Clock:
    """A wall clock that only moves when the exporter sleeps."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


def exporter(url: str, clock: Clock, **kw: Any) -> FrigateExporter:
    return FrigateExporter(url, "comptoir", LOG, now=clock, sleep=clock.sleep, **kw)


# -- the exporter -------------------------------------------------------------------------------


async def test_a_window_over_is_one_export_retried_until_frigate_takes_it(
    frigate: FakeFrigate,
) -> None:
    frigate.answers = [500, "drop", 400, 200]
    clock = Clock(T0)
    export = exporter(frigate.url + "/api/", clock)  # "/api" is Frigate's, not doubled
    start, end = T0 - timedelta(minutes=40, seconds=0.5), T0 - timedelta(minutes=10)
    try:
        ids = await export.keep(start, end, "esc-20260310-104000-abc123")
    finally:
        await export.close()
    assert ids == ["comptoir_000004"]
    assert clock.sleeps == [1.0, 2.0, 4.0]  # exponential backoff
    assert len(frigate.requests) == 4
    request = frigate.requests[-1]
    assert request.camera == "comptoir"
    # Whole seconds, the window's first and last included.
    assert request.start == int(start.timestamp()) < start.timestamp()
    assert request.end == int(end.timestamp()) == end.timestamp()
    assert request.body == {
        "playback": "realtime",
        "source": "recordings",
        "name": "esc-20260310-104000-abc123",
    }


async def test_a_window_not_over_is_kept_in_two_parts(frigate: FakeFrigate) -> None:
    clock = Clock(T0)
    export = exporter(frigate.url, clock, settle=60.0)
    start, end = T0 - timedelta(minutes=10), T0 + timedelta(minutes=30)
    try:
        ids = await export.keep(start, end, "esc-1")
    finally:
        await export.close()
    cut = int((T0 - timedelta(seconds=60)).timestamp())
    assert [(r.start, r.end, r.body["name"]) for r in frigate.requests] == [
        (int(start.timestamp()), cut, "esc-1 (1/2)"),
        (cut, int(end.timestamp()), "esc-1 (2/2)"),
    ]
    assert ids == ["comptoir_000001", "comptoir_000002"]
    # The second part waited until Frigate had written the end of the window.
    assert clock.now >= end + timedelta(seconds=60)
    assert sum(clock.sleeps) == (end + timedelta(seconds=60) - T0).total_seconds()


async def test_a_window_that_just_began_is_one_export_after_its_end(frigate: FakeFrigate) -> None:
    clock = Clock(T0)
    export = exporter(frigate.url, clock, settle=60.0)
    try:
        ids = await export.keep(T0 - timedelta(seconds=30), T0 + timedelta(minutes=5), "esc-2")
    finally:
        await export.close()
    assert [r.body["name"] for r in frigate.requests] == ["esc-2"]
    assert frigate.requests[0].start == int((T0 - timedelta(seconds=30)).timestamp())
    assert len(ids) == 1


async def test_a_refusal_that_retrying_cannot_change_is_not_retried(
    frigate: FakeFrigate, caplog: pytest.LogCaptureFixture
) -> None:
    frigate.answers = [404]
    clock = Clock(T0)
    export = exporter(frigate.url, clock)
    with caplog.at_level(logging.ERROR, logger=LOG.name):
        try:
            ids = await export.keep(T0 - timedelta(hours=1), T0 - timedelta(minutes=30), "esc-3")
        finally:
            await export.close()
    assert ids == [None]
    assert len(frigate.requests) == 1
    assert clock.sleeps == []
    assert [r.levelno for r in caplog.records] == [logging.ERROR]


async def test_the_backoff_is_capped(frigate: FakeFrigate) -> None:
    frigate.answers = [503] * 8 + [200]
    clock = Clock(T0)
    export = exporter(frigate.url, clock, retry_max=10.0)
    try:
        await export.keep(T0 - timedelta(hours=1), T0 - timedelta(minutes=30), "esc-4")
    finally:
        await export.close()
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0, 10.0]


async def test_frigate_out_of_reach_is_retried(unused_tcp_port: int) -> None:
    clock = Clock(T0)
    export = exporter(f"http://127.0.0.1:{unused_tcp_port}", clock, timeout=2.0)
    task = asyncio.create_task(
        export.keep(T0 - timedelta(hours=1), T0 - timedelta(minutes=30), "esc-5")
    )
    try:
        async with asyncio.timeout(10):
            while export.attempts < 3:
                await asyncio.sleep(0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await export.close()
    assert clock.sleeps[:2] == [1.0, 2.0]
    assert export.exported == []


# -- through the hook and the device, as the escalation engine asks ----------------------


def device(build_device: BuildDevice, **settings: Any) -> FrigateCamera:
    built = build_device(
        TYPE,
        {"camera": "comptoir", **settings},
        "cam-comptoir",
        messages=MemorySession(),
        zones=("comptoir",),
    )
    assert isinstance(built, FrigateCamera)
    return built


async def test_keep_recordings_reaches_frigate_through_the_hook(
    frigate: FakeFrigate,
    build_device: BuildDevice,
    running: Running,
    plugin_manager: PluginManager,
) -> None:
    frigate.answers = [500, 200]
    start = datetime.now(UTC) - timedelta(hours=2)
    end = start + timedelta(minutes=40)
    async with running(device(build_device, api=frigate.url, retry_max=1.0)) as camera:
        plugin_manager.keep_recordings("cam-comptoir", start, end, "esc-9")
        plugin_manager.keep_recordings("cam-comptoir", start, end, "esc-9")  # asked once
        plugin_manager.keep_recordings("cam-other", start, end, "esc-9")  # not ours
        await frigate.wait(2)
        async with asyncio.timeout(10):
            while not camera.exporter.exported:
                await asyncio.sleep(0.01)
    assert [r.camera for r in frigate.requests] == ["comptoir", "comptoir"]
    assert frigate.requests[-1].body["name"] == "esc-9"
    assert camera.counters()["export_attempts"] == 2
    assert not plugin_manager.errors


async def test_the_hook_returns_at_once_and_stopping_cancels_the_export(
    frigate: FakeFrigate, build_device: BuildDevice, running: Running
) -> None:
    from plugins.cameras.frigate import keep_recordings

    frigate.hold = asyncio.Event()  # Frigate hangs
    start = datetime.now(UTC) - timedelta(hours=2)
    async with running(device(build_device, api=frigate.url)) as camera:
        keep_recordings("cam-comptoir", start, start + timedelta(minutes=40), "esc-10")
        await frigate.wait(1)
        assert camera._tasks  # the request runs in the device's own task
    assert not camera._tasks
    assert camera.exporter.exported == []


async def test_without_api_the_manual_step_is_told_once_per_incident(
    build_device: BuildDevice,
    running: Running,
    plugin_manager: PluginManager,
    caplog: pytest.LogCaptureFixture,
) -> None:
    start = datetime(2026, 3, 10, 10, 50, tzinfo=UTC)
    end = start + timedelta(minutes=40)
    with caplog.at_level(logging.WARNING):
        async with running(device(build_device)) as camera:
            plugin_manager.keep_recordings("cam-comptoir", start, end, "esc-11")
            plugin_manager.keep_recordings("cam-comptoir", start, end, "esc-11")
            plugin_manager.keep_recordings("cam-comptoir", start, end, "esc-12")
    told = [r for r in caplog.records if r.name == "ecrin.device.cam-comptoir"]
    assert len(told) == 2
    assert camera.exporter is None
    assert not plugin_manager.errors


async def test_a_camera_that_no_longer_runs_is_not_asked(
    frigate: FakeFrigate, build_device: BuildDevice, running: Running
) -> None:
    from plugins.cameras.frigate import keep_recordings

    async with running(device(build_device, api=frigate.url)) as camera:
        pass
    keep_recordings("cam-comptoir", T0, T0, "esc-13")
    assert "esc-13" not in camera._kept
    assert not camera._tasks
