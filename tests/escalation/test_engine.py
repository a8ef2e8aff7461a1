"""The engine with real parts: SQLite outbox files, real webhook receivers on loopback,
a real bus; a manual clock where a test must stand on a given day."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.bus import EventBus
from hub.config import Config
from hub.escalation.clock import ManualClock
from hub.escalation.config import contact_of
from hub.escalation.engine import EscalationEngine
from hub.escalation.model import (
    EscalationConflict,
    EscalationForbidden,
    EscalationNotFound,
    Priority,
    Status,
)
from hub.escalation.payload import ESCALATION_KEYS, HIGH_STOCK_KEYS
from hub.events import AlarmKind, CameraMotion, Event, LinkLost, PanelState
from hub.hookspecs import hookimpl
from hub.testing import EventRecorder, wait_until
from tests.escalation.conftest import (
    SHIPPED_CALENDAR,
    Receiver,
    engine_for,
    free_port,
    load,
    plugin_manager,
    write_config,
)
from tests.escalation.support import ChangeLog, alarm

PARIS = ZoneInfo("Europe/Paris")
QUIET_DAY = datetime(2026, 3, 10, 12, 0, tzinfo=PARIS)  # in no high-stock period
FAST_LADDER = (
    "[{contacts: [referent-37], ack_deadline: 0.2},"
    " {contacts: [interlocuteur-37, owner], ack_deadline: 300}]"
)


def urls(receivers: dict[str, Receiver]) -> dict[str, str | None]:
    return {name: r.url for name, r in receivers.items()}


def config_for(tmp_path: Path, receivers: dict[str, Receiver], **kw: Any) -> Config:
    return load(write_config(tmp_path, urls(receivers), **kw))


def engine(config: Config, bus: EventBus | None = None, **kw: Any) -> EscalationEngine:
    return engine_for(config, bus, plugins=kw.pop("plugins", plugin_manager()), **kw)


def who(config: Config, contact_id: str):  # type: ignore[no-untyped-def]
    contact = contact_of(config, contact_id)
    assert contact is not None
    return contact


# -- what a hold-up sends ---------------------------------------------------------------


async def test_holdup_reaches_the_referent_signed_with_exactly_the_documented_payload(
    tmp_path: Path, receivers: dict[str, Receiver], bus: EventBus
) -> None:
    config = config_for(tmp_path, receivers)
    async with engine(config, bus, clock=ManualClock(QUIET_DAY)) as running:
        bus.publish(alarm())
        (request,) = await receivers["referent-37"].wait_for()
        (esc,) = running.list(who(config, "installer"))
    assert request.verified
    assert request.event == "escalation.created"
    assert request.key == f"{esc.id}:0:referent-37:1"
    assert set(request.data) == ESCALATION_KEYS
    assert request.data == {
        "type": "escalation",
        "event": "created",
        "id": esc.id,
        "revision": 1,
        "site": "Bijouterie Marchal",
        "address": "14 rue Nationale, 37000 Tours",
        "departement": "37",
        "zone": {"id": "comptoir", "name": "Comptoir de vente"},
        "kind": "holdup",
        "priority": "life-safety",
        "time": esc.signalled_at.isoformat() if esc.signalled_at else "",
        "tier": 0,
        "cameras": ["cam-comptoir"],
        # Never heard of: unknown, not covering (test_cameras.py has them heard of).
        "camera_states": [
            {
                "id": "cam-comptoir",
                "state": "unknown",
                "covering": False,
                "recording": None,
                "since": None,
            }
        ],
        "instructions": "Appeler le 17. Ne pas entrer avant l'arrivée des forces de l'ordre.",
        "status": "open",
        "signals": 1,
        "deadline": (QUIET_DAY + timedelta(seconds=120))
        .astimezone(esc.created_at.tzinfo)
        .isoformat(),
        "high_stock": None,
    }
    # Only the first tier was told.
    assert receivers["interlocuteur-37"].requests == []
    assert receivers["owner"].requests == []


async def test_holdup_is_silent_in_the_shop(
    tmp_path: Path, receivers: dict[str, Receiver], bus: EventBus, recorder: EventRecorder
) -> None:
    bus.subscribe(Event, recorder.handle, name="test-recorder")
    calls: list[tuple[str, tuple[Any, ...]]] = []

    class Spy:
        @hookimpl
        def hub_started(self, info: object) -> None:
            calls.append(("hub_started", ()))

        @hookimpl
        def hub_stopping(self, info: object) -> None:
            calls.append(("hub_stopping", ()))

        @hookimpl
        def keep_recordings(
            self, camera: str, start: datetime, end: datetime, incident: str
        ) -> None:
            calls.append(("keep_recordings", (camera, start, end, incident)))

    manager = plugin_manager()
    manager.register(Spy(), "spy")
    config = config_for(tmp_path, receivers)
    published = [alarm()]
    async with engine(config, bus, plugins=manager) as running:
        bus.publish(published[0])
        await receivers["referent-37"].wait_for()
        await wait_until(lambda: bool(calls))
        (esc,) = running.list(who(config, "installer"))
        await bus.drain()
    # The engine publishes nothing on the bus, and the only hook it calls keeps recordings.
    assert recorder.events == published
    ((name, (camera, start, end, incident)),) = calls
    assert (name, camera, incident) == ("keep_recordings", "cam-comptoir", esc.id)
    assert end - start == timedelta(seconds=600 + 1800)


@pytest.mark.parametrize(
    "event",
    [
        alarm(restore=True),
        alarm(AlarmKind.DURESS, restore=True),
        alarm(AlarmKind.FIRE),
        alarm(AlarmKind.OPENING),
        LinkLost(device="lecteur", reason="silence"),  # no hold-up zones
        CameraMotion(camera="cam-comptoir", active=True),
    ],
    ids=["holdup-restore", "duress-restore", "fire", "opening", "link-lost-plain", "motion"],
)
async def test_what_opens_no_escalation(
    tmp_path: Path, receivers: dict[str, Receiver], event: Event
) -> None:
    config = config_for(tmp_path, receivers)
    async with engine(config) as running:
        await running.handle(event)
        assert running.list(who(config, "installer")) == []
        assert running.pending_deliveries == 0


async def test_technical_and_alarm_priorities(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    config = config_for(tmp_path, receivers)
    installer = who(config, "installer")
    async with engine(config) as running:
        await running.handle(LinkLost(device="centrale", reason="silence for 90 s"))
        await running.handle(PanelState(device="centrale", state="disarmed"))
        await running.handle(alarm(AlarmKind.BURGLARY, zone="vitrine"))  # disarmed: no
        await running.handle(PanelState(device="centrale", state="armed_away"))
        await running.handle(alarm(AlarmKind.BURGLARY, zone="vitrine"))
        await running.handle(alarm(AlarmKind.TAMPER, zone="coffre"))
        found = {(e.kind, e.priority, e.scene_sealed) for e in running.list(installer)}
    assert found == {
        ("link_lost", Priority.TECHNICAL, False),
        ("burglary", Priority.ALARM, False),
        ("tamper", Priority.TECHNICAL, False),
    }


# -- folding ------------------------------------------------------------------------------


async def test_repeats_fold_into_one_escalation(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    config = config_for(tmp_path, receivers)
    installer = who(config, "installer")
    async with engine(config, clock=ManualClock(QUIET_DAY)) as running:
        log = ChangeLog(running, installer)
        await running.handle(alarm())
        await running.handle(alarm(device="bridge"))  # same zone, another button
        await running.handle(alarm(zone="coffre"))  # another incident
        (repeated,) = await log.wait_for("repeated")
        # The referent ends up with the latest state (an older revision still pending
        # when a newer one is queued is superseded: each body is the whole state).
        await receivers["referent-37"].wait_for(lambda r: r.data["signals"] == 2)
        escalations = running.list(installer)
        await log.close()
    assert sorted((e.zone, e.signals) for e in escalations) == [("coffre", 1), ("comptoir", 2)]
    assert repeated.escalation.revision == 2
    assert len(log.of("created")) == 2


async def test_fold_window_ends_and_zero_turns_folding_off(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    clock = ManualClock(QUIET_DAY)
    config = config_for(tmp_path, receivers, extra="fold_window: 60\n")
    installer = who(config, "installer")
    async with engine(config, clock=clock) as running:
        await running.handle(alarm())
        clock.advance(59)
        await running.handle(alarm())  # within 60 s of the last signal: folded
        clock.advance(59)
        await running.handle(alarm())  # the window slides with each signal
        assert [e.signals for e in running.list(installer)] == [3]
        clock.advance(61)
        await running.handle(alarm())
        assert [e.signals for e in running.list(installer)] == [1, 3]

    other = tmp_path / "nofold"
    other.mkdir()
    config = config_for(other, receivers, extra="fold_window: 0\n")
    async with engine(config, clock=ManualClock(QUIET_DAY)) as running:
        await running.handle(alarm())
        await running.handle(alarm())
        assert [e.signals for e in running.list(installer)] == [1, 1]


async def test_a_clock_set_back_never_folds_a_new_signal_into_an_older_one(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    """The machine's clock was a minute fast when a hold-up came, and was corrected
    across a restart: the open escalation's last signal is now "in the future". A new
    hold-up in the same zone opens its own escalation, even with folding off."""
    config = config_for(tmp_path, receivers, extra="fold_window: 0\n")
    installer = who(config, "installer")
    async with engine(config, clock=ManualClock(QUIET_DAY + timedelta(seconds=60))) as running:
        await running.handle(alarm())
    async with engine(config, clock=ManualClock(QUIET_DAY)) as running:
        await running.handle(alarm())
        assert sorted(e.signals for e in running.list(installer)) == [1, 1]


async def test_a_resolved_escalation_does_not_absorb_a_new_signal(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    config = config_for(tmp_path, receivers)
    referent = who(config, "referent-37")
    async with engine(config, clock=ManualClock(QUIET_DAY)) as running:
        await running.handle(alarm())
        (first,) = running.list(referent)
        await running.acknowledge(referent, first.id)
        await running.resolve(referent, first.id)
        await running.handle(alarm())
        assert [e.status for e in running.list(referent)] == [Status.OPEN, Status.RESOLVED]


# -- the ladder ------------------------------------------------------------------------


async def test_ladder_moves_up_when_the_deadline_passes(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    config = config_for(tmp_path, receivers, ladder=FAST_LADDER)
    async with engine(config) as running:
        interlocutor_log = ChangeLog(running, who(config, "interlocuteur-37"))
        await running.handle(alarm())
        (change,) = await interlocutor_log.wait_for("escalated")
        await receivers["interlocuteur-37"].wait_for()
        await receivers["owner"].wait_for()
        await interlocutor_log.close()
    esc = change.escalation
    assert esc.tier == 1
    assert esc.addressed_to == ("referent-37", "interlocuteur-37", "owner")
    assert esc.status is Status.OPEN
    assert interlocutor_log.of("created") == []  # not visible to it before it was addressed
    (request,) = receivers["interlocuteur-37"].requests
    assert (request.event, request.data["tier"]) == ("escalation.escalated", 1)
    assert request.key == f"{esc.id}:1:interlocuteur-37:2"
    # The referent keeps it: no new delivery for a change that is not news to them.
    assert [r.event for r in receivers["referent-37"].requests] == ["escalation.created"]


async def test_ladder_stops_on_acknowledgement(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    clock = ManualClock(QUIET_DAY)
    config = config_for(tmp_path, receivers)
    referent = who(config, "referent-37")
    async with engine(config, clock=clock) as running:
        log = ChangeLog(running, who(config, "installer"))
        await running.handle(alarm())
        (esc,) = running.list(referent)
        acked = await running.acknowledge(referent, esc.id)
        clock.advance(3600)  # far past every deadline
        await receivers["referent-37"].wait_for(lambda r: r.event == "escalation.acknowledged")
        await log.close()
        assert running.get(referent, esc.id).tier == 0
    assert (acked.status, acked.acknowledged_by, acked.deadline) == (
        Status.ACKNOWLEDGED,
        "referent-37",
        None,
    )
    assert [c.what for c in log.items] == ["created", "acknowledged"]
    assert receivers["owner"].requests == []
    assert receivers["interlocuteur-37"].requests == []


async def test_the_last_tier_is_reminded_then_left_open(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    config = config_for(
        tmp_path,
        receivers,
        ladder="[{contacts: [referent-37, owner], ack_deadline: 0.1}]",
        extra="reminders: 2\n",
    )
    async with engine(config) as running:
        log = ChangeLog(running, who(config, "installer"))
        await running.handle(alarm())
        reminders = await log.wait_for("reminded", count=2)
        await receivers["owner"].wait_for(lambda r: r.event == "escalation.reminder", count=2)
        await log.close()
    assert reminders[0].escalation.deadline is not None
    assert reminders[1].escalation.deadline is None  # no reminder left: it stays open
    assert reminders[1].escalation.status is Status.OPEN
    assert [r.data["revision"] for r in receivers["referent-37"].requests] == [1, 2, 3]


# -- high-stock periods ----------------------------------------------------------------


async def test_deadlines_are_shortened_during_a_high_stock_period(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    christmas = datetime(2026, 12, 10, 12, 0, tzinfo=PARIS)
    config = config_for(tmp_path, receivers, extra="high_stock: {deadline_factor: 0.25}\n")
    referent = who(config, "referent-37")
    async with engine(config, clock=ManualClock(christmas)) as running:
        await running.handle(alarm())
        (esc,) = running.list(referent)
        assert [p.name for p in running.high_stock_periods()] == ["Noël"]
    assert esc.high_stock == "Noël"
    assert esc.deadline == christmas + timedelta(seconds=120 * 0.25)


async def test_referents_are_told_when_a_period_starts_and_ends(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    clock = ManualClock(datetime(2026, 1, 31, 23, 59, tzinfo=PARIS))
    config = config_for(tmp_path, receivers, extra=SHIPPED_CALENDAR)
    async with engine(config, clock=clock) as running:
        assert running.pending_deliveries == 0
        clock.advance(120)
        (started,) = await receivers["referent-37"].wait_for()
        clock.set(datetime(2026, 2, 15, 0, 0, 1, tzinfo=PARIS))
        await receivers["referent-37"].wait_for(count=2)
    assert started.verified
    assert started.event == "high_stock_period.started"
    assert set(started.data) == HIGH_STOCK_KEYS
    assert started.data == {
        "type": "high_stock_period",
        "event": "started",
        "name": "Saint-Valentin",
        "start": "2026-02-01T00:00:00+01:00",
        "end": "2026-02-15T00:00:00+01:00",
    }
    ended = receivers["referent-37"].requests[1]
    assert (ended.event, ended.data["event"], ended.data["name"]) == (
        "high_stock_period.ended",
        "ended",
        "Saint-Valentin",
    )
    # Only the referents (the first tier) are told.
    assert receivers["owner"].requests == []
    assert receivers["interlocuteur-37"].requests == []


async def test_a_period_is_announced_once_across_restarts(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    config = config_for(tmp_path, receivers, extra=SHIPPED_CALENDAR)
    during = datetime(2026, 5, 25, 9, 0, tzinfo=PARIS)  # Fête des mères 2026: 21-31 May
    async with engine(config, clock=ManualClock(during)) as running:
        (request,) = await receivers["referent-37"].wait_for()
        # Delivered as far as the hub knows (the answer came back and was recorded).
        await wait_until(lambda: running.pending_deliveries == 0)
    assert request.data["name"] == "Fête des mères"
    async with engine(config, clock=ManualClock(during + timedelta(days=2))) as running:
        assert running.pending_deliveries == 0
    assert len(receivers["referent-37"].requests) == 1


# -- delivery ---------------------------------------------------------------------------


async def test_receiver_down_then_back(tmp_path: Path, receivers: dict[str, Receiver]) -> None:
    down = Receiver(receivers["referent-37"].secret, port=free_port())  # not started yet
    config = load(write_config(tmp_path, {**urls(receivers), "referent-37": down.url}))
    async with engine(config) as running:
        log = ChangeLog(running, who(config, "installer"))
        await running.handle(alarm())
        (failed,) = await log.wait_for("delivery_failed")
        await down.start()
        try:
            (request,) = await down.wait_for()
        finally:
            await down.stop()
        await log.close()
    assert failed.contact == "referent-37"
    assert "retry" in failed.reason
    assert request.verified
    assert request.key.startswith(failed.escalation.id)


async def test_a_500_is_retried_until_it_is_delivered(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    receiver = receivers["referent-37"]
    receiver.status = lambda n: 500 if n < 2 else 200
    config = config_for(tmp_path, receivers)
    async with engine(config) as running:
        log = ChangeLog(running, who(config, "installer"))
        await running.handle(alarm())
        await receiver.wait_for(lambda r: r.status == 200)
        await wait_until(lambda: running.pending_deliveries == 0)
        await log.close()
    assert [r.status for r in receiver.requests] == [500, 500, 200]
    assert len({r.key for r in receiver.requests}) == 1  # one delivery, three attempts
    assert all(r.verified for r in receiver.requests)
    assert len(log.of("delivery_failed")) == 2


async def test_a_timeout_is_retried(tmp_path: Path, receivers: dict[str, Receiver]) -> None:
    receiver = receivers["referent-37"]
    receiver.hold = asyncio.Event()
    config = config_for(tmp_path, receivers)
    async with engine(config) as running:
        log = ChangeLog(running, who(config, "installer"))
        await running.handle(alarm())
        (failed,) = await log.wait_for("delivery_failed")
        receiver.hold.set()
        await receiver.wait_for(count=2)
        await log.close()
    assert "no answer within" in failed.reason
    assert len({r.key for r in receiver.requests}) == 1


async def test_a_4xx_fails_for_good(tmp_path: Path, receivers: dict[str, Receiver]) -> None:
    receiver = receivers["referent-37"]
    receiver.status = 404
    config = config_for(tmp_path, receivers)
    async with engine(config) as running:
        log = ChangeLog(running, who(config, "installer"))
        await running.handle(alarm())
        (failed,) = await log.wait_for("delivery_failed")
        assert running.pending_deliveries == 0
        key = receiver.requests[0].key
        assert await running.outbox.delivery_status(key) == "failed"
        await log.close()
    assert "not retried" in failed.reason
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [410, 404])
async def test_a_tier_nobody_can_be_pushed_to_climbs_at_once(
    tmp_path: Path, receivers: dict[str, Receiver], status: int
) -> None:
    """The only tier-0 contact's server answers for good that it takes nothing (a 410):
    the interlocutor is told now, not at the deadline (the clock never reaches it)."""
    receivers["referent-37"].status = status
    config = config_for(tmp_path, receivers)
    async with engine(config, clock=ManualClock(QUIET_DAY)) as running:
        await running.handle(alarm())
        (escalated,) = await receivers["interlocuteur-37"].wait_for(
            lambda r: r.event == "escalation.escalated"
        )
        (esc,) = running.list(who(config, "installer"))
    assert escalated.data["tier"] == 1
    assert esc.tier == 1
    # The climb came at once: the new deadline is tier 1's, counted from the failure.
    assert esc.deadline == QUIET_DAY + timedelta(seconds=300)
    assert len(receivers["referent-37"].requests) == 1


async def test_a_tier_with_one_reachable_contact_waits_for_its_deadline(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    """One of two tier-0 contacts fails for good: the other was told, so the ladder keeps
    its deadline."""
    receivers["referent-37"].status = 410
    config = config_for(
        tmp_path,
        receivers,
        ladder="[{contacts: [referent-37, owner], ack_deadline: 120},"
        " {contacts: [interlocuteur-37], ack_deadline: 300}]",
    )
    async with engine(config, clock=ManualClock(QUIET_DAY)) as running:
        log = ChangeLog(running, who(config, "installer"))
        await running.handle(alarm())
        await receivers["owner"].wait_for()
        await log.wait_for("delivery_failed")
        await wait_until(lambda: running.pending_deliveries == 0)
        (esc,) = running.list(who(config, "installer"))
        await log.close()
    assert esc.tier == 0
    assert receivers["interlocuteur-37"].requests == []


async def test_a_dead_url_does_not_hold_up_another_contact(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    hanging = receivers["referent-37"]
    hanging.hold = asyncio.Event()  # accepts the connection, never answers
    config = config_for(
        tmp_path, receivers, ladder="[{contacts: [referent-37, owner], ack_deadline: 120}]"
    )
    async with engine(config) as running:
        for zone in ("comptoir", "vitrine", "coffre"):
            await running.handle(alarm(zone=zone))
        delivered = await receivers["owner"].wait_for(count=3)
        # Every delivery to the owner went through while the referent's server was
        # still sitting on the first request.
        assert hanging.requests == []
        assert hanging.arrived >= 1
        hanging.hold.set()
    assert {r.data["zone"]["id"] for r in delivered} == {"comptoir", "vitrine", "coffre"}


# -- acknowledge, resolve, release: scopes and idempotency --------------------------------


async def test_scopes_and_idempotency(tmp_path: Path, receivers: dict[str, Receiver]) -> None:
    config = config_for(tmp_path, receivers)
    referent, second, installer = (
        who(config, c) for c in ("referent-37", "interlocuteur-37", "installer")
    )
    async with engine(config, clock=ManualClock(QUIET_DAY)) as running:
        await running.handle(alarm())
        await running.handle(alarm(AlarmKind.TAMPER, zone="coffre"))
        holdup = next(e for e in running.list(installer) if e.kind == "holdup")
        tamper = next(e for e in running.list(installer) if e.kind == "tamper")
        # Visibility: the second tier sees nothing yet; the installer sees all.
        assert running.list(second) == []
        with pytest.raises(EscalationNotFound):
            running.get(second, holdup.id)
        with pytest.raises(EscalationNotFound):
            await running.acknowledge(second, holdup.id)
        assert len(running.list(referent)) == 2
        assert [e.kind for e in running.list(installer, status=Status.OPEN, limit=1)] == ["tamper"]
        # An installer neither takes a hold-up nor closes it before a referent took it.
        with pytest.raises(EscalationForbidden):
            await running.acknowledge(installer, holdup.id)
        with pytest.raises(EscalationForbidden):
            await running.resolve(installer, holdup.id)
        first = await running.acknowledge(referent, holdup.id)
        again = await running.acknowledge(referent, holdup.id)
        assert again == first
        closed = await running.resolve(installer, holdup.id)
        assert (closed.status, closed.resolved_by) == (Status.RESOLVED, "installer")
        assert await running.resolve(referent, holdup.id) == closed
        with pytest.raises(EscalationConflict):
            await running.acknowledge(referent, holdup.id)
        # A technical fault can be closed by the installer straight away.
        assert (await running.resolve(installer, tamper.id)).status is Status.RESOLVED
        # The scene: only a hold-up has one; released once, then idempotent.
        with pytest.raises(EscalationConflict):
            await running.release_scene(installer, tamper.id)
        assert running.preserved_scenes() == [holdup.id]
        released = await running.release_scene(referent, holdup.id)
        assert released.scene_sealed is False
        assert await running.release_scene(installer, holdup.id) == released
        assert running.preserved_scenes() == []
        # A contact the configuration does not know is refused outright.
        stranger = dataclasses_replace(referent, id="stranger")
        with pytest.raises(EscalationForbidden):
            running.list(stranger)


def dataclasses_replace(obj: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(obj, **changes)


async def test_a_slow_listener_loses_the_oldest_changes_only(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    config = config_for(tmp_path, receivers)
    async with engine(config, clock=ManualClock(QUIET_DAY)) as running:
        stream = running.changes(who(config, "installer"))
        stream.maxsize = 2
        for zone in ("comptoir", "vitrine", "coffre"):
            await running.handle(alarm(zone=zone))
        assert stream.dropped == 1
        got = [await anext(stream), await anext(stream)]
        await stream.aclose()
    assert [c.escalation.zone for c in got] == ["vitrine", "coffre"]


# -- the hub's state registry ------------------------------------------------------------------


async def test_the_shared_registry_judges_a_burglary_as_of_its_time(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    """As in the hub: the registry observes the bus, so it may already hold a disarm
    published right after the burglary when the engine judges the burglary."""
    from hub.state import StateRegistry

    config = config_for(tmp_path, receivers)
    installer = who(config, "installer")
    bus = EventBus()
    state = StateRegistry()
    stop = bus.observe(state.apply)
    try:
        async with engine(config, bus, state=state) as running:
            burglary = alarm(AlarmKind.BURGLARY, zone="vitrine")
            second = timedelta(seconds=1)
            bus.publish(
                PanelState(time=burglary.time - second, device="centrale", state="armed_away")
            )
            bus.publish(burglary)
            bus.publish(
                PanelState(time=burglary.time + second, device="centrale", state="disarmed")
            )
            await bus.drain()
            late = alarm(AlarmKind.BURGLARY, zone="coffre")  # after the disarm, by its time
            bus.publish(dataclasses.replace(late, time=burglary.time + 2 * second))
            await bus.drain()
            found = [(e.kind, e.zone) for e in running.list(installer)]
            esc = running.list(installer)[0]
            assert state.get(f"escalation:{esc.id}") is not None
    finally:
        stop()
        await bus.close()
    assert found == [("burglary", "vitrine")]
