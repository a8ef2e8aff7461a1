"""The publisher on an in-memory session: what goes out at start, on a change, when Home
Assistant restarts, on reconnection; removal of what the configuration no longer has;
nothing with discovery off; nothing sensitive, ever."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.events import AlarmKind, AlarmSignal, CameraAvailability, LinkLost, PanelState
from hub.homeassistant import Discovery, DiscoveryPublisher
from hub.messages import MemorySession, Message, MessageHandler, topic_matches
from hub.state import StateRegistry
from hub.testing import wait_until
from tests.homeassistant.support import (
    SENSITIVE,
    OpenEscalation,
    discovery_of,
    load,
    write_shop,
)

T0 = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
NODE = "homeassistant/{}/ecrin-tours/{}/config"
HOLDUP = "ecrin/entities/holdup_comptoir/state"
CAMERA = "ecrin/entities/camera_cam-comptoir/state"


@pytest.fixture
def plan(tmp_path: Path) -> Discovery:
    return discovery_of(load(write_shop(tmp_path)))


@pytest.fixture
def registry() -> StateRegistry:
    return StateRegistry(cameras=["cam-comptoir"])


@asynccontextmanager
async def publishing(
    plan: Discovery, session: MemorySession, registry: StateRegistry, *, enabled: bool = True
) -> AsyncIterator[DiscoveryPublisher]:
    async with DiscoveryPublisher(plan, session, registry, enabled=enabled) as publisher:
        await asyncio.wait_for(publisher.started.wait(), 5)
        yield publisher


def retained(session: MemorySession) -> dict[str, bytes]:
    """What the in-memory broker holds retained now: what a new subscriber (Home
    Assistant starting) would get. ``published`` does not tell retained from not."""
    return {topic: message.payload for topic, message in session._retained.items()}


def topics(messages: list[Message], since: int = 0) -> list[str]:
    return [m.topic for m in messages[since:]]


def configs(plan: Discovery) -> list[str]:
    return [plan.config_topic(e) for e in plan.entities()]


def count(session: MemorySession, predicate: Callable[[str], bool]) -> int:
    return sum(1 for m in session.published if predicate(m.topic))


async def test_everything_is_published_at_start(plan: Discovery, registry: StateRegistry) -> None:
    registry.apply(PanelState(time=T0, device="centrale", state="armed_away", partition=1))
    session = MemorySession()
    async with publishing(plan, session, registry) as publisher:
        out = topics(session.published)
        partition_config = NODE.format("sensor", "partition_centrale_1")
        assert out == [
            *configs(plan),
            partition_config,
            HOLDUP,
            "ecrin/entities/holdup_vitrine/state",
            CAMERA,
            "ecrin/entities/camera_cam-comptoir/attributes",
            "ecrin/entities/partition_centrale_1/state",
            "ecrin/entities/partition_centrale_1/attributes",
        ]  # every config before any state: Home Assistant subscribes once it has the entity
        broker = retained(session)
        assert broker[HOLDUP] == b"OFF"
        assert broker[CAMERA] == b"OFF"  # never heard of: not covering
        assert broker["ecrin/entities/partition_centrale_1/state"] == b"armed_away"
        assert json.loads(broker[partition_config])["name"] == "centrale partition 1"
        assert set(broker) == set(out)  # all retained
        assert (publisher.stats.configs, publisher.stats.republished) == (4, 1)


async def test_a_change_publishes_that_entity_only(
    plan: Discovery, registry: StateRegistry
) -> None:
    session = MemorySession()
    async with publishing(plan, session, registry):
        before = len(session.published)
        registry.apply(
            AlarmSignal(time=T0, kind=AlarmKind.HOLDUP, device="centrale", zone="comptoir")
        )
        await wait_until(lambda: retained(session)[HOLDUP] == b"ON")
        registry.apply(CameraAvailability(time=T0, camera="cam-comptoir", state="online"))
        await wait_until(lambda: retained(session)[CAMERA] == b"ON")
        assert topics(session.published, before) == [
            HOLDUP,
            CAMERA,
            "ecrin/entities/camera_cam-comptoir/attributes",
        ]
        # A new entity: its config, then its state.
        before = len(session.published)
        registry.apply(LinkLost(time=T0, device="centrale"))
        await wait_until(lambda: "ecrin/entities/link_centrale/state" in retained(session))
        assert topics(session.published, before) == [
            NODE.format("binary_sensor", "link_centrale"),
            "ecrin/entities/link_centrale/state",
        ]
        # A change that does not change what Home Assistant is shown publishes nothing:
        # the zone's hold-up reported again by another device is still ON. (Changes are
        # published in order, so once the camera's is out, the zone's was handled.)
        before = len(session.published)
        registry.apply(
            AlarmSignal(time=T0, kind=AlarmKind.HOLDUP, device="bridge", zone="comptoir")
        )
        registry.apply(CameraAvailability(time=T0, camera="cam-comptoir", state="offline"))
        await wait_until(lambda: retained(session)[CAMERA] == b"OFF")
        assert HOLDUP not in topics(session.published, before)
        # Changes faster than the broker: only the latest state of each goes out.
        before = len(session.published)
        for restore in (True, False, True):
            registry.apply(
                AlarmSignal(
                    time=T0,
                    kind=AlarmKind.HOLDUP,
                    device="bridge",
                    zone="comptoir",
                    restore=restore,
                )
            )
        await wait_until(lambda: retained(session)[HOLDUP] == b"OFF")
        assert topics(session.published, before) == [HOLDUP]


async def test_home_assistant_restarting_gets_everything_again(
    plan: Discovery, registry: StateRegistry
) -> None:
    session = MemorySession()
    async with publishing(plan, session, registry) as publisher:
        registry.apply(
            AlarmSignal(time=T0, kind=AlarmKind.HOLDUP, device="centrale", zone="comptoir")
        )
        await wait_until(lambda: retained(session)[HOLDUP] == b"ON")
        before = len(session.published)
        await session.publish("homeassistant/status", b"online")
        await wait_until(lambda: publisher.stats.republished == 2)
        again = topics(session.published, before)
        assert again[1:] == [*configs(plan), HOLDUP, *again[len(configs(plan)) + 2 :]]
        assert [m.payload for m in session.published[before:] if m.topic == HOLDUP] == [b"ON"]
        # Its last will and garbage publish nothing more.
        await session.publish("homeassistant/status", b"offline")
        await session.publish("homeassistant/status", b"\xff{not a word")
        assert publisher.stats.bad_messages == 1
        registry.apply(
            AlarmSignal(
                time=T0, kind=AlarmKind.HOLDUP, device="centrale", zone="comptoir", restore=True
            )
        )
        await wait_until(lambda: retained(session)[HOLDUP] == b"OFF")
        assert publisher.stats.republished == 2
        await session.publish("homeassistant/status", b"online")  # the next real one works
        await wait_until(lambda: publisher.stats.republished == 3)


class BrokerLikeSession(MemorySession):
    """Retained messages arrive after ``subscribe`` returns, as from a real broker
    (after its SUBACK), rather than within the call."""

    async def subscribe(self, topic: str, handler: MessageHandler, *, qos: int = 0) -> None:
        self._subscriptions.append((topic, handler))
        for message in list(self._retained.values()):
            if topic_matches(topic, message.topic):
                asyncio.get_running_loop().call_soon(handler, message)


async def test_an_old_retained_announcement_is_not_a_restart(
    plan: Discovery, registry: StateRegistry
) -> None:
    """Home Assistant set to retain its birth message: the hub's start already
    published everything, the announcement it finds on subscribing asks nothing more."""
    session = BrokerLikeSession()
    await session.publish("homeassistant/status", b"online", retain=True)
    async with publishing(plan, session, registry) as publisher:
        registry.apply(
            AlarmSignal(time=T0, kind=AlarmKind.HOLDUP, device="centrale", zone="comptoir")
        )
        await wait_until(lambda: retained(session)[HOLDUP] == b"ON")
        assert publisher.stats.republished == 1
        await session.publish("homeassistant/status", b"online")  # a live one is a restart
        await wait_until(lambda: publisher.stats.republished == 2)


async def test_a_reconnection_publishes_everything_again(
    plan: Discovery, registry: StateRegistry
) -> None:
    session = MemorySession()
    async with publishing(plan, session, registry) as publisher:
        before = len(session.published)
        session.set_connected(False)
        session.set_connected(True)
        await wait_until(lambda: publisher.stats.republished == 2)
        assert topics(session.published, before)[: len(configs(plan))] == configs(plan)


class FlakySession(MemorySession):
    """A session whose broker can vanish before the session notices (``broker_up``)."""

    broker_up = True

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False
    ) -> None:
        if not self.broker_up:
            raise ConnectionError("not connected to the broker")
        await super().publish(topic, payload, qos=qos, retain=retain)


async def test_a_failed_publish_is_counted_and_made_good_on_reconnection(
    plan: Discovery, registry: StateRegistry
) -> None:
    session = FlakySession()
    holdup = AlarmSignal(time=T0, kind=AlarmKind.HOLDUP, device="centrale", zone="comptoir")
    online = CameraAvailability(time=T0, camera="cam-comptoir", state="online")
    async with publishing(plan, session, registry) as publisher:
        session.broker_up = False  # gone, and not yet noticed
        registry.apply(holdup)
        await wait_until(lambda: publisher.stats.publish_errors == 1)
        assert retained(session)[HOLDUP] == b"OFF"
        # Noticed: nothing more is tried until the broker is back.
        session.set_connected(False)
        registry.apply(online)
        session.broker_up = True
        session.set_connected(True)
        await wait_until(lambda: publisher.stats.republished == 2)
        assert (retained(session)[HOLDUP], retained(session)[CAMERA]) == (b"ON", b"ON")
        assert publisher.stats.publish_errors == 1


async def test_a_broker_out_of_reach_at_start_is_waited_for(
    plan: Discovery, registry: StateRegistry
) -> None:
    session = MemorySession(connected=False)
    async with publishing(plan, session, registry) as publisher:
        registry.apply(
            AlarmSignal(time=T0, kind=AlarmKind.HOLDUP, device="centrale", zone="comptoir")
        )
        assert session.published == []
        session.set_connected(True)
        await wait_until(lambda: publisher.stats.republished == 1)
        assert retained(session)[HOLDUP] == b"ON"
        assert publisher.stats.publish_errors == 0


async def test_what_the_configuration_no_longer_has_is_removed(
    plan: Discovery, registry: StateRegistry
) -> None:
    session = MemorySession()
    # What an earlier run left on the broker: a zone and a device since removed, a
    # partition of a device still configured, an entity of another hub.
    gone = {
        NODE.format("binary_sensor", "holdup_reserve"): b'{"name": "Hold-up Reserve"}',
        "ecrin/entities/holdup_reserve/state": b"OFF",
        NODE.format("sensor", "partition_ancienne_1"): b"{}",
        "ecrin/entities/partition_ancienne_1/state": b"disarmed",
        "ecrin/entities/partition_ancienne_1/attributes": b"{}",
    }
    kept = {
        NODE.format("sensor", "partition_centrale_2"): b"{}",
        "ecrin/entities/partition_centrale_2/state": b"armed_home",
        "homeassistant/binary_sensor/other-hub/holdup_reserve/config": b"{}",
    }
    for topic, payload in {**gone, **kept}.items():
        await session.publish(topic, payload, retain=True)
    async with publishing(plan, session, registry) as publisher:
        await wait_until(lambda: publisher.stats.removed == 2)
        broker = retained(session)
        assert not set(gone) & set(broker)
        assert {t: broker[t] for t in kept} == kept
        # One left behind later (a second hub with a stale copy) goes too.
        late = NODE.format("binary_sensor", "camera_cam-old")
        await session.publish(late, b"{}", retain=True)
        await wait_until(lambda: late not in retained(session))
        assert publisher.stats.removed == 3


async def test_with_discovery_off_nothing_is_published(
    plan: Discovery, registry: StateRegistry
) -> None:
    session = MemorySession()
    async with publishing(plan, session, registry, enabled=False) as publisher:
        registry.apply(
            AlarmSignal(time=T0, kind=AlarmKind.HOLDUP, device="centrale", zone="comptoir")
        )
        await session.publish("homeassistant/status", b"online")
        session.set_connected(False)
        session.set_connected(True)
        await asyncio.wait_for(publisher.started.wait(), 5)
    assert topics(session.published) == ["homeassistant/status"]  # the test's own
    assert publisher.stats.counters() == dict.fromkeys(publisher.stats.counters(), 0)


async def test_turning_discovery_off_removes_the_entities(
    plan: Discovery, registry: StateRegistry
) -> None:
    session = MemorySession()
    async with publishing(plan, session, registry):
        pass
    published = set(retained(session))
    assert published
    async with publishing(plan, session, registry, enabled=False) as publisher:
        await wait_until(lambda: not retained(session))
        assert publisher.stats.removed == len(configs(plan))


async def test_nothing_sensitive_is_ever_published(
    plan: Discovery, registry: StateRegistry
) -> None:
    session = MemorySession()
    registry.apply_escalation(OpenEscalation())
    async with publishing(plan, session, registry) as publisher:
        for event in (
            AlarmSignal(time=T0, kind=AlarmKind.HOLDUP, device="centrale", zone="comptoir",
                        code="HA", raw=b"[#1234|Nri1/HA01]"),
            PanelState(time=T0, device="centrale", state="triggered", text="CODE 4821 OK"),
            LinkLost(time=T0, device="centrale", reason="cannot reach police-37.example.org"),
            CameraAvailability(time=T0, camera="cam-comptoir", state="offline",
                               reason="Lefebvre unplugged it"),
        ):  # fmt: skip
            registry.apply(event)
        registry.apply_escalation(OpenEscalation(status="acknowledged", tier=2))
        await session.publish("homeassistant/status", b"online")
        await wait_until(lambda: publisher.stats.republished == 2)
        await wait_until(lambda: retained(session)[CAMERA] == b"OFF")
    every_kind = {*configs(plan), NODE.format("sensor", "partition_centrale_1")}
    every_kind.add(NODE.format("binary_sensor", "link_centrale"))
    assert every_kind <= set(topics(session.published))
    for message in session.published:
        text = (message.topic + " " + message.payload.decode()).lower()
        for value in (*SENSITIVE, "esc-7f3a9c", "escalation", "[#1234", "unplugged"):
            assert value.lower() not in text, (value, message)


class SwallowingSession(MemorySession):
    """A session whose publish swallows a cancellation, as ``asyncio.wait_for`` of
    Python 3.11 does in a client library when the publish completes at that moment."""

    publishing = False
    release: asyncio.Event | None = None

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False
    ) -> None:
        if self.release is None:
            await super().publish(topic, payload, qos=qos, retain=retain)
            return
        self.publishing = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.release.wait()
        await super().publish(topic, payload, qos=qos, retain=retain)


async def test_the_publisher_stops_even_when_a_cancellation_is_lost(
    plan: Discovery, registry: StateRegistry
) -> None:
    session = SwallowingSession()
    publisher = DiscoveryPublisher(plan, session, registry)
    await publisher.__aenter__()
    await asyncio.wait_for(publisher.started.wait(), 5)
    session.release = asyncio.Event()
    registry.apply(AlarmSignal(time=T0, kind=AlarmKind.HOLDUP, device="centrale", zone="comptoir"))
    await wait_until(lambda: session.publishing)
    async with asyncio.timeout(5):
        await publisher.__aexit__(None, None, None)
    assert retained(session)[HOLDUP] == b"ON"  # the publish under way completed
