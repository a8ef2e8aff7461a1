"""The camera's retention at Frigate against the declared one: Frigate's
``GET /api/config`` played by a real HTTP server on loopback
(``tests/cameras/frigate_server.py``), the device built as the hub builds it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hub.events import Event, RetentionChecked
from hub.sdk import MemorySession
from hub.testing.recorder import EventRecorder
from plugins.cameras import frigate_retention
from plugins.cameras.frigate import TYPE, FrigateCamera
from plugins.cameras.frigate_retention import (
    CHECK_PERIOD,
    SOURCE,
    FrigateRetention,
    RetentionUnknown,
    retention_days,
    watch_retention,
)
from tests.cameras.frigate_server import FakeFrigate, frigate_api

BuildDevice = Callable[..., Any]
Running = Callable[[Any], Any]
LOG = logging.getLogger("test.frigate.retention")


def frigate_config(record: dict[str, Any], camera: str = "comptoir") -> dict[str, Any]:
    """Frigate's ``/api/config`` answer, cut to what matters here."""
    return {"mqtt": {"host": "broker"}, "cameras": {camera: {"name": camera, "record": record}}}


#: Frigate 0.14 to 0.16: continuous retention and review items'.
FRIGATE_016 = {
    "enabled": True,
    "retain": {"days": 10, "mode": "all"},
    "alerts": {"retain": {"days": 14, "mode": "motion"}, "pre_capture": 5},
    "detections": {"retain": {"days": 7, "mode": "motion"}},
}


@pytest.fixture
async def frigate() -> AsyncIterator[FakeFrigate]:
    async with frigate_api() as fake:
        yield fake


# -- reading Frigate's answer -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "days"),
    [
        (FRIGATE_016, 14.0),
        # Frigate 0.17: continuous and motion apart.
        (
            {
                "continuous": {"days": 30},
                "motion": {"days": 31},
                "alerts": {"retain": {"days": 30}},
                "detections": {"retain": {"days": 30}},
            },
            31.0,
        ),
        # Before 0.14: events, with a retention per object.
        (
            {
                "retain": {"days": 0},
                "events": {"retain": {"default": 10, "objects": {"person": 20}}},
            },
            20.0,
        ),
        ({"retain": {"days": 2.5}}, 2.5),
    ],
)
def test_the_longest_retention_frigate_applies_is_the_cameras(
    record: dict[str, Any], days: float
) -> None:
    assert retention_days(frigate_config(record), "comptoir") == days


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (frigate_config(FRIGATE_016, camera="vitrine"), "has no camera 'comptoir'"),
        (frigate_config({"enabled": True}), "gives no retention"),
        (frigate_config({"retain": {"days": True}}), "gives no retention"),
        ({"cameras": "?"}, "has no camera"),
        ([], "has no camera"),
    ],
)
def test_an_answer_that_does_not_tell_is_said_so(config: Any, reason: str) -> None:
    with pytest.raises(RetentionUnknown, match=reason):
        retention_days(config, "comptoir")


# -- the device checks at start -------------------------------------------------------------------


def device(build_device: BuildDevice, **kw: Any) -> FrigateCamera:
    built = build_device(
        TYPE,
        {"camera": "comptoir", **kw.pop("settings", {})},
        "cam-comptoir",
        messages=MemorySession(),
        zones=("comptoir",),
        **kw,
    )
    assert isinstance(built, FrigateCamera)
    return built


async def test_a_retention_frigate_does_not_keep_is_a_fault_reported_at_start(
    frigate: FakeFrigate,
    build_device: BuildDevice,
    running: Running,
    recorder: EventRecorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    frigate.config = frigate_config(FRIGATE_016)
    camera = device(build_device, settings={"api": frigate.url}, retention_days=30)
    with caplog.at_level(logging.ERROR):
        async with running(camera):
            (checked,) = await recorder.wait_for(RetentionChecked)
    assert checked == RetentionChecked(
        time=checked.time, camera="cam-comptoir", declared_days=30, actual_days=14.0, source=SOURCE
    )
    assert not checked.matches
    assert any(
        "Frigate keeps camera comptoir's recordings 14 days" in r.message for r in caplog.records
    )


async def test_a_retention_that_matches_is_journaled_without_a_fault(
    frigate: FakeFrigate,
    build_device: BuildDevice,
    running: Running,
    recorder: EventRecorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    frigate.config = frigate_config(FRIGATE_016)
    camera = device(build_device, settings={"api": frigate.url}, retention_days=14)
    with caplog.at_level(logging.ERROR):
        async with running(camera):
            (checked,) = await recorder.wait_for(RetentionChecked)
    assert checked.matches
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_without_api_or_declared_retention_nothing_is_asked(
    frigate: FakeFrigate, build_device: BuildDevice, running: Running
) -> None:
    frigate.config = frigate_config(FRIGATE_016)
    async with running(device(build_device, retention_days=30)) as camera:
        assert camera.retention is None
    async with running(device(build_device, settings={"api": frigate.url})) as camera:
        assert camera.retention is None
    assert frigate.config_requests == 0


# -- then daily, and again when Frigate was out of reach ------------------------------------------


class Stop(Exception):
    """Ends the watch after the sleeps a test wants."""


async def test_an_answer_without_the_retention_is_asked_again_a_day_later(
    frigate: FakeFrigate,
) -> None:
    frigate.config = 503
    emitted: list[Event] = []
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            frigate.config = frigate_config(FRIGATE_016)  # Frigate is back
        if len(sleeps) == 3:
            raise Stop

    reader = FrigateRetention(frigate.url, "comptoir", LOG, timeout=5.0)
    with pytest.raises(Stop):
        await watch_retention(reader, "cam-comptoir", 14, emitted.append, retry=300.0, sleep=sleep)
    # 503: Frigate answered without telling, asked again a period later; then daily.
    assert sleeps == [CHECK_PERIOD, CHECK_PERIOD, CHECK_PERIOD]
    assert [e.actual_days for e in emitted if isinstance(e, RetentionChecked)] == [14.0, 14.0]
    assert frigate.config_requests == 3


async def test_frigate_unreachable_is_retried_sooner(unused_tcp_port: int) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise Stop

    reader = FrigateRetention(f"http://127.0.0.1:{unused_tcp_port}", "comptoir", LOG, timeout=2.0)
    emitted: list[Event] = []
    with pytest.raises(Stop):
        await watch_retention(reader, "cam-comptoir", 30, emitted.append, retry=300.0, sleep=sleep)
    assert sleeps == [300.0, 300.0]
    assert emitted == []
    await asyncio.sleep(0)


async def test_an_answer_past_its_bound_is_not_read_whole(
    frigate: FakeFrigate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(frigate_retention, "MAX_CONFIG", 2_000)
    reader = FrigateRetention(frigate.url, "comptoir", LOG, timeout=5.0)
    frigate.config = frigate_config(FRIGATE_016)
    assert await reader.read() == 14.0
    frigate.config = frigate_config(FRIGATE_016) | {"padding": "x" * 5_000}
    with pytest.raises(RetentionUnknown, match="over 2000 bytes"):
        await reader.read()
