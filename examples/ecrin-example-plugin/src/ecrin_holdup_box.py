"""The hold-up button box: an example Écrin plugin for a new line protocol.

The box wires up to 99 hold-up buttons and prints one line per happening on its
serial port (9600 8N1), each ended by CR LF (or LF), as ``BODY*CK``: ``CK`` is the
sum of the bytes of ``BODY`` modulo 256, in two upper-case hexadecimal digits.

=============  ===============================================  ======================
Line           Meaning                                          Event
=============  ===============================================  ======================
``HU 3*F0``    button 3 pressed: a silent hold-up               ``AlarmSignal`` holdup
``RS 3*F8``    button 3 back to rest                            the same, ``restore``
``TA*95``      the box's lid was opened                         ``AlarmSignal`` tamper
``OK*9A``      heartbeat, every 10 seconds                      none (the link is up)
=============  ===============================================  ======================

A line with a wrong checksum, an unknown word or a button outside 1-99 is counted
and skipped, never raised: the next good line still gets through. The hub maps
button numbers to shop zones with the device's ``zones:`` in the shop file.

The plugin is one module written against ``hub.sdk`` only: a pure decoder (a
``LineDecoder`` subclass), a settings dataclass, a ``StreamDevice`` subclass that
names them, and the ``register_device_types`` hook. The SDK does the rest: the
serial link and its reconnection, supervision (silence past
``supervision_interval`` is ``LinkLost``), counters and line-quality troubles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hub.sdk import (
    AlarmKind,
    AlarmSignal,
    Decoder,
    DeviceType,
    Event,
    Line,
    LineDecoder,
    SerialStreamSettings,
    StreamDevice,
    hookimpl,
    redefault,
    setting,
)

__all__ = [
    "PROTOCOL",
    "HoldupBox",
    "HoldupBoxDecoder",
    "HoldupBoxSettings",
    "box_checksum",
    "encode_box",
    "register_device_types",
]

#: The device type's name, and the protocol put on its events.
PROTOCOL = "holdup-box"

#: The longest line the box prints ("HU 99*CK"), with room to spare.
MAX_LINE = 32


def box_checksum(body: bytes) -> str:
    """The checksum of a line's body: the sum of its bytes modulo 256, in hex."""
    return f"{sum(body) % 256:02X}"


def encode_box(body: str) -> bytes:
    """A whole line as the box prints it (for simulators and tests)."""
    raw = body.encode("ascii")
    return raw + b"*" + box_checksum(raw).encode("ascii") + b"\r\n"


class HoldupBoxDecoder(LineDecoder):
    """Lines of the box in, ``AlarmSignal`` out: pure, no I/O, never raising."""

    protocol = PROTOCOL

    def __init__(self, device: str) -> None:
        super().__init__(device, max_line=MAX_LINE)

    def decode_line(self, line: Line) -> list[Event]:
        """Check the checksum, then read the word and the button."""
        body, star, checksum = line.data.strip().rpartition(b"*")
        if not star:
            self.reject_frame(line.data, "no checksum")
            return []
        if checksum.upper() != box_checksum(body).encode("ascii"):
            self.reject_frame(
                line.data, f"bad checksum: expected {box_checksum(body)}", checksum=True
            )
            return []
        word, _, button = body.decode("ascii", "replace").partition(" ")
        if word == "OK" and not button:
            return []  # a heartbeat: the bytes already told supervision the link is up
        if word == "TA" and not button:
            return [self._signal(AlarmKind.TAMPER, None, restore=False)]
        if word in ("HU", "RS") and button.isdigit() and 1 <= int(button) <= 99:
            return [self._signal(AlarmKind.HOLDUP, int(button), restore=word == "RS")]
        self.reject_frame(line.data, f"unknown line {body!r}")
        return []

    def _signal(self, kind: AlarmKind, button: int | None, *, restore: bool) -> AlarmSignal:
        return AlarmSignal(
            kind=kind,
            device=self.device,
            restore=restore,
            panel_zone=button,
            code="TA" if kind is AlarmKind.TAMPER else "HU",
            protocol=PROTOCOL,
        )


@dataclass(frozen=True, kw_only=True)
class HoldupBoxSettings(SerialStreamSettings):
    """The box's settings: a serial line (``port`` required), supervised: the box
    prints a heartbeat every 10 seconds, so 30 seconds of silence is a lost link."""

    supervision_interval: float = redefault(SerialStreamSettings, "supervision_interval", 30.0)
    label: str = setting("", help="where the box is, for the installer (free text)")


class HoldupBox(StreamDevice[HoldupBoxSettings]):
    """The box on its serial line."""

    protocol = PROTOCOL
    settings_type = HoldupBoxSettings

    def make_decoder(self) -> Decoder:
        """The box's decoder."""
        return HoldupBoxDecoder(self.ctx.device_id)


@hookimpl
def register_device_types(register: Callable[[DeviceType], None]) -> None:
    """Declare ``holdup-box``."""
    register(
        DeviceType(
            name=PROTOCOL,
            factory=HoldupBox,
            settings=HoldupBoxSettings,
            description="hold-up button box printing HU/RS/TA/OK lines with a checksum",
            category="panel",
        )
    )
