"""Cameras in escalations, with real parts: the hub's state registry observing a real
bus, the engine with its SQLite outbox, and real webhook receivers on loopback.

* every webhook carries the availability of the cameras covering the zone, as the
  registry had it when that delivery was queued;
* a camera that stops covering is a technical fault when the shop is armed where it
  films a high-risk zone, or whatever the zone while a hold-up is open; repeats fold,
  the fault clears when the camera comes back, and nothing escalates when disarmed.

The shop of ``conftest.SITE``, with the shop window at low risk: ``cam-comptoir``
covers the counter (high, the ``centrale``'s zone 1) and the window (low, its zone
2), ``cam-vitrine`` the window only, ``cam-coffre`` the strong room (high; no panel
maps it, so any panel armed arms it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.app import Hub
from hub.bus import EventBus
from hub.cameras import CameraStatus
from hub.config import Config
from hub.escalation.clock import ManualClock
from hub.escalation.config import contact_of
from hub.escalation.engine import EscalationEngine
from hub.escalation.model import Contact, Escalation, Priority, Status
from hub.escalation.payload import ESCALATION_KEYS
from hub.events import CameraAvailability, CameraRecording, Event, PanelState
from hub.state import StateRegistry
from hub.testing import wait_until
from tests.escalation.conftest import Receiver, engine_for, load, plugin_manager, write_config
from tests.escalation.support import alarm

#: Event times: a Tuesday evening, in no high-stock period (the engine's clock too).
T0 = datetime(2026, 3, 10, 19, 0, tzinfo=UTC)
LOW_WINDOW = (
    "{id: vitrine, name: Vitrine rue, risk: high}",
    "{id: vitrine, name: Vitrine rue, risk: low}",
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def camera(name: str, state: str, t: float, role: str = "", reason: str = "") -> CameraAvailability:
    return CameraAvailability(time=at(t), camera=name, state=state, role=role, reason=reason)


def panel(state: str, t: float, device: str = "centrale") -> PanelState:
    return PanelState(time=at(t), device=device, state=state)


def shop_config(tmp_path: Path, receivers: dict[str, Receiver], **kw: Any) -> Config:
    path = write_config(tmp_path, {name: r.url for name, r in receivers.items()}, **kw)
    path.write_text(path.read_text(encoding="utf-8").replace(*LOW_WINDOW), encoding="utf-8")
    return load(path)


@dataclass
class Shop:
    """The engine on a bus, and the hub's registry observing that bus."""

    config: Config
    bus: EventBus
    engine: EscalationEngine
    state: StateRegistry

    def who(self, contact_id: str) -> Contact:
        contact = contact_of(self.config, contact_id)
        assert contact is not None
        return contact

    async def publish(self, *events: Event) -> None:
        """Publish as devices do, and wait until the engine has judged each one."""
        for event in events:
            self.bus.publish(event)
        await self.bus.drain()

    def escalations(self, kind: str | None = None) -> list[Any]:
        found = self.engine.list(self.who("installer"))
        return [e for e in found if kind is None or e.kind == kind]


@asynccontextmanager
async def camera_shop(
    tmp_path: Path, receivers: dict[str, Receiver], bus: EventBus, **kw: Any
) -> AsyncIterator[Shop]:
    config = shop_config(tmp_path, receivers, **kw)
    state = StateRegistry(
        zone_maps={d.id: d.zone_map for d in config.devices},
        cameras=[c.id for c in config.cameras],
    )
    stop = bus.observe(state.apply)
    try:
        async with engine_for(
            config,
            bus,
            plugins=plugin_manager(),
            clock=ManualClock(at(3600)),
            state=state,
            cameras=state,
        ) as engine:
            yield Shop(config, bus, engine, state)
    finally:
        stop()


def status(
    name: str, state: str, since: float | None, covering: bool, recording: bool | None
) -> dict[str, Any]:
    return {
        "id": name,
        "state": state,
        "covering": covering,
        "recording": recording,
        "since": None if since is None else at(since).isoformat(),
    }


