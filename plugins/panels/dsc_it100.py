"""DSC PowerSeries IT-100 (and Envisalink TPI) frames: decode, encode, map to events.

Every frame, in both directions, is ASCII: a 3-digit command, its data, a 2-digit
checksum and CR LF. The checksum is the sum of the ASCII codes of the command and
data, keeping the low 8 bits, written as 2 upper-case hex digits: the poll is
``00090``, a police panic sent to the panel ``0603C9``.

The decoder turns the panel's messages into the hub's events: zone alarms and
tampers, keypad fire/auxiliary/panic keys and troubles become ``AlarmSignal``; the
partition messages (ready, armed, in alarm, disarmed, exit and entry delay) become a
``PanelState`` whenever a partition's state changes; zone open/restored (609/610)
become ``ZoneActivity``, never an alarm; the interface's replies (500/501/502)
become ``PanelReply``. The table ``IT100_MESSAGES`` is the single source of that
mapping, and the docs page prints it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from hub.sdk import AlarmKind, AlarmSignal, Event, Line, LineDecoder, PanelState
from plugins.panels.panel_events import PanelReply, ZoneActivity

__all__ = [
    "ARM_MODES",
    "IT100_MESSAGES",
    "PROTOCOL",
    "SYSTEM_ERRORS",
    "It100Decoder",
    "It100Error",
    "It100Frame",
    "It100Message",
    "encode_it100",
    "it100_arm",
    "it100_checksum",
    "it100_code_send",
    "it100_disarm",
    "it100_login",
    "it100_messages_markdown",
    "it100_panic",
    "it100_poll",
    "it100_set_time",
    "it100_status_request",
    "parse_it100_frame",
]

PROTOCOL = "dsc-it100"

_K = AlarmKind

# Data layouts, as regexes with named groups.
_NONE = ""
_P = r"(?P<partition>[1-8])"
_Z = r"(?P<zone>\d{3})"
_PZ = _P + _Z
_PU = _P + r"(?P<user>\d{4})"
_ANY = r"[ -~]*"


@dataclass(frozen=True, slots=True)
class It100Message:
    """What one inbound command means to the hub.

    Attributes:
        command: the 3-digit command.
        label: the guide's name for it.
        data: a regex the data field must match in full (named groups ``partition``,
            ``zone``, ``user``, ``mode``, ``command``, ``code``).
        kind: the ``AlarmSignal`` kind it raises, or None.
        restore: the signal is a restore.
        effect: what else it does: ``reply-ok``, ``reply-error``, ``zone-open``,
            ``zone-closed``, ``ready``, ``not-ready`` or a partition state
            (``armed``, ``triggered``, ``disarmed``, ``arming``, ``pending``);
            ``""`` when it raises a signal or is only informative.
    """

    command: str
    label: str
    data: str
    kind: AlarmKind | None = None
    restore: bool = False
    effect: str = ""

    @property
    def strict(self) -> bool:
        """The data layout is precise enough to find this frame after garbage."""
        return self.data != _ANY


def _m(
    command: int,
    label: str,
    data: str,
    kind: AlarmKind | None = None,
    *,
    restore: bool = False,
    effect: str = "",
) -> tuple[str, It100Message]:
    key = f"{command:03d}"
    return key, It100Message(key, label, data, kind, restore, effect)


#: Every inbound command the decoder knows. Commands not listed are counted as
#: unknown (when their checksum is good) and skipped.
IT100_MESSAGES: Mapping[str, It100Message] = dict(
    [
        _m(500, "Command acknowledge", r"(?P<command>\d{3})", effect="reply-ok"),
        _m(501, "Command error (bad checksum)", _NONE, effect="reply-error"),
        _m(502, "System error", r"(?P<code>\d{3})", effect="reply-error"),
        _m(505, "Login interaction (TPI)", r"(?P<login>[0-3])", effect="reply-login"),
        _m(510, "Keypad LED state", _ANY),
        _m(511, "Keypad LED flash state", _ANY),
        _m(550, "Time/date broadcast", _ANY),
        _m(560, "Ring detected", _ANY),
        _m(561, "Indoor temperature", _ANY),
        _m(562, "Outdoor temperature", _ANY),
        _m(563, "Thermostat set points", _ANY),
        _m(570, "Broadcast labels", _ANY),
        _m(580, "Baud rate set", _ANY),
        _m(601, "Zone alarm", _PZ, _K.BURGLARY),
        _m(602, "Zone alarm restore", _PZ, _K.BURGLARY, restore=True),
        _m(603, "Zone tamper", _PZ, _K.TAMPER),
        _m(604, "Zone tamper restore", _PZ, _K.TAMPER, restore=True),
        _m(605, "Zone fault", _Z, _K.TROUBLE),
        _m(606, "Zone fault restore", _Z, _K.TROUBLE, restore=True),
        _m(609, "Zone open", _Z, effect="zone-open"),
        _m(610, "Zone restored", _Z, effect="zone-closed"),
        _m(615, "Zone timer dump (TPI)", _ANY),
        _m(620, "Duress alarm", r"\d{0,4}", _K.DURESS),
        _m(621, "Fire key alarm", _NONE, _K.FIRE),
        _m(622, "Fire key restore", _NONE, _K.FIRE, restore=True),
        _m(623, "Auxiliary key alarm", _NONE, _K.MEDICAL),
        _m(624, "Auxiliary key restore", _NONE, _K.MEDICAL, restore=True),
        _m(625, "Panic key alarm", _NONE, _K.PANIC),
        _m(626, "Panic key restore", _NONE, _K.PANIC, restore=True),
        _m(631, "2-wire smoke/auxiliary alarm", _NONE, _K.FIRE),
        _m(632, "2-wire smoke/auxiliary restore", _NONE, _K.FIRE, restore=True),
        _m(650, "Partition ready", _P, effect="ready"),
        _m(651, "Partition not ready", _P, effect="not-ready"),
        _m(652, "Partition armed", _P + r"(?P<mode>[0-3])?", effect="armed"),
        _m(653, "Partition ready, force arming enabled", _P, effect="ready"),
        _m(654, "Partition in alarm", _P, effect="triggered"),
        _m(655, "Partition disarmed", _P, effect="disarmed"),
        _m(656, "Exit delay in progress", _P, effect="arming"),
        _m(657, "Entry delay in progress", _P, effect="pending"),
        _m(658, "Keypad lock-out", _P),
        _m(659, "Partition failed to arm", _P),
        _m(660, "PGM output in progress", _P),
        _m(663, "Chime enabled", _P),
        _m(664, "Chime disabled", _P),
        _m(670, "Invalid access code", _P),
        _m(671, "Function not available", _P),
        _m(672, "Failure to arm", _P),
        _m(673, "Partition busy", _P),
        _m(674, "System arming in progress", _P, effect="arming"),
        _m(680, "System in installer's mode", _ANY),
        _m(700, "User closing (armed by user)", _PU, _K.CLOSING),
        _m(701, "Special closing", _P, _K.CLOSING),
        _m(702, "Partial closing (armed with bypass)", _P, _K.CLOSING),
        _m(750, "User opening (disarmed by user)", _PU, _K.OPENING),
        _m(751, "Special opening", _P, _K.OPENING),
        _m(800, "Panel battery trouble", _NONE, _K.TROUBLE),
        _m(801, "Panel battery trouble restore", _NONE, _K.TROUBLE, restore=True),
        _m(802, "Panel AC trouble", _NONE, _K.TROUBLE),
        _m(803, "Panel AC restore", _NONE, _K.TROUBLE, restore=True),
        _m(806, "System bell trouble", _NONE, _K.TROUBLE),
        _m(807, "System bell trouble restore", _NONE, _K.TROUBLE, restore=True),
        _m(810, "TLM line 1 trouble", _NONE, _K.TROUBLE),
        _m(811, "TLM line 1 trouble restore", _NONE, _K.TROUBLE, restore=True),
        _m(812, "TLM line 2 trouble", _NONE, _K.TROUBLE),
        _m(813, "TLM line 2 trouble restore", _NONE, _K.TROUBLE, restore=True),
        _m(814, "Failure to communicate", _NONE, _K.TROUBLE),
        _m(816, "Event buffer near full", _NONE),
        _m(821, "Device low battery", _Z, _K.TROUBLE),
        _m(822, "Device low battery restore", _Z, _K.TROUBLE, restore=True),
        _m(825, "Wireless key low battery", r"\d{3}", _K.TROUBLE),
        _m(826, "Wireless key low battery restore", r"\d{3}", _K.TROUBLE, restore=True),
        _m(827, "Handheld keypad low battery", r"\d{3}", _K.TROUBLE),
        _m(828, "Handheld keypad low battery restore", r"\d{3}", _K.TROUBLE, restore=True),
        _m(829, "General system tamper", _NONE, _K.TAMPER),
        _m(830, "General system tamper restore", _NONE, _K.TAMPER, restore=True),
        _m(831, "Home automation trouble", _NONE, _K.TROUBLE),
        _m(832, "Home automation trouble restore", _NONE, _K.TROUBLE, restore=True),
        _m(840, "Trouble LED on", _P, _K.TROUBLE),
        _m(841, "Trouble LED off", _P, _K.TROUBLE, restore=True),
        _m(842, "Fire trouble alarm", _NONE, _K.TROUBLE),
        _m(843, "Fire trouble alarm restore", _NONE, _K.TROUBLE, restore=True),
        _m(849, "Verbose trouble status", _ANY),
        _m(896, "Keybus fault", _NONE, _K.TROUBLE),
        _m(897, "Keybus fault restore", _NONE, _K.TROUBLE, restore=True),
        _m(900, "Code required", _ANY),
        _m(901, "LCD update", _ANY),
        _m(902, "LCD cursor", _ANY),
        _m(903, "LED status", _ANY),
        _m(904, "Beep status", _ANY),
        _m(905, "Tone status", _ANY),
        _m(906, "Buzzer status", _ANY),
        _m(907, "Door chime status", _ANY),
        _m(908, "Software version", _ANY),
        _m(912, "Command output pressed", _ANY),
        _m(921, "Master code required", _ANY),
        _m(922, "Installer's code required", _ANY),
    ]
)

_PATTERNS: Mapping[str, re.Pattern[str]] = {
    key: re.compile(msg.data) for key, msg in IT100_MESSAGES.items()
}

#: 652 mode digit to the Home Assistant state.
ARM_MODES: Mapping[str, str] = {
    "0": "armed_away",
    "1": "armed_home",
    "2": "armed_away",
    "3": "armed_night",
}

#: 502 system error codes.
SYSTEM_ERRORS: Mapping[int, str] = {
    0: "no error",
    1: "receive buffer overrun",
    2: "receive buffer overflow",
    3: "transmit buffer overflow",
    10: "keybus transmit buffer overrun",
    11: "keybus transmit time timeout",
    12: "keybus transmit mode timeout",
    13: "keybus transmit keystring timeout",
    14: "keybus interface not functioning",
    15: "keybus busy, arming or disarming with a user code",
    16: "keybus busy, lockout",
    17: "keybus busy, installer's mode",
    18: "keybus busy",
    20: "command syntax error",
    21: "partition out of bounds",
    22: "command not supported",
    23: "system not armed (disarm refused)",
    24: "system not ready to arm",
    25: "command invalid length",
    26: "user code not required",
    27: "invalid characters in command",
    28: "virtual keypad disabled",
    29: "invalid parameter",
}


#: 505 login states (Envisalink TPI), reported as ``PanelReply.error_code``.
_LOGIN = {
    0: "TPI login refused: wrong password",
    1: "",
    2: "TPI login timed out",
    3: "TPI asks for the password",
}


class It100Error(ValueError):
    """A frame that cannot be used.

    Attributes:
        reason: one line saying why.
        checksum: True when the frame was well formed but its checksum was wrong.
    """

    def __init__(self, reason: str, *, checksum: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.checksum = checksum


@dataclass(frozen=True, slots=True)
class It100Frame:
    """One checked frame, in either direction."""

    command: str
    data: str

    def encode(self) -> bytes:
        """The frame's bytes, with checksum and CR LF."""
        return encode_it100(self.command, self.data)


