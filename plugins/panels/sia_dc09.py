"""SIA DC-09 frames (SIA-DCS, ADM-CID, NULL): parse, decrypt, check, answer, encode.

A frame is ``<LF><CRC><LEN>"<[*]ID>"<seq>[R<rcvr>]L<line>#<acct>[<data>][x-data]
_HH:MM:SS,MM-DD-YYYY<CR>``. CRC is CRC-16/ARC (reflected polynomial 0xA001, initial
value 0) over the span from the opening quote to just before the CR; LEN is that
span's length; both are 4 upper-case hex digits (as pysiaalarm and dc09_spt build
them). A ``*`` before the ID means everything after ``[`` is AES-CBC ciphertext in hex
(zero IV, 128, 192 or 256-bit key): random pad characters, ``|``, the data, ``]``, any
x-data and the timestamp.

Keys are written two ways in the field: as hex digits to decode into the key bytes
(dc09_spt passes raw key bytes), or as text whose ASCII bytes are the key
(pysiaalarm). The parser tries both and says which one decrypted the frame.

Live reception checks the timestamp against the hub's clock (default window 40 s
before to 20 s after) and answers every frame: ``ACK`` when accepted, ``NAK`` (with the
receiver's time, which senders use to resynchronise) when the timestamp or the
encryption is wrong, ``DUH`` when the frame is understood but not supported. A frame
with a bad CRC gets no answer, so the sender repeats it. Offline decoding
(``ecrin decode``) skips the window and builds no answers.

A receiver on a network can be told which accounts it serves: a frame from any other
account (or naming none) is then refused with ``NAK`` and never decoded into events
(an encrypted one is not even decrypted), so whoever reaches the port cannot inject
alarm signals under an account the shop does not have. Accounts are compared as the
frames write them, upper-cased: DC-09 accounts are strings of 3 to 16 hex digits, so
``0123`` and ``123`` differ.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import string
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from hub.sdk import AlarmKind, AlarmSignal, Event, Line, LineDecoder
from plugins.panels.contact_id import cid_signal
from plugins.panels.panel_events import LinkTest

__all__ = [
    "DEFAULT_WINDOW",
    "MESSAGE_IDS",
    "PROTOCOL",
    "SIA_CODES",
    "UNKNOWN_ACCOUNT",
    "Dc09AccountRefused",
    "Dc09Error",
    "Dc09Header",
    "Dc09Message",
    "Dc09StreamDecoder",
    "SiaCode",
    "SiaEvent",
    "adm_cid_payload",
    "dc09_accepted_accounts",
    "dc09_accounts_problem",
    "dc09_ack",
    "dc09_crc",
    "dc09_duh",
    "dc09_key_candidates",
    "dc09_nak",
    "dc09_signals",
    "encode_dc09",
    "parse_dc09",
    "parse_sia_payload",
    "sia_codes_markdown",
    "sia_payload",
]

PROTOCOL = "sia-dc09"

#: The message IDs the hub understands; other IDs with a good CRC are answered DUH.
MESSAGE_IDS = ("SIA-DCS", "ADM-CID", "NULL")

#: Seconds a live frame's timestamp may lag (first) or lead (second) the hub's clock.
DEFAULT_WINDOW: tuple[float, float] = (40.0, 20.0)

#: How the reason of a frame refused for its account starts (reports and tests).
UNKNOWN_ACCOUNT = "unknown account"

_ZERO_IV = bytes(16)
_TIME_FORMAT = "%H:%M:%S,%m-%d-%Y"
_K = AlarmKind


# --- SIA DC-03 event codes -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiaCode:
    """One SIA DC-03 two-letter event code.

    Attributes:
        code: the two letters.
        label: what the standard calls it.
        kind: the alarm kind.
        restore: the code reports the end of the condition.
        number: what the number after the code is: ``zone``, ``user``, ``area`` or
            ``""`` (unused or something else).
    """

    code: str
    label: str
    kind: AlarmKind
    restore: bool = False
    number: str = "zone"


def _s(
    code: str, label: str, kind: AlarmKind, *, restore: bool = False, number: str = "zone"
) -> tuple[str, SiaCode]:
    return code, SiaCode(code, label, kind, restore, number)


#: The SIA codes the hub names. Any other code is ``other`` (never dropped).
SIA_CODES: Mapping[str, SiaCode] = dict(
    [
        _s("HA", "Hold-up alarm (also duress)", _K.HOLDUP),
        _s("HH", "Hold-up alarm restore", _K.HOLDUP, restore=True),
        _s("HR", "Hold-up restoral", _K.HOLDUP, restore=True),
        _s("HT", "Hold-up trouble", _K.TROUBLE),
        _s("HJ", "Hold-up trouble restore", _K.TROUBLE, restore=True),
        _s("HS", "Hold-up supervisory", _K.TROUBLE),
        _s("HB", "Hold-up bypass", _K.OTHER),
        _s("HU", "Hold-up unbypass", _K.OTHER),
        _s("PA", "Panic alarm", _K.PANIC),
        _s("PH", "Panic alarm restore", _K.PANIC, restore=True),
        _s("PR", "Panic restoral", _K.PANIC, restore=True),
        _s("PT", "Panic trouble", _K.TROUBLE),
        _s("PJ", "Panic trouble restore", _K.TROUBLE, restore=True),
        _s("PS", "Panic supervisory", _K.TROUBLE),
        _s("PB", "Panic bypass", _K.OTHER),
        _s("PU", "Panic unbypass", _K.OTHER),
        _s("BA", "Burglary alarm", _K.BURGLARY),
        _s("BH", "Burglary alarm restore", _K.BURGLARY, restore=True),
        _s("BR", "Burglary restoral", _K.BURGLARY, restore=True),
        _s("BV", "Burglary verified", _K.BURGLARY, number="area"),
        _s("BM", "Burglary alarm, cross point", _K.BURGLARY),
        _s("BG", "Unverified event, burglary", _K.BURGLARY),
        _s("EA", "Exit alarm", _K.BURGLARY),
        _s("BT", "Burglary trouble", _K.TROUBLE),
        _s("BJ", "Burglary trouble restore", _K.TROUBLE, restore=True),
        _s("BS", "Burglary supervisory", _K.TROUBLE),
        _s("BB", "Burglary bypass", _K.OTHER),
        _s("BU", "Burglary unbypass", _K.OTHER),
        _s("BC", "Burglary cancel", _K.OTHER, number="user"),
        _s("BX", "Burglary test", _K.TEST),
        _s("TA", "Tamper alarm", _K.TAMPER),
        _s("TR", "Tamper restoral", _K.TAMPER, restore=True),
        _s("TH", "Tamper alarm restore", _K.TAMPER, restore=True, number=""),
        _s("TT", "Tamper trouble", _K.TAMPER),
        _s("TJ", "Tamper trouble restore", _K.TAMPER, restore=True, number=""),
        _s("ES", "Expansion device tamper", _K.TAMPER, number=""),
        _s("EJ", "Expansion device tamper restore", _K.TAMPER, restore=True, number=""),
        _s("XS", "RF receiver tamper", _K.TAMPER, number=""),
        _s("XJ", "RF receiver tamper restoral", _K.TAMPER, restore=True, number=""),
        _s("JA", "User code tamper (too many wrong codes)", _K.TAMPER, number="area"),
        _s("FA", "Fire alarm", _K.FIRE),
        _s("FH", "Fire alarm restore", _K.FIRE, restore=True),
        _s("FR", "Fire restoral", _K.FIRE, restore=True),
        _s("FT", "Fire trouble", _K.TROUBLE),
        _s("FJ", "Fire trouble restore", _K.TROUBLE, restore=True),
        _s("FS", "Fire supervisory", _K.TROUBLE),
        _s("FB", "Fire bypass", _K.OTHER),
        _s("FU", "Fire unbypass", _K.OTHER),
        _s("FX", "Fire test", _K.TEST),
        _s("MA", "Medical alarm", _K.MEDICAL),
        _s("MH", "Medical alarm restore", _K.MEDICAL, restore=True),
        _s("MR", "Medical restoral", _K.MEDICAL, restore=True),
        _s("MT", "Medical trouble", _K.TROUBLE),
        _s("MJ", "Medical trouble restore", _K.TROUBLE, restore=True),
        _s("RP", "Automatic test", _K.TEST, number=""),
        _s("RX", "Manual test", _K.TEST, number="user"),
        _s("TX", "Test report", _K.TEST, number=""),
        _s("RY", "Test off normal", _K.TEST),
        _s("YS", "Communications trouble", _K.TROUBLE, number=""),
        _s("YK", "Communications restoral", _K.TROUBLE, restore=True, number=""),
        _s("YC", "Communications fail", _K.TROUBLE, number=""),
        _s("AT", "AC trouble", _K.TROUBLE, number=""),
        _s("AR", "AC restoral", _K.TROUBLE, restore=True, number=""),
        _s("YT", "System battery trouble", _K.TROUBLE, number=""),
        _s("YR", "System battery restoral", _K.TROUBLE, restore=True, number=""),
        _s("YM", "System battery missing", _K.TROUBLE, number=""),
        _s("YP", "Power supply trouble", _K.TROUBLE, number=""),
        _s("YQ", "Power supply restored", _K.TROUBLE, restore=True, number=""),
        _s("YA", "Bell fault", _K.TROUBLE, number=""),
        _s("YH", "Bell restored", _K.TROUBLE, restore=True, number=""),
        _s("YX", "Service required", _K.TROUBLE, number=""),
        _s("LT", "Phone line trouble", _K.TROUBLE, number=""),
        _s("LR", "Phone line restoral", _K.TROUBLE, restore=True, number=""),
        _s("NT", "Network failure", _K.TROUBLE, number=""),
        _s("NR", "Network restoral", _K.TROUBLE, restore=True, number=""),
        _s("ET", "Expansion device trouble", _K.TROUBLE, number=""),
        _s("ER", "Expansion device restoral", _K.TROUBLE, restore=True, number=""),
        _s("EM", "Expansion device missing", _K.TROUBLE, number=""),
        _s("EN", "Expansion device missing restore", _K.TROUBLE, restore=True, number=""),
        _s("XT", "Transmitter battery trouble", _K.TROUBLE),
        _s("XR", "Transmitter battery restoral", _K.TROUBLE, restore=True),
        _s("XQ", "RF interference", _K.TROUBLE, number=""),
        _s("XH", "RF interference restoral", _K.TROUBLE, restore=True, number=""),
        _s("OP", "Opening report", _K.OPENING, number="user"),
        _s("OR", "Disarm from alarm", _K.OPENING, number="user"),
        _s("OQ", "Remote opening", _K.OPENING, number="user"),
        _s("OA", "Automatic opening", _K.OPENING, number="area"),
        _s("OG", "Open area", _K.OPENING, number="area"),
        _s("OS", "Opening by keyswitch", _K.OPENING),
        _s("CL", "Closing report", _K.CLOSING, number="user"),
        _s("CQ", "Remote closing", _K.CLOSING, number="user"),
        _s("CP", "Automatic closing", _K.CLOSING, number="user"),
        _s("CF", "Forced closing", _K.CLOSING, number="user"),
        _s("CA", "Automatic closing", _K.CLOSING, number="area"),
        _s("CG", "Close area", _K.CLOSING, number="area"),
        _s("CS", "Closing by keyswitch", _K.CLOSING),
        _s("NL", "Perimeter armed", _K.CLOSING, number="area"),
        _s("NF", "Forced perimeter arm", _K.CLOSING, number="area"),
        _s("OC", "Cancel report", _K.OTHER, number="user"),
        _s("DA", "Card assigned (not duress)", _K.OTHER, number="user"),
        _s("RR", "Power up", _K.OTHER, number=""),
        _s("UA", "Untyped zone alarm", _K.OTHER),
        _s("UH", "Untyped alarm restore", _K.OTHER, restore=True),
        _s("UR", "Untyped zone restoral", _K.OTHER, restore=True),
    ]
)


@dataclass(frozen=True, slots=True)
class SiaEvent:
    """One event of a SIA-DCS data block.

    Attributes:
        code: the two-letter code.
        number: the number after the code (zone, user or area, see ``SiaCode``).
        area: the area (partition) from the ``ri`` modifier.
        user: the user from the ``id`` modifier.
        text: a ``^text^`` name attached to the code, if any.
    """

    code: str
    number: int | None = None
    area: int | None = None
    user: int | None = None
    text: str = ""


_SIA_ITEM = re.compile(
    r"/?(?:(?P<mod>[a-z]{2})(?P<mval>[0-9:]*)|(?P<code>[A-Z]{2})(?P<num>[0-9]*))"
    r"(?:\^(?P<text>[^\^\[\]|]*)\^)?"
)


def parse_sia_payload(payload: str) -> tuple[SiaEvent, ...]:
    """Read the events of a SIA-DCS data block (``Nri1/HA01/BA02``).

    The block starts with ``N`` (new event; ``O`` old event; optional), then items
    optionally separated by ``/``: modifiers (``ri`` area, ``id`` user, ``ti``
    time, others skipped) and events (two upper-case letters and a number). A
    ``|A...`` text part after the events is ignored. A block that is only text
    (``A...``) has no events.

    Raises:
        ValueError: an item cannot be read.
    """
    body, _, _ = payload.partition("|")
    if body.startswith("A"):
        return ()
    if body[:1] in ("N", "O"):
        body = body[1:]
    events: list[SiaEvent] = []
    area: int | None = None
    user: int | None = None
    pos = 0
    while pos < len(body):
        match = _SIA_ITEM.match(body, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"cannot read SIA item at {body[pos : pos + 12]!r}")
        pos = match.end()
        if match["mod"] is not None:
            value = match["mval"]
            if match["mod"] == "ri" and value.isdigit():
                area = int(value)
            elif match["mod"] == "id" and value.isdigit():
                user = int(value)
            continue
        number = int(match["num"]) if match["num"] else None
        events.append(SiaEvent(match["code"], number, area, user, match["text"] or ""))
    if pos < len(body) and body[pos:] != "/":
        raise ValueError(f"trailing characters {body[pos:]!r}")
    return tuple(events)


# --- frames ---------------------------------------------------------------------------


def dc09_crc(data: bytes) -> int:
    """CRC-16/ARC: reflected polynomial 0xA001, initial value 0, no final XOR."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@dataclass(frozen=True, slots=True)
