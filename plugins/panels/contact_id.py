"""Ademco Contact ID (SIA DC-05): parse, validate, encode and map to alarm kinds.

A Contact ID message is 16 digits, ``ACCT MT Q XYZ GG CCC S``: a 4-digit account
(0-9 and B-F), the message type ``18`` (or ``98``), a qualifier (1 new event or
opening, 3 restore or closing, 6 previously reported condition still present), the
3-digit event code, the 2-digit group or partition (``00`` none), the 3-digit zone
or user (``000`` none) and a check digit. The sum of all 16 digit values, where a
``0`` counts 10 and B-F count 11-15, is a multiple of 15.

The event code table lives here, once: the AlarmDecoder's ``!LRR`` reports and
DC-09 ``ADM-CID`` messages carry the same codes and map them through
``cid_signal``. The docs page prints this table (``contact_id_table_markdown``), and a
test checks that the page and the code agree.

Receivers that print Contact ID on a serial "computer port" wrap the 16 digits in
their own line formats (a timestamp, a receiver and line number, separators). The
line decoder finds the message inside the line; the per-receiver framing is the small
``LINE_FORMATS`` table below, separate from the Contact ID rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hub.sdk import AlarmKind, AlarmSignal, Event, Line, LineDecoder

__all__ = [
    "CONTACT_ID_CODES",
    "LINE_FORMATS",
    "PROTOCOL",
    "CidCode",
    "ContactIdError",
    "ContactIdLineDecoder",
    "ContactIdMessage",
    "cid_kind",
    "cid_signal",
    "contact_id_checksum",
    "contact_id_table_markdown",
    "contact_id_to_signal",
    "encode_contact_id",
    "parse_contact_id",
]

PROTOCOL = "contact-id"

_K = AlarmKind


@dataclass(frozen=True, slots=True)
class CidCode:
    """One Contact ID event code.

    Attributes:
        code: the 3-digit event code, e.g. ``"122"``.
        label: what the standard calls it.
        kind: the alarm kind it maps to. For opening/closing codes this is
            ``OPENING``; the qualifier decides (1 opening, 3 closing).
        user: the CCC field is a user number (openings, closings, duress), not a zone.
    """

    code: str
    label: str
    kind: AlarmKind
    user: bool = False


def _c(code: int, label: str, kind: AlarmKind, user: bool = False) -> tuple[str, CidCode]:
    key = f"{code:03d}"
    return key, CidCode(key, label, kind, user)


#: The Contact ID event codes the hub names, with their kinds. Codes not listed here
#: map by range (``cid_kind``): 100-109 medical, 110-118 fire, 130-139 burglary, 3xx
#: trouble, anything else other.
CONTACT_ID_CODES: Mapping[str, CidCode] = dict(
    [
        _c(100, "Medical", _K.MEDICAL),
        _c(101, "Personal emergency", _K.MEDICAL),
        _c(102, "Fail to report in", _K.MEDICAL),
        _c(110, "Fire", _K.FIRE),
        _c(111, "Smoke", _K.FIRE),
        _c(112, "Combustion", _K.FIRE),
        _c(113, "Water flow", _K.FIRE),
        _c(114, "Heat", _K.FIRE),
        _c(115, "Pull station", _K.FIRE),
        _c(116, "Duct", _K.FIRE),
        _c(117, "Flame", _K.FIRE),
        _c(118, "Near alarm (fire)", _K.FIRE),
        _c(120, "Panic", _K.PANIC),
        _c(121, "Duress", _K.DURESS, user=True),
        _c(122, "Silent hold-up (24-hour silent)", _K.HOLDUP),
        _c(123, "Audible panic (24-hour audible)", _K.PANIC),
        _c(124, "Duress, access granted", _K.DURESS),
        _c(125, "Duress, egress granted", _K.DURESS),
        _c(126, "Hold-up suspicion", _K.HOLDUP),
        _c(129, "Hold-up verifier", _K.HOLDUP),
        _c(130, "Burglary", _K.BURGLARY),
        _c(131, "Perimeter", _K.BURGLARY),
        _c(132, "Interior", _K.BURGLARY),
        _c(133, "24-hour (safe)", _K.BURGLARY),
        _c(134, "Entry/exit", _K.BURGLARY),
        _c(135, "Day/night", _K.BURGLARY),
        _c(136, "Outdoor", _K.BURGLARY),
        _c(137, "Tamper", _K.TAMPER),
        _c(138, "Near alarm (burglary)", _K.BURGLARY),
        _c(139, "Intrusion verifier", _K.BURGLARY),
        _c(140, "General alarm", _K.OTHER),
        _c(141, "Polling loop open", _K.TROUBLE),
        _c(142, "Polling loop short", _K.TROUBLE),
        _c(143, "Expansion module failure", _K.TROUBLE),
        _c(144, "Sensor tamper", _K.TAMPER),
        _c(145, "Expansion module tamper", _K.TAMPER),
        _c(146, "Silent burglary", _K.BURGLARY),
        _c(147, "Sensor supervision failure", _K.TROUBLE),
        _c(150, "24-hour non-burglary", _K.OTHER),
        _c(151, "Gas detected", _K.OTHER),
        _c(154, "Water leakage", _K.OTHER),
        _c(158, "High temperature", _K.OTHER),
        _c(159, "Low temperature", _K.OTHER),
        _c(162, "Carbon monoxide", _K.OTHER),
        _c(200, "Fire supervisory", _K.OTHER),
        _c(300, "System trouble", _K.TROUBLE),
        _c(301, "AC loss", _K.TROUBLE),
        _c(302, "Low system battery", _K.TROUBLE),
        _c(305, "System reset", _K.TROUBLE),
        _c(306, "Panel programming changed", _K.TROUBLE),
        _c(309, "Battery test failure", _K.TROUBLE),
        _c(311, "Battery missing or dead", _K.TROUBLE),
        _c(313, "Engineer reset", _K.TROUBLE, user=True),
        _c(316, "System tamper", _K.TAMPER),
        _c(320, "Sounder/relay", _K.TROUBLE),
        _c(321, "Bell 1", _K.TROUBLE),
        _c(330, "System peripheral trouble", _K.TROUBLE),
        _c(333, "Expansion module failure", _K.TROUBLE),
        _c(341, "Expansion module tamper", _K.TAMPER),
        _c(344, "RF receiver jam", _K.TROUBLE),
        _c(350, "Communication trouble", _K.TROUBLE),
        _c(351, "Telco 1 fault", _K.TROUBLE),
        _c(352, "Telco 2 fault", _K.TROUBLE),
        _c(353, "Long-range radio fault", _K.TROUBLE),
        _c(354, "Failure to communicate event", _K.TROUBLE),
        _c(355, "Loss of radio supervision", _K.TROUBLE),
        _c(356, "Loss of central polling", _K.TROUBLE),
        _c(370, "Protection loop", _K.TROUBLE),
        _c(373, "Fire trouble", _K.TROUBLE),
        _c(374, "Exit error alarm (zone)", _K.TROUBLE),
        _c(375, "Panic zone trouble", _K.TROUBLE),
        _c(376, "Hold-up zone trouble", _K.TROUBLE),
        _c(380, "Sensor trouble", _K.TROUBLE),
        _c(381, "Loss of supervision (RF)", _K.TROUBLE),
        _c(382, "Loss of supervision (RPM)", _K.TROUBLE),
        _c(383, "Sensor tamper", _K.TAMPER),
        _c(384, "RF low battery", _K.TROUBLE),
        _c(400, "Open/close", _K.OPENING, user=True),
        _c(401, "Open/close by user", _K.OPENING, user=True),
        _c(402, "Group open/close", _K.OPENING, user=True),
        _c(403, "Automatic open/close", _K.OPENING, user=True),
        _c(404, "Late to open/close", _K.OPENING, user=True),
        _c(405, "Deferred open/close", _K.OPENING, user=True),
        _c(406, "Cancel", _K.OPENING, user=True),
        _c(407, "Remote arm/disarm", _K.OPENING, user=True),
        _c(408, "Quick arm", _K.OPENING, user=True),
        _c(409, "Keyswitch open/close", _K.OPENING, user=True),
        _c(411, "Callback request made", _K.OTHER, user=True),
        _c(412, "Successful download/access", _K.OTHER, user=True),
        _c(421, "Access denied", _K.OTHER, user=True),
        _c(441, "Armed stay", _K.OPENING, user=True),
        _c(442, "Keyswitch armed stay", _K.OPENING, user=True),
        _c(454, "Failed to close", _K.OTHER, user=True),
        _c(461, "Wrong code entry", _K.OTHER),
        _c(570, "Zone/sensor bypass", _K.OTHER),
        _c(601, "Manual trigger test report", _K.TEST),
        _c(602, "Periodic test report", _K.TEST),
        _c(603, "Periodic RF transmission", _K.TEST),
        _c(604, "Fire test", _K.TEST, user=True),
        _c(607, "Walk test mode", _K.OTHER, user=True),
        _c(608, "Periodic test, system trouble present", _K.TEST),
        _c(627, "Program mode entry", _K.OTHER),
        _c(628, "Program mode exit", _K.OTHER),
    ]
)

#: Codes whose qualifier means opening (1, 6) or closing (3) rather than event/restore.
_OPEN_CLOSE = frozenset({f"{c}" for c in range(400, 410)} | {"441", "442"})

#: Ranges for codes the table does not list: (first, last, kind).
_RANGES: tuple[tuple[int, int, AlarmKind], ...] = (
    (100, 109, _K.MEDICAL),
    (110, 118, _K.FIRE),
    (130, 139, _K.BURGLARY),
    (300, 399, _K.TROUBLE),
)

_QUALIFIERS = {"1": "new event or opening", "3": "restore or closing", "6": "still present"}


class ContactIdError(ValueError):
    """A Contact ID message that cannot be used.

    Attributes:
        reason: one line saying why.
        checksum: True when the digits were well formed but the check digit was wrong.
    """

    def __init__(self, reason: str, *, checksum: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.checksum = checksum


def _digit_value(ch: str) -> int:
    if ch == "0":
        return 10
    if "1" <= ch <= "9":
        return ord(ch) - ord("0")
    return ord(ch) - ord("A") + 10


def contact_id_checksum(body15: str) -> str:
    """Return the check digit that completes the first 15 digits of a message.

    A digit ``0`` counts 10 and B-F count 11-15; the check digit makes the total a
    multiple of 15. A check value of 10 is written ``0`` and 15 is written ``F``.

    Raises:
        ContactIdError: ``body15`` is not 15 Contact ID digits.
    """
    text = body15.upper()
    if len(text) != 15 or any(ch not in "0123456789BCDEF" for ch in text):
        raise ContactIdError(f"expected 15 Contact ID digits, got {body15!r}")
    rest = sum(_digit_value(ch) for ch in text) % 15
    value = 15 - rest
    return "0" if value == 10 else format(value, "X")


@dataclass(frozen=True, slots=True)
class ContactIdMessage:
    """A validated Contact ID message (all fields as their digits, upper case).

    Attributes:
        account: ``ACCT``.
        message_type: ``MT`` (``18`` or ``98``).
        qualifier: ``Q`` (``1``, ``3`` or ``6``).
        event_code: ``XYZ``.
        group: ``GG``, the partition (``00`` none).
        number: ``CCC``, the zone or user (``000`` none).
        checksum: ``S``.
    """

    account: str
    message_type: str
    qualifier: str
    event_code: str
    group: str
    number: str
    checksum: str

    @property
    def text(self) -> str:
        """The 16 digits, as sent."""
        return (
            f"{self.account}{self.message_type}{self.qualifier}{self.event_code}"
            f"{self.group}{self.number}{self.checksum}"
        )

    @property
    def partition(self) -> int | None:
        """The partition number, or None when the message names none."""
        return _number(self.group)

    @property
    def zone_or_user(self) -> int | None:
        """The zone or user number, or None when the message names none."""
        return _number(self.number)

    @property
    def label(self) -> str:
        """The standard's name for the event code (``""`` when not in the table)."""
        entry = CONTACT_ID_CODES.get(self.event_code)
        return entry.label if entry else ""