def it100_checksum(command: str, data: str = "") -> str:
    """Sum of the ASCII codes of command and data, low 8 bits, 2 upper-case hex digits."""
    return format(sum((command + data).encode("ascii")) & 0xFF, "02X")


def encode_it100(command: str | int, data: str = "") -> bytes:
    """Build a frame (either direction): ``command + data + checksum + CR LF``.

    Raises:
        It100Error: the command is not 3 digits or the data is not printable ASCII.
    """
    cmd = f"{command:03d}" if isinstance(command, int) else command
    if len(cmd) != 3 or not cmd.isdigit():
        raise It100Error(f"command must be 3 digits, got {command!r}")
    if not (data.isascii() and data.isprintable()):  # " " to "~" only
        raise It100Error(f"data must be printable ASCII, got {data!r}")
    return f"{cmd}{data}{it100_checksum(cmd, data)}\r\n".encode("ascii")


def parse_it100_frame(line: bytes | str) -> It100Frame:
    """Check one frame (CR/LF optional) and split it into command and data.

    Raises:
        It100Error: too short, not ASCII, no 3-digit command, or a bad checksum.
    """
    text = line.decode("latin-1") if isinstance(line, bytes) else line
    text = text.rstrip("\r\n")
    if len(text) < 5:
        raise It100Error(f"frame too short ({len(text)} characters)")
    if not (text.isascii() and text.isprintable()):  # ' ' to '~' only
        raise It100Error("frame has characters that are not printable ASCII")
    command, data, given = text[:3], text[3:-2], text[-2:].upper()
    if not command.isdigit():
        raise It100Error(f"command must be 3 digits, got {command!r}")
    expected = it100_checksum(command, data)
    if given != expected:
        raise It100Error(f"bad checksum: expected {expected}, got {text[-2:]}", checksum=True)
    return It100Frame(command, data)


