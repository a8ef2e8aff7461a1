"""The shop's serial line, end to end: what a panel sends while the hub is not reading
reaches the referent once the hub is up, and noise on the line is reported without
losing the hold-up that follows it.

The hub is the real one of ``tests/e2e/conftest.py`` (its YAML file, plugins, journal,
outbox and referent API), the panel a DSC IT-100 simulated on a raw pseudo-terminal.
The cable keeps its own descriptor on the hub's end, as a port held open across a
restart would, so the kernel holds what the panel writes before the hub opens it.
"""

from __future__ import annotations

import random

from hub.events import AlarmKind, AlarmSignal, Event
from plugins.panels.devices import LINE_QUALITY_CODE
from plugins.panels.simulators import It100Simulator
from tests.conftest import EventRecorder
from tests.e2e.conftest import MakeShop
from tests.escalation.conftest import Request


def holdup_created(request: Request) -> bool:
    return request.event == "escalation.created" and request.data["kind"] == "holdup"


async def test_a_holdup_sent_before_the_hub_opened_the_port_reaches_the_referent(
    make_shop: MakeShop,
) -> None:
    """The panel presses a hold-up while the hub is restarting (not yet reading)."""

    async def holdup_while_the_hub_is_down(panel: It100Simulator) -> None:
        await panel.zone_alarm(zone=5)

    async with make_shop(before_hub=holdup_while_the_hub_is_down) as shop:
        (request,) = await shop.referent.wait_for(holdup_created)
    assert request.verified
    assert (request.data["kind"], request.data["zone"]["id"]) == ("holdup", "comptoir")


async def test_noise_on_the_line_is_a_line_quality_trouble_and_the_next_holdup_gets_through(
    make_shop: MakeShop,
) -> None:
    """Random bytes, as a wrong baud rate or a broken cable make, then a hold-up."""
    noise = random.Random(9).randbytes(64 * 1024)
    async with make_shop() as shop:
        on_bus = EventRecorder()
        shop.hub.bus.subscribe(Event, on_bus.handle)
        await shop.panel.send(noise + b"\r\n")
        (trouble,) = await on_bus.wait_for(
            AlarmSignal, lambda s: s.code == LINE_QUALITY_CODE, timeout=30
        )
        await shop.panel.zone_alarm(zone=5)
        (request,) = await shop.referent.wait_for(holdup_created, timeout=30)
        (holdup,) = await on_bus.wait_for(AlarmSignal, lambda s: s.kind is AlarmKind.HOLDUP)
    assert (trouble.kind, trouble.restore, trouble.device) == (AlarmKind.TROUBLE, False, "centrale")
    assert request.verified
    assert (holdup.zone, request.data["zone"]["id"]) == ("comptoir", "comptoir")
