"""The mqtt-camera device on an in-memory session, built and run as the hub does:
retained states on subscription, QoS 1, broker lost, other topics, bad payloads logged
once per kind and window."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import pytest

from hub.sdk import (
    CameraAvailability,
    CameraMotion,
    CameraRecording,
    DeviceContext,
    MemorySession,
    MessageHandler,
)
from hub.testing import EventRecorder
from plugins.cameras import mqtt_camera
from plugins.cameras.mqtt_camera import BROKER_LOST, MqttCamera

SETTINGS = {
    "availability": {"topic": "cams/vitrine/status", "online": "online", "offline": "offline"},
    "recording": {"topic": "cams/vitrine/state", "value": "$.recording", "on": True, "off": False},
    "motion": {"topic": "cams/vitrine/motion", "on": "ON", "off": "OFF"},
}


@pytest.fixture
def ecrin_plugins() -> Sequence[ModuleType]:
    return [mqtt_camera]


class QosSession(MemorySession):
    """A memory session that remembers each subscription's quality of service."""

    def __init__(self) -> None:
        super().__init__()
        self.qos: dict[str, int] = {}

    async def subscribe(self, topic: str, handler: MessageHandler, *, qos: int = 0) -> None:
        self.qos[topic] = qos
        await super().subscribe(topic, handler, qos=qos)


def availability(recorder: EventRecorder) -> list[tuple[str, str]]:
    return [(e.state, e.reason) for e in recorder.of_type(CameraAvailability)]


async def test_retained_states_arrive_on_subscription_and_live_ones_after(
    build_device: Callable[..., Any],
    running: Callable[[Any], Any],
    recorder: EventRecorder,
) -> None:
    session = QosSession()
    await session.publish("cams/vitrine/status", b"online", retain=True)
    await session.publish("cams/vitrine/state", b'{"recording": true}', retain=True)
    camera = build_device("mqtt-camera", SETTINGS, "cam-vitrine", messages=session)
    assert isinstance(camera, MqttCamera)
    async with running(camera):
        assert availability(recorder) == [("online", "")]
        assert [e.recording for e in recorder.of_type(CameraRecording)] == [True]
        await session.publish("cams/vitrine/motion", b"ON")
        await session.publish("cams/vitrine/motion", b"OFF")
        await session.publish("cams/vitrine/status", b"offline", retain=True)
    assert [e.active for e in recorder.of_type(CameraMotion)] == [True, False]
    assert availability(recorder) == [("online", ""), ("offline", "")]
    assert all(e.camera == "cam-vitrine" for e in recorder.of_type(CameraAvailability))
    assert session.qos == dict.fromkeys(camera.topics, 1)
    await session.publish("cams/vitrine/status", b"online")  # after exit: unsubscribed
    assert len(recorder.of_type(CameraAvailability)) == 2


async def test_a_camera_never_heard_from_stays_unknown(
    build_device: Callable[..., Any],
    running: Callable[[Any], Any],
    recorder: EventRecorder,
    message_session: MemorySession,
) -> None:
    camera = build_device("mqtt-camera", SETTINGS, "cam-vitrine", messages=message_session)
    async with running(camera):
        await message_session.publish("cams/vitrine/status", b"garbage")
        await message_session.publish("cams/vitrine/status/x", b"online")  # not its topic
        await message_session.publish("cams/caisse/status", b"online")  # not its topic
        message_session.set_connected(False)  # nothing known: nothing to retract
        message_session.set_connected(True)
    assert recorder.events == []
    assert camera.counters()["rejected"] == 1


async def test_broker_lost_makes_the_camera_unknown_until_its_state_comes_back(
    build_device: Callable[..., Any],
    running: Callable[[Any], Any],
    recorder: EventRecorder,
    message_session: MemorySession,
) -> None:
    await message_session.publish("cams/vitrine/status", b"online", retain=True)
    camera = build_device("mqtt-camera", SETTINGS, "cam-vitrine", messages=message_session)
    async with running(camera):
        message_session.set_connected(False)
        assert availability(recorder) == [("online", ""), ("unknown", BROKER_LOST)]
        message_session.set_connected(True)
        # The session resubscribes once back; the broker sends the retained state again.
        await message_session.publish("cams/vitrine/status", b"online", retain=True)
        assert availability(recorder)[-1] == ("online", "")
        message_session.set_connected(False)
        message_session.set_connected(False)  # told once per change
    assert availability(recorder) == [
        ("online", ""),
        ("unknown", BROKER_LOST),
        ("online", ""),
        ("unknown", BROKER_LOST),
    ]


def test_a_camera_needs_the_shops_broker(build_device: Callable[..., Any]) -> None:
    with pytest.raises(OSError, match="needs the shop's MQTT broker"):
        build_device("mqtt-camera", SETTINGS, "cam-vitrine")


def test_refused_settings_say_where(build_device: Callable[..., Any]) -> None:
    settings = {"availability": {"topic": "cams/+/status"}, "motion": {"on": "ON"}}
    with pytest.raises(ValueError, match=r"settings\.availability\.topic: .* has a wildcard"):
        build_device("mqtt-camera", settings, messages=MemorySession())
    with pytest.raises(ValueError, match=r"settings\.motion\.topic: required"):
        build_device("mqtt-camera", settings, messages=MemorySession())


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_bad_payloads_are_logged_once_per_kind_and_window(
    caplog: pytest.LogCaptureFixture, recorder: EventRecorder
) -> None:
    clock = Clock()
    session = MemorySession()
    ctx = DeviceContext(
        device_id="cam-vitrine",
        settings=SETTINGS,
        emit=recorder.emit,
        log=logging.getLogger("ecrin.device.cam-vitrine"),
        messages=session,
    )
    camera = MqttCamera(ctx, clock=clock, log_window=60.0)
    caplog.set_level(logging.WARNING, "ecrin.device.cam-vitrine")
    await session.publish("cams/vitrine/state", b"not json", retain=True)
    async with camera:
        for _ in range(5):
            await session.publish("cams/vitrine/status", b"Online")
        assert len(caplog.records) == 2  # one line per kind of problem
        clock.now = 61.0
        await session.publish("cams/vitrine/status", b"Online")
    other, first, after = (r.getMessage() for r in caplog.records)
    assert first == (
        "cam-vitrine: bad availability payload on cams/vitrine/status: the payload is"
        ' "Online", neither online ("online") nor offline ("offline"); skipped'
    )
    assert "(retained: it may be left by an earlier configuration)" in other
    assert after.endswith("; skipped (and 4 more in the last 60 s)")
    assert recorder.events == []
    counters = camera.counters()
    assert (counters["rejected"], counters["no_match"], counters["not_json"]) == (7, 6, 1)
