"""The state registry from typed events: each entity's transitions, the armed question
of the rules, the change feed, and its place on the bus (an observer: lossless, first)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from hub.bus import EventBus
from hub.devices import PanelZone, ZoneMap
from hub.events import (
    AlarmKind,
    AlarmSignal,
    CameraAvailability,
    DeviceFault,
    Event,
    LinkLost,
    LinkRestored,
    PanelState,
)
from hub.state import (
    ARMED_HISTORY,
    Domain,
    PartitionAttributes,
    State,
    StateChanged,
    StateRegistry,
    ZoneAttributes,
)

K = AlarmKind
T0 = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def signal(kind: AlarmKind, t: float = 0, restore: bool = False, **kw: object) -> AlarmSignal:
    return AlarmSignal(
        time=at(t), kind=kind, device=str(kw.pop("device", "panel")), restore=restore, **kw
    )  # type: ignore[arg-type]


def state_of(registry: StateRegistry, entity_id: str) -> State:
    found = registry.get(entity_id)
    assert found is not None, entity_id
    return found


# -- partitions ---------------------------------------------------------------------------
def test_a_panel_state_is_a_partition_with_its_mode_and_times() -> None:
    registry = StateRegistry()
    registry.apply(
        PanelState(
            time=at(1), device="panel", partition=2, state="armed_away", ready=False, ac_power=True
        )
    )
    first = state_of(registry, "partition:panel:2")
    assert first.domain is Domain.PARTITION
    assert first.state == "armed_away"
    assert first.attributes == PartitionAttributes(
        device="panel", partition=2, armed=True, alarm=False, ready=False, ac_power=True
    )
    assert (first.last_changed, first.last_updated) == (at(1), at(1))
    registry.apply(
        PanelState(
            time=at(2), device="panel", partition=2, state="armed_away", ready=False, ac_power=False
        )
    )
    second = state_of(registry, "partition:panel:2")
    assert (second.last_changed, second.last_updated) == (at(1), at(2))  # attributes only
    registry.apply(
        PanelState(time=at(3), device="panel", partition=2, state="triggered", alarm_sounding=True)
    )
    third = state_of(registry, "partition:panel:2")
    assert (third.state, third.attributes.alarm, third.last_changed) == ("triggered", True, at(3))  # type: ignore[union-attr]
    registry.apply(PanelState(time=at(4), device="panel", partition=2, state="disarmed"))
    assert registry.armed("panel", 2) is False


def test_openings_and_closings_track_the_armed_state() -> None:
    # Moved from the rules' tests with the tracker it tested (the registry replaced it).
    panel = StateRegistry()
    assert panel.armed("panel", 1) is None
    panel.apply(signal(K.CLOSING, partition=1))
    assert panel.armed("panel", 1) is True
    assert panel.armed("panel", 2) is None
    assert panel.armed("panel", None) is True
    panel.apply(signal(K.OPENING, partition=1))
    assert panel.armed("panel", 1) is False
    panel.apply(PanelState(device="panel", partition=2, state="armed_home"))
    assert panel.armed("panel", None) is True  # any partition armed
    panel.apply(signal(K.OPENING))  # the whole panel
    assert panel.armed("panel", 2) is False
    assert panel.armed("other", None) is None


def test_a_closing_without_partition_is_the_whole_panel_for_partitions_never_heard() -> None:
    registry = StateRegistry()
    registry.apply(signal(K.CLOSING, t=1))
    assert state_of(registry, "partition:panel:0").state == "armed"
    assert registry.armed("panel", 3) is True  # never reported: the whole panel's
    registry.apply(signal(K.OPENING, t=2, partition=3))
    assert registry.armed("panel", 3) is False
    assert state_of(registry, "partition:panel:3").state == "disarmed"


def test_an_alarm_marks_its_partition_until_disarmed() -> None:
    registry = StateRegistry()
    registry.apply(signal(K.CLOSING, t=1, partition=1))
    registry.apply(signal(K.BURGLARY, t=2, partition=1, zone="window"))
    assert state_of(registry, "partition:panel:1").attributes.alarm is True  # type: ignore[union-attr]
    registry.apply(signal(K.OPENING, t=3, partition=1))
    assert state_of(registry, "partition:panel:1").attributes.alarm is False  # type: ignore[union-attr]


def test_armed_as_of_the_alarm_time_gives_the_doubt_to_the_alarm() -> None:
    registry = StateRegistry()
    registry.apply(PanelState(time=at(1), device="panel", state="armed_away"))
    # A disarm published after a burglary at 2 s, before the engine judged it.
    registry.apply(PanelState(time=at(3), device="panel", state="disarmed"))
    assert registry.armed("panel", 1) is False
    assert registry.armed("panel", 1, at=at(2)) is True
    assert registry.armed("panel", 1, at=at(4)) is False
    assert registry.armed("panel", 1, at=at(0)) is False  # nothing known then: now's
    # Armed now is armed, whatever the alarm's time says (a clock set back).
    registry.apply(PanelState(time=at(5), device="panel", state="armed_home"))
    assert registry.armed("panel", 1, at=at(-3600)) is True


def test_a_forgotten_past_counts_as_armed() -> None:
    registry = StateRegistry()
    for i in range(ARMED_HISTORY + 2):
        registry.apply(
            PanelState(time=at(10 + i), device="panel", state="disarmed" if i % 2 else "armed_away")
        )
    assert registry.armed("panel", 1) is False
    assert registry.armed("panel", 1, at=at(0)) is True


# -- zones ------------------------------------------------------------------------------------
def test_zone_alarms_and_troubles_until_restored() -> None:
    registry = StateRegistry()
    registry.apply(signal(K.BURGLARY, t=1, zone="window", panel_zone=4))
    window = state_of(registry, "zone:window")
    assert (window.domain, window.state) == (Domain.ZONE, "alarm")
    assert window.attributes == ZoneAttributes(alarm=True, kind="burglary", device="panel")
    panel_zone = state_of(registry, "panel_zone:panel:4")
    assert (panel_zone.state, panel_zone.attributes.zone) == ("alarm", "window")  # type: ignore[union-attr]
    registry.apply(signal(K.TROUBLE, t=2, zone="window"))
    registry.apply(signal(K.BURGLARY, t=3, zone="window", restore=True))
    assert state_of(registry, "zone:window").state == "trouble"
    registry.apply(signal(K.TROUBLE, t=4, zone="window", restore=True))
    restored = state_of(registry, "zone:window")
    assert (restored.state, restored.last_changed) == ("ok", at(4))


def test_a_holdup_alarm_is_marked_silent() -> None:
    registry = StateRegistry()
    registry.apply(PanelState(time=at(0), device="panel", partition=1, state="disarmed"))
    registry.apply(signal(K.HOLDUP, t=1, zone="counter", partition=1))
    # The partition does not show it: only the zone does, marked silent.
    assert state_of(registry, "partition:panel:1").attributes.alarm is False  # type: ignore[union-attr]
    counter = state_of(registry, "zone:counter").attributes
    assert isinstance(counter, ZoneAttributes)
    assert (counter.alarm, counter.silent, counter.kind) == (True, True, "holdup")
    registry.apply(signal(K.HOLDUP, t=2, zone="counter", restore=True))
    counter = state_of(registry, "zone:counter").attributes
    assert (counter.alarm, counter.silent) == (False, False)  # type: ignore[union-attr]


def test_tests_openings_and_other_signals_change_no_zone() -> None:
    registry = StateRegistry()
    for kind in (K.TEST, K.OTHER, K.OPENING):
        registry.apply(signal(kind, zone="counter", panel_zone=2))
    assert registry.get("zone:counter") is None
    assert registry.get("panel_zone:panel:2") is None


@dataclass(frozen=True, slots=True, kw_only=True)
class ZoneOpened(Event):
    """A plugin's zone-activity event (DSC 609/610 has this shape)."""

    device: str
    panel_zone: int
    open: bool