def _number(digits: str) -> int | None:
    if not digits.isdigit():
        return None
    value = int(digits)
    return value or None


_HEX = "0123456789BCDEF"


def parse_contact_id(text: str) -> ContactIdMessage:
    """Parse and validate one Contact ID message.

    Spaces between the digits are allowed (``"1234 18 1131 01 015 8"``), and hex
    digits may be lower case. A check digit ``A`` is read as 10, as some receivers
    print it.

    Raises:
        ContactIdError: with the reason (length, a bad digit, message type,
            qualifier, or the checksum).
    """
    compact = "".join(text.split()).upper()
    if len(compact) != 16:
        raise ContactIdError(f"expected 16 digits, got {len(compact)}")
    for index, ch in enumerate(compact):
        allowed = _HEX + "A" if index == 15 else _HEX
        if ch not in allowed:
            raise ContactIdError(f"invalid digit {ch!r} at position {index + 1}")
    mt = compact[4:6]
    if mt not in ("18", "98"):
        raise ContactIdError(f"message type must be 18 or 98, got {mt}")
    qualifier = compact[6]
    if qualifier not in _QUALIFIERS:
        raise ContactIdError(f"qualifier must be 1, 3 or 6, got {qualifier}")
    total = sum(_digit_value(ch) for ch in compact)
    if total % 15:
        expected = contact_id_checksum(compact[:15])
        raise ContactIdError(
            f"bad checksum: digit sum {total} is not a multiple of 15 "
            f"(check digit should be {expected}, got {compact[15]})",
            checksum=True,
        )
    return ContactIdMessage(
        account=compact[0:4],
        message_type=mt,
        qualifier=qualifier,
        event_code=compact[7:10],
        group=compact[10:12],
        number=compact[12:15],
        checksum=compact[15],
    )