class Dc09Header:
    """The clear part of a frame, enough to answer it.

    Attributes:
        message_id: ``SIA-DCS``, ``ADM-CID``, ``NULL`` (or another ID, answered DUH).
        encrypted: the ID was preceded by ``*``.
        sequence: the 4-digit sequence number, echoed in the answer.
        receiver: ``R`` and the receiver number, or ``""`` when absent.
        line: ``L`` and the line (account prefix) number.
        account: the account, without ``#``.
    """

    message_id: str
    encrypted: bool
    sequence: str
    receiver: str
    line: str
    account: str


@dataclass(frozen=True, slots=True)
class Dc09Message:
    """A frame that passed every check.

    Attributes:
        header: the clear part.
        payload: the data block's content after the account (``Nri1/HA01``,
            ``1121 01 015``, ``""`` for NULL).
        xdata: the x-data blocks' contents.
        timestamp: the frame's time (UTC), or None when it carried none.
        key_convention: ``hex`` or ``ascii`` for an encrypted frame, else ``""``.
        length_ok: LEN matched the span's length (a mismatch is tolerated when the
            CRC is good, and flagged here).
        sia_events: the SIA-DCS events.
        cid: ``(qualifier, code, partition, zone)`` of an ADM-CID frame.
        raw: the frame bytes.
        key: the key bytes that decrypted it (kept to encrypt the ACK).
    """

    header: Dc09Header
    payload: str
    xdata: tuple[str, ...] = ()
    timestamp: datetime | None = None
    key_convention: str = ""
    length_ok: bool = True
    sia_events: tuple[SiaEvent, ...] = ()
    cid: tuple[str, str, str, str] | None = None
    raw: bytes = b""
    key: bytes | None = field(default=None, repr=False)


