"""Frigate's shared topics (``events``, ``reviews``) read once for every camera: each
message reaches the device of the camera it names, and only that one; what names no
watched camera, cannot be read or was retained reaches every device, as before; a
device that joins late still gets what the broker held for it, once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest

from hub.messages import MessageHandler
from hub.sdk import CameraDetection, MemorySession, Message
from hub.testing import EventRecorder, wait_until
from hub.testing.plugin import ConnectSession, StartMosquitto
from hub.transports.mqtt import MqttSession
from plugins.cameras.frigate import TYPE, FrigateCamera, FrigateSimulator
from plugins.cameras.frigate_shared import SharedTopic

BuildDevice = Callable[..., Any]
Running = Callable[[Any], Any]
NAMES = ("comptoir", "vitrine", "porte")


class CountingSession(MemorySession):
    """A memory session that counts the handlers subscribed on each filter."""

    def __init__(self) -> None:
        super().__init__()
        self.handlers: Counter[str] = Counter()

    async def subscribe(self, topic: str, handler: MessageHandler, *, qos: int = 0) -> None:
        self.handlers[topic] += 1
        await super().subscribe(topic, handler, qos=qos)

    async def unsubscribe(self, topic: str, handler: MessageHandler) -> None:
        self.handlers[topic] -= 1
        await super().unsubscribe(topic, handler)


def cameras(build_device: BuildDevice, session: Any, names: tuple[str, ...] = NAMES) -> list[Any]:
    built = [
        build_device(TYPE, {"camera": name}, f"cam-{name}", messages=session, zones=("salle",))
        for name in names
    ]
    assert all(isinstance(device, FrigateCamera) for device in built)
    return built


async def test_a_detection_reaches_its_camera_only(
    build_device: BuildDevice, running: Running, recorder: EventRecorder
) -> None:
    session = CountingSession()
    sim = FrigateSimulator(session, NAMES)
    devices = cameras(build_device, session)
    async with AsyncExitStack() as stack:
        for device in devices:
            await stack.enter_async_context(running(device))
        await sim.start()
        before = [d.counters()["frames"] for d in devices]
        ident = await sim.track("vitrine")
        await sim.end(ident)
        after = [d.counters()["frames"] for d in devices]
        # One subscription of the shared topic, whatever the number of cameras.
        assert session.handlers["frigate/events"] == 1
    assert [b - a for a, b in zip(before, after, strict=True)] == [0, 2, 0]
    assert [d.counters()["other_cameras"] for d in devices] == [0, 0, 0]
    assert [(e.camera, e.phase) for e in recorder.of_type(CameraDetection)] == [
        ("cam-vitrine", "new"),
        ("cam-vitrine", "end"),
    ]
    assert session.handlers["frigate/events"] == 0  # the last device took it away


async def test_what_names_no_watched_camera_reaches_every_camera(
    build_device: BuildDevice, running: Running, recorder: EventRecorder
) -> None:
    session = MemorySession()
    sim = FrigateSimulator(session, [*NAMES, "reserve"])
    devices = cameras(build_device, session)
    async with AsyncExitStack() as stack:
        for device in devices:
            await stack.enter_async_context(running(device))
        await sim.start()
        await sim.track("reserve")  # a Frigate camera the shop does not watch
        await sim.raw("events", b"{broken")
        await sim.raw("events", b'{"type": "new", "after": {"camera": 7}}')
    assert [d.counters()["other_cameras"] for d in devices] == [1, 1, 1]
    assert [d.counters()["rejected"] for d in devices] == [2, 2, 2]
    assert recorder.of_type(CameraDetection) == []


async def test_a_retained_leftover_is_stale_for_every_camera(
    build_device: BuildDevice, running: Running, recorder: EventRecorder
) -> None:
    session = MemorySession()
    sim = FrigateSimulator(session, NAMES)
    await sim.track("vitrine")
    (message,) = [m for m in session.published if m.topic == "frigate/events"]
    await sim.raw("events", message.payload, retain=True)  # left by an earlier setup
    devices = cameras(build_device, session)
    async with AsyncExitStack() as stack:
        for device in devices:
            await stack.enter_async_context(running(device))
        await sim.start()
    # Each device was handed the retained message as it joined, as a subscriber is.
    assert [d.counters()["stale"] for d in devices] == [1, 1, 1]
    assert recorder.of_type(CameraDetection) == []


async def test_a_failing_device_keeps_the_message_from_no_other() -> None:
    session = MemorySession()
    shared = SharedTopic(session, "frigate/events", qos=1)
    got: list[str] = []

    def broken(_message: Message) -> None:
        raise RuntimeError("a bug in one camera's device")

    await shared.add("comptoir", broken)
    await shared.add("comptoir", lambda m: got.append(m.topic))
    with pytest.raises(RuntimeError, match="a bug"):
        await session.publish("frigate/events", b'{"type":"new","after":{"camera":"comptoir"}}')
    assert got == ["frigate/events"]


async def test_messages_held_for_the_hub_reach_each_camera_once(
    mosquitto: StartMosquitto,
    mqtt_session: ConnectSession,
    build_device: BuildDevice,
    recorder: EventRecorder,
) -> None:
    # While the hub was away, the broker queued detections of two cameras for its
    # persistent session; they arrive before the cameras subscribe, and each camera,
    # joining the shared topic in turn, gets its own once.
    broker = mosquitto()
    async with mqtt_session(broker, subscribe=[("frigate/events", lambda _m: None)]):
        pass
    tape = MemorySession()
    sim = FrigateSimulator(tape, ["comptoir", "porte"], seed=1)
    await sim.track("comptoir")
    await sim.track("porte")
    async with broker.client() as frigate:
        for message in tape.published:
            await frigate.publish(message.topic, message.payload, qos=1)
    session = MqttSession(broker.mqtt_config(client_id="ecrin-test"), hold_unmatched=True)
    async with session:
        await wait_until(lambda: session.counters.received == 2, timeout=10)
        devices = cameras(build_device, session, ("comptoir", "porte"))
        for device in devices:
            await device.__aenter__()
        session.settle()
        for device in devices:
            await device.__aexit__(None, None, None)
    assert sorted(e.camera for e in recorder.of_type(CameraDetection)) == [
        "cam-comptoir",
        "cam-porte",
    ]
    assert session.counters.unmatched == 0
