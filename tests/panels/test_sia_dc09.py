"""SIA DC-09: CRC, frames, SIA and ADM-CID data, encryption, time window, answers, and
the accounts a receiver serves."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from hub.config import load_config
from hub.config.issues import ConfigError
from hub.devices import DeviceType
from hub.events import AlarmKind, AlarmSignal, Event
from hub.schema import validate_settings
from plugins.panels.panel_events import LinkTest
from plugins.panels.sia_dc09 import (
    SIA_CODES,
    Dc09AccountRefused,
    Dc09Error,
    Dc09StreamDecoder,
    adm_cid_payload,
    dc09_accepted_accounts,
    dc09_ack,
    dc09_crc,
    dc09_duh,
    dc09_key_candidates,
    dc09_nak,
    dc09_signals,
    encode_dc09,
    parse_dc09,
    parse_sia_payload,
    sia_payload,
)
from tests.test_config import SITE

K = AlarmKind
T0 = datetime(2024, 12, 24, 17, 30, 0, tzinfo=UTC)
HEX_KEY = "00112233445566778899AABBCCDDEEFF"  # 32 hex digits: AES-128 as hex, 256 as text
TEXT_KEY = "Ecrin-test-key16"  # 16 characters: AES-128 as text only


def clock(when: datetime = T0) -> datetime:
    return when


def crc_arc(data: bytes) -> int:
    """CRC-16/ARC written the other common way (bit by bit on the message byte)."""
    crc = 0
    for byte in data:
        value = byte
        for _ in range(8):
            mix = (crc ^ value) & 1
            crc >>= 1
            if mix:
                crc ^= 0xA001
            value >>= 1
    return crc


def wrapped(body: str) -> bytes:
    return f"\n{crc_arc(body.encode()):04X}{len(body):04X}{body}\r".encode()


# --- CRC and framing ------------------------------------------------------------------


def test_crc_known_vector() -> None:
    assert dc09_crc(b"123456789") == 0xBB3D
    assert crc_arc(b"123456789") == 0xBB3D


def test_published_adm_cid_example() -> None:
    # The DC-09 example frame: CRC 87CD and LEN 0037 cover the span from the quote.
    frame = b'\n87CD0037"ADM-CID"9876R579BDFL789ABC#12345A[#12345A|1110 00 129]\r'
    msg = parse_dc09(frame)
    header = msg.header
    assert (header.message_id, header.sequence, header.receiver, header.line) == (
        "ADM-CID",
        "9876",
        "R579BDF",
        "L789ABC",
    )
    assert header.account == "12345A"
    assert msg.length_ok
    assert msg.cid == ("1", "110", "00", "129")
    (signal,) = dc09_signals(msg, "rx")
    assert isinstance(signal, AlarmSignal)
    assert (signal.kind, signal.restore, signal.panel_zone, signal.partition) == (
        K.FIRE,
        False,
        129,
        None,
    )
    assert (signal.code, signal.protocol) == ("110", "sia-dc09")


def test_encoder_builds_crc_and_length() -> None:
    frame = encode_dc09("SIA-DCS", 12, "1234", "Nri1/HA01", receiver="1", line="1", timestamp=T0)
    body = '"SIA-DCS"0012R1L1#1234[#1234|Nri1/HA01]_17:30:00,12-24-2024'
    assert frame == wrapped(body)


def test_bad_crc_gets_no_answer() -> None:
    frame = bytearray(encode_dc09("SIA-DCS", 1, "1234", "Nri1/BA01"))
    frame[-3] ^= 0x01  # flip a bit in the data
    with pytest.raises(Dc09Error) as err:
        parse_dc09(bytes(frame))
    assert err.value.crc
    assert err.value.response is None
    assert err.value.reason.startswith("bad CRC")


def test_length_mismatch_is_tolerated_and_flagged() -> None:
    body = '"SIA-DCS"0001L0#1234[#1234|Nri1/BA01]'
    frame = f"\n{crc_arc(body.encode()):04X}0099{body}\r".encode()
    msg = parse_dc09(frame)
    assert not msg.length_ok
    assert [e.code for e in msg.sia_events] == ["BA"]


def test_unsupported_id_gets_duh() -> None:
    with pytest.raises(Dc09Error) as err:
        parse_dc09(wrapped('"ACR-SL"0005L0#1234[#1234|X]'))
    assert err.value.response == "DUH"
    assert err.value.header is not None
    assert err.value.header.sequence == "0005"


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"hello", "does not start with CRC and LEN"),
        (b"\nABCD0010\x01\r", "not printable ASCII"),
        (wrapped('"SIA-DCS"12L0#1234[]'), "cannot read the frame header"),
    ],
)
def test_unreadable_frames(frame: bytes, reason: str) -> None:
    with pytest.raises(Dc09Error) as err:
        parse_dc09(frame)
    assert reason in err.value.reason
    assert err.value.response is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("N?BA01", "cannot read SIA item"),
        ("Nri1/BA01[", "stray '['"),
    ],
)
def test_undecodable_sia_data_gets_duh(payload: str, reason: str) -> None:
    with pytest.raises(Dc09Error) as err:
        parse_dc09(wrapped(f'"SIA-DCS"0003L0#1234[#1234|{payload}]'))
    assert reason in err.value.reason
    assert err.value.response == "DUH"


def test_bad_adm_cid_data_gets_duh() -> None:
    with pytest.raises(Dc09Error) as err:
        parse_dc09(encode_dc09("ADM-CID", 3, "1234", "1121 1 15"))
    assert err.value.response == "DUH"


# --- SIA data -------------------------------------------------------------------------

# The policy for the codes that matter most, written out from DC-03.
POLICY: dict[str, tuple[AlarmKind, bool]] = {
    "HA": (K.HOLDUP, False),
    "HR": (K.HOLDUP, True),
    "HH": (K.HOLDUP, True),
    "HT": (K.TROUBLE, False),
    "PA": (K.PANIC, False),
    "PR": (K.PANIC, True),
    "PH": (K.PANIC, True),
    "BA": (K.BURGLARY, False),
    "BR": (K.BURGLARY, True),
    "TA": (K.TAMPER, False),
    "TR": (K.TAMPER, True),
    "FA": (K.FIRE, False),
    "FR": (K.FIRE, True),
    "MA": (K.MEDICAL, False),
    "RP": (K.TEST, False),
    "YS": (K.TROUBLE, False),
    "YK": (K.TROUBLE, True),
    "OP": (K.OPENING, False),
    "CL": (K.CLOSING, False),
    "DA": (K.OTHER, False),
}


@pytest.mark.parametrize("code", sorted(POLICY))
def test_policy_for_key_codes(code: str) -> None:
    entry = SIA_CODES[code]
    assert (entry.kind, entry.restore) == POLICY[code]


@pytest.mark.parametrize("code", sorted(SIA_CODES))
def test_every_sia_code_decodes(code: str) -> None:
    entry = SIA_CODES[code]
    msg = parse_dc09(encode_dc09("SIA-DCS", 7, "1234", f"Nri2/{code}05"))
    (signal,) = dc09_signals(msg, "rx")
    assert isinstance(signal, AlarmSignal)
    assert (signal.kind, signal.restore, signal.code) == (entry.kind, entry.restore, code)
    where = {"zone": signal.panel_zone, "user": signal.user, "area": signal.partition}
    if entry.number:
        assert where[entry.number] == 5
    if entry.number != "area":
        assert signal.partition == 2


def test_unknown_sia_code_is_other_not_dropped() -> None:
    (signal,) = dc09_signals(parse_dc09(encode_dc09("SIA-DCS", 7, "1234", "NZX01")), "rx")
    assert (signal.kind, signal.code, signal.panel_zone) == (K.OTHER, "ZX", 1)  # type: ignore[attr-defined]


def test_several_events_and_modifiers() -> None:
    events = parse_sia_payload("Nri1/BA01/BA02/ri2id7/HA03|Ashop front")
    assert [(e.code, e.number, e.area, e.user) for e in events] == [
        ("BA", 1, 1, None),
        ("BA", 2, 1, None),
        ("HA", 3, 2, 7),
    ]


def test_names_time_and_user_codes() -> None:
    events = parse_sia_payload("Nti12:30/ri1CL0^VX FRONTE ^")
    assert [(e.code, e.number, e.area, e.text) for e in events] == [("CL", 0, 1, "VX FRONTE ")]
    (signal,) = dc09_signals(parse_dc09(encode_dc09("SIA-DCS", 1, "AAA", "Nri1/CL501")), "rx")
    assert (signal.kind, signal.user, signal.panel_zone) == (K.CLOSING, 501, None)  # type: ignore[attr-defined]


def test_text_only_block_has_no_events() -> None:
    assert parse_sia_payload("AHello") == ()


def test_xdata_is_kept() -> None:
    msg = parse_dc09(
        encode_dc09("SIA-DCS", 6002, "AAA", "Nri1/CL501", xdata=["M0026B9E4268B"], timestamp=T0)
    )
    assert msg.xdata == ("M0026B9E4268B",)
    assert msg.timestamp == T0


def test_frame_time_becomes_the_event_time() -> None:
    msg = parse_dc09(encode_dc09("SIA-DCS", 1, "1234", sia_payload("PA", 4), timestamp=T0))
    (signal,) = dc09_signals(msg, "rx")
    assert signal.time == T0


def test_adm_cid_duress() -> None:
    msg = parse_dc09(encode_dc09("ADM-CID", 9, "1234", adm_cid_payload(1, 121, 1, 15)))
    (signal,) = dc09_signals(msg, "rx")
    assert (signal.kind, signal.user, signal.partition) == (K.DURESS, 15, 1)  # type: ignore[attr-defined]
    assert signal.life_safety


def test_null_is_a_link_test() -> None:
    msg = parse_dc09(encode_dc09("NULL", 0, "1234", timestamp=T0))
    assert dc09_signals(msg, "rx") == [
        LinkTest(time=T0, device="rx", protocol="sia-dc09", account="1234", raw=msg.raw)
    ]


# --- encryption -----------------------------------------------------------------------


def aes_decrypt(key: bytes, hex_text: str) -> str:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).decryptor()
    return (decryptor.update(bytes.fromhex(hex_text)) + decryptor.finalize()).decode("latin-1")


def test_key_candidates() -> None:
    assert dc09_key_candidates(HEX_KEY) == [
        ("hex", bytes.fromhex(HEX_KEY)),
        ("ascii", HEX_KEY.encode()),
    ]
    assert dc09_key_candidates(TEXT_KEY) == [("ascii", TEXT_KEY.encode())]
    assert dc09_key_candidates("short") == []


@pytest.mark.parametrize(
    ("key_text", "convention"),
    [
        (HEX_KEY, "hex"),
        (HEX_KEY, "ascii"),
        (TEXT_KEY, "ascii"),
        ("00112233445566778899AABBCCDDEEFF0011223344556677", "hex"),  # AES-192
        ("00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF", "hex"),
    ],
)
def test_encrypted_round_trip_with_both_key_conventions(key_text: str, convention: str) -> None:
    key = dict(dc09_key_candidates(key_text))[convention]
    frame = encode_dc09(
        "SIA-DCS", 42, "1234", sia_payload("HA", 2, area=1), receiver="3", timestamp=T0
    )
    encrypted = encode_dc09(
        "SIA-DCS", 42, "1234", sia_payload("HA", 2, area=1), receiver="3", key=key, timestamp=T0
    )
    assert b'"*SIA-DCS"0042R3L0#1234[' in encrypted
    assert b"HA" not in encrypted.split(b"[", 1)[1]
    msg = parse_dc09(encrypted, keys={"1234": key_text}, now=clock)
    assert msg.key_convention == convention
    assert msg.header.encrypted
    assert msg.payload == parse_dc09(frame).payload == "Nri1/HA02"
    (signal,) = dc09_signals(msg, "rx")
    assert (signal.kind, signal.panel_zone, signal.partition) == (K.HOLDUP, 2, 1)  # type: ignore[attr-defined]


def test_published_encrypted_null_with_text_key() -> None:
    # An encrypted NULL frame from the pysiaalarm test suite (key "AAAAAAAAAAAAAAAA").
    frame = (
        b'76D80055"*NULL"0000R0L0#AAAB[B4BC8B40D0E6D959D6BEA78E88CC0B21'
        b"55741A3C44FBB96D476A3E557CAD64D9"
    )
    msg = parse_dc09(frame, keys={"aaab": "AAAAAAAAAAAAAAAA"})
    assert msg.key_convention == "ascii"
    assert msg.timestamp == datetime(2020, 7, 5, 18, 24, 52, tzinfo=UTC)
    (link,) = dc09_signals(msg, "rx")
    assert isinstance(link, LinkTest)
    assert link.account == "AAAB"


def test_fallback_key_for_any_account() -> None:
    key = bytes.fromhex(HEX_KEY)
    frame = encode_dc09("NULL", 0, "BEEF", key=key, timestamp=T0)
    assert parse_dc09(frame, keys={"*": HEX_KEY}).key_convention == "hex"


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        (None, "no key configured"),
        ({"1234": "FFEEDDCCBBAA99887766554433221100"}, "cannot decrypt"),
        ({"1234": "not a key"}, "neither"),
    ],
)
def test_encrypted_frame_that_cannot_be_read_gets_nak(
    keys: dict[str, str] | None, reason: str
) -> None:
    frame = encode_dc09("SIA-DCS", 5, "1234", "NBA01", key=bytes.fromhex(HEX_KEY), timestamp=T0)
    with pytest.raises(Dc09Error) as err:
        parse_dc09(frame, keys=keys)
    assert reason in err.value.reason
    assert err.value.response == "NAK"


def test_encrypting_needs_a_timestamp_and_a_sane_key() -> None:
    with pytest.raises(ValueError, match="timestamp"):
        encode_dc09("NULL", 0, "1234", key=bytes(16))
    with pytest.raises(ValueError, match="key"):
        encode_dc09("NULL", 0, "1234", key=bytes(10), timestamp=T0)


# --- timestamp window -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(-40, True), (-41, False), (0, True), (20, True), (21, False), (-3600, False)],
)
def test_timestamp_window(offset: int, accepted: bool) -> None:
    frame = encode_dc09("SIA-DCS", 1, "1234", "NBA01", timestamp=T0 + timedelta(seconds=offset))
    if accepted:
        assert parse_dc09(frame, now=clock).sia_events
        return
    with pytest.raises(Dc09Error) as err:
        parse_dc09(frame, now=clock)
    assert err.value.response == "NAK"
    assert "from the hub's clock" in err.value.reason


def test_window_is_configurable_and_off_offline() -> None:
    frame = encode_dc09("SIA-DCS", 1, "1234", "NBA01", timestamp=T0 - timedelta(seconds=90))
    assert parse_dc09(frame, now=clock, window=(120, 20)).sia_events
    assert parse_dc09(frame).sia_events  # offline: no clock, no window


def test_live_encrypted_frame_needs_a_timestamp() -> None:
    key = bytes.fromhex(HEX_KEY)
    body = '"*NULL"0001L0#1234['
    cipher = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    hex_data = (cipher.update(b"0" * 14 + b"|]") + cipher.finalize()).hex().upper()
    frame = wrapped(body + hex_data)
    assert parse_dc09(frame, keys={"1234": HEX_KEY}).timestamp is None
    with pytest.raises(Dc09Error, match="without a timestamp") as err:
        parse_dc09(frame, keys={"1234": HEX_KEY}, now=clock)
    assert err.value.response == "NAK"


# --- answers --------------------------------------------------------------------------


def test_ack_echoes_sequence_receiver_line_and_account() -> None:
    msg = parse_dc09(encode_dc09("SIA-DCS", 12, "1234", "NBA01", receiver="1", line="2"))
    assert dc09_ack(msg) == wrapped('"ACK"0012R1L2#1234[]')


def test_encrypted_ack_carries_the_time() -> None:
    key = bytes.fromhex(HEX_KEY)
    msg = parse_dc09(
        encode_dc09("SIA-DCS", 77, "1234", "NBA01", key=key, timestamp=T0),
        keys={"1234": HEX_KEY},
    )
    ack = dc09_ack(msg, now=T0)
    text = ack.decode().strip()
    assert text[8:].startswith('"*ACK"0077L0#1234[')
    plain = aes_decrypt(key, text.split("[", 1)[1])
    assert plain.endswith("]_17:30:00,12-24-2024")
    assert len(plain) % 16 == 0
    assert ack == wrapped(text[8:])


def test_nak_and_duh() -> None:
    assert dc09_nak(T0) == wrapped('"NAK"0000R0L0A0[]_17:30:00,12-24-2024')
    assert dc09_nak(T0, receiver="R5", line="L1") == wrapped(
        '"NAK"0000R5L1A0[]_17:30:00,12-24-2024'
    )
    msg = parse_dc09(encode_dc09("SIA-DCS", 3, "1234", "NBA01"))
    assert dc09_duh(msg.header) == wrapped('"DUH"0003L0#1234[]')


# --- stream decoder -------------------------------------------------------------------


def test_stream_answers_every_frame_in_order() -> None:
    decoder = Dc09StreamDecoder("rx", now=clock)
    good = encode_dc09("SIA-DCS", 1, "1234", "Nri1/HA01", timestamp=T0)
    late = encode_dc09("SIA-DCS", 2, "1234", "NBA01", timestamp=T0 - timedelta(minutes=5))
    odd = wrapped('"ACR-SL"0003L0#1234[#1234|X]')
    events = decoder.feed(good + late + odd)
    assert [e.kind for e in events] == [K.HOLDUP]  # type: ignore[attr-defined]
    replies = decoder.replies()
    assert [r[9:14] for r in replies] == [b'"ACK"', b'"NAK"', b'"DUH"']
    assert decoder.replies() == []
    assert [r.reason.split(":")[0] for r in decoder.rejects()] == [
        "timestamp 17",
        "message ID ACR-SL is not supported",
    ]


def test_offline_stream_builds_no_answers() -> None:
    decoder = Dc09StreamDecoder("rx")
    frame = encode_dc09("SIA-DCS", 1, "1234", "NBA01", timestamp=T0 - timedelta(days=30))
    assert len(decoder.feed(frame)) == 1
    assert decoder.replies() == []


def test_repeated_frame_is_acknowledged_but_not_decoded_twice() -> None:
    decoder = Dc09StreamDecoder("rx", now=clock)
    frame = encode_dc09("SIA-DCS", 9, "1234", "Nri1/PA01", timestamp=T0)
    null = encode_dc09("NULL", 0, "1234", timestamp=T0)
    events: list[Event] = []
    for _ in range(3):
        events.extend(decoder.feed(frame + null))
    assert [type(e).__name__ for e in events] == ["AlarmSignal", "LinkTest", "LinkTest", "LinkTest"]
    assert decoder.duplicates == 2
    assert len(decoder.replies()) == 6


def test_bad_crc_is_counted_and_the_next_frame_decoded() -> None:
    decoder = Dc09StreamDecoder("rx", now=clock)
    bad = bytearray(encode_dc09("SIA-DCS", 1, "1234", "NBA01", timestamp=T0))
    bad[12] = ord("X") if bad[12] != ord("X") else ord("Y")
    good = encode_dc09("SIA-DCS", 2, "1234", "NTA01", timestamp=T0)
    events = decoder.feed(bytes(bad) + good)
    assert [e.kind for e in events] == [K.TAMPER]  # type: ignore[attr-defined]
    assert decoder.stats.bad_checksum == 1
    assert len(decoder.replies()) == 1  # the bad frame is not answered


def test_garbage_glued_before_a_frame() -> None:
    decoder = Dc09StreamDecoder("rx")
    frame = encode_dc09("SIA-DCS", 2, "1234", "NFA01").lstrip(b"\n")
    events = decoder.feed(b"\x00\x01junk" + frame)
    assert [e.kind for e in events] == [K.FIRE]  # type: ignore[attr-defined]
    assert [r.reason for r in decoder.rejects()] == ["garbage before a frame"]


def test_length_mismatches_are_counted() -> None:
    decoder = Dc09StreamDecoder("rx")
    body = '"SIA-DCS"0001L0#1234[#1234|NBA01]'
    decoder.feed(f"\n{crc_arc(body.encode()):04X}0001{body}\r".encode())
    assert decoder.length_mismatches == 1
    assert decoder.stats.events == 1


def test_keys_are_matched_whatever_the_case() -> None:
    decoder = Dc09StreamDecoder("rx", keys={"beef": TEXT_KEY})
    frame = encode_dc09("SIA-DCS", 1, "BEEF", "NBA01", key=TEXT_KEY.encode(), timestamp=T0)
    assert len(decoder.feed(frame)) == 1


# --- accounts ---------------------------------------------------------------------------

NAK_AT_T0 = wrapped('"NAK"0000R0L0A0[]_17:30:00,12-24-2024')


def holdup_from(account: str, sequence: int = 1, **extra: Any) -> bytes:
    return encode_dc09("SIA-DCS", sequence, account, "Nri1/HA01", timestamp=T0, **extra)


def test_accepted_accounts_are_the_listed_and_the_keyed_ones() -> None:
    assert dc09_accepted_accounts(["4f21", "0123"]) == {"4F21", "0123"}
    keys = {"beef": TEXT_KEY, "*": HEX_KEY}
    assert dc09_accepted_accounts(["4F21"], keys) == {"4F21", "BEEF"}
    assert dc09_accepted_accounts([], keys) == {"BEEF"}
    # Nothing listed and no key of its own: any account, as before the setting existed.
    assert dc09_accepted_accounts([], {"*": HEX_KEY}) is None
    assert dc09_accepted_accounts([]) is None


def test_a_listed_account_is_accepted() -> None:
    decoder = Dc09StreamDecoder("rx", now=clock, accounts=["1234"])
    (signal,) = decoder.feed(holdup_from("1234"))
    assert (signal.kind, signal.panel_zone) == (K.HOLDUP, 1)  # type: ignore[attr-defined]
    assert decoder.replies() == [wrapped('"ACK"0001L0#1234[]')]
    assert (decoder.unknown_accounts, decoder.stats.rejected) == (0, 0)
    assert decoder.refusals() == []


def test_an_unlisted_account_is_refused_with_nak_and_no_event() -> None:
    frame = holdup_from("9999")
    assert Dc09StreamDecoder("rx", now=clock).feed(frame)  # accepted without the setting
    decoder = Dc09StreamDecoder("rx", now=clock, accounts=["1234"])
    assert decoder.feed(frame) == []
    assert decoder.replies() == [NAK_AT_T0]
    assert [r.reason for r in decoder.rejects()] == [
        "unknown account 9999: not listed in accounts or keys"
    ]
    assert (decoder.unknown_accounts, decoder.stats.rejected, decoder.stats.bad_checksum) == (
        1,
        1,
        0,
    )
    assert decoder.stats.events == 0
    assert decoder.refusals() == ["9999"]
    assert decoder.refusals() == []


def test_a_frame_naming_no_account_is_refused() -> None:
    frame = wrapped('"SIA-DCS"0001L0[Nri1/HA01]_17:30:00,12-24-2024')
    assert parse_dc09(frame, now=clock).sia_events  # readable, and accepted without the setting
    decoder = Dc09StreamDecoder("rx", now=clock, accounts=["1234"])
    assert decoder.feed(frame) == []
    assert decoder.replies() == [NAK_AT_T0]
    assert [r.reason for r in decoder.rejects()] == ["unknown account: the frame names none"]
    assert decoder.refusals() == [""]
    assert decoder.unknown_accounts == 1


def test_the_account_of_the_data_block_counts_when_the_header_has_none() -> None:
    decoder = Dc09StreamDecoder("rx", now=clock, accounts=["1234"])
    listed = wrapped('"SIA-DCS"0001L0[#1234|Nri1/HA01]_17:30:00,12-24-2024')
    unlisted = wrapped('"SIA-DCS"0002L0[#9999|Nri1/HA01]_17:30:00,12-24-2024')
    assert len(decoder.feed(listed + unlisted)) == 1
    assert [r[9:14] for r in decoder.replies()] == [b'"ACK"', b'"NAK"']
    assert decoder.refusals() == ["9999"]


def test_a_keyed_account_is_listed() -> None:
    keys = {"beef": TEXT_KEY}
    decoder = Dc09StreamDecoder(
        "rx", keys=keys, now=clock, accounts=dc09_accepted_accounts([], keys)
    )
    encrypted = holdup_from("BEEF", key=TEXT_KEY.encode())
    assert len(decoder.feed(encrypted)) == 1
    assert decoder.feed(holdup_from("1234", 2)) == []
    replies = decoder.replies()
    assert replies[0][9:15] == b'"*ACK"'
    assert replies[1:] == [NAK_AT_T0]
    assert decoder.refusals() == ["1234"]


def test_an_unlisted_encrypted_frame_is_refused_before_it_is_decrypted() -> None:
    # The fallback key would decrypt it, and without a key it would be "no key
    # configured": either way the reason given is the account.
    frame = holdup_from("BEEF", key=bytes.fromhex(HEX_KEY))
    for keys in ({"*": HEX_KEY}, None):
        with pytest.raises(Dc09AccountRefused) as err:
            parse_dc09(frame, keys=keys, now=clock, accounts={"1234"})
        assert (err.value.account, err.value.response) == ("BEEF", "NAK")
        assert err.value.reason.startswith("unknown account BEEF")
    assert parse_dc09(frame, keys={"*": HEX_KEY}, now=clock).header.account == "BEEF"


def test_accounts_match_whatever_the_case_but_leading_zeros_count() -> None:
    decoder = Dc09StreamDecoder("rx", now=clock, accounts=["4f21", "0123"])
    events = decoder.feed(holdup_from("4F21", 1) + holdup_from("4f21", 2) + holdup_from("0123", 3))
    assert len(events) == 3
    assert decoder.feed(holdup_from("123", 4) + holdup_from("00123", 5)) == []
    assert decoder.refusals() == ["123", "00123"]


def test_the_message_id_and_the_crc_are_checked_before_the_account() -> None:
    with pytest.raises(Dc09Error) as err:
        parse_dc09(wrapped('"ACR-SL"0005L0#9999[#9999|X]'), accounts={"1234"})
    assert (type(err.value), err.value.response) == (Dc09Error, "DUH")
    bad = bytearray(holdup_from("9999"))
    bad[-3] ^= 0x01
    with pytest.raises(Dc09Error) as err:
        parse_dc09(bytes(bad), accounts={"1234"})
    assert (type(err.value), err.value.response, err.value.crc) == (Dc09Error, None, True)


def test_every_refused_frame_is_counted_and_answered() -> None:
    decoder = Dc09StreamDecoder("rx", now=clock, accounts=["1234"])
    frame = holdup_from("9999")
    for _ in range(3):
        assert decoder.feed(frame) == []
    assert decoder.replies() == [NAK_AT_T0] * 3
    assert (decoder.unknown_accounts, decoder.stats.rejected, decoder.duplicates) == (3, 3, 0)
    assert decoder.refusals() == ["9999"] * 3


def test_offline_decoding_refuses_but_builds_no_answer() -> None:
    decoder = Dc09StreamDecoder("rx", accounts=["1234"])
    assert decoder.feed(holdup_from("9999")) == []
    assert decoder.replies() == []
    assert decoder.unknown_accounts == 1


# --- the receiver device's accounts (settings, log) ----------------------------------------


@pytest.fixture
def dc09_schema(panel_types: dict[str, DeviceType]) -> Any:
    return panel_types["sia-dc09"].schema


@pytest.mark.parametrize("accounts", [[], ["1234"], ["4f21", "0123", "ABCDEF0123456789"], ["abc"]])
def test_accounts_setting_accepts_lists_of_accounts(dc09_schema: Any, accounts: Any) -> None:
    values, errors = validate_settings(dc09_schema, {"port": 12128, "accounts": accounts})
    assert errors == []
    assert values["accounts"] == accounts


def test_accounts_setting_defaults_to_none_listed(dc09_schema: Any) -> None:
    values, errors = validate_settings(dc09_schema, {"port": 12128})
    assert errors == []
    assert values["accounts"] == []


@pytest.mark.parametrize(
    ("accounts", "reason"),
    [
        # YAML's number: a leading zero would have been lost (or read as octal)
        ([1234], "entry 1 (1234) is not quoted: write each account in quotes"),
        (["12"], "entry 1 ('12') is not an account: 3 to 16 hex digits"),
        (["1234", "ABCDEF01234567890"], "entry 2 ('ABCDEF01234567890') is not an account"),
        (["12G4"], "entry 1 ('12G4') is not an account"),
        (["*"], "entry 1 ('*') is not an account"),
        ([""], "entry 1 ('') is not an account"),
        ("1234", "expected list, got str ('1234')"),
        ({"1234": "x"}, "expected list, got dict"),
    ],
)
def test_accounts_setting_refuses_what_is_not_a_list_of_accounts(
    dc09_schema: Any, accounts: Any, reason: str
) -> None:
    _values, errors = validate_settings(dc09_schema, {"port": 12128, "accounts": accounts})
    assert [e.key for e in errors] == ["accounts"]
    assert errors[0].reason.startswith(reason)


#: A shop whose receiver lists the accounts put in for ``%s``, on line 14 of the file.
SHOP = (
    SITE
    + """\