class Dc09Error(ValueError):
    """A frame that cannot be accepted.

    Attributes:
        reason: one line saying why.
        response: the answer due: ``"NAK"``, ``"DUH"``, or None (no answer).
        crc: the CRC was wrong.
        header: the clear part when it could be read (needed for DUH).
    """

    def __init__(
        self,
        reason: str,
        *,
        response: str | None = None,
        crc: bool = False,
        header: Dc09Header | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.response = response
        self.crc = crc
        self.header = header


_HEADER = re.compile(
    r'"(?P<star>\*)?(?P<id>[A-Z0-9-]{1,16})"(?P<seq>\d{4})(?P<rcvr>R[0-9A-Fa-f]{1,6})?'
    r"(?P<line>L[0-9A-Fa-f]{1,6})(?:#(?P<acct>[0-9A-Fa-f]{3,16}))?\[(?P<rest>.*)",
    re.DOTALL,
)
_TAIL = re.compile(r"(?P<xdata>(?:\[[^\[\]]*\])*)(?:_(?P<ts>\d{2}:\d{2}:\d{2},\d{2}-\d{2}-\d{4}))?")
_ADM = re.compile(r"(?P<q>[136])(?P<xyz>\d{3}) (?P<gg>[0-9A-Fa-f]{2}) (?P<ccc>[0-9A-Fa-f]{3})")
_PRINTABLE = re.compile(r"[ -~]*")
_ACCOUNT = re.compile(r"[0-9A-Fa-f]{3,16}")


# --- accounts -------------------------------------------------------------------------


class Dc09AccountRefused(Dc09Error):
    """A frame refused because the receiver does not serve its account: answered NAK,
    never decoded into events.

    Attributes:
        account: the frame's account (upper-case), ``""`` when it names none.
    """

    def __init__(self, header: Dc09Header) -> None:
        account = header.account
        reason = (
            f"{UNKNOWN_ACCOUNT} {account}: not listed in accounts or keys"
            if account
            else f"{UNKNOWN_ACCOUNT}: the frame names none"
        )
        super().__init__(reason, response="NAK", header=header)
        self.account = account


def dc09_accepted_accounts(
    accounts: Iterable[str], keys: Iterable[str] = ()
) -> frozenset[str] | None:
    """The accounts a receiver accepts, upper-case, or None when it accepts any.

    Args:
        accounts: the accounts listed for the receiver.
        keys: the accounts that have a key (the ``keys`` setting's names): a key of its
            own lists an account too; the ``"*"`` fallback key lists none.

    Returns:
        Every listed and keyed account; None when there is none of either, which is how
        a receiver without the setting has always behaved.
    """
    listed = {str(a).upper() for a in accounts} | {str(k).upper() for k in keys if k != "*"}
    listed.discard("")
    return frozenset(listed) or None


def dc09_accounts_problem(value: list[Any]) -> str | None:
    """Why the ``accounts`` setting is refused, naming the first bad entry (None: it
    is a list of accounts, each 3 to 16 hex digits written as a string).

    A string, because YAML reads ``1234`` as a number and ``0123`` as the octal number
    83: the account an installer meant would be lost without a trace.
    """
    for n, item in enumerate(value, start=1):
        if not isinstance(item, str):
            return (
                f"entry {n} ({item!r}) is not quoted: write each account in quotes"
                " (YAML reads 0123 as the number 83)"
            )
        if _ACCOUNT.fullmatch(item) is None:
            return f"entry {n} ({item!r}) is not an account: 3 to 16 hex digits"
    return None


def _check_account(header: Dc09Header, accounts: Collection[str] | None) -> None:
    """Refuse the frame unless the receiver serves its account (None: any account)."""
    if accounts is not None and (not header.account or header.account not in accounts):
        raise Dc09AccountRefused(header)


def dc09_key_candidates(text: str) -> list[tuple[str, bytes]]:
    """The AES keys a configured key text can stand for, with their convention.

    ``hex``: 32, 48 or 64 hex digits decoded to 16, 24 or 32 bytes. ``ascii``: 16,
    24 or 32 characters used as the key bytes. A 32-hex-digit key fits both.
    """
    out: list[tuple[str, bytes]] = []
    if len(text) in (32, 48, 64) and all(ch in string.hexdigits for ch in text):
        out.append(("hex", bytes.fromhex(text)))
    raw = text.encode("utf-8")
    if len(raw) in (16, 24, 32):
        out.append(("ascii", raw))
    return out


def _aes(key: bytes, data: bytes, *, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(_ZERO_IV))
    op = cipher.encryptor() if encrypt else cipher.decryptor()
    return op.update(data) + op.finalize()


def _split_content(content: str) -> tuple[str, str, tuple[str, ...], datetime | None]:
    """Split ``[#acct|]payload]xdata_ts`` into account, payload, x-data, time."""
    account = ""
    if content.startswith("#"):
        account, bar, rest = content[1:].partition("|")
        if not bar or not all(ch in string.hexdigits for ch in account):
            raise ValueError("data block account is not '#<hex>|'")
        content = rest
    payload, bracket, tail = content.partition("]")
    if not bracket:
        raise ValueError("data block has no closing ']'")
    if "[" in payload:
        raise ValueError("data block has a stray '['")
    match = _TAIL.fullmatch(tail)
    if match is None:
        raise ValueError(f"unexpected characters after the data block: {tail[:24]!r}")
    xdata = tuple(re.findall(r"\[([^\[\]]*)\]", match["xdata"]))
    timestamp = None
    if match["ts"]:
        try:
            timestamp = datetime.strptime(match["ts"], _TIME_FORMAT).replace(tzinfo=UTC)
        except ValueError as exc:
            raise ValueError(f"bad timestamp {match['ts']!r}") from exc
    return account.upper(), payload, xdata, timestamp


def _decrypt(
    rest: str, header: Dc09Header, keys: Mapping[str, str] | None
) -> tuple[str, str, bytes]:
    """Decrypt the hex after ``[``; return (content, convention, key bytes)."""
    key_text = None
    if keys:
        by_account = {k.upper(): v for k, v in keys.items()}
        key_text = by_account.get(header.account) or by_account.get("*")
    if not key_text:
        raise Dc09Error(
            f"encrypted frame for account {header.account or '?'} but no key configured",
            response="NAK",
            header=header,
        )
    if len(rest) % 32 or not all(ch in string.hexdigits for ch in rest) or not rest:
        raise Dc09Error(
            "encrypted block is not whole AES blocks in hex", response="NAK", header=header
        )
    ciphertext = bytes.fromhex(rest)
    candidates = dc09_key_candidates(key_text)
    if not candidates:
        raise Dc09Error(
            f"key for account {header.account} is neither 32/48/64 hex digits nor 16/24/32 "
            "characters",
            response="NAK",
            header=header,
        )
    for convention, key in candidates:
        plain = _aes(key, ciphertext, encrypt=False).decode("latin-1")
        bar, close = plain.find("|"), plain.find("]")
        if close < 0:
            continue
        # The pad (random characters, never '|', '[' or ']') ends at the first '|';
        # a frame with no data (NULL, an ACK) may carry the pad straight before ']'.
        content = plain[bar + 1 :] if 0 <= bar < close else plain[close:]
        if _PRINTABLE.fullmatch(content) is None:
            continue
        try:
            _split_content(content)
        except ValueError:
            continue
        return content, convention, key
    tried = " and ".join(c for c, _ in candidates)
    raise Dc09Error(
        f"cannot decrypt the frame with the key of account {header.account} (tried it as {tried})",
        response="NAK",
        header=header,
    )


def parse_dc09(
    frame: bytes,
    keys: Mapping[str, str] | None = None,
    now: Callable[[], datetime] | None = None,
    window: tuple[float, float] = DEFAULT_WINDOW,
    accounts: Collection[str] | None = None,
) -> Dc09Message:
    """Check and decode one frame (LF and CR optional).

    Args:
        frame: the frame bytes.
        keys: account (upper-case hex) to key text; ``"*"`` is a fallback for any
            account. Needed only for encrypted frames.
        now: the clock for the timestamp window (live reception); None skips the
            check (offline decoding).
        window: seconds the timestamp may lag and lead ``now()``.
        accounts: the only accounts accepted, upper-case (``dc09_accepted_accounts``);
            None accepts any account.

    Raises:
        Dc09AccountRefused: the frame's account is not in ``accounts`` (NAK).
        Dc09Error: with the reason and the answer due (NAK, DUH or none).
    """
    text = frame.decode("latin-1").lstrip("\n").rstrip("\r")
    if _PRINTABLE.fullmatch(text) is None:
        raise Dc09Error("frame has characters that are not printable ASCII")
    if len(text) < 9 or not all(ch in string.hexdigits for ch in text[:8]):
        raise Dc09Error("frame does not start with CRC and LEN (8 hex digits)")
    body = text[8:]
    expected = dc09_crc(body.encode("ascii"))
    if int(text[:4], 16) != expected:
        raise Dc09Error(f"bad CRC: expected {expected:04X}, got {text[:4]}", crc=True)
    length_ok = int(text[4:8], 16) == len(body)
    match = _HEADER.fullmatch(body)
    if match is None:
        raise Dc09Error("cannot read the frame header")
    header = Dc09Header(
        message_id=match["id"],
        encrypted=match["star"] is not None,
        sequence=match["seq"],
        receiver=(match["rcvr"] or "").upper(),
        line=match["line"].upper(),
        account=(match["acct"] or "").upper(),
    )
    if header.message_id not in MESSAGE_IDS:
        raise Dc09Error(
            f"message ID {header.message_id} is not supported", response="DUH", header=header
        )
    if header.account or header.encrypted:
        _check_account(header, accounts)  # before decrypting or reading the data
    convention, key = "", None
    content = match["rest"]
    if header.encrypted:
        if not header.account:
            raise Dc09Error("encrypted frame without an account", response="NAK", header=header)
        content, convention, key = _decrypt(content, header, keys)
    try:
        account, payload, xdata, timestamp = _split_content(content)
    except ValueError as exc:
        raise Dc09Error(str(exc), response="DUH", header=header) from exc
    if not header.account and account:
        header = Dc09Header(
            header.message_id,
            header.encrypted,
            header.sequence,
            header.receiver,
            header.line,
            account,
        )
    _check_account(header, accounts)  # a plain frame may name it in its data block only
    if now is not None:
        _check_time(timestamp, header, now(), window)
    sia_events: tuple[SiaEvent, ...] = ()
    cid = None
    try:
        if header.message_id == "SIA-DCS":
            sia_events = parse_sia_payload(payload)
        elif header.message_id == "ADM-CID":
            adm = _ADM.fullmatch(payload)
            if adm is None:
                raise ValueError(f"ADM-CID data {payload!r} is not 'QXYZ GG CCC'")
            cid = (adm["q"], adm["xyz"], adm["gg"].upper(), adm["ccc"].upper())
    except ValueError as exc:
        raise Dc09Error(str(exc), response="DUH", header=header) from exc
    return Dc09Message(
        header=header,
        payload=payload,
        xdata=xdata,
        timestamp=timestamp,
        key_convention=convention,
        length_ok=length_ok,
        sia_events=sia_events,
        cid=cid,
        raw=frame.strip(b"\r\n"),
        key=key,
    )


def _check_time(
    timestamp: datetime | None, header: Dc09Header, now: datetime, window: tuple[float, float]
) -> None:
    if timestamp is None:
        if header.encrypted:
            raise Dc09Error("encrypted frame without a timestamp", response="NAK", header=header)
        return
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    lag, lead = window
    delta = (timestamp - now).total_seconds()
    if delta < -lag or delta > lead:
        raise Dc09Error(
            f"timestamp {timestamp:%H:%M:%S %m-%d-%Y} is {delta:+.0f} s from the hub's clock "
            f"(allowed -{lag:g} s to +{lead:g} s)",
            response="NAK",
            header=header,
        )


def dc09_signals(msg: Dc09Message, device: str) -> list[Event]:
    """The hub events of an accepted frame (the frame's time when it has one)."""
    header = msg.header
    if header.message_id == "NULL":
        return [
            _stamped(
                LinkTest(device=device, protocol=PROTOCOL, account=header.account, raw=msg.raw),
                msg.timestamp,
            )
        ]
    if msg.cid is not None:
        q, code, group, number = msg.cid
        signal = cid_signal(
            qualifier=q,
            code=code,
            group=group,
            number=number,
            device=device,
            raw=msg.raw,
            protocol=PROTOCOL,
        )
        return [_stamped(signal, msg.timestamp)]
    out: list[Event] = []
    for event in msg.sia_events:
        entry = SIA_CODES.get(event.code)
        kind = entry.kind if entry else _K.OTHER
        meaning = entry.number if entry else "zone"
        signal = AlarmSignal(
            kind=kind,
            device=device,
            restore=entry.restore if entry else False,
            panel_zone=event.number if meaning == "zone" else None,
            user=event.number if meaning == "user" else event.user,
            partition=event.number if meaning == "area" else event.area,
            code=event.code,
            protocol=PROTOCOL,
            raw=msg.raw,
        )
        out.append(_stamped(signal, msg.timestamp))
    return out


_E = TypeVar("_E", bound=Event)


def _stamped(event: _E, when: datetime | None) -> _E:
    """Give the event the frame's own time, when the frame carried one."""
    return event if when is None else dataclasses.replace(event, time=when)


# --- answers and encoding -----------------------------------------------------------------

_PAD_ALPHABET = string.ascii_letters + string.digits


def _wrap(body: str) -> bytes:
    data = body.encode("ascii")
    return b"\n" + f"{dc09_crc(data):04X}{len(data):04X}".encode() + data + b"\r"


def _pad(length: int, pad_char: str | None) -> str:
    if pad_char is not None:
        return pad_char * length
    return "".join(secrets.choice(_PAD_ALPHABET) for _ in range(length))


def _encrypt_text(plain: str, key: bytes, pad_char: str | None) -> str:
    """Prefix ``plain`` with 1-16 pad characters to whole AES blocks, encrypt, hex."""
    pad_len = 16 - len(plain) % 16 or 16
    data = (_pad(pad_len, pad_char) + plain).encode("ascii")
    return _aes(key, data, encrypt=True).hex().upper()


def _stamp(when: datetime) -> str:
    return "_" + when.astimezone(UTC).strftime(_TIME_FORMAT)


def dc09_ack(
    msg: Dc09Message,
    *,
    now: datetime | None = None,
    pad_char: str | None = None,
) -> bytes:
    """The ACK for an accepted frame: echoes sequence, receiver, line and account.

    An encrypted frame gets an encrypted ACK carrying the receiver's time, with the
    key that decrypted the frame.
    """
    h = msg.header
    head = f'"{"*" if h.encrypted else ""}ACK"{h.sequence}{h.receiver}{h.line}#{h.account}['
    if not h.encrypted or msg.key is None:
        return _wrap(head + "]")
    when = now or datetime.now(UTC)
    return _wrap(head + _encrypt_text("]" + _stamp(when), msg.key, pad_char))


def dc09_nak(now: datetime, *, receiver: str = "R0", line: str = "L0") -> bytes:
    """The NAK: carries the receiver's time so the sender can resynchronise."""
    return _wrap(f'"NAK"0000{receiver or "R0"}{line or "L0"}A0[]{_stamp(now)}')


def dc09_duh(header: Dc09Header) -> bytes:
    """The DUH: the frame was received intact but is not supported."""
    h = header
    return _wrap(f'"DUH"{h.sequence}{h.receiver}{h.line}#{h.account}[]')


def sia_payload(code: str, number: int | None = None, *, area: int | None = None) -> str:
    """A SIA-DCS payload with one event, e.g. ``sia_payload("HA", 1, area=1)``."""
    prefix = f"ri{area}/" if area is not None else ""
    return f"N{prefix}{code}{'' if number is None else f'{number:02d}'}"


def adm_cid_payload(qualifier: int, code: int, partition: int, zone: int) -> str:
    """An ADM-CID payload, ``QXYZ GG CCC``."""
    return f"{qualifier}{code:03d} {partition:02d} {zone:03d}"


def encode_dc09(
    message_id: str,
    sequence: int,
    account: str,
    payload: str = "",
    *,
    receiver: str | None = None,
    line: str = "0",
    xdata: Sequence[str] = (),
    key: bytes | None = None,
    timestamp: datetime | None = None,
    pad_char: str | None = None,
) -> bytes:
    """Build a frame (for simulators and tests), plain or encrypted.

    Args:
        message_id: ``SIA-DCS``, ``ADM-CID`` or ``NULL``.
        sequence: 0-9999.
        account: 3-16 hex digits.
        payload: the data after ``#acct|`` (see ``sia_payload``, ``adm_cid_payload``);
            empty for NULL.
        receiver: the receiver number (hex digits), or None to leave it out.
        line: the line (account prefix) number.
        xdata: x-data block contents.
        key: AES key bytes (16, 24 or 32) to encrypt; None for plain.
        timestamp: the frame's time; required when encrypting.
        pad_char: a fixed pad character (tests); None for random pad.

    Raises:
        ValueError: a field is out of range.
    """
    if not 0 <= sequence <= 9999:
        raise ValueError(f"sequence must be 0-9999, got {sequence}")
    if not 3 <= len(account) <= 16 or not all(ch in string.hexdigits for ch in account):
        raise ValueError(f"account must be 3-16 hex digits, got {account!r}")
    if key is not None and len(key) not in (16, 24, 32):
        raise ValueError("key must be 16, 24 or 32 bytes")
    star = "*" if key is not None else ""
    head = f'"{star}{message_id}"{sequence:04d}'
    head += f"R{receiver}" if receiver is not None else ""
    head += f"L{line}#{account}["
    data = f"#{account}|{payload}]" if payload else "]"
    tail = "".join(f"[{x}]" for x in xdata)
    if key is None:
        return _wrap(head + data + tail + (_stamp(timestamp) if timestamp else ""))
    if timestamp is None:
        raise ValueError("an encrypted frame needs a timestamp")
    plain = "|" + data + tail + _stamp(timestamp)
    return _wrap(head + _encrypt_text(plain, key, pad_char))


# --- stream decoder -----------------------------------------------------------------------

_RESYNC = re.compile(r'[0-9A-Fa-f]{8}"\*?(?:SIA-DCS|ADM-CID|NULL)"')

#: Refused accounts kept for ``refusals()`` when the caller does not collect them.
_MAX_PENDING_REFUSALS = 500


class Dc09StreamDecoder(LineDecoder):
    """Decode DC-09 frames from a byte stream and queue the answers.

    Live (``now`` given): timestamps are checked and every frame gets its answer in
    ``replies()``. Offline (``now`` None): no window, no answers.

    Attributes:
        accounts: the only accounts accepted (upper-case), or None for any.
        duplicates: repeated frames (same account, sequence and content: the sender
            did not get the ACK) answered again but not turned into events twice.
        length_mismatches: frames accepted whose LEN did not match (CRC good).
        unknown_accounts: frames refused because their account is not in
            ``accounts`` (also counted as rejected, with an ``unknown account`` reason).
    """

    protocol = PROTOCOL

    def __init__(
        self,
        device: str,
        *,
        keys: Mapping[str, str] | None = None,
        now: Callable[[], datetime] | None = None,
        window: tuple[float, float] = DEFAULT_WINDOW,
        max_line: int = 2048,
        remember: int = 32,
        accounts: Iterable[str] | None = None,
    ) -> None:
        """Create a decoder.

        Args:
            device: the device id put on every event.
            keys: account to key text (see ``parse_dc09``).
            now: the clock for live reception; None for offline decoding.
            window: the timestamp window, seconds (lag, lead).
            max_line: longer frames are garbage.
            remember: how many recent frames to remember to spot repeats.
            accounts: the only accounts accepted, any case (``dc09_accepted_accounts``
                adds those that have a key); None accepts any account.
        """
        super().__init__(device, max_line=max_line)
        self._keys = {k.upper(): v for k, v in (keys or {}).items()}
        self._now = now
        self._window = window
        self.accounts = None if accounts is None else frozenset(a.upper() for a in accounts)
        self._replies: list[bytes] = []
        self._refused: deque[str] = deque(maxlen=_MAX_PENDING_REFUSALS)
        self._recent: deque[tuple[str, ...]] = deque(maxlen=remember)
        self.duplicates = 0
        self.length_mismatches = 0
        self.unknown_accounts = 0

    def replies(self) -> list[bytes]:
        """Return and clear the answers due, in frame order (live mode only)."""
        out, self._replies = self._replies, []
        return out

    def refusals(self) -> list[str]:
        """Return and clear the accounts of the frames refused since the previous call,
        in frame order (``""`` for a frame naming none), for the device to report."""
        out = list(self._refused)
        self._refused.clear()
        return out

    def decode_line(self, line: Line) -> list[Event]:
        text = line.data.decode("latin-1")
        try:
            return self._accept(self._parse(line.data))
        except Dc09AccountRefused as refused:
            return self._refuse(line, refused)
        except Dc09Error as exc:
            error = exc
        for match in _RESYNC.finditer(text, 1):
            try:
                msg = self._parse(line.data[match.start() :])
            except Dc09Error:
                continue
            if not line.after_overflow:
                self.reject_frame(line.data[: match.start()], "garbage before a frame", noise=True)
            return self._accept(msg)
        if not line.after_overflow:
            self.reject_frame(line.data, error.reason, checksum=error.crc)
            self._answer_error(error)
        return []

    def _parse(self, data: bytes) -> Dc09Message:
        return parse_dc09(data, self._keys, self._now, self._window, self.accounts)

    def _refuse(self, line: Line, refused: Dc09AccountRefused) -> list[Event]:
        """A whole frame from an account not served: counted, answered, no events."""
        self.unknown_accounts += 1
        self._refused.append(refused.account)
        self.reject_frame(line.data, refused.reason)
        self._answer_error(refused)
        return []

    def _accept(self, msg: Dc09Message) -> list[Event]:
        if not msg.length_ok:
            self.length_mismatches += 1
        if self._now is not None:
            self._replies.append(dc09_ack(msg, now=self._now()))
        h = msg.header
        if h.message_id != "NULL":
            key = (h.account, h.receiver, h.line, h.message_id, h.sequence, msg.payload, *msg.xdata)
            if key in self._recent:
                self.duplicates += 1
                return []
            self._recent.append(key)
        return dc09_signals(msg, self.device)

    def _answer_error(self, error: Dc09Error) -> None:
        if self._now is None or error.response is None:
            return
        if error.response == "DUH" and error.header is not None:
            self._replies.append(dc09_duh(error.header))
        elif error.response == "NAK":
            h = error.header
            self._replies.append(
                dc09_nak(self._now(), receiver=h.receiver if h else "", line=h.line if h else "")
            )


def sia_codes_markdown() -> str:
    """The SIA code table as Markdown, as printed in docs/protocols/sia-dc09.md."""
    rows = ["| Code | Event | Kind | Restore | Number is |", "|---|---|---|---|---|"]
    for entry in SIA_CODES.values():
        rows.append(
            f"| {entry.code} | {entry.label} | {entry.kind.value} | "
            f"{'yes' if entry.restore else ''} | {entry.number or '(unused)'} |"
        )
    return "\n".join(rows)