# --- commands the hub sends ----------------------------------------------------------

_PANIC = {"fire": "1", "ambulance": "2", "police": "3"}
_ARM = {"away": "030", "stay": "031", "no-entry-delay": "032"}


def _partition(partition: int) -> str:
    if not 1 <= partition <= 8:
        raise It100Error(f"partition must be 1-8, got {partition}")
    return str(partition)


def _code(code: str) -> str:
    if not code.isdigit() or not 4 <= len(code) <= 6:
        raise It100Error("user code must be 4 to 6 digits")
    return code


def it100_poll() -> bytes:
    """The poll (``000``); the interface answers ``500000``. Used as a link check."""
    return encode_it100("000")


def it100_login(password: str) -> bytes:
    """Answer the Envisalink TPI's login prompt (``5053``) with its password (``005``)."""
    if not 1 <= len(password) <= 6 or any(not " " < ch <= "~" for ch in password):
        raise It100Error("TPI password must be 1 to 6 printable characters")
    return encode_it100("005", password)


def it100_status_request() -> bytes:
    """Ask for a status report (``001``): the panel replays zone and partition states."""
    return encode_it100("001")


def it100_set_time(when: datetime) -> bytes:
    """Set the panel's clock (``010`` with ``hhmmMMDDYY``)."""
    return encode_it100("010", when.strftime("%H%M%m%d%y"))


