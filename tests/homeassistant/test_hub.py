"""The hub starts the publisher when it has a message session: real devices, the real
state registry and escalation engine, an in-memory broker."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hub.app import Hub
from hub.events import AlarmKind, AlarmSignal, CameraAvailability
from hub.messages import MemorySession
from hub.state import Domain
from hub.supervisor import Backoff
from hub.testing import EventRecorder, wait_until
from tests.homeassistant.support import SENSITIVE, load, plugin_manager, write_shop

CONFIG = "homeassistant/binary_sensor/ecrin-tours/{}/config"
HOLDUP = "ecrin/entities/holdup_comptoir/state"
CAMERA = "ecrin/entities/camera_cam-comptoir/state"


def fast() -> Backoff:
    return Backoff(initial=0.02, maximum=0.1)


def hub_for(path: Path, session: MemorySession | None) -> Hub:
    return Hub(load(path), plugin_manager(), serve_http=False, backoff=fast, messages=session)


async def test_the_hub_shows_its_entities_and_their_changes(tmp_path: Path) -> None:
    session = MemorySession()
    async with hub_for(write_shop(tmp_path, period=0.2), session) as hub:
        publisher = hub.home_assistant
        assert publisher is not None
        await asyncio.wait_for(publisher.started.wait(), 5)
        for object_id in ("holdup_comptoir", "holdup_vitrine", "camera_cam-comptoir"):
            assert CONFIG.format(object_id) in {m.topic for m in session.published}
        # The simulated camera comes online; a hold-up at the counter; both reach Home
        # Assistant through the registry.
        await wait_until(
            lambda: (CAMERA, b"ON") in {(m.topic, m.payload) for m in session.published}
        )
        hub.emit(AlarmSignal(kind=AlarmKind.HOLDUP, device="centrale", zone="comptoir"))
        await wait_until(
            lambda: (HOLDUP, b"ON") in {(m.topic, m.payload) for m in session.published}
        )
        # The engine escalates it, and tells the registry: none of it is published.
        await wait_until(lambda: bool(hub.state.states(Domain.ESCALATION)))
        publisher.republish()
        await wait_until(lambda: publisher.stats.republished == 2)
    for message in session.published:
        text = (message.topic + " " + message.payload.decode()).lower()
        for value in SENSITIVE:
            assert value.lower() not in text, (value, message)


async def test_off_by_default_nothing_is_published(tmp_path: Path) -> None:
    session = MemorySession()
    recorder = EventRecorder()
    async with hub_for(write_shop(tmp_path, home_assistant="", period=0.2), session) as hub:
        hub.bus.subscribe(CameraAvailability, recorder.handle)
        publisher = hub.home_assistant
        assert publisher is not None
        assert not publisher.enabled
        await asyncio.wait_for(publisher.started.wait(), 5)
        await recorder.wait_for(CameraAvailability, count=2)  # states did change
        hub.emit(AlarmSignal(kind=AlarmKind.HOLDUP, device="centrale", zone="comptoir"))
        await hub.bus.drain()
    assert session.published == []


async def test_without_a_session_there_is_no_publisher(tmp_path: Path) -> None:
    """No ``mqtt:`` section and no camera that needs a broker: the hub makes no session,
    and there is nothing to publish on."""
    path = write_shop(tmp_path)
    before, after = path.read_text(encoding="utf-8").split("mqtt:\n", 1)
    path.write_text(before + after[after.index("journal:") :], encoding="utf-8")
    async with hub_for(path, None) as hub:
        assert hub.messages is None
        assert hub.home_assistant is None
