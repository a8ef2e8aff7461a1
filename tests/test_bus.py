"""The event bus: typed subscriptions, isolation of subscribers, the life-safety lane."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from hub.bus import EventBus
from hub.events import (
    AlarmKind,
    AlarmSignal,
    CameraAvailability,
    CameraDetection,
    CameraMotion,
    CameraRecording,
    DeviceFault,
    Event,
    HubStarted,
    LinkLost,
    LinkRestored,
    PanelState,
    event_from_dict,
)
from hub.testing import EventRecorder


def signal(kind: AlarmKind = AlarmKind.BURGLARY, n: int = 0, **kw: object) -> AlarmSignal:
    return AlarmSignal(kind=kind, device="panel", panel_zone=n, **kw)  # type: ignore[arg-type]


class Gate:
    """A handler that blocks until opened, recording what it got."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.entered = asyncio.Event()
        self.got: list[Event] = []

    async def handle(self, event: Event) -> None:
        self.entered.set()
        await self.open.wait()
        self.got.append(event)


async def test_subscription_by_type_includes_subclasses(bus: EventBus) -> None:
    alarms = EventRecorder()
    everything = EventRecorder()
    bus.subscribe(AlarmSignal, alarms.handle)
    bus.subscribe(Event, everything.handle)
    bus.publish(signal())
    bus.publish(LinkLost(device="panel", reason="silence"))
    await bus.drain()
    assert [type(e) for e in alarms.events] == [AlarmSignal]
    assert [type(e) for e in everything.events] == [AlarmSignal, LinkLost]


async def test_predicate_filters(bus: EventBus) -> None:
    rec = EventRecorder()
    bus.subscribe(AlarmSignal, rec.handle, predicate=lambda e: e.kind is AlarmKind.FIRE)
    bus.publish(signal(AlarmKind.BURGLARY))
    bus.publish(signal(AlarmKind.FIRE))
    await bus.drain()
    assert [e.kind for e in rec.of_type(AlarmSignal)] == [AlarmKind.FIRE]


async def test_failing_predicate_is_counted_and_others_still_served(bus: EventBus) -> None:
    rec = EventRecorder()

    def broken(_e: Event) -> bool:
        raise ValueError("bad predicate")

    sub = bus.subscribe(Event, rec.handle, predicate=broken, name="broken")
    ok = EventRecorder()
    bus.subscribe(Event, ok.handle)
    bus.publish(signal())
    await bus.drain()
    assert sub.stats().failed == 1
    assert len(ok.events) == 1


async def test_slow_subscriber_does_not_delay_another(bus: EventBus) -> None:
    gate = Gate()
    fast = EventRecorder()
    bus.subscribe(Event, gate.handle, name="slow")
    bus.subscribe(Event, fast.handle, name="fast")
    for i in range(50):
        bus.publish(signal(n=i))
    await fast.wait_for(AlarmSignal, count=50)
    assert gate.got == []  # the slow one is still stuck on its first event
    gate.open.set()
    await bus.drain()
    assert len(gate.got) == 50


async def test_raising_subscriber_is_logged_counted_and_kept_alive(bus: EventBus) -> None:
    seen: list[int] = []

    async def flaky(event: AlarmSignal) -> None:
        assert event.panel_zone is not None
        seen.append(event.panel_zone)
        if event.panel_zone % 2:
            raise RuntimeError("odd zone")

    sub = bus.subscribe(AlarmSignal, flaky)
    for i in range(6):
        bus.publish(signal(n=i))
    await bus.drain()
    assert seen == [0, 1, 2, 3, 4, 5]
    stats = sub.stats()
    assert (stats.delivered, stats.failed) == (3, 3)


