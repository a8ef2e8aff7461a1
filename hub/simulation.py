"""Simulators: a panel played on the far end of a serial line, cameras on a broker.

The demo shop, and later the installer's walk test, need devices that speak their
protocol without the hardware. The simulator of a protocol belongs to the plugin that
decodes it (it shares its encoder, its topics and payloads), so a device type may
declare one and whoever needs it asks the catalogue: the sim plugin's demo never
imports the panels or the cameras plugin.

* ``DeviceType.simulator``: a panel, built on a ``PtyCable`` (it plays the far end),
  entered as an async context manager, and driven with the few happenings every panel
  protocol can say (``PanelSimulator``).
* ``DeviceType.broker_simulator``: the cameras of a message device type (an NVR and
  its cameras), played on a broker through a connection of their own, as the real ones
  publish: online and recording, motion and detections now and then, an outage on a
  long period. It runs by itself while its block runs (``BrokerSimulatorFactory``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from hub.transports.pty import PtyCable

__all__ = ["BrokerSimulatorFactory", "PanelSimulator", "SimulatorFactory"]


@runtime_checkable
class PanelSimulator(Protocol):
    """A simulated panel on the far end of a pseudo-terminal."""

    async def __aenter__(self) -> Any:
        """Start answering what the hub sends."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        """Stop answering."""

    async def disarmed(self) -> Any:
        """Report the panel (its first partition) disarmed and ready."""

    async def zone_open(self, zone: int) -> Any:
        """Report a zone opened (a door)."""

    async def zone_closed(self, zone: int) -> Any:
        """Report the zone closed again."""

    async def zone_alarm(self, zone: int) -> Any:
        """Report an alarm on a zone (a hold-up button's zone: a hold-up)."""

    async def zone_restore(self, zone: int) -> Any:
        """Report the zone's alarm restored."""

    async def garbage(self, length: int) -> Any:
        """Send ``length`` bytes of line noise."""


#: Builds a simulator on a cable (``DeviceType.simulator``).
SimulatorFactory = Callable[["PtyCable"], PanelSimulator]

#: Plays the cameras of a message device type on a broker (``DeviceType.broker_simulator``):
#: called with the broker's host and port, the cameras of that type as the configuration
#: gives them (camera id -> settings) and the pace of the demo (seconds between two
#: happenings), it returns an async context manager that connects to the broker by
#: itself (again and again while the broker is away) and plays the cameras until the
#: block ends: ``async with factory("127.0.0.1", 1883, cameras, 5.0): ...``.
BrokerSimulatorFactory = Callable[
    [str, int, Mapping[str, Mapping[str, Any]], float], AbstractAsyncContextManager[Any]
]