def encode_contact_id(
    acct: str,
    qualifier: int,
    code: int | str,
    partition: int,
    zone: int,
    *,
    message_type: str = "18",
) -> str:
    """Build a valid 16-digit message (for simulators and tests).

    Args:
        acct: the 4-digit account (0-9, B-F).
        qualifier: 1 new event or opening, 3 restore or closing, 6 still present.
        code: the 3-digit event code.
        partition: 0-99 (0 for none).
        zone: zone or user number, 0-999 (0 for none).
        message_type: ``"18"`` or ``"98"``.

    Raises:
        ContactIdError: a field is out of range.
    """
    account = acct.upper()
    if len(account) != 4 or any(ch not in _HEX for ch in account):
        raise ContactIdError(f"account must be 4 digits 0-9 or B-F, got {acct!r}")
    if message_type not in ("18", "98"):
        raise ContactIdError(f"message type must be 18 or 98, got {message_type!r}")
    if str(qualifier) not in _QUALIFIERS:
        raise ContactIdError(f"qualifier must be 1, 3 or 6, got {qualifier!r}")
    event = f"{code:03d}" if isinstance(code, int) else code
    if len(event) != 3 or not event.isdigit():
        raise ContactIdError(f"event code must be 3 digits, got {code!r}")
    if not 0 <= partition <= 99:
        raise ContactIdError(f"partition must be 0-99, got {partition}")
    if not 0 <= zone <= 999:
        raise ContactIdError(f"zone or user must be 0-999, got {zone}")
    body = f"{account}{message_type}{qualifier}{event}{partition:02d}{zone:03d}"
    return body + contact_id_checksum(body)