# -- the payload's cameras ------------------------------------------------------------------
async def test_each_webhook_carries_the_zone_cameras_availability_as_of_when_it_was_built(
    tmp_path: Path, receivers: dict[str, Receiver], bus: EventBus
) -> None:
    referent = receivers["referent-37"]
    async with camera_shop(tmp_path, receivers, bus) as shop:
        await shop.publish(
            camera("cam-comptoir", "online", 1),
            camera("cam-comptoir", "online", 1, role="record"),
            camera("cam-vitrine", "online", 1),
            camera("cam-vitrine", "offline", 2, reason="NVR last will"),
        )
        # A hold-up at the shop window: both cameras covering it are in the payload.
        shop.bus.publish(alarm(zone="vitrine"))
        (created,) = await referent.wait_for(lambda r: r.event == "escalation.created")
        assert created.verified
        assert set(created.data) == ESCALATION_KEYS
        assert created.data["cameras"] == ["cam-comptoir", "cam-vitrine"]  # as it always was
        assert created.data["camera_states"] == [
            status("cam-comptoir", "online", 1, covering=True, recording=True),
            status("cam-vitrine", "offline", 2, covering=False, recording=None),
        ]
        # The window's camera comes back: the next change says so, the first stays as sent.
        await shop.publish(camera("cam-vitrine", "online", 3))
        (esc,) = shop.escalations("holdup")
        await shop.engine.acknowledge(shop.who("referent-37"), esc.id)
        (acknowledged,) = await referent.wait_for(lambda r: r.event == "escalation.acknowledged")
        assert acknowledged.data["camera_states"] == [
            status("cam-comptoir", "online", 1, covering=True, recording=True),
            status("cam-vitrine", "online", 3, covering=True, recording=None),
        ]
        # The API shows what the last change carried.
        shown = shop.engine.get(shop.who("referent-37"), esc.id)
        assert [s.to_dict() for s in shown.camera_states] == acknowledged.data["camera_states"]
    assert created.data["camera_states"][1]["state"] == "offline"


async def test_a_camera_never_heard_of_is_sent_as_unknown_never_online(
    tmp_path: Path, receivers: dict[str, Receiver], bus: EventBus
) -> None:
    async with camera_shop(tmp_path, receivers, bus) as shop:
        shop.bus.publish(alarm(zone="coffre"))
        (created,) = await receivers["referent-37"].wait_for()
    assert created.data["camera_states"] == [
        status("cam-coffre", "unknown", None, covering=False, recording=None)
    ]


# -- the camera fault rule ---------------------------------------------------------------------
async def test_a_camera_lost_while_armed_is_escalated_once_and_clears_when_it_is_back(
    tmp_path: Path, receivers: dict[str, Receiver], bus: EventBus
) -> None:
    referent = receivers["referent-37"]
    async with camera_shop(tmp_path, receivers, bus) as shop:
        await shop.publish(panel("armed_away", 0), camera("cam-coffre", "online", 1))
        await shop.publish(camera("cam-coffre", "offline", 2, reason="NVR last will"))
        (created,) = await referent.wait_for()
        assert created.event == "escalation.created"
        assert (created.data["kind"], created.data["priority"], created.data["zone"]["id"]) == (
            "camera_lost",
            "technical",
            "coffre",
        )
        assert created.data["camera_states"] == [
            status("cam-coffre", "offline", 2, covering=False, recording=None)
        ]
        (esc,) = shop.escalations()
        assert (esc.device, esc.priority, esc.scene_sealed) == (
            "cam-coffre",
            Priority.TECHNICAL,
            False,
        )
        # The same report again, within the outage: nothing more.
        await shop.publish(camera("cam-coffre", "offline", 3))
        # Back online: the fault clears in the state; the escalation stays for the
        # referent to resolve, as a lost link's does.
        await shop.publish(camera("cam-coffre", "online", 4))
        assert shop.state.camera_status("cam-coffre").covering is True
        (esc,) = shop.escalations()
        assert (esc.status, esc.signals) == (Status.OPEN, 1)
        assert len(referent.requests) == 1
        # Lost again: a new outage, folded into the open escalation (a repeat).
        await shop.publish(camera("cam-coffre", "unknown", 5, reason="broker lost"))
        (repeated,) = await referent.wait_for(lambda r: r.event == "escalation.repeated")
        assert repeated.data["signals"] == 2
        assert repeated.data["camera_states"] == [
            status("cam-coffre", "unknown", 5, covering=False, recording=None)
        ]
        assert len(shop.escalations()) == 1


