"""Alarm panel protocols: Contact ID, DSC IT-100 and Envisalink, AlarmDecoder, SIA DC-09.

The plugin declares one device type per protocol, all in the ``panel`` category. The
settings below are the whole of what an installer can set; each has a default where
the field agrees on one, and the defaults that come from common practice rather than a
specification (baud rates, intervals) are settings precisely so that a site can
override them. ``docs/protocols/*.md`` ("Wiring and settings") prints these tables.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.devices import DeviceType
from hub.hookspecs import hookimpl
from hub.schema import Schema, Setting
from hub.transports.serial import PARITIES
from plugins.panels.contact_id import LINE_FORMATS
from plugins.panels.devices import (
    Ad2Panel,
    ContactIdReceiver,
    EnvisalinkPanel,
    It100Panel,
    SiaDc09Receiver,
)
from plugins.panels.sia_dc09 import DEFAULT_WINDOW, dc09_accounts_problem

__all__ = ["DEVICE_TYPES", "device_types", "register_device_types", "serial_schema"]

_BAUD_MIN, _BAUD_MAX = 50, 4_000_000


def serial_schema(*, baudrate: int, supervision: float) -> dict[str, Setting]:
    """The settings every serial panel takes, with this protocol's defaults.

    Args:
        baudrate: the usual speed of the protocol's interface.
        supervision: the default silence interval (0 when the link is legitimately
            quiet between events).
    """
    return {
        "port": Setting(
            str,
            required=True,
            help="serial device (prefer /dev/serial/by-id/...) or pyserial URL",
        ),
        "baudrate": Setting(
            int, default=baudrate, minimum=_BAUD_MIN, maximum=_BAUD_MAX, help="bits per second"
        ),
        "bytesize": Setting(int, default=8, choices=(5, 6, 7, 8), help="data bits"),
        "parity": Setting(str, default="N", choices=PARITIES, help="N none, E even, O odd"),
        "stopbits": Setting(float, default=1.0, choices=(1.0, 1.5, 2.0), help="stop bits"),
        "rtscts": Setting(bool, default=False, help="hardware (RTS/CTS) flow control"),
        "xonxoff": Setting(bool, default=False, help="software (XON/XOFF) flow control"),
        "supervision_interval": Setting(
            float,
            default=supervision,
            minimum=0.0,
            help="seconds of silence reported as link lost (0 = off)",
        ),
        "reconnect_max": Setting(
            float,
            default=30.0,
            minimum=0.1,
            maximum=3600.0,
            help="longest wait between two attempts to reopen a lost link, seconds",
        ),
        "bad_frame_burst": Setting(
            int,
            default=5,
            minimum=0,
            help="bad frames (bad checksums, runs of noise) within bad_frame_window reported"
            " as a line-quality trouble (0 = off)",
        ),
        "bad_frame_window": Setting(
            float, default=60.0, minimum=1.0, help="the window of bad_frame_burst, seconds"
        ),
    }


def _contact_id_schema() -> Schema:
    schema = serial_schema(baudrate=9600, supervision=0.0)
    schema["line_format"] = Setting(
        str,
        default="auto",
        choices=tuple(sorted(LINE_FORMATS)),
        help="how the receiver prints a line: auto finds the 16 digits anywhere in it",
    )
    return schema


def _it100_schema() -> Schema:
    schema = serial_schema(baudrate=9600, supervision=90.0)
    schema["poll_interval"] = Setting(
        float, default=30.0, minimum=0.0, help="seconds between polls (000) (0 = off)"
    )
    schema["status_request"] = Setting(
        bool, default=True, help="ask for a status report (001) when the link opens"
    )
    return schema


def _envisalink_schema() -> Schema:
    serial = serial_schema(baudrate=9600, supervision=90.0)
    schema: dict[str, Setting] = {
        "host": Setting(str, required=True, help="the Envisalink's IP address or name"),
        "port": Setting(int, default=4025, minimum=1, maximum=65535, help="the TPI port (4025)"),
        "password": Setting(
            str, required=True, help="the TPI password (the Envisalink's web password); use !secret"
        ),
        "connect_timeout": Setting(
            float, default=10.0, minimum=0.1, help="seconds to wait for the connection"
        ),
    }
    for key in ("supervision_interval", "reconnect_max", "bad_frame_burst", "bad_frame_window"):
        schema[key] = serial[key]
    it100 = _it100_schema()
    schema["poll_interval"] = it100["poll_interval"]
    schema["status_request"] = it100["status_request"]
    return schema


def _ad2_schema() -> Schema:
    schema = serial_schema(baudrate=115200, supervision=90.0)
    schema["partition"] = Setting(
        int,
        default=1,
        minimum=1,
        maximum=8,
        help="the partition whose keypad the AlarmDecoder shows",
    )
    schema["report_code_override"] = Setting(
        bool,
        default=False,
        help="take the last two digits of an LRR event code from its report code",
    )
    return schema


def _dc09_schema() -> Schema:
    return {
        "host": Setting(
            str, default="0.0.0.0", help="address to listen on (0.0.0.0: every interface)"
        ),
        "port": Setting(
            int,
            required=True,
            minimum=0,
            maximum=65535,
            help="TCP port the communicators report to (as programmed in the panel)",
        ),
        "keys": Setting(
            dict,
            default={},
            help="account -> AES key (32/48/64 hex digits or 16/24/32 characters);"
            ' "*" for any account; use !secret',
        ),
        "accounts": Setting(
            list,
            default=[],
            check=dc09_accounts_problem,
            help="the only accounts accepted (quoted, 3-16 hex digits), beside those with"
            " their own key; a frame from another account is refused with NAK"
            " (empty, with no per-account key: any account)",
        ),
        "timestamp_past": Setting(
            float,
            default=DEFAULT_WINDOW[0],
            minimum=0.0,
            help="seconds a frame's timestamp may lag the hub's clock before NAK",
        ),
        "timestamp_future": Setting(
            float,
            default=DEFAULT_WINDOW[1],
            minimum=0.0,
            help="seconds a frame's timestamp may lead the hub's clock before NAK",
        ),
        "supervision_interval": Setting(
            float,
            default=0.0,
            minimum=0.0,
            help="seconds without an accepted frame (NULL link tests count) reported as"
            " link lost (0 = off)",
        ),
        "bad_frame_burst": Setting(
            int,
            default=5,
            minimum=0,
            help="frames with a bad CRC, and runs of noise, within bad_frame_window reported"
            " as a line-quality trouble (0 = off)",
        ),
        "bad_frame_window": Setting(
            float, default=60.0, minimum=1.0, help="the window of bad_frame_burst, seconds"
        ),
    }


def device_types() -> list[DeviceType]:
    """Every device type of the plugin (the hook registers these)."""
    return [
        DeviceType(
            name="contact-id",
            factory=ContactIdReceiver,
            schema=_contact_id_schema(),
            description="alarm receiver computer port printing Contact ID, one per line",
            category="panel",
        ),
        DeviceType(
            name="dsc-it100",
            factory=It100Panel,
            schema=_it100_schema(),
            description="DSC PowerSeries panel through an IT-100 RS-232 interface",
            category="panel",
        ),
        DeviceType(
            name="envisalink",
            factory=EnvisalinkPanel,
            schema=_envisalink_schema(),
            description="DSC PowerSeries panel through an Envisalink (TPI on TCP port 4025)",
            category="panel",
        ),
        DeviceType(
            name="ad2",
            factory=Ad2Panel,
            schema=_ad2_schema(),
            description="Honeywell/Ademco Vista panel through an AlarmDecoder (AD2USB/AD2PI)",
            category="panel",
        ),
        DeviceType(
            name="sia-dc09",
            factory=SiaDc09Receiver,
            schema=_dc09_schema(),
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
