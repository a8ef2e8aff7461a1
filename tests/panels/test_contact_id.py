"""Contact ID (SIA DC-05): checksum, parsing, the event table, the line decoder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.events import AlarmKind, AlarmSignal, Event
from plugins.panels.contact_id import (
    CONTACT_ID_CODES,
    ContactIdError,
    ContactIdLineDecoder,
    cid_kind,
    contact_id_checksum,
    contact_id_to_signal,
    encode_contact_id,
    parse_contact_id,
)

K = AlarmKind

# Digit values written out independently of the module: 0 counts 10, B-F 11-15.
VALUES = {**{str(d): d for d in range(1, 10)}, "0": 10, "B": 11, "C": 12, "D": 13, "E": 14}
VALUES["F"] = 15


def digit_sum(text: str) -> int:
    return sum(VALUES[ch] for ch in text)


# --- checksum -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "check"),
    [
        # 1+2+3+4+1+8+1+1+3+1+10+1+10+1+5 = 52; 52 + 8 = 60.
        ("123418113101015", "8"),
        # sum 50: the check value is 10, written "0".
        ("123418113101013", "0"),
        # sum 60 is already a multiple of 15: the check value is 15, written "F".
        ("123418113101004", "F"),
        # hex account digits: B=11, C=12; sum 85, check 5.
        ("B2C418113001001", "5"),
    ],
)
def test_checksum_vectors(body: str, check: str) -> None:
    assert contact_id_checksum(body) == check
    assert digit_sum(body + check) % 15 == 0


def test_zero_counts_ten_in_the_checksum() -> None:
    # With 0 counted as 0 the sum would be 32 and the check digit D; the standard
    # counts 0 as 10, giving 8. The D version must be rejected.
    assert contact_id_checksum("123418113101015") == "8"
    with pytest.raises(ContactIdError) as err:
        parse_contact_id("123418113101015D")
    assert err.value.checksum
    assert "check digit should be 8" in err.value.reason


def test_check_value_ten_may_be_written_a() -> None:
    assert parse_contact_id("123418113101013A").checksum == "A"
    assert parse_contact_id("1234181131010130").checksum == "0"


@given(st.text(alphabet="0123456789BCDEF", min_size=15, max_size=15))
def test_checksum_always_completes_a_multiple_of_15(body: str) -> None:
    check = contact_id_checksum(body)
    assert check in "0123456789BCDEF"
    assert digit_sum(body + check) % 15 == 0


def test_checksum_rejects_a_bad_body() -> None:
    with pytest.raises(ContactIdError):
        contact_id_checksum("12341811310101")
    with pytest.raises(ContactIdError):
        contact_id_checksum("12341811310101A")


# --- parsing --------------------------------------------------------------------------


def test_parse_fields() -> None:
    msg = parse_contact_id("1234 18 1131 01 015 8")
    assert (msg.account, msg.message_type, msg.qualifier) == ("1234", "18", "1")
    assert (msg.event_code, msg.group, msg.number) == ("131", "01", "015")
    assert msg.partition == 1
    assert msg.zone_or_user == 15
    assert msg.text == "1234181131010158"
    assert msg.label == "Perimeter"


def test_parse_hex_account_and_lower_case() -> None:
    msg = parse_contact_id("b2c4181130010015")
    assert msg.account == "B2C4"


def test_message_type_98_is_accepted() -> None:
    body = "123498113101015"
    assert parse_contact_id(body + contact_id_checksum(body)).message_type == "98"


def test_zero_group_and_number_mean_none() -> None:
    body = "123418160200000"
    msg = parse_contact_id(body + contact_id_checksum(body))
    assert msg.partition is None
    assert msg.zone_or_user is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("123418113101015", "expected 16 digits, got 15"),
        ("12341811310101588", "expected 16 digits, got 17"),
        ("A234181131010158", "invalid digit 'A' at position 1"),
        ("12341811310X0158", "invalid digit 'X' at position 12"),
        ("1234171131010158", "message type must be 18 or 98"),
        ("1234182131010158", "qualifier must be 1, 3 or 6"),
    ],
)
def test_parse_errors_say_why(text: str, reason: str) -> None:
    with pytest.raises(ContactIdError) as err:
        parse_contact_id(text)
    assert reason in err.value.reason
    assert not err.value.checksum


# --- the event table ------------------------------------------------------------------

# The mapping policy, written out from the standard independently of the module.
PANIC = {"120", "123"}
DURESS = {"121", "124", "125"}
HOLDUP = {"122", "126", "129"}
TAMPER = {"137", "144", "145", "316", "341", "383"}
TEST = {"601", "602", "603", "604", "608"}
OPEN_CLOSE = {str(c) for c in range(400, 410)} | {"441", "442"}
TROUBLE_1XX = {"141", "142", "143", "147"}


def expected_kind(code: str) -> AlarmKind:
    value = int(code)
    if code in PANIC:
        return K.PANIC
    if code in DURESS:
        return K.DURESS
    if code in HOLDUP:
        return K.HOLDUP
    if code in TAMPER:
        return K.TAMPER
    if code in TEST:
        return K.TEST
    if 130 <= value <= 139 or code == "146":
        return K.BURGLARY
    if 110 <= value <= 118:
        return K.FIRE
    if 100 <= value <= 109:
        return K.MEDICAL
    if 300 <= value <= 399 or code in TROUBLE_1XX:
        return K.TROUBLE
    return K.OTHER


ALL_CODES = [*sorted(CONTACT_ID_CODES), "105", "119", "127", "160", "317", "399", "410", "999"]


@pytest.mark.parametrize("code", [c for c in ALL_CODES if c not in OPEN_CLOSE])
def test_every_code_maps_to_its_kind(code: str) -> None:
    assert cid_kind("1", code) == (expected_kind(code), False)
    assert cid_kind("3", code) == (expected_kind(code), True)
    assert cid_kind("6", code) == (expected_kind(code), False)


@pytest.mark.parametrize("code", sorted(OPEN_CLOSE))
def test_open_close_codes_take_the_qualifier(code: str) -> None:
    assert cid_kind("1", code) == (K.OPENING, False)
    assert cid_kind("3", code) == (K.CLOSING, False)


def test_life_safety_codes_are_all_in_the_table() -> None:
    for code in PANIC | DURESS | HOLDUP:
        assert code in CONTACT_ID_CODES


def test_duress_alarm_names_the_user() -> None:
    msg = parse_contact_id(encode_contact_id("1234", 1, 121, 1, 7))
    signal = contact_id_to_signal(msg, "panel", b"raw")
    assert signal.kind is K.DURESS
    assert signal.user == 7
    assert signal.panel_zone is None
    assert signal.life_safety


def test_silent_holdup_alarm_and_restore() -> None:
    alarm = contact_id_to_signal(
        parse_contact_id(encode_contact_id("1234", 1, 122, 1, 3)), "panel", b"a"
    )
    restore = contact_id_to_signal(
        parse_contact_id(encode_contact_id("1234", 3, 122, 1, 3)), "panel", b"r"
    )
    assert (alarm.kind, alarm.restore, alarm.panel_zone) == (K.HOLDUP, False, 3)
    assert (restore.kind, restore.restore, restore.panel_zone) == (K.HOLDUP, True, 3)
    assert alarm.zone is None  # the hub maps panel zones to shop zones
    assert (alarm.code, alarm.protocol, alarm.raw, alarm.device) == (
        "122",
        "contact-id",
        b"a",
        "panel",
    )


def test_closing_by_user() -> None:
    signal = contact_id_to_signal(
        parse_contact_id(encode_contact_id("1234", 3, 401, 2, 12)), "panel", b""
    )
    assert (signal.kind, signal.restore, signal.user, signal.partition) == (
        K.CLOSING,
        False,
        12,
        2,
    )


# --- encoding -------------------------------------------------------------------------


@given(
    acct=st.text(alphabet="0123456789BCDEF", min_size=4, max_size=4),
    qualifier=st.sampled_from([1, 3, 6]),
    code=st.integers(0, 999),
    partition=st.integers(0, 99),
    zone=st.integers(0, 999),
)
def test_encode_parse_round_trip(
    acct: str, qualifier: int, code: int, partition: int, zone: int
) -> None:
    msg = parse_contact_id(encode_contact_id(acct, qualifier, code, partition, zone))
    assert msg.account == acct
    assert msg.qualifier == str(qualifier)
    assert msg.event_code == f"{code:03d}"
    assert msg.partition == (partition or None)
    assert msg.zone_or_user == (zone or None)


@pytest.mark.parametrize(
    "args",
    [
        ("123", 1, 130, 1, 1),
        ("12A4", 1, 130, 1, 1),
        ("1234", 2, 130, 1, 1),
        ("1234", 1, 1300, 1, 1),
        ("1234", 1, 130, 100, 1),
        ("1234", 1, 130, 1, 1000),
    ],
)
def test_encode_refuses_bad_fields(args: tuple[str, int, int, int, int]) -> None:
    with pytest.raises(ContactIdError):
        encode_contact_id(*args)


# --- the line decoder -----------------------------------------------------------------


def signals(events: object) -> list[AlarmSignal]:
    assert isinstance(events, list | tuple)
    assert all(isinstance(e, AlarmSignal) for e in events)
    return list(events)


@pytest.mark.parametrize(
    "line",
    [
        b"1234181131010158",
        b"1234 18 1131 01 015 8",
        b"1234 18 1 131 01 015 8",
        b"01/05 10:32:05 R1 L2 1234 18 1131 01 015 8",
        b"[1234181131010158] receiver 3",
        b"\t1234181131010158  ",
    ],
)
def test_line_formats_that_wrap_the_message(line: bytes) -> None:
    decoder = ContactIdLineDecoder("panel")
    got = signals(decoder.feed(line + b"\r\n"))
    assert [(s.kind, s.panel_zone, s.partition, s.code) for s in got] == [
        (K.BURGLARY, 15, 1, "131")
    ]
    assert got[0].raw == line
    assert decoder.rejects() == []


def test_strict_format_wants_only_the_message() -> None:
    decoder = ContactIdLineDecoder("panel", line_format="strict")
    assert signals(decoder.feed(b"1234 18 1131 01 015 8\n"))
    assert decoder.feed(b"R1 1234181131010158\n") == []
    assert [r.reason for r in decoder.rejects()] == ["expected 16 digits, got 18"]


def test_unknown_line_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown Contact ID line format 'sg'"):
        ContactIdLineDecoder("panel", line_format="sg")


def test_bad_lines_are_counted_and_decoding_resumes() -> None:
    decoder = ContactIdLineDecoder("panel")
    stream = b"hello\r\n1234181131010159\r\n" + encode_contact_id("1234", 1, 122, 1, 4).encode()
    assert decoder.feed(stream + b"\r\n")[0].kind is K.HOLDUP  # type: ignore[attr-defined]
    reasons = [r.reason for r in decoder.rejects()]
    assert reasons[0] == "no Contact ID message in line"
    assert reasons[1].startswith("bad checksum")
    assert decoder.stats.rejected == 2
    assert decoder.stats.bad_checksum == 1
    assert decoder.stats.frames == 3
    assert decoder.stats.events == 1


def test_message_split_across_chunks() -> None:
    decoder = ContactIdLineDecoder("panel")
    line = b"1234 18 1131 01 015 8\r\n"
    out: list[Event] = []
    for i in range(len(line)):
        out.extend(decoder.feed(line[i : i + 1]))
    assert len(out) == 1


def test_overlong_line_is_dropped_and_the_next_message_decoded() -> None:
    decoder = ContactIdLineDecoder("panel", max_line=64)
    assert decoder.feed(b"x" * 500) == []
    got = decoder.feed(b"\n1234181131010158\n")
    assert len(got) == 1
    assert [r.reason for r in decoder.rejects()] == ["line longer than 64 bytes, dropped"]


def test_last_line_without_line_end_is_decoded_at_finish() -> None:
    decoder = ContactIdLineDecoder("panel")
    assert decoder.feed(b"1234181131010158") == []
    assert len(decoder.finish()) == 1