async def test_nothing_escalates_while_disarmed_and_the_state_shows_it(
    tmp_path: Path, receivers: dict[str, Receiver], bus: EventBus
) -> None:
    async with camera_shop(tmp_path, receivers, bus) as shop:
        await shop.publish(
            panel("disarmed", 0),
            panel("disarmed", 0, device="lecteur"),
            camera("cam-coffre", "online", 1),
            camera("cam-coffre", "offline", 2),
            camera("cam-comptoir", "online", 1),
            camera("cam-comptoir", "unknown", 2, reason="broker lost"),
        )
        assert shop.escalations() == []
        assert shop.engine.pending_deliveries == 0
        lost = shop.state.get("camera:cam-coffre")
        assert lost is not None
        assert (lost.state, lost.last_changed) == ("offline", at(2))
    assert receivers["referent-37"].requests == []


async def test_armed_where_the_camera_films_decides_and_a_low_risk_zone_never_does(
    tmp_path: Path, receivers: dict[str, Receiver], bus: EventBus
) -> None:
    async with camera_shop(tmp_path, receivers, bus) as shop:
        # Only the reader panel is armed. The counter is the centrale's zone: not armed
        # there. The strong room is no panel's zone: any panel armed arms it.
        await shop.publish(panel("disarmed", 0), panel("armed_away", 0, device="lecteur"))
        for name in ("cam-comptoir", "cam-vitrine", "cam-coffre"):
            await shop.publish(camera(name, "online", 1))
        await shop.publish(
            camera("cam-comptoir", "offline", 2), camera("cam-vitrine", "offline", 2)
        )
        assert shop.escalations() == []
        await shop.publish(camera("cam-coffre", "offline", 2))
        await wait_until(lambda: len(shop.escalations()) == 1)
        assert [(e.kind, e.zone, e.device) for e in shop.escalations()] == [
            ("camera_lost", "coffre", "cam-coffre")
        ]
        # The centrale armed: the counter's camera, lost again, escalates; the window's
        # (low risk only) still does not.
        await shop.publish(
            panel("armed_away", 3),
            camera("cam-comptoir", "online", 4),
            camera("cam-vitrine", "online", 4),
        )
        await shop.publish(
            camera("cam-comptoir", "offline", 5), camera("cam-vitrine", "offline", 5)
        )
        await wait_until(lambda: len(shop.escalations()) == 2)
        await shop.bus.drain()
        assert sorted((e.zone, e.device) for e in shop.escalations()) == [
            ("coffre", "cam-coffre"),
            ("comptoir", "cam-comptoir"),
        ]