async def test_life_safety_overtakes_queued_ordinary_events(bus: EventBus) -> None:
    gate = Gate()
    bus.subscribe(Event, gate.handle)
    bus.publish(signal(n=0))
    await gate.entered.wait()  # the handler holds event 0
    for i in range(1, 6):
        bus.publish(signal(n=i))
    holdup = signal(AlarmKind.HOLDUP, n=99)
    bus.publish(holdup)
    gate.open.set()
    await bus.drain()
    zones = [e.panel_zone for e in gate.got if isinstance(e, AlarmSignal)]
    assert zones == [0, 99, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("kind", [AlarmKind.HOLDUP, AlarmKind.DURESS, AlarmKind.PANIC])
def test_life_safety_kinds(kind: AlarmKind) -> None:
    assert signal(kind).life_safety
    assert signal(kind, restore=True).life_safety


@pytest.mark.parametrize(
    "kind", sorted(set(AlarmKind) - {AlarmKind.HOLDUP, AlarmKind.DURESS, AlarmKind.PANIC})
)
def test_other_kinds_are_ordinary(kind: AlarmKind) -> None:
    assert not signal(kind).life_safety


async def test_full_queue_drops_oldest_ordinary_but_never_life_safety(bus: EventBus) -> None:
    gate = Gate()
    sub = bus.subscribe(Event, gate.handle, maxsize=3)
    bus.publish(signal(n=0))
    await gate.entered.wait()
    for i in range(1, 11):
        bus.publish(signal(n=i))
    for i in range(100, 120):
        bus.publish(signal(AlarmKind.HOLDUP, n=i))
    stats = sub.stats()
    assert stats.dropped == 7
    assert stats.queue_depth == 3
    assert stats.life_safety_depth == 20
    gate.open.set()
    await bus.drain()
    zones = [e.panel_zone for e in gate.got if isinstance(e, AlarmSignal)]
    assert zones == [0, *range(100, 120), 8, 9, 10]
    assert sub.stats().delivered == 24


async def test_cancelled_subscriber_receives_nothing_more(bus: EventBus) -> None:
    rec = EventRecorder()
    sub = bus.subscribe(Event, rec.handle)
    bus.publish(signal(n=1))
    await bus.drain()
    sub.cancel()
    await sub.wait_cancelled()
    bus.publish(signal(n=2))
    await bus.drain()
    assert len(rec.events) == 1
    assert sub not in list(bus.subscribers())


async def test_closed_bus_refuses_publish() -> None:
    bus = EventBus()
    bus.subscribe(Event, EventRecorder().handle)
    await bus.close()
    with pytest.raises(RuntimeError):
        bus.publish(signal())


async def test_stats_report_every_subscriber(bus: EventBus) -> None:
    bus.subscribe(AlarmSignal, EventRecorder().handle, name="a")
    bus.subscribe(LinkLost, EventRecorder().handle, name="b")
    bus.publish(signal())
    await bus.drain()
    by_name = {s.name: s for s in bus.stats()}
    assert by_name["a"].delivered == 1
    assert by_name["b"].delivered == 0
    assert by_name["a"].event_type == "AlarmSignal"


SAMPLES: list[Event] = [
    signal(AlarmKind.HOLDUP, n=3, raw=b"\x01\x02", code="122", partition=1, user=7),
    PanelState(device="p", state="armed_away", ready=False, ac_power=True, text="ARMED"),
    LinkLost(device="p", reason="silent for 90 s"),
    LinkRestored(device="p"),
    DeviceFault(device="p", reason="ENOENT", retry_in=2.5),
    CameraAvailability(camera="c", state="offline", role="record"),
    CameraAvailability(camera="c", state="unknown", reason="broker lost"),
    CameraMotion(camera="c", active=True),
    CameraRecording(camera="c", recording=False),
    CameraDetection(
        camera="c",
        detection="1718-abc",
        label="person",
        phase="new",
        zones=("vitrine",),
        camera_zones=("comptoir",),
        score=0.91,
    ),
    HubStarted(site="Bijouterie"),
]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_events_are_frozen_slotted_and_round_trip(event: Event) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.time = event.time  # type: ignore[misc]
    assert not hasattr(event, "__dict__")
    assert event_from_dict(event.to_dict()) == event


def test_event_from_dict_rejects_unknown_type_and_field() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        event_from_dict({"type": "Nope"})
    data = LinkRestored(device="p").to_dict()
    data["amount"] = 1000
    with pytest.raises(ValueError, match="unknown field"):
        event_from_dict(data)


# -- announce: the life-safety path may start before the journal has the event ------------


async def test_announce_reaches_only_before_journal_subscribers(bus: EventBus) -> None:
    early, late = EventRecorder(), EventRecorder()
    bus.subscribe(Event, early.handle, name="early", before_journal=True)
    bus.subscribe(Event, late.handle, name="late")
    holdup = signal(AlarmKind.HOLDUP)
    bus.announce(holdup)
    await early.wait_for(AlarmSignal)
    waiting = asyncio.ensure_future(bus.journaled(holdup))
    await bus.drain()
    assert late.events == []
    assert not waiting.done()
    bus.publish(holdup)  # the journal has it now
    await asyncio.wait_for(waiting, 1)
    await late.wait_for(AlarmSignal)
    await bus.drain()
    assert early.events == [holdup]  # not a second time
    assert late.events == [holdup]


async def test_announce_ignores_ordinary_events(bus: EventBus) -> None:
    early = EventRecorder()
    bus.subscribe(Event, early.handle, name="early", before_journal=True)
    burglary = signal(AlarmKind.BURGLARY)
    bus.announce(burglary)
    await bus.drain()
    assert early.events == []
    await asyncio.wait_for(bus.journaled(burglary), 1)  # nothing to wait for
    bus.publish(burglary)
    await early.wait_for(AlarmSignal)


async def test_journaled_returns_at_once_for_an_event_never_announced(bus: EventBus) -> None:
    await asyncio.wait_for(bus.journaled(signal(AlarmKind.HOLDUP)), 1)


async def test_announce_without_before_journal_subscribers_keeps_nothing(bus: EventBus) -> None:
    late = EventRecorder()
    bus.subscribe(Event, late.handle, name="late")
    holdup = signal(AlarmKind.HOLDUP)
    bus.announce(holdup)
    await asyncio.wait_for(bus.journaled(holdup), 1)
    assert late.events == []  # an ordinary subscriber waits for the publish
    bus.publish(holdup)
    await late.wait_for(AlarmSignal)
    await bus.drain()
    assert late.events == [holdup]


async def test_closing_the_bus_releases_whoever_waits_for_the_journal() -> None:
    bus = EventBus()
    early = EventRecorder()
    bus.subscribe(Event, early.handle, name="early", before_journal=True)
    holdup = signal(AlarmKind.HOLDUP)
    bus.announce(holdup)
    waiting = asyncio.ensure_future(bus.journaled(holdup))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # nothing published: it waits
    await bus.close()
    await asyncio.wait_for(waiting, 1)