devices:
  - id: transmetteur
    type: sia-dc09
    settings:
      port: 12128
      accounts: %s
"""
)


def test_a_bad_account_in_the_configuration_names_file_and_line(
    tmp_path: Path, panel_types: dict[str, DeviceType]
) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP % '["4F21", 0123]', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, panel_types)
    assert [str(issue) for issue in caught.value.issues] == [
        f"{path}:14:17: devices[0].settings.accounts: entry 2 (83) is not quoted: write"
        " each account in quotes (YAML reads 0123 as the number 83)"
    ]
    path.write_text(SHOP % '["4f21", "0123"]', encoding="utf-8")
    (device,) = load_config(path, panel_types).devices
    assert device.settings["accounts"] == ["4f21", "0123"]


Build = Callable[..., Any]


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]


def test_the_receiver_refuses_unknown_accounts_and_logs_each_once(
    build_device: Build, caplog: pytest.LogCaptureFixture
) -> None:
    device = build_device(
        "sia-dc09",
        {"port": 0, "accounts": ["1234"], "keys": {"beef": TEXT_KEY, "*": HEX_KEY}},
        device_id="rx",
    )
    assert device.accounts == {"1234", "BEEF"}
    no_account = wrapped('"SIA-DCS"0009L0[Nri1/HA01]')
    caplog.set_level(logging.WARNING, logger="ecrin.device.rx")
    for frame in [encode_dc09("SIA-DCS", n, "9999", "NHA01") for n in range(1, 6)] + [
        encode_dc09("SIA-DCS", 6, "8888", "NHA01"),
        encode_dc09("SIA-DCS", 7, "8888", "NHA01"),
        no_account,
        no_account,
    ]:
        (reply,) = device.feed(frame)
        assert reply[9:14] == b'"NAK"'
    assert device.unknown_accounts == 9
    assert (device.rejected, device.bad_checksum, device.events) == (9, 0, 0)
    assert device.answers == {"ACK": 0, "NAK": 9, "DUH": 0}
    assert refusal_lines(caplog) == [
        "rx: refused a frame from unknown account 9999 with NAK; add it to accounts to"
        " accept it (its next frames are counted, not logged)",
        "rx: refused a frame from unknown account 8888 with NAK; add it to accounts to"
        " accept it (its next frames are counted, not logged)",
        "rx: refused a frame naming no account with NAK (the next ones are counted, not logged)",
    ]
    (ack,) = device.feed(encode_dc09("SIA-DCS", 8, "1234", "NHA01"))
    assert ack == wrapped('"ACK"0008L0#1234[]')
    assert device.events == 1


def test_a_flood_of_made_up_accounts_stops_being_logged(
    build_device: Build, caplog: pytest.LogCaptureFixture
) -> None:
    device = build_device("sia-dc09", {"port": 0, "accounts": ["1234"]}, device_id="rx")
    device.max_logged_accounts = 3
    caplog.set_level(logging.WARNING, logger="ecrin.device.rx")
    for n in range(1, 101):
        device.feed(encode_dc09("SIA-DCS", n, f"{n:04X}0", "NHA01"))
    lines = refusal_lines(caplog)
    assert [line.split(" with NAK")[0] for line in lines[:3]] == [
        f"rx: refused a frame from unknown account {n:04X}0" for n in (1, 2, 3)
    ]
    assert lines[3:] == [
        "rx: frames from more than 3 unknown accounts refused; the next ones are counted"
        " (unknown_accounts), not logged"
    ]
    assert device.unknown_accounts == 100


@pytest.mark.parametrize(
    ("settings", "warned"),
    [
        ({}, True),
        ({"keys": {"*": HEX_KEY}}, True),
        ({"accounts": ["1234"]}, False),
        ({"keys": {"1234": HEX_KEY}}, False),
    ],
)
async def test_the_start_warns_when_any_account_is_accepted(
    build_device: Build, caplog: pytest.LogCaptureFixture, settings: Any, warned: bool
) -> None:
    device = build_device("sia-dc09", {"host": "127.0.0.1", "port": 0, **settings}, "rx")
    caplog.set_level(logging.WARNING, logger="ecrin.device.rx")
    async with device:
        pass
    expected = (
        "rx: accepting frames from any account; list the communicators' accounts in the"
        " accounts setting (or give each its key in keys) to refuse the others"
    )
    assert [r.getMessage() for r in caplog.records] == ([expected] if warned else [])
    assert (device.accounts is None) is warned
