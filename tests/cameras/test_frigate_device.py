"""The ``frigate`` device on a message session, driven by the Frigate simulator: what a
shop's camera reports when Frigate connects, dies, turns a camera off, detects, and
when the broker goes away. The session is the in-memory one; the simulator only
publishes on it, so a real broker's session runs the same tests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from hub.messages import MessageHandler
from hub.sdk import (
    CameraAvailability,
    CameraDetection,
    CameraMotion,
    CameraRecording,
    MemorySession,
)
from hub.testing import EventRecorder
from plugins.cameras.frigate import (
    BROKER_LOST,
    NVR_LAST_WILL,
    TYPE,
    FrigateCamera,
    FrigateSimulator,
    SimCamera,
)

BuildDevice = Callable[..., Any]
Running = Callable[[Any], Any]
ZONES = ("comptoir", "vitrine")


class QosSession(MemorySession):
    """A memory session that also remembers the QoS of each subscription."""

    def __init__(self) -> None:
        super().__init__()
        self.qos: dict[str, int] = {}

    async def subscribe(self, topic: str, handler: MessageHandler, *, qos: int = 0) -> None:
        self.qos[topic] = qos
        await super().subscribe(topic, handler, qos=qos)


def states(recorder: EventRecorder, role: str = "") -> list[tuple[str, str]]:
    return [
        (e.state, e.reason)
        for e in recorder.of_type(CameraAvailability)
        if e.role == role and e.camera == "cam-comptoir"
    ]


def camera(build_device: BuildDevice, session: MemorySession, **settings: Any) -> FrigateCamera:
    settings.setdefault("camera", "comptoir")
    device = build_device(TYPE, settings, "cam-comptoir", messages=session, zones=ZONES)
    assert isinstance(device, FrigateCamera)
    return device


async def test_a_016_frigate_connecting_puts_the_camera_online(
    build_device: BuildDevice, running: Running, recorder: EventRecorder
) -> None:
    session = MemorySession()
    sim = FrigateSimulator(session, ["comptoir", "porte"], version=(0, 16))
    async with running(camera(build_device, session)):
        assert states(recorder) == []  # never heard: unknown, nothing said
        await sim.start()
    assert states(recorder) == [("online", "")]
    assert [e.recording for e in recorder.of_type(CameraRecording)] == [True]


async def test_a_017_frigate_reports_each_role(
    build_device: BuildDevice, running: Running, recorder: EventRecorder
) -> None:
    session = MemorySession()
    sim = FrigateSimulator(session, ["comptoir"], version=(0, 17))
    async with running(camera(build_device, session, status_topics="yes")):
        await sim.start()
        assert states(recorder) == []  # 0.17: online only once a role says so
        await sim.report_status()
        await sim.report_status()  # the watchdog repeats itself; the hub does not
        await sim.status("comptoir", "record", "offline")
    assert states(recorder) == [("online", "")]
    assert states(recorder, "detect") == [("online", "")]
    assert states(recorder, "record") == [("online", ""), ("offline", "")]


async def test_the_nvr_last_will_is_offline_at_once(
    build_device: BuildDevice, running: Running, recorder: EventRecorder
) -> None:
    session = MemorySession()
    sim = FrigateSimulator(session, ["comptoir"])
    async with running(camera(build_device, session)):
        await sim.start()
        await sim.report_status()
        await sim.die()
    assert states(recorder)[-1] == ("offline", NVR_LAST_WILL)
    assert states(recorder, "record")[-1] == ("offline", NVR_LAST_WILL)


async def test_a_hub_started_after_frigate_died_sees_it_offline(
    build_device: BuildDevice, running: Running, recorder: EventRecorder
) -> None:
    session = MemorySession()
    sim = FrigateSimulator(session, ["comptoir"])
    await sim.start()
    await sim.die()  # retained on the broker before the hub subscribes
    async with running(camera(build_device, session)):
        pass
    assert states(recorder) == [("offline", NVR_LAST_WILL)]


async def test_a_camera_off_at_frigate_is_disabled_and_never_online_first(
    build_device: BuildDevice, running: Running, recorder: EventRecorder
) -> None:
    """Retained states reach the hub before ``available``: it subscribes that last."""
    session = QosSession()
    sim = FrigateSimulator(session, [SimCamera("comptoir", enabled=False)], version=(0, 16))
    await sim.start()
    async with running(camera(build_device, session)):
        pass
    assert states(recorder) == [("disabled", "")]
    assert set(session.qos.values()) == {1}
    assert list(session.qos)[-1] == "frigate/available"


async def test_broker_lost_is_unknown_and_the_retained_states_bring_it_back(
    build_device: BuildDevice, running: Running, recorder: EventRecorder
) -> None:
    session = MemorySession()
    sim = FrigateSimulator(session, ["comptoir"], version=(0, 16))
    async with running(camera(build_device, session)):
        await sim.start()
        session.set_connected(False)
        assert states(recorder)[-1] == ("unknown", BROKER_LOST)
        session.set_connected(True)
        assert states(recorder)[-1] == ("unknown", BROKER_LOST)  # nothing until told
        await sim.start()  # Frigate's states again, as after any reconnection
    assert states(recorder) == [("online", ""), ("unknown", BROKER_LOST), ("online", "")]
    assert [e.recording for e in recorder.of_type(CameraRecording)] == [True, True]


async def test_recording_and_motion(
    build_device: BuildDevice, running: Running, recorder: EventRecorder
) -> None:
    session = MemorySession()
    sim = FrigateSimulator(session, ["comptoir"])
    async with running(camera(build_device, session)):
        await sim.start()
        await sim.set_recording("comptoir", False)
        await sim.motion("comptoir", True)
        await sim.motion("comptoir", False)
        await sim.set_recording("comptoir", True)
    assert [e.recording for e in recorder.of_type(CameraRecording)] == [True, False, True]
    # Frigate says motion OFF as it connects, then the two happenings.
    assert [e.active for e in recorder.of_type(CameraMotion)] == [False, True, False]


async def test_detections_with_their_mapped_zones(
    build_device: BuildDevice, running: Running, recorder: EventRecorder
) -> None:
    session = MemorySession()
    sim = FrigateSimulator(session, ["comptoir"], seed=1, clock=lambda: 1_760_000_000.25)
    device = camera(build_device, session, zones={"caisse": "comptoir", "presentoir": "vitrine"})
    async with running(device):
        await sim.start()
        ident = await sim.track("comptoir", "person", zones=["caisse"], score=0.7)
        await sim.update(ident, zones=["presentoir"], score=0.9)
        await sim.update(ident, zones=["porte"])  # not mapped: the camera's zones
        await sim.end(ident)
    detections = recorder.of_type(CameraDetection)
    assert [(d.phase, d.camera_zones, d.zones) for d in detections] == [
        ("new", ("caisse",), ("comptoir",)),
        ("update", ("presentoir",), ("vitrine",)),
        ("update", ("porte",), ZONES),
        ("end", ("caisse", "presentoir", "porte"), ("comptoir", "vitrine")),
    ]
    assert {d.detection for d in detections} == {ident}
    assert [d.score for d in detections] == [0.7, 0.9, 0.9, 0.9]


async def test_reviews_when_asked_for(
    build_device: BuildDevice, running: Running, recorder: EventRecorder
) -> None:
    session = MemorySession()
    sim = FrigateSimulator(session, ["comptoir"])
    device = camera(build_device, session, detections="reviews", zones={"caisse": "comptoir"})
    async with running(device):
        await sim.start()
        await sim.track("comptoir", zones=["caisse"])  # events: not read
        ident = await sim.review("comptoir", ["person"], zones=["caisse"])
        await sim.update_review(ident, objects=["car"])
        await sim.end(ident)
    detections = recorder.of_type(CameraDetection)
    assert [(d.phase, d.label, d.zones) for d in detections] == [
        ("new", "person", ("comptoir",)),
        ("update", "person,car", ("comptoir",)),
        ("end", "person,car", ("comptoir",)),
    ]


async def test_other_cameras_are_ignored(
    build_device: BuildDevice, running: Running, recorder: EventRecorder
) -> None:
    session = MemorySession()
    sim = FrigateSimulator(session, ["comptoir", "porte"])
    device = camera(build_device, session)
    async with running(device):
        await sim.start()
        await sim.track("porte")
        await sim.motion("porte", True)
        await sim.set_enabled("porte", False)
    assert recorder.of_type(CameraDetection) == []
    assert [e.active for e in recorder.of_type(CameraMotion)] == [False]
    assert states(recorder) == [("online", "")]
    assert device.counters()["other_cameras"] == 1
    assert device.counters()["rejected"] == 0


async def test_a_stale_retained_message_is_counted_and_told_once(
    build_device: BuildDevice,
    running: Running,
    recorder: EventRecorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    session = MemorySession()
    old = FrigateSimulator(session, ["ancienne"])
    await old.start()
    ident = await old.track("ancienne")
    # An earlier setup left the camera's object on the broker, retained.
    (leftover,) = [m for m in session.published if m.topic == "frigate/events"]
    await old.raw("events", leftover.payload, retain=True)
    sim = FrigateSimulator(session, ["comptoir"])
    device = camera(build_device, session)
    with caplog.at_level(logging.WARNING):
        async with running(device):
            await sim.start()
            # A reconnection: the session subscribes again, the broker hands it over again.
            await session.subscribe("frigate/events", device.handle, qos=1)
    assert ident
    assert device.counters()["stale"] == 2
    assert recorder.of_type(CameraDetection) == []
    told = [r for r in caplog.records if r.name == "ecrin.device.cam-comptoir"]
    assert len(told) == 1


async def test_bad_payloads_are_counted_never_online(
    build_device: BuildDevice, running: Running, recorder: EventRecorder
) -> None:
    session = MemorySession()
    sim = FrigateSimulator(session, ["comptoir"])
    device = camera(build_device, session)
    async with running(device):
        await sim.raw("available", b"ONLINE", retain=True)
        await sim.raw("events", b"{broken")
        await sim.raw("comptoir/recordings/state", b"yes", retain=True)
        assert states(recorder) == []
        await sim.start()
    assert device.counters()["rejected"] == 3
    assert states(recorder) == [("online", "")]


async def test_the_device_leaves_the_session_as_it_found_it(
    build_device: BuildDevice, running: Running
) -> None:
    session = MemorySession()
    async with running(camera(build_device, session)):
        assert session._subscriptions
        assert session._listeners
    assert session._subscriptions == []
    assert session._listeners == []


def test_a_camera_needs_the_message_session(build_device: BuildDevice) -> None:
    with pytest.raises(OSError, match="MQTT broker"):
        build_device(TYPE, {}, "cam-comptoir", zones=ZONES)


def test_the_zone_mapping_must_name_the_camera_zones(build_device: BuildDevice) -> None:
    with pytest.raises(ValueError, match=r"settings\.zones\.caisse: shop zone 'coffre'"):
        camera(build_device, MemorySession(), zones={"caisse": "coffre"})
