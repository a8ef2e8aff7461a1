"""The demo shop's panel: a DSC PowerSeries (IT-100) simulated on a pseudo-terminal.

``ecrin demo`` runs the real hub on ``config/demo.yaml``. Its panel device is a real
``dsc-it100`` device reading a real serial line (a pty); on the other end of that line,
this module plays the panel with the protocol simulator: it arms and disarms the shop,
opens the door, sends a bit of line noise now and then, and every ``interval`` seconds a
customer... presses the hold-up button under the counter. Everything the terminal shows
went through the same transport, decoder, journal, bus and escalation engine as a real
shop's signals.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from hub.transports.pty import PtyCable

__all__ = ["DEMO_PORT_PLACEHOLDER", "demo_panel"]

#: The ``port`` value in ``config/demo.yaml`` that the demo replaces with its pty.
DEMO_PORT_PLACEHOLDER = "DEMO-PTY"

#: Panel zone 5 is wired to the hold-up button under the counter in the demo config.
HOLDUP_ZONE = 5
DOOR_ZONE = 1


async def _script(sim: object, interval: float) -> None:
    """The demo's day in the shop, looping forever."""
    from plugins.panels.simulators import It100Simulator

    assert isinstance(sim, It100Simulator)
    await sim.disarmed()
    while True:
        await sim.zone_open(DOOR_ZONE)
        await asyncio.sleep(interval / 4)
        await sim.zone_closed(DOOR_ZONE)
        await asyncio.sleep(interval / 4)
        await sim.garbage(24)  # a noisy line: counted and skipped, never an event
        await asyncio.sleep(interval / 4)
        await sim.zone_alarm(HOLDUP_ZONE)  # the hold-up button: silent
        await asyncio.sleep(min(1.0, interval / 4))
        await sim.zone_restore(HOLDUP_ZONE)
        await asyncio.sleep(interval / 4)


@contextlib.asynccontextmanager
async def demo_panel(directory: Path, interval: float = 5.0) -> AsyncIterator[str]:
    """Run the simulated panel until the block ends; yields the path the hub opens."""
    from plugins.panels.simulators import It100Simulator

    cable = PtyCable(directory / "ttyDEMO0")
    try:
        async with It100Simulator(cable) as sim:
            task = asyncio.create_task(_script(sim, interval), name="demo panel")
            try:
                yield cable.path
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
    finally:
        cable.close()