def it100_arm(partition: int, mode: str = "away") -> bytes:
    """Arm a partition: ``away`` (030), ``stay`` (031) or ``no-entry-delay`` (032)."""
    if mode not in _ARM:
        raise It100Error(f"arm mode must be one of {', '.join(_ARM)}, got {mode!r}")
    return encode_it100(_ARM[mode], _partition(partition))


def it100_disarm(partition: int, code: str) -> bytes:
    """Disarm a partition with a user code (``040``)."""
    return encode_it100("040", _partition(partition) + _code(code))


def it100_panic(kind: str = "police") -> bytes:
    """Trigger a keypad panic (``060``): ``fire``, ``ambulance`` or ``police``."""
    if kind not in _PANIC:
        raise It100Error(f"panic kind must be one of {', '.join(_PANIC)}, got {kind!r}")
    return encode_it100("060", _PANIC[kind])


def it100_code_send(code: str) -> bytes:
    """Answer a ``900`` code request with a user code (``200``)."""
    return encode_it100("200", _code(code))


# --- decoder -------------------------------------------------------------------------


@dataclass(slots=True)
class _Partition:
    state: str | None = None
    ready: bool | None = None


class It100Decoder(LineDecoder):
    """Decode the panel-to-hub stream of an IT-100 or Envisalink TPI.

    Attributes:
        unknown: frames with a good checksum and a command the table does not know
            (counted, rejected with the reason, never counted as bad checksum).
    """

    protocol = PROTOCOL

    def __init__(self, device: str, *, max_line: int = 128) -> None:
        """Create a decoder for ``device``; longer lines than ``max_line`` are garbage."""
        super().__init__(device, max_line=max_line)
        self.unknown = 0
        self._partitions: dict[int, _Partition] = {}

    def decode_line(self, line: Line) -> list[Event]:
        text = line.data.decode("latin-1")
        whole: It100Frame | None = None
        error: It100Error | None = None
        try:
            whole = parse_it100_frame(text)
        except It100Error as exc:
            error = exc
        if whole is not None:
            match = self._layout(whole)
            if match is not None:
                return self._frame(whole, line.data, match)
        # A garbage prefix (line noise, a reboot) glued to a good frame: find the
        # frame at the end. Only precise layouts count, so noise cannot pass.
        for start in range(1, len(text) - 4):
            try:
                frame = parse_it100_frame(text[start:])
            except It100Error:
                continue
            msg = IT100_MESSAGES.get(frame.command)
            if msg is not None and msg.strict and (match := self._layout(frame)) is not None:
                if not line.after_overflow:
                    self.reject_frame(line.data[:start], "garbage before a frame", noise=True)
                return self._frame(frame, line.data[start:], match)
        if whole is not None:
            return self._frame(whole, line.data, None)
        if not line.after_overflow and error is not None:
            self.reject_frame(line.data, error.reason, checksum=error.checksum)
        return []

    @staticmethod
    def _layout(frame: It100Frame) -> re.Match[str] | None:
        """The frame's data matched to its command's layout (None: none fits)."""
        pattern = _PATTERNS.get(frame.command)
        return pattern.fullmatch(frame.data) if pattern is not None else None

    def _frame(self, frame: It100Frame, raw: bytes, match: re.Match[str] | None) -> list[Event]:
        """Decode a checked frame; ``match``: its data matched to its layout
        (``_layout``), None when it does not fit."""
        msg = IT100_MESSAGES.get(frame.command)
        if msg is None:
            self.unknown += 1
            self.reject_frame(raw, f"unknown command {frame.command}")
            return []
        if match is None:
            self.reject_frame(raw, f"bad data {frame.data!r} for {frame.command} ({msg.label})")
            return []
        fields = {k: v for k, v in match.groupdict().items() if v is not None}
        partition = int(fields["partition"]) if "partition" in fields else None
        if msg.kind is not None:
            user = fields.get("user")
            zone = fields.get("zone")
            return [
                AlarmSignal(
                    kind=msg.kind,
                    device=self.device,
                    restore=msg.restore,
                    panel_zone=int(zone) if zone is not None else None,
                    user=int(user) if user is not None else None,
                    partition=partition,
                    code=frame.command,
                    protocol=PROTOCOL,
                    raw=raw,
                )
            ]
        if msg.effect.startswith("reply"):
            return [self._reply(msg, fields, raw)]
        if msg.effect.startswith("zone"):
            return [
                ZoneActivity(
                    device=self.device,
                    panel_zone=int(fields["zone"]),
                    open=msg.effect == "zone-open",
                    protocol=PROTOCOL,
                    raw=raw,
                )
            ]
        if msg.effect and partition is not None:
            return self._partition(partition, msg.effect, fields.get("mode"))
        return []

    def _reply(self, msg: It100Message, fields: Mapping[str, str], raw: bytes) -> PanelReply:
        if msg.effect == "reply-login":
            state = int(fields["login"])
            return PanelReply(
                device=self.device,
                accepted=state == 1,
                command="005",
                error_code=None if state == 1 else state,
                reason=_LOGIN[state],
                protocol=PROTOCOL,
                raw=raw,
            )
        if msg.effect == "reply-ok":
            return PanelReply(
                device=self.device,
                accepted=True,
                command=fields["command"],
                protocol=PROTOCOL,
                raw=raw,
            )
        if "code" in fields:
            code = int(fields["code"])
            reason = f"system error {code}: {SYSTEM_ERRORS.get(code, 'unknown error')}"
            return PanelReply(
                device=self.device,
                accepted=False,
                error_code=code,
                reason=reason,
                protocol=PROTOCOL,
                raw=raw,
            )
        return PanelReply(
            device=self.device,
            accepted=False,
            reason="command error: the interface saw a bad checksum",
            protocol=PROTOCOL,
            raw=raw,
        )

    def _partition(self, number: int, effect: str, mode: str | None) -> list[Event]:
        part = self._partitions.setdefault(number, _Partition())
        before = (part.state, part.ready)
        if effect in ("ready", "not-ready"):
            part.ready = effect == "ready"
            # The panel reports readiness only while disarmed.
            part.state = part.state or "disarmed"
        elif effect == "armed":
            part.state = ARM_MODES.get(mode or "0", "armed_away")
        else:
            part.state = effect
        if (part.state, part.ready) == before or part.state is None:
            return []
        return [
            PanelState(device=self.device, partition=number, state=part.state, ready=part.ready)
        ]


