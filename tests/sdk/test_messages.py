"""Message devices: the session protocol, its in-memory implementation and the base."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import pytest

from hub.sdk import (
    CameraAvailability,
    DecodeStats,
    DeviceContext,
    Event,
    MemorySession,
    Message,
    MessageDevice,
    MessageHandler,
    MessageSession,
    topic_matches,
)


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("frigate/available", "frigate/available", True),
        ("frigate/+/motion", "frigate/caisse/motion", True),
        ("frigate/+/motion", "frigate/caisse/motion/x", False),
        ("frigate/#", "frigate/caisse/motion", True),
        ("frigate/#", "frigate", True),
        ("frigate/+", "frigate", False),
        ("a/b", "a/c", False),
        ("a/b", "a", False),
    ],
)
def test_topic_filters_match_as_mqtt_does(topic_filter: str, topic: str, expected: bool) -> None:
    assert topic_matches(topic_filter, topic) is expected


class AvailabilityDecoder:
    """``<camera>/available`` → online/offline; anything else is counted and skipped."""

    def __init__(self) -> None:
        self.stats = DecodeStats()

    def decode(self, message: Message) -> Sequence[Event]:
        self.stats.frames += 1
        camera = message.topic.split("/")[0]
        state = message.payload.decode("utf-8", "replace")
        if state not in ("online", "offline"):
            self.stats.reject(message.payload, f"unknown availability {state!r}")
            return []
        self.stats.events += 1
        return [CameraAvailability(camera=camera, state=state, role="record")]


async def test_a_message_device_decodes_its_topics_and_leaves_on_exit() -> None:
    session = MemorySession()
    assert isinstance(session, MessageSession)  # structural: the protocol is met
    emitted: list[Event] = []
    ctx = DeviceContext(device_id="cam", settings={}, emit=emitted.append)
    await session.publish("caisse/available", b"online", retain=True)
    device = MessageDevice(ctx, session, AvailabilityDecoder(), ["+/available"])
    async with device:
        task = asyncio.create_task(device.run())
        # The retained state arrives on subscription, as a broker delivers it.
        assert [e.state for e in emitted if isinstance(e, CameraAvailability)] == ["online"]
        await session.publish("caisse/available", b"offline")
        await session.publish("caisse/available", b"garbage")
        await session.publish("caisse/motion", b"ON")  # not subscribed
        assert [e.state for e in emitted if isinstance(e, CameraAvailability)] == [
            "online",
            "offline",
        ]
        assert device.decoder.stats.rejected == 1
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await session.publish("caisse/available", b"online")
    assert len(emitted) == 2  # unsubscribed on exit


async def test_the_memory_session_keeps_the_last_retained_message_and_records_publishes() -> None:
    session = MemorySession()
    await session.publish("hub/state", json.dumps({"up": True}).encode(), retain=True, qos=1)
    await session.publish("hub/state", b"second", retain=True)
    seen: list[Message] = []
    await session.subscribe("hub/#", seen.append)
    assert seen == [Message("hub/state", b"second", retain=True, qos=0)]
    await session.publish("hub/state", b"", retain=True)  # an empty retained clears it
    late: list[Message] = []
    await session.subscribe("hub/#", late.append)
    assert late == []
    assert [m.payload for m in session.published] == [b'{"up": true}', b"second", b""]
    assert seen[-1] == Message("hub/state", b"", retain=False, qos=0)


class Watching(MessageDevice):
    """A message device that records what it is told of the connection."""

    def __init__(self, ctx: DeviceContext, session: MessageSession) -> None:
        super().__init__(ctx, session, AvailabilityDecoder(), ["+/available"])
        self.told: list[bool] = []

    def connection_changed(self, connected: bool) -> None:
        self.told.append(connected)


async def test_a_message_device_is_told_of_the_broker_while_it_runs_only() -> None:
    session = MemorySession()
    device = Watching(DeviceContext(device_id="cam", settings={}, emit=lambda e: None), session)
    session.set_connected(False)  # before the device runs: not told
    async with device:
        session.set_connected(False)  # no change: not told
        session.set_connected(True)
        session.set_connected(False)
        assert session.connected is False
    session.set_connected(True)  # after it left: not told
    assert device.told == [True, False]


class QosRecordingSession(MemorySession):
    """A memory session that remembers the quality of service of each subscription."""

    def __init__(self) -> None:
        super().__init__()
        self.qos: dict[str, int] = {}

    async def subscribe(self, topic: str, handler: MessageHandler, *, qos: int = 0) -> None:
        self.qos[topic] = qos
        await super().subscribe(topic, handler, qos=qos)


async def test_a_message_device_subscribes_with_its_quality_of_service() -> None:
    session = QosRecordingSession()
    ctx = DeviceContext(device_id="cam", settings={}, emit=lambda e: None)
    async with MessageDevice(ctx, session, AvailabilityDecoder(), ["a/available"], qos=1):
        pass
    async with MessageDevice(ctx, session, AvailabilityDecoder(), ["b/available"]):
        pass
    assert session.qos == {"a/available": 1, "b/available": 0}
