"""AlarmDecoder (AD2USB, AD2SERIAL, AD2PI) messages from Honeywell/Ademco Vista panels.

The AlarmDecoder prints one message per line. Most lines are keypad messages,
``[bitfield],NNN,[raw panel data],"32-character alpha text"``, repeated every few
seconds whether anything changed or not; the decoder turns them into a
``KeypadState`` (a ``PanelState``) only when the state changes. Panic and duress never
show in the keypad bitfield: they arrive as long-range radio reports, ``!LRR:``,
which in v2 firmware carry a Contact ID event (``!LRR:012,1,CID_1123,ff``) and are
mapped through the shared Contact ID table. Zone expanders (``!EXP``), relays
(``!REL``) and wireless transmitters (``!RFX``) get small typed events.

Bitfield positions (1-based), from the AlarmDecoder protocol as the alarmdecoder
library reads it: 1 ready, 2 armed away, 3 armed home, 4 backlight, 5 programming,
6 beeps (a digit), 7 zone bypassed, 8 AC power, 9 chime, 10 alarm event occurred,
11 alarm sounding, 12 battery low, 13 entry delay off, 14 fire, 15 check zone,
16 perimeter only, 17 system fault (a digit), 18 panel type (``A`` Ademco, ``D``
DSC). ``0`` is clear, ``-`` means the firmware does not report the bit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from hub.sdk import AlarmKind, AlarmSignal, Event, Line, LineDecoder
from plugins.panels.contact_id import cid_signal
from plugins.panels.panel_events import ExpanderReport, KeypadState, RfReport

__all__ = [
    "KEYPAD_BITS",
    "PROTOCOL",
    "Ad2Decoder",
    "Ad2Error",
    "ExpanderMessage",
    "KeypadMessage",
    "LrrMessage",
    "OtherMessage",
    "RfxMessage",
    "ad2_keypad_markdown",
    "encode_ad2_expander",
    "encode_ad2_keypad",
    "encode_ad2_lrr",
    "encode_ad2_rfx",
    "parse_ad2_message",
]

PROTOCOL = "ad2"

_KEYPAD = re.compile(
    r"(?:!KPM:)?\[(?P<bits>[0-9A-Za-z-]{18,32})\],(?P<code>[0-9A-Fa-f]{1,8}),"
    r'\[(?P<raw>[0-9A-Fa-f]{0,64})\],"(?P<alpha>[^"\r\n]{0,64})"'
)
_LRR_V2 = re.compile(
    r"!LRR:(?P<data>[0-9A-Fa-f]{1,4}),(?P<partition>\d{1,2}),"
    r"(?P<prefix>[A-Z0-9]{1,8})_(?P<q>[0-9A-F])(?P<xyz>[0-9A-F]{3}),(?P<report>[0-9A-Fa-f]{2})"
)
_LRR_V1 = re.compile(
    r"!LRR:(?P<data>[0-9A-Fa-f]{1,4}),(?P<partition>\d{1,2}),(?P<type>[A-Z][A-Z0-9_]{0,31})"
)
_EXPANDER = re.compile(
    r"!(?P<kind>EXP|REL):(?P<address>\d{1,3}),(?P<channel>\d{1,3}),(?P<value>\d{1,3})"
)
_RFX = re.compile(r"!RFX:(?P<serial>\d{1,10}),(?P<status>[0-9A-Fa-f]{1,2})")
_OTHER = re.compile(r"![ -~]{1,200}")

#: Keypad bitfield positions (1-based) the hub reads, and the field each one sets.
KEYPAD_BITS: Mapping[int, str] = {
    1: "ready",
    2: "armed_away",
    3: "armed_home",
    7: "zone_bypassed",
    8: "ac_power",
    10: "alarm_event_occurred",
    11: "alarm_sounding",
    12: "battery_low",
    14: "fire",
}

#: v1 LRR event types the hub understands (the rest are kept as ``other``).
_LRR_V1_KINDS = {"ALARM_PANIC": AlarmKind.PANIC}


class Ad2Error(ValueError):
    """A line that is not a usable AlarmDecoder message (``reason`` says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class KeypadMessage:
    """One keypad message, its bitfield read (None for a bit shown as ``-``)."""

    ready: bool | None
    armed_away: bool | None
    armed_home: bool | None
    zone_bypassed: bool | None
    ac_power: bool | None
    alarm_event_occurred: bool | None
    alarm_sounding: bool | None
    battery_low: bool | None
    fire: bool | None
    numeric_code: str
    panel_data: str
    text: str

    @property
    def state(self) -> str:
        """The Home Assistant state: sounding wins, then armed away, armed home."""
        if self.alarm_sounding:
            return "triggered"
        if self.armed_away:
            return "armed_away"
        if self.armed_home:
            return "armed_home"
        return "disarmed"


@dataclass(frozen=True, slots=True)
class LrrMessage:
    """A long-range radio report.

    Attributes:
        data: the zone or user digits.
        partition: the partition digits.
        event_type: ``CID_1123`` (v2) or a name such as ``ALARM_PANIC`` (v1).
        report_code: the 2-digit report code (v2), or ``""`` (v1).
    """

    data: str
    partition: str
    event_type: str
    report_code: str = ""

    @property
    def version(self) -> int:
        """2 for the Contact ID form with a report code, 1 for the named form."""
        return 2 if self.report_code else 1


@dataclass(frozen=True, slots=True)
class ExpanderMessage:
    """A zone expander (``!EXP``) or relay (``!REL``) change."""

    relay: bool
    address: int
    channel: int
    value: int


@dataclass(frozen=True, slots=True)
class RfxMessage:
    """A wireless transmission: serial number and status byte."""

    serial: str
    status: int

    def bit(self, number: int) -> bool:
        """Status bit ``number`` (1-based, 1 = least significant)."""
        return bool(self.status & (1 << (number - 1)))


@dataclass(frozen=True, slots=True)
class OtherMessage:
    """A well-formed ``!`` message the hub does not use (firmware prompts, ``!AUI``...)."""

    text: str


Ad2Message = KeypadMessage | LrrMessage | ExpanderMessage | RfxMessage | OtherMessage


def _bit(bits: str, position: int) -> bool | None:
    if position > len(bits):
        return None
    ch = bits[position - 1]
    if ch == "-":
        return None
    return ch != "0"


def parse_ad2_message(line: bytes | str) -> Ad2Message:
    """Parse one AlarmDecoder line (CR/LF optional).

    Raises:
        Ad2Error: the line is none of the AlarmDecoder's message forms.
    """
    text = line.decode("latin-1") if isinstance(line, bytes) else line
    text = text.rstrip("\r\n")
    if (m := _KEYPAD.fullmatch(text)) is not None:
        flags = {name: _bit(m["bits"], pos) for pos, name in KEYPAD_BITS.items()}
        return KeypadMessage(
            **flags,
            numeric_code=m["code"],
            panel_data=m["raw"],
            text=m["alpha"].strip(),
        )
    if text.startswith("!LRR:"):
        if (m := _LRR_V2.fullmatch(text)) is not None:
            return LrrMessage(
                m["data"], m["partition"], f"{m['prefix']}_{m['q']}{m['xyz']}", m["report"]
            )
        if (m := _LRR_V1.fullmatch(text)) is not None:
            return LrrMessage(m["data"], m["partition"], m["type"])
        raise Ad2Error("malformed !LRR message")
    if (m := _EXPANDER.fullmatch(text)) is not None:
        return ExpanderMessage(
            m["kind"] == "REL", int(m["address"]), int(m["channel"]), int(m["value"])
        )
    if text.startswith(("!EXP:", "!REL:")):
        raise Ad2Error(f"malformed {text[:4]} message")
    if (m := _RFX.fullmatch(text)) is not None:
        return RfxMessage(m["serial"], int(m["status"], 16))
    if text.startswith("!RFX:"):
        raise Ad2Error("malformed !RFX message")
    if text.startswith("["):
        raise Ad2Error("malformed keypad message")
    if _OTHER.fullmatch(text) is not None:
        return OtherMessage(text)
    raise Ad2Error("not an AlarmDecoder message")


class Ad2Decoder(LineDecoder):
    """Decode an AlarmDecoder's line stream into hub events.

    Attributes:
        ignored: well-formed messages the hub does not use (counted, not rejected).
    """

    protocol = PROTOCOL
    #: The AlarmDecoder's lines carry no checksum: every line it cannot use is noise.
    checked = False

    def __init__(
        self,
        device: str,
        *,
        partition: int = 1,
        report_code_override: bool = False,
        max_line: int = 256,
    ) -> None:
        """Create a decoder.

        Args:
            device: the device id put on every event.
            partition: the partition the keypad messages describe (the AlarmDecoder
                shows one keypad's view).
            report_code_override: replace the last two digits of an LRR Contact ID
                code with a report code other than ``00``/``ff``, as the alarmdecoder
                library does by default. Off: the code is taken as sent.
            max_line: longer lines are garbage.
        """
        super().__init__(device, max_line=max_line)
        self.ignored = 0
        self._partition = partition
        self._override = report_code_override
        self._last: tuple[object, ...] | None = None

    def decode_line(self, line: Line) -> list[Event]:
        text = line.data.decode("latin-1")
        whole: Ad2Message | None = None
        error: Ad2Error | None = None
        try:
            whole = parse_ad2_message(text)
        except Ad2Error as exc:
            error = exc
        if whole is not None and not isinstance(whole, OtherMessage):
            return self._apply(whole, line.data)
        # Garbage glued before a message (a "!" of noise makes the whole line look like
        # a firmware message): look for a message the hub uses starting further on.
        for start in range(1, len(text)):
            if text[start] not in "[!":
                continue
            try:
                msg = parse_ad2_message(text[start:])
            except Ad2Error:
                continue
            if isinstance(msg, OtherMessage):
                continue
            if not line.after_overflow:
                self.reject_frame(line.data[:start], "garbage before a message")
            return self._apply(msg, line.data[start:])
        if whole is not None:
            return self._apply(whole, line.data)
        if not line.after_overflow and error is not None:
            self.reject_frame(line.data, error.reason)
        return []

    def _apply(self, msg: Ad2Message, raw: bytes) -> list[Event]:
        if isinstance(msg, KeypadMessage):
            return self._keypad(msg)
        if isinstance(msg, LrrMessage):
            return self._lrr(msg, raw)
        if isinstance(msg, ExpanderMessage):
            return [
                ExpanderReport(
                    device=self.device,
                    relay=msg.relay,
                    address=msg.address,
                    channel=msg.channel,
                    value=msg.value,
                    raw=raw,
                )
            ]
        if isinstance(msg, RfxMessage):
            # Status bits as the alarmdecoder library reads them: 2 battery,
            # 3 supervision, 8 loop 1, 6 loop 2, 5 loop 3, 7 loop 4.
            return [
                RfReport(
                    device=self.device,
                    serial=msg.serial,
                    status=msg.status,
                    battery_low=msg.bit(2),
                    supervision=msg.bit(3),
                    loop1=msg.bit(8),
                    loop2=msg.bit(6),
                    loop3=msg.bit(5),
                    loop4=msg.bit(7),
                    raw=raw,
                )
            ]
        self.ignored += 1
        return []

    def _keypad(self, msg: KeypadMessage) -> list[Event]:
        key = (
            msg.state,
            msg.ready,
            msg.ac_power,
            msg.battery_low,
            msg.fire,
            msg.alarm_sounding,
            msg.zone_bypassed,
            msg.alarm_event_occurred,
        )
        if key == self._last:
            return []
        self._last = key
        return [
            KeypadState(
                device=self.device,
                partition=self._partition,
                state=msg.state,
                ready=msg.ready,
                ac_power=msg.ac_power,
                battery_low=msg.battery_low,
                fire=msg.fire,
                alarm_sounding=msg.alarm_sounding,
                text=msg.text,
                zone_bypassed=msg.zone_bypassed,
                alarm_event_occurred=msg.alarm_event_occurred,
            )
        ]

    def _lrr(self, msg: LrrMessage, raw: bytes) -> list[Event]:
        partition = int(msg.partition) or None
        if msg.version == 1:
            # v1 names the event but not whether the number is a zone or a user:
            # the number stays in the raw line rather than be guessed.
            return [
                AlarmSignal(
                    kind=_LRR_V1_KINDS.get(msg.event_type, AlarmKind.OTHER),
                    device=self.device,
                    partition=partition,
                    code=msg.event_type,
                    protocol=PROTOCOL,
                    raw=raw,
                )
            ]
        prefix, _, qxyz = msg.event_type.partition("_")
        qualifier, code = qxyz[0], qxyz[1:]
        if prefix != "CID" or not code.isdigit():
            return [
                AlarmSignal(
                    kind=AlarmKind.OTHER,
                    device=self.device,
                    partition=partition,
                    code=msg.event_type,
                    protocol=PROTOCOL,
                    raw=raw,
                )
            ]
        if qualifier not in "136":
            self.reject_frame(raw, f"LRR Contact ID qualifier must be 1, 3 or 6, got {qualifier}")
            return []
        report = msg.report_code.lower()
        if self._override and report not in ("00", "ff") and report.isdigit():
            code = code[0] + report
        return [
            cid_signal(
                qualifier=qualifier,
                code=code,
                group=msg.partition,
                number=msg.data,
                device=self.device,
                raw=raw,
                protocol=PROTOCOL,
            )
        ]


def ad2_keypad_markdown() -> str:
    """The keypad bits the hub reads, as printed in docs/protocols/ad2.md."""
    rows = ["| Position | Field |", "|---|---|"]
    rows += [f"| {pos} | `{name}` |" for pos, name in KEYPAD_BITS.items()]
    return "\n".join(rows)


# --- encoders for simulators -----------------------------------------------------------


def encode_ad2_keypad(
    *,
    ready: bool = True,
    armed_away: bool = False,
    armed_home: bool = False,
    zone_bypassed: bool = False,
    ac_power: bool = True,
    alarm_event_occurred: bool = False,
    alarm_sounding: bool = False,
    battery_low: bool = False,
    fire: bool = False,
    numeric_code: str = "008",
    text: str = "****DISARMED****  Ready to Arm  ",
) -> bytes:
    """Build a keypad message line as an AlarmDecoder on a Vista panel prints it."""
    flags = [
        ready,
        armed_away,
        armed_home,
        True,  # backlight
        False,  # programming
        False,  # beeps (digit 0)
        zone_bypassed,
        ac_power,
        False,  # chime
        alarm_event_occurred,
        alarm_sounding,
        battery_low,
        False,  # entry delay off
        fire,
        False,  # check zone
        False,  # perimeter only
        False,  # system fault (digit 0)
    ]
    bits = "".join("1" if f else "0" for f in flags) + "A--"
    alpha = text[:32].ljust(32)
    return f'[{bits}],{numeric_code},[f70000ff1008001c08020000000000],"{alpha}"\r\n'.encode(
        "latin-1"
    )


def encode_ad2_lrr(
    data: int, partition: int, qualifier: int, code: int, report_code: str = "ff"
) -> bytes:
    """Build a v2 ``!LRR`` line carrying a Contact ID event (zone or user ``data``)."""
    return f"!LRR:{data:03d},{partition},CID_{qualifier}{code:03d},{report_code}\r\n".encode()


def encode_ad2_expander(address: int, channel: int, value: int, *, relay: bool = False) -> bytes:
    """Build a ``!EXP`` (or ``!REL``) line."""
    kind = "REL" if relay else "EXP"
    return f"!{kind}:{address:02d},{channel:02d},{value:02d}\r\n".encode()


def encode_ad2_rfx(serial: str, status: int) -> bytes:
    """Build a ``!RFX`` line (status as 2 hex digits)."""
    return f"!RFX:{serial},{status:02x}\r\n".encode()
