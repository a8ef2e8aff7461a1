"""The shop's serial line, end to end: what a panel sends while the hub is not reading
reaches the referent once the hub is up.

The hub is the real one of ``tests/e2e/conftest.py`` (its YAML file, plugins, journal,
outbox and referent API), the panel a DSC IT-100 simulated on a raw pseudo-terminal.
The cable keeps its own descriptor on the hub's end, as a port held open across a
restart would, so the kernel holds what the panel writes before the hub opens it.
"""

from __future__ import annotations

from plugins.panels.simulators import It100Simulator
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