async def test_during_a_hold_up_any_camera_turned_off_is_escalated_until_it_is_resolved(
    tmp_path: Path, receivers: dict[str, Receiver], bus: EventBus
) -> None:
    referent = receivers["referent-37"]
    async with camera_shop(tmp_path, receivers, bus) as shop:
        await shop.publish(
            panel("disarmed", 0),
            panel("disarmed", 0, device="lecteur"),
            *(camera(name, "online", 1) for name in ("cam-comptoir", "cam-vitrine", "cam-coffre")),
        )
        shop.bus.publish(alarm(zone="comptoir"))
        await referent.wait_for(lambda r: r.data["kind"] == "holdup")
        # Disabled at the NVR (on purpose, maybe under threat), a low-risk camera: escalated.
        await shop.publish(camera("cam-vitrine", "disabled", 2))
        (lost,) = await referent.wait_for(lambda r: r.data["kind"] == "camera_lost")
        assert (lost.data["zone"]["id"], lost.data["priority"]) == ("vitrine", "technical")
        assert lost.data["camera_states"][-1] == status(
            "cam-vitrine", "disabled", 2, covering=False, recording=None
        )
        # Recording switched off on another camera: escalated too.
        await shop.publish(CameraRecording(time=at(3), camera="cam-coffre", recording=False))
        await referent.wait_for(
            lambda r: r.data["kind"] == "camera_lost" and r.data["zone"]["id"] == "coffre"
        )
        # The hold-up resolved and the shop disarmed: a camera turned off is only the state's.
        (holdup,) = shop.escalations("holdup")
        await shop.engine.resolve(shop.who("referent-37"), holdup.id)
        await shop.publish(camera("cam-comptoir", "disabled", 4))
        assert len(shop.escalations("camera_lost")) == 2
        assert shop.state.camera_status("cam-comptoir").state == "disabled"


# -- through the hub ---------------------------------------------------------------------------
async def test_the_hub_hands_the_engine_its_registry_for_the_cameras(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    cameras = "cameras:\n" + "".join(
        f"  - {{id: {name}, type: sim-camera, zones: [{zone}], placement: indoor,"
        " settings: {period: 3600}}\n"
        for name, zone in (("cam-comptoir", "comptoir"), ("cam-coffre", "coffre"))
    )
    config = shop_config(tmp_path, receivers, cameras=cameras)
    async with Hub(config, plugin_manager()) as hub:
        await hub.wait_ready()
        # The simulated cameras come online (their record role) on their own.
        await wait_until(lambda: hub.state.camera_status("cam-coffre").covering)
        await wait_until(lambda: hub.state.get("partition:centrale:1") is not None)
        hub.emit(PanelState(device="centrale", state="armed_away"))
        hub.emit(CameraAvailability(camera="cam-coffre", state="offline", reason="NVR last will"))
        (request,) = await receivers["referent-37"].wait_for()
        assert hub.escalation is not None
        await asyncio.wait_for(hub.state_restored.wait(), 30)
    assert request.data["kind"] == "camera_lost"
    ((_, state),) = [(s["id"], s["state"]) for s in request.data["camera_states"]]
    assert state == "offline"


# -- kept in the outbox --------------------------------------------------------------------------
async def test_the_cameras_states_are_kept_in_the_outbox_across_a_restart(
    tmp_path: Path, receivers: dict[str, Receiver], bus: EventBus
) -> None:
    async with camera_shop(tmp_path, receivers, bus) as shop:
        await shop.publish(camera("cam-coffre", "offline", 2, reason="NVR last will"))
        shop.bus.publish(alarm(zone="coffre"))
        await receivers["referent-37"].wait_for()
        (before,) = shop.escalations()
    async with camera_shop(tmp_path, receivers, bus) as shop:
        (after,) = shop.escalations()
    assert after.camera_states == before.camera_states
    assert after.camera_states == (CameraStatus("cam-coffre", "offline", False, None, at(2)),)
    # An escalation stored before cameras had states loads with none; a damaged one
    # is refused as not an escalation (the outbox logs it and reads on).
    stored = after.to_dict()
    del stored["camera_states"]
    assert Escalation.from_dict(stored).camera_states == ()
    with pytest.raises(ValueError, match="not an escalation"):
        Escalation.from_dict({**after.to_dict(), "camera_states": "online"})
    with pytest.raises(ValueError, match="not a camera status"):
        Escalation.from_dict({**after.to_dict(), "camera_states": [{"id": "cam-coffre"}]})