def cid_kind(qualifier: str, code: str) -> tuple[AlarmKind, bool]:
    """Map a qualifier and event code to ``(kind, restore)``.

    Opening/closing codes (400-409, 441, 442) turn the qualifier into the kind:
    3 is a closing (armed), 1 or 6 an opening (disarmed); neither is a restore. For
    every other code, qualifier 3 is a restore.
    """
    if code in _OPEN_CLOSE:
        return (_K.CLOSING if qualifier == "3" else _K.OPENING), False
    restore = qualifier == "3"
    entry = CONTACT_ID_CODES.get(code)
    if entry is not None:
        return entry.kind, restore
    if code.isdigit():
        value = int(code)
        for first, last, kind in _RANGES:
            if first <= value <= last:
                return kind, restore
    return _K.OTHER, restore


def cid_signal(
    *,
    qualifier: str,
    code: str,
    group: str,
    number: str,
    device: str,
    raw: bytes,
    protocol: str = PROTOCOL,
) -> AlarmSignal:
    """Build the ``AlarmSignal`` for one Contact ID event, whatever carried it.

    Args:
        qualifier: ``"1"``, ``"3"`` or ``"6"``.
        code: the 3-digit event code.
        group: the partition digits (``"00"`` or ``""`` for none).
        number: the zone or user digits (``"000"`` or ``""`` for none).
        device: the device id.
        raw: the frame, kept as evidence.
        protocol: the carrying protocol's name.
    """
    kind, restore = cid_kind(qualifier, code)
    entry = CONTACT_ID_CODES.get(code)
    is_user = entry.user if entry is not None else code in _OPEN_CLOSE
    value = _number(number)
    return AlarmSignal(
        kind=kind,
        device=device,
        restore=restore,
        panel_zone=None if is_user else value,
        user=value if is_user else None,
        partition=_number(group),
        code=code,
        protocol=protocol,
        raw=raw,
    )


