"""Panel simulators: a panel played on the far end of a serial line.

The demo shop, and later the installer's walk test, need a panel that speaks its
protocol without the hardware. The simulator of a protocol belongs to the plugin that
decodes it (it shares its encoder), so a device type may declare one
(``DeviceType.simulator``) and whoever needs a panel asks the catalogue for it: the
sim plugin's demo never imports the panels plugin.

A simulator is built on a ``PtyCable`` (it plays the far end), entered as an async
context manager, and driven with the few happenings every panel protocol can say.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from hub.transports.pty import PtyCable

__all__ = ["PanelSimulator", "SimulatorFactory"]


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