def test_a_plugin_zone_activity_opens_the_panel_zone_and_its_shop_zone() -> None:
    zone_maps = {"panel": ZoneMap(zones={5: PanelZone(zone="entrance")})}
    registry = StateRegistry(zone_maps)
    registry.apply(ZoneOpened(time=at(1), device="panel", panel_zone=5, open=True))
    assert state_of(registry, "panel_zone:panel:5").state == "open"
    assert state_of(registry, "zone:entrance").state == "open"
    registry.apply(ZoneOpened(time=at(2), device="panel", panel_zone=5, open=False))
    assert state_of(registry, "zone:entrance").state == "closed"
    registry.apply(ZoneOpened(time=at(3), device="panel", panel_zone=6, open=True))
    assert state_of(registry, "panel_zone:panel:6").attributes.zone is None  # type: ignore[union-attr]


def test_a_repeated_zone_activity_changes_nothing_but_the_last_report_wins_the_shop_zone() -> None:
    zone_maps = {
        "panel": ZoneMap(zones={5: PanelZone(zone="vitrine"), 6: PanelZone(zone="vitrine")})
    }
    registry = StateRegistry(zone_maps)
    registry.apply(ZoneOpened(time=at(1), device="panel", panel_zone=5, open=True))
    panel_zone = state_of(registry, "panel_zone:panel:5")
    registry.apply(ZoneOpened(time=at(2), device="panel", panel_zone=5, open=True))
    assert state_of(registry, "panel_zone:panel:5") is panel_zone  # a repeat: no new value
    registry.apply(ZoneOpened(time=at(3), device="panel", panel_zone=6, open=False))
    assert state_of(registry, "zone:vitrine").state == "closed"
    # Zone 5 repeats that it is open: its own state is unchanged, its shop zone follows.
    registry.apply(ZoneOpened(time=at(4), device="panel", panel_zone=5, open=True))
    assert state_of(registry, "panel_zone:panel:5") is panel_zone
    assert state_of(registry, "zone:vitrine").state == "open"
    assert state_of(registry, "zone:vitrine").last_changed == at(4)


