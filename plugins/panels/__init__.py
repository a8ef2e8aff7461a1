"""Alarm panel protocols: Contact ID, DSC IT-100 and Envisalink, AlarmDecoder, SIA DC-09.

The plugin declares one device type per protocol, all in the ``panel`` category, with
its settings dataclass (``plugins.panels.settings``): the whole of what an installer
can set. It adds ``ecrin decode``, which replays a capture through the same decoders.
It uses only ``hub.sdk``.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.sdk import Command, DeviceType, hookimpl
from plugins.panels.devices import (
    Ad2Panel,
    ContactIdReceiver,
    EnvisalinkPanel,
    It100Panel,
    SiaDc09Receiver,
)
from plugins.panels.settings import (
    Ad2Settings,
    ContactIdSettings,
    Dc09Settings,
    EnvisalinkSettings,
    It100Settings,
)
from plugins.panels.simulators import It100Simulator

__all__ = ["DEVICE_TYPES", "device_types", "register_commands", "register_device_types"]


def device_types() -> list[DeviceType]:
    """Every device type of the plugin (the hook registers these)."""
    return [
        DeviceType(
            name="contact-id",
            factory=ContactIdReceiver,
            settings=ContactIdSettings,
            description="alarm receiver computer port printing Contact ID, one per line",
            category="panel",
        ),
        DeviceType(
            name="dsc-it100",
            factory=It100Panel,
            settings=It100Settings,
            description="DSC PowerSeries panel through an IT-100 RS-232 interface",
            category="panel",
            simulator=It100Simulator,
        ),
        DeviceType(
            name="envisalink",
            factory=EnvisalinkPanel,
            settings=EnvisalinkSettings,
            description="DSC PowerSeries panel through an Envisalink (TPI on TCP port 4025)",
            category="panel",
        ),
        DeviceType(
            name="ad2",
            factory=Ad2Panel,
            settings=Ad2Settings,
            description="Honeywell/Ademco Vista panel through an AlarmDecoder (AD2USB/AD2PI)",
            category="panel",
        ),
        DeviceType(
            name="sia-dc09",
            factory=SiaDc09Receiver,
            settings=Dc09Settings,
            description="SIA DC-09 receiver: IP communicators report over TCP (ACK/NAK/DUH)",
            category="panel",
        ),
    ]


#: The names of the device types, for documentation and tests.
DEVICE_TYPES = tuple(t.name for t in device_types())


@hookimpl
def register_device_types(register: Callable[[DeviceType], None]) -> None:
    """Declare the panel device types."""
    for device_type in device_types():
        register(device_type)


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    """Add ``ecrin decode``."""
    # Imported here, not at the top: ``python -m plugins.panels.decode_cli`` imports
    # this package first, and must find its own module not yet imported.
    from plugins.panels.decode_cli import decode_command

    register(decode_command())
