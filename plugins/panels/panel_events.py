"""Small event types that only the panel protocols produce.

The hub's canonical events (``AlarmSignal``, ``PanelState``) cover alarms and partition
states. Panels also report things that are neither: a door opened while disarmed, a
receiver's link test, the panel acknowledging a command, a wireless sensor's status.
They are typed events too, so the journal records them and a walk test or a
supervision timer can subscribe to them, but they never take the life-safety lane.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.sdk import Event, PanelState

__all__ = [
    "ExpanderReport",
    "KeypadState",
    "LinkTest",
    "PanelReply",
    "RfReport",
    "ZoneActivity",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ZoneActivity(Event):
    """A panel zone opened or closed, with no alarm (DSC 609/610).

    Panels report this whether armed or not. It is not an alarm: the walk test uses
    it to prove a detector works, and the journal keeps it as context.

    Attributes:
        device: the configured device id.
        panel_zone: the zone number on the panel.
        open: True when the zone opened (faulted), False when it closed.
        protocol: the protocol name, e.g. ``"dsc-it100"``.
        raw: the frame, kept as evidence.
    """

    device: str
    panel_zone: int
    open: bool
    protocol: str = ""
    raw: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkTest(Event):
    """A link test arrived (SIA DC-09 ``NULL`` message): the path is alive.

    A supervision timer resets on it; it carries no alarm.

    Attributes:
        device: the configured device id.
        protocol: the protocol name, e.g. ``"sia-dc09"``.
        account: the account that sent it, when the protocol names one.
        raw: the frame, kept as evidence.
    """

    device: str
    protocol: str = ""
    account: str = ""
    raw: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class PanelReply(Event):
    """The panel (or its interface) answered a command from the hub.

    DSC IT-100: 500 acknowledges a command, 501 reports a command with a bad checksum,
    502 a system error with a code. The device uses these to confirm or retry what it
    sent; a reply to the poll (``000``) also proves the link is alive.

    Attributes:
        device: the configured device id.
        accepted: True when the command was acknowledged.
        command: the command acknowledged (500 gives it), or ``""``.
        error_code: the system error code (502), or None.
        reason: one line naming the error, ``""`` when accepted.
        protocol: the protocol name.
        raw: the frame, kept as evidence.
    """

    device: str
    accepted: bool
    command: str = ""
    error_code: int | None = None
    reason: str = ""
    protocol: str = ""
    raw: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpanderReport(Event):
    """An AlarmDecoder zone expander (``!EXP``) or relay (``!REL``) changed.

    Attributes:
        device: the configured device id.
        relay: True for a relay module (``!REL``), False for a zone expander.
        address: the module's keypad-bus address.
        channel: the input or relay number on the module.
        value: the new value (1 faulted or energised, 0 normal or released).
        raw: the line, kept as evidence.
    """

    device: str
    relay: bool
    address: int
    channel: int
    value: int
    raw: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class RfReport(Event):
    """A wireless sensor transmission seen by an AlarmDecoder (``!RFX``).

    Sensors repeat their state and send supervision check-ins; the panel decides what
    is an alarm and reports it through the keypad and LRR messages. This report lets
    the installer see a sensor's battery and loops during a walk test.

    Attributes:
        device: the configured device id.
        serial: the transmitter's serial number.
        status: the raw status byte.
        battery_low: the transmitter's battery is low.
        supervision: this is a supervision check-in.
        loop1: loop 1 is faulted (loops 2 to 4 likewise).
        raw: the line, kept as evidence.
    """

    device: str
    serial: str
    status: int
    battery_low: bool
    supervision: bool
    loop1: bool
    loop2: bool
    loop3: bool
    loop4: bool
    raw: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class KeypadState(PanelState):
    """A ``PanelState`` with the extra keypad flags an AlarmDecoder sees.

    It is a ``PanelState`` (subscribers to ``PanelState`` receive it), with two
    flags Home Assistant's vocabulary has no room for.

    Attributes:
        zone_bypassed: at least one zone is bypassed.
        alarm_event_occurred: an alarm happened since the last disarm (the keypad
            shows it in memory until cleared).
    """

    zone_bypassed: bool | None = None
    alarm_event_occurred: bool | None = None
