"""Keeping a hold-up's recordings at Frigate: the exports asked of a Frigate played by
a real HTTP server on loopback (``tests/cameras/frigate_server.py``), which records
each request and answers as Frigate's ``frigate/api/export.py`` does (failures first,
then success)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.plugins import PluginManager
from hub.sdk import MemorySession
from plugins.cameras.frigate import TYPE, FrigateCamera, FrigateExporter
from tests.cameras.frigate_server import FakeFrigate, frigate_api

BuildDevice = Callable[..., Any]
Running = Callable[[Any], Any]
T0 = datetime(2026, 3, 10, 11, 0, 0, tzinfo=UTC)
LOG = logging.getLogger("test.frigate.api")


@pytest.fixture
async def frigate() -> AsyncIterator[FakeFrigate]:
    async with frigate_api() as fake:
        yield fake


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