def it100_messages_markdown() -> str:
    """The inbound message table as Markdown, as printed in docs/protocols/dsc-it100.md."""
    rows = ["| Command | Message | Data | Event |", "|---|---|---|---|"]
    for msg in IT100_MESSAGES.values():
        rows.append(f"| {msg.command} | {msg.label} | {_layout(msg.data)} | {_effect(msg)} |")
    return "\n".join(rows)


_LAYOUTS = {
    _NONE: "none",
    _P: "partition",
    _Z: "zone (3 digits)",
    _PZ: "partition + zone (3 digits)",
    _PU: "partition + user (4 digits)",
    _ANY: "(not decoded)",
    _P + r"(?P<mode>[0-3])?": "partition + mode",
    r"(?P<command>\d{3})": "command acknowledged",
    r"(?P<code>\d{3})": "error code (3 digits)",
    r"\d{3}": "number (3 digits)",
    r"\d{0,4}": "up to 4 digits (kept raw)",
    r"(?P<login>[0-3])": "login state",
}


def _layout(data: str) -> str:
    return _LAYOUTS.get(data, data)


def _effect(msg: It100Message) -> str:
    if msg.kind is not None:
        return f"AlarmSignal {msg.kind.value}{' restore' if msg.restore else ''}"
    effects = {
        "reply-ok": "PanelReply accepted",
        "reply-error": "PanelReply refused",
        "reply-login": "PanelReply for 005 (error code 0 refused, 2 timeout, 3 prompt)",
        "zone-open": "ZoneActivity open",
        "zone-closed": "ZoneActivity closed",
        "ready": "PanelState ready",
        "not-ready": "PanelState not ready",
        "armed": "PanelState armed (mode)",
    }
    if msg.effect in effects:
        return effects[msg.effect]
    if msg.effect:
        return f"PanelState {msg.effect}"
    return "none (counted)"