def contact_id_to_signal(msg: ContactIdMessage, device: str, raw: bytes) -> AlarmSignal:
    """Map a parsed message to the hub's ``AlarmSignal`` (zone left for the hub)."""
    return cid_signal(
        qualifier=msg.qualifier,
        code=msg.event_code,
        group=msg.group,
        number=msg.number,
        device=device,
        raw=raw,
    )


def contact_id_table_markdown() -> str:
    """The event mapping table as Markdown, as printed in docs/protocols/contact-id.md."""
    rows = ["| Code | Event | Kind | CCC is |", "|---|---|---|---|"]
    for entry in sorted(CONTACT_ID_CODES.values(), key=lambda e: e.code):
        kind = "opening / closing" if entry.code in _OPEN_CLOSE else entry.kind.value
        rows.append(
            f"| {entry.code} | {entry.label} | {kind} | {'user' if entry.user else 'zone'} |"
        )
    return "\n".join(rows)


# --- receiver line formats ---------------------------------------------------------

_RUN = re.compile(r"[0-9A-Fa-f][0-9A-Fa-f \t]*")


def _candidates_auto(line: str) -> list[str]:
    """Every 16-digit window that looks like ``ACCT 18|98 Q ...`` inside the line.

    Receivers wrap the message in timestamps and receiver/line numbers; spaces may
    split the digit groups. The check digit decides between windows.
    """
    found: list[str] = []
    for match in _RUN.finditer(line):
        compact = "".join(match.group().split()).upper()
        for start in range(len(compact) - 15):
            window = compact[start : start + 16]
            if window[4:6] in ("18", "98") and window[6] in _QUALIFIERS:
                found.append(window)
    return found


def _candidates_strict(line: str) -> list[str]:
    """The whole line, spaces removed, is the message."""
    return ["".join(line.split())]


#: Receiver line formats: how to find the 16 digits in one printed line.
LINE_FORMATS: Mapping[str, Callable[[str], list[str]]] = {
    "auto": _candidates_auto,
    "strict": _candidates_strict,
}


class ContactIdLineDecoder(LineDecoder):
    """Decode Contact ID messages printed one per line (CR and/or LF).

    Each good message becomes an ``AlarmSignal``; a line with no valid message is
    rejected with its reason and decoding resumes on the next line.
    """

    protocol = PROTOCOL

    def __init__(self, device: str, *, line_format: str = "auto", max_line: int = 128) -> None:
        """Create a decoder.

        Args:
            device: the device id put on every event.
            line_format: a key of ``LINE_FORMATS`` (``auto`` finds the message
                anywhere in the line; ``strict`` wants only the message).
            max_line: longer lines are dropped as garbage.

        Raises:
            ValueError: unknown line format.
        """
        if line_format not in LINE_FORMATS:
            known = ", ".join(sorted(LINE_FORMATS))
            raise ValueError(f"unknown Contact ID line format {line_format!r} (known: {known})")
        super().__init__(device, max_line=max_line)
        self._find = LINE_FORMATS[line_format]

    def decode_line(self, line: Line) -> list[Event]:
        text = line.data.decode("latin-1")
        first_error: ContactIdError | None = None
        for candidate in self._find(text):
            try:
                msg = parse_contact_id(candidate)
            except ContactIdError as exc:
                first_error = first_error or exc
                continue
            return [contact_id_to_signal(msg, self.device, line.data)]
        if line.after_overflow:
            return []
        if first_error is None:
            self.reject_frame(line.data, "no Contact ID message in line")
        else:
            self.reject_frame(line.data, first_error.reason, checksum=first_error.checksum)
        return []