# -- devices, links, cameras, escalations ---------------------------------------------------------
def test_a_device_is_at_fault_until_heard_from_again() -> None:
    registry = StateRegistry()
    registry.apply(DeviceFault(time=at(1), device="panel", reason="no such port", retry_in=2.0))
    fault = state_of(registry, "device:panel")
    assert (fault.state, fault.attributes.reason, fault.attributes.retry_in) == (
        "fault",
        "no such port",
        2.0,
    )  # type: ignore[union-attr]
    registry.apply(PanelState(time=at(5), device="panel", state="disarmed"))
    ok = state_of(registry, "device:panel")
    assert (ok.state, ok.last_changed, ok.attributes.reason) == ("ok", at(5), "no such port")  # type: ignore[union-attr]


def test_links_go_down_and_up_with_since_and_reason() -> None:
    registry = StateRegistry()
    registry.apply(LinkLost(time=at(1), device="bridge", reason="silence for 90 s"))
    down = state_of(registry, "link:bridge")
    assert (down.domain, down.state, down.last_changed, down.attributes.reason) == (
        Domain.LINK,
        "down",
        at(1),
        "silence for 90 s",
    )  # type: ignore[union-attr]
    registry.apply(LinkRestored(time=at(7), device="bridge"))
    up = state_of(registry, "link:bridge")
    assert (up.state, up.last_changed, up.attributes.reason) == ("up", at(7), "silence for 90 s")  # type: ignore[union-attr]


@dataclass(frozen=True)
class FakeEscalation:
    """The fields of an escalation the registry reads (``EscalationSnapshot``)."""

    id: str
    kind: str
    priority: str
    status: str
    tier: int
    zone: str | None
    device: str
    updated_at: datetime


def test_escalations_open_climb_and_resolve() -> None:
    registry = StateRegistry()
    registry.apply_escalation(
        FakeEscalation("esc-1", "holdup", "life-safety", "open", 0, "counter", "bridge", at(1))
    )
    registry.apply_escalation(
        FakeEscalation("esc-1", "holdup", "life-safety", "open", 1, "counter", "bridge", at(60))
    )
    climbed = state_of(registry, "escalation:esc-1")
    assert (climbed.state, climbed.attributes.tier, climbed.last_changed, climbed.last_updated) == (
        "open",
        1,
        at(1),
        at(60),
    )  # type: ignore[union-attr]
    registry.apply_escalation(
        FakeEscalation("esc-1", "holdup", "life-safety", "resolved", 1, "counter", "bridge", at(90))
    )
    assert state_of(registry, "escalation:esc-1").state == "resolved"
    assert [s.entity_id for s in registry.states(Domain.ESCALATION)] == ["escalation:esc-1"]


