"""The demo shop's Frigate: a simulated NVR on the hub's broker, for ``ecrin demo``.

``ecrin demo`` (the sim plugin) shows cameras the way a shop has them: behind a Frigate
that publishes on the hub's broker. It finds this simulated NVR in the catalogue of
device types (``DeviceType.broker_simulator`` of ``frigate``), never by importing this
plugin, and runs it beside the hub: ``frigate_demo(host, port, cameras, interval)``.

The NVR is a ``FrigateSimulator`` (Frigate 0.17's topics and payloads) publishing
through its own connection (``NvrConnection``, with Frigate's last will), as Frigate
does. It connects once the broker is up (the hub starts its embedded broker itself),
and again whenever the broker goes away, publishing its states again each time, as
Frigate does. Then, at the demo's pace:

* every camera online and recording, its roles repeated as Frigate's watchdog does;
* motion and a person on one camera after another, now and then;
* the last camera drops off (its roles offline: its stream is down) for a few rounds
  on a long period, then comes back: long enough apart that a demo hold-up is not
  flooded with camera faults.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

import aiomqtt

from plugins.cameras.frigate_sim import FrigateSimulator, SimCamera, frigate_will
from plugins.cameras.nvr_connection import NvrConnection

__all__ = ["OUTAGE_EVERY", "OUTAGE_ROUNDS", "DemoNvr", "frigate_demo"]

#: Rounds (one camera's motion and person each) between two outages of the last camera.
OUTAGE_EVERY: Final = 24
#: Rounds the last camera stays down.
OUTAGE_ROUNDS: Final = 3
#: Seconds between two attempts to reach the broker.
_RETRY: Final = 0.5


class DemoNvr:
    """One simulated Frigate (one topic prefix) and its round of happenings.

    Args:
        simulator: the NVR's simulator; its publisher is set at each connection.
        interval: seconds between two happenings.
        outage_every: rounds between two outages of the last camera.
        outage_rounds: rounds the last camera stays down.
    """

    def __init__(
        self,
        simulator: FrigateSimulator,
        interval: float,
        *,
        outage_every: int = OUTAGE_EVERY,
        outage_rounds: int = OUTAGE_ROUNDS,
    ) -> None:
        self.simulator = simulator
        self.interval = interval
        self.outage_every = outage_every
        self.outage_rounds = outage_rounds
        self.names = list(simulator.cameras)
        #: Rounds played since the demo started (across reconnections).
        self.rounds = 0
        #: The cameras whose stream is down now.
        self.down: set[str] = set()
        #: Attempts to connect to the broker, and those that got through.
        self.attempts = 0
        self.connections = 0
        #: Set when the demo ends: ``play`` returns at the next round or attempt.
        self.stopping = False

    async def connected(self) -> None:
        """Frigate has just connected: its states, then its roles' status."""
        await self.simulator.start()
        await self.watchdog()

    async def watchdog(self) -> None:
        """Each camera's roles, as Frigate's watchdog repeats them."""
        for name in self.names:
            await self.simulator.report_status(name, "offline" if name in self.down else "online")

    async def round(self) -> None:
        """One round: motion and a person on the next camera up, then the outage plan."""
        sim = self.simulator
        up = [name for name in self.names if name not in self.down]
        if up:
            name = up[self.rounds % len(up)]
            await sim.motion(name, True)
            ident = await sim.track(name, "person", score=0.86)
            await asyncio.sleep(self.interval / 2)
            await sim.end(ident)
            await sim.motion(name, False)
        await asyncio.sleep(self.interval / 2)
        self.rounds += 1
        if len(self.names) > 1:
            last = self.names[-1]
            phase = self.rounds % self.outage_every
            if phase == self.outage_every - self.outage_rounds:
                self.down.add(last)
            elif phase == 0:
                self.down.discard(last)
        await self.watchdog()

    async def play(self, host: str, port: int) -> None:
        """Connect, play, and connect again when the broker goes away, until cancelled
        or ``stopping``. (Both: on Python 3.11, a cancellation that arrives as a publish
        completes can be lost inside the client library's ``wait_for``.)"""
        sim = self.simulator
        while not self.stopping:
            link = NvrConnection(host, port, will=sim.will)
            sim.session = link
            self.attempts += 1
            try:
                async with link:
                    self.connections += 1
                    await self.connected()
                    while not self.stopping:
                        await self.round()
            except aiomqtt.MqttError:
                # The broker is not up yet, or went away (the hub stopping stops it).
                if not self.stopping:
                    await asyncio.sleep(_RETRY)


def _simulators(
    host: str, port: int, cameras: Mapping[str, Mapping[str, Any]]
) -> list[FrigateSimulator]:
    """One simulated Frigate per topic prefix, with the cameras it has (each publishes
    through a connection of its own, made when it plays)."""
    by_prefix: dict[str, list[SimCamera]] = {}
    for camera_id, settings in cameras.items():
        name = str(settings.get("camera") or camera_id)
        prefix = str(settings.get("prefix") or "frigate")
        by_prefix.setdefault(prefix, []).append(SimCamera(name))
    return [
        FrigateSimulator(NvrConnection(host, port, will=frigate_will(prefix)), sims, prefix=prefix)
        for prefix, sims in by_prefix.items()
    ]


@contextlib.asynccontextmanager
async def frigate_demo(
    host: str, port: int, cameras: Mapping[str, Mapping[str, Any]], interval: float
) -> AsyncIterator[list[DemoNvr]]:
    """Play the Frigate of ``cameras`` (camera id -> settings of a ``frigate`` camera)
    on the broker at ``host:port`` while the block runs (``BrokerSimulatorFactory``)."""
    nvrs = [DemoNvr(sim, interval) for sim in _simulators(host, port, cameras)]
    tasks = [
        asyncio.create_task(nvr.play(host, port), name=f"frigate demo {nvr.simulator.prefix}")
        for nvr in nvrs
    ]
    try:
        yield nvrs
    finally:
        for nvr in nvrs:
            nvr.stopping = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
