"""The firmware bridge: a MicroPython board that wires hold-up buttons, supervised
loops and panel outputs to the hub over a framed serial link.

The plugin declares the ``bridge`` device type (category ``bridge``): the SDK's stream
device on a serial line, speaking the protocol of firmware-bridge/PROTOCOL.md
(``plugins.bridge.device``, ``plugins.bridge.session``), with its settings
(``plugins.bridge.settings``) and, for the demo and the tests, the real firmware run
under the ``micropython`` command as its simulator (``plugins.bridge.board``). It uses
only ``hub.sdk``.

``plugins.bridge.codec`` is the wire codec, shared word for word with the firmware
(firmware-bridge/PROTOCOL.md): it imports nothing from the hub, so that it runs under
MicroPython too.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.sdk import DeviceType, hookimpl
from plugins.bridge.board import BridgeSimulator
from plugins.bridge.device import BridgeDevice
from plugins.bridge.settings import BridgeSettings

__all__ = ["BRIDGE_TYPE", "device_type", "register_device_types"]

#: The device type's name, as a shop file writes it.
BRIDGE_TYPE = "bridge"


def device_type() -> DeviceType:
    """The ``bridge`` device type."""
    return DeviceType(
        name=BRIDGE_TYPE,
        factory=BridgeDevice,
        settings=BridgeSettings,
        description="firmware bridge board (MicroPython) wiring hold-up buttons and"
        " supervised loops over USB serial or a UART",
        category="bridge",
        simulator=BridgeSimulator,
    )


@hookimpl
def register_device_types(register: Callable[[DeviceType], None]) -> None:
    """Declare the ``bridge`` device type."""
    register(device_type())
