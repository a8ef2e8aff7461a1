"""The settings of each panel device type, one dataclass each, defaults stated once.

``docs/protocols/*.md`` ("Wiring and settings") prints these as tables. The defaults
that come from common practice rather than a specification (baud rates, intervals)
are settings precisely so that a site can override them.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.sdk import SerialStreamSettings, StreamSettings, redefault, setting
from plugins.panels.contact_id import LINE_FORMATS
from plugins.panels.sia_dc09 import DEFAULT_WINDOW, dc09_accounts_problem

__all__ = [
    "Ad2Settings",
    "ContactIdSettings",
    "Dc09Settings",
    "EnvisalinkSettings",
    "It100Options",
    "It100Settings",
]


@dataclass(frozen=True, kw_only=True)
class ContactIdSettings(SerialStreamSettings):
    """An alarm receiver's computer port printing Contact ID (quiet between events)."""

    line_format: str = setting(
        "auto",
        choices=tuple(sorted(LINE_FORMATS)),
        help="how the receiver prints a line: auto finds the 16 digits anywhere in it",
    )


@dataclass(frozen=True, kw_only=True)
class It100Options(StreamSettings):
    """What the IT-100 protocol adds, whatever carries it (serial or Envisalink)."""

    supervision_interval: float = redefault(StreamSettings, "supervision_interval", 90.0)
    poll_interval: float = setting(30.0, minimum=0.0, help="seconds between polls (000) (0 = off)")
    status_request: bool = setting(True, help="ask for a status report (001) when the link opens")


@dataclass(frozen=True, kw_only=True)
class It100Settings(It100Options, SerialStreamSettings):
    """A DSC PowerSeries panel through an IT-100 on a serial line."""


@dataclass(frozen=True, kw_only=True)
class EnvisalinkSettings(It100Options):
    """A DSC PowerSeries panel through an Envisalink's TPI (TCP port 4025)."""

    host: str = setting(required=True, help="the Envisalink's IP address or name")
    port: int = setting(4025, minimum=1, maximum=65535, help="the TPI port (4025)")
    password: str = setting(
        required=True, help="the TPI password (the Envisalink's web password); use !secret"
    )
    connect_timeout: float = setting(10.0, minimum=0.1, help="seconds to wait for the connection")


@dataclass(frozen=True, kw_only=True)
class Ad2Settings(SerialStreamSettings):
    """A Honeywell/Ademco Vista panel through an AlarmDecoder (keypad repeats: supervised)."""

    baudrate: int = redefault(SerialStreamSettings, "baudrate", 115200)
    supervision_interval: float = redefault(SerialStreamSettings, "supervision_interval", 90.0)
    partition: int = setting(
        1, minimum=1, maximum=8, help="the partition whose keypad the AlarmDecoder shows"
    )
    report_code_override: bool = setting(
        False, help="take the last two digits of an LRR event code from its report code"
    )


@dataclass(frozen=True, kw_only=True)
class Dc09Settings:
    """A SIA DC-09 receiver listening on TCP."""

    host: str = setting("0.0.0.0", help="address to listen on (0.0.0.0: every interface)")
    port: int = setting(
        required=True,
        minimum=0,
        maximum=65535,
        help="TCP port the communicators report to (as programmed in the panel)",
    )
    keys: dict[str, str] = setting(
        {},
        help="account -> AES key (32/48/64 hex digits or 16/24/32 characters);"
        ' "*" for any account; use !secret',
    )
    accounts: list[str] = setting(
        [],
        check=dc09_accounts_problem,
        help="the only accounts accepted (quoted, 3-16 hex digits), beside those with"
        " their own key; a frame from another account is refused with NAK"
        " (empty, with no per-account key: any account)",
    )
    timestamp_past: float = setting(
        DEFAULT_WINDOW[0],
        minimum=0.0,
        help="seconds a frame's timestamp may lag the hub's clock before NAK",
    )
    timestamp_future: float = setting(
        DEFAULT_WINDOW[1],
        minimum=0.0,
        help="seconds a frame's timestamp may lead the hub's clock before NAK",
    )
    supervision_interval: float = setting(
        0.0,
        minimum=0.0,
        help="seconds without an accepted frame (NULL link tests count) reported as"
        " link lost (0 = off)",
    )
    bad_frame_burst: int = setting(
        5,
        minimum=0,
        help="frames with a bad CRC, and runs of noise, within bad_frame_window reported"
        " as a line-quality trouble (0 = off)",
    )
    bad_frame_window: float = setting(
        60.0, minimum=1.0, help="the window of bad_frame_burst, seconds"
    )