def test_the_json_form_is_plain() -> None:
    registry = StateRegistry()
    registry.apply(CameraAvailability(time=at(1), camera="c", state="online", role="record"))
    assert state_of(registry, "camera:c").to_dict() == {
        "entity_id": "camera:c",
        "domain": "camera",
        "state": "online",
        "attributes": {
            "covering": True,
            "recording": True,
            "motion": None,
            "roles": [["record", "online"]],
            "reason": "",
            "detection": "",
            "detection_zones": [],
            "detected_at": None,
            "retention_fault": "",
        },
        "last_changed": at(1).isoformat(),
        "last_updated": at(1).isoformat(),
    }


# -- the change feed --------------------------------------------------------------------------
async def test_the_feed_gives_every_change_in_order_and_nothing_for_a_repeat() -> None:
    registry = StateRegistry()
    feed = registry.listen()
    registry.apply(LinkLost(time=at(1), device="bridge"))
    registry.apply(LinkLost(time=at(2), device="bridge"))  # the same state: no change
    registry.apply(LinkRestored(time=at(3), device="bridge"))
    changes: list[StateChanged] = []
    async with asyncio.timeout(5):
        async for change in feed:
            changes.append(change)
            if len(changes) == 3:
                break
    ids = [(c.entity_id, c.old.state if c.old else None, c.new.state) for c in changes]
    assert ids == [
        ("link:bridge", None, "down"),
        ("device:bridge", None, "ok"),
        ("link:bridge", "down", "up"),
    ]
    assert changes[2].old == changes[0].new
    assert feed.pending() == 0
    feed.close()


async def test_the_feed_loses_nothing_and_ends_when_closed() -> None:
    registry = StateRegistry()
    feed = registry.listen()
    for i in range(20_000):
        registry.apply(LinkLost(time=at(i), device="bridge", reason=str(i)))
    assert feed.pending() == 20_001  # 20,000 link changes and the device heard once
    feed.close()
    seen = [c async for c in feed]
    assert len(seen) == 20_001
    assert seen[-1].new.attributes.reason == "19999"  # type: ignore[union-attr]


# -- on the bus --------------------------------------------------------------------------------
async def test_as_a_bus_observer_nothing_is_missed_and_it_is_ahead_of_subscribers() -> None:
    bus = EventBus()
    registry = StateRegistry()
    stop = bus.observe(registry.apply)
    seen_by_slow: list[bool | None] = []
    release = asyncio.Event()

    async def slow(event: Event) -> None:
        await release.wait()
        seen_by_slow.append(registry.armed("panel", 1))

    sub = bus.subscribe(PanelState, slow, name="slow", maxsize=1)
    try:
        for i in range(1000):
            bus.publish(
                PanelState(time=at(i), device="panel", state="armed_away" if i % 2 else "disarmed")
            )
        assert sub.stats().dropped > 900  # the bounded subscriber dropped most of them
        assert registry.applied == 1000  # the observer had every one
        assert registry.armed("panel", 1) is True  # the last one (i = 999)
        release.set()
        await bus.drain()
        assert seen_by_slow
        assert all(a is True for a in seen_by_slow)
    finally:
        stop()
        await bus.close()


async def test_a_failing_observer_is_counted_and_the_event_still_delivered() -> None:
    bus = EventBus()
    got: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("bug")

    async def handler(event: Event) -> None:
        got.append(event)

    bus.observe(broken)
    bus.subscribe(Event, handler)
    event = LinkLost(device="bridge")
    bus.publish(event)
    await bus.drain()
    assert (bus.observer_failures, got) == (1, [event])
    await bus.close()


@pytest.mark.parametrize("kind", [K.HOLDUP, K.DURESS, K.PANIC])
async def test_life_safety_events_reach_the_registry_when_published(kind: AlarmKind) -> None:
    bus = EventBus()
    registry = StateRegistry()
    bus.observe(registry.apply)
    bus.publish(signal(kind, zone="counter"))
    assert state_of(registry, "zone:counter").attributes.silent is True  # type: ignore[union-attr]
    await bus.close()


def test_the_state_package_imports_no_feature_and_no_plugin() -> None:
    """The registry is core: the escalation engine, the HTTP side and plugins use it,
    never the other way (the project's import-graph test checks the whole core)."""
    import ast
    from pathlib import Path

    import hub.state

    forbidden = ("hub.escalation", "hub.http", "plugins")
    for path in Path(hub.state.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
