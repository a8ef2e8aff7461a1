"""DSC IT-100 / Envisalink TPI: checksum, frames, every message, partition states."""

from __future__ import annotations

from datetime import datetime

import pytest

from hub.events import AlarmKind, AlarmSignal, Event, PanelState
from plugins.panels.dsc_it100 import (
    IT100_MESSAGES,
    It100Decoder,
    It100Error,
    encode_it100,
    it100_arm,
    it100_checksum,
    it100_code_send,
    it100_disarm,
    it100_login,
    it100_panic,
    it100_poll,
    it100_set_time,
    it100_status_request,
    parse_it100_frame,
)
from plugins.panels.panel_events import PanelReply, ZoneActivity

K = AlarmKind


def frame(command: str, data: str = "") -> bytes:
    """Build a frame the long way: the sum of the ASCII codes, low byte, hex."""
    total = sum(ord(ch) for ch in command + data) % 256
    return f"{command}{data}{total:02X}\r\n".encode()


def decode(*frames: bytes) -> tuple[list[Event], It100Decoder]:
    decoder = It100Decoder("dsc")
    events = list(decoder.feed(b"".join(frames)))
    return events, decoder


# --- checksum and frames --------------------------------------------------------------


def test_published_checksum_examples() -> None:
    assert it100_poll() == b"00090\r\n"
    assert it100_panic("police") == b"0603C9\r\n"
    assert it100_checksum("000") == "90"


@pytest.mark.parametrize(("command", "data"), [("601", "1005"), ("652", "13"), ("999", "")])
def test_encoder_matches_the_recipe(command: str, data: str) -> None:
    assert encode_it100(command, data) == frame(command, data)
    assert encode_it100(int(command), data) == frame(command, data)


def test_encoder_refuses_bad_input() -> None:
    with pytest.raises(It100Error):
        encode_it100("60", "")
    with pytest.raises(It100Error):
        encode_it100("601", "1\r\n")


def test_parse_frame() -> None:
    parsed = parse_it100_frame(frame("601", "1005"))
    assert (parsed.command, parsed.data) == ("601", "1005")
    assert parsed.encode() == frame("601", "1005")
    assert parse_it100_frame("60110055d").data == "1005"  # lower-case checksum


@pytest.mark.parametrize(
    ("line", "reason", "checksum"),
    [
        ("601", "frame too short", False),
        ("6011005FF", "bad checksum: expected 5D, got FF", True),
        ("60A1005FF", "command must be 3 digits", False),
        ("601\x001005", "not printable ASCII", False),
    ],
)
def test_parse_frame_errors(line: str, reason: str, checksum: bool) -> None:
    with pytest.raises(It100Error) as err:
        parse_it100_frame(line)
    assert reason in err.value.reason
    assert err.value.checksum is checksum


# --- commands the hub sends -----------------------------------------------------------


def test_commands_to_the_panel() -> None:
    assert it100_status_request() == frame("001")
    assert it100_arm(1) == frame("030", "1")
    assert it100_arm(2, "stay") == frame("031", "2")
    assert it100_arm(1, "no-entry-delay") == frame("032", "1")
    assert it100_disarm(1, "1234") == frame("040", "11234")
    assert it100_panic("fire") == frame("060", "1")
    assert it100_panic("ambulance") == frame("060", "2")
    assert it100_code_send("123456") == frame("200", "123456")
    assert it100_set_time(datetime(2024, 12, 24, 18, 5)) == frame("010", "1805122424")
    assert it100_login("user") == frame("005", "user")


@pytest.mark.parametrize(
    "call",
    [
        lambda: it100_arm(9),
        lambda: it100_arm(1, "night"),
        lambda: it100_disarm(1, "12"),
        lambda: it100_disarm(0, "1234"),
        lambda: it100_panic("burglar"),
        lambda: it100_code_send("12ab"),
        lambda: it100_login("far too long"),
    ],
)
def test_bad_commands_are_refused(call: object) -> None:
    with pytest.raises(It100Error):
        call()  # type: ignore[operator]


# --- every alarm-raising message -------------------------------------------------------------

# command -> (sample data, kind, restore, partition, zone, user), from the IT-100 guide.
SIGNALS: dict[str, tuple[str, AlarmKind, bool, int | None, int | None, int | None]] = {
    "601": ("1005", K.BURGLARY, False, 1, 5, None),
    "602": ("1005", K.BURGLARY, True, 1, 5, None),
    "603": ("2017", K.TAMPER, False, 2, 17, None),
    "604": ("2017", K.TAMPER, True, 2, 17, None),
    "605": ("009", K.TROUBLE, False, None, 9, None),
    "606": ("009", K.TROUBLE, True, None, 9, None),
    "620": ("0000", K.DURESS, False, None, None, None),
    "621": ("", K.FIRE, False, None, None, None),
    "622": ("", K.FIRE, True, None, None, None),
    "623": ("", K.MEDICAL, False, None, None, None),
    "624": ("", K.MEDICAL, True, None, None, None),
    "625": ("", K.PANIC, False, None, None, None),
    "626": ("", K.PANIC, True, None, None, None),
    "631": ("", K.FIRE, False, None, None, None),
    "632": ("", K.FIRE, True, None, None, None),
    "700": ("10040", K.CLOSING, False, 1, None, 40),
    "701": ("1", K.CLOSING, False, 1, None, None),
    "702": ("1", K.CLOSING, False, 1, None, None),
    "750": ("10003", K.OPENING, False, 1, None, 3),
    "751": ("1", K.OPENING, False, 1, None, None),
    "800": ("", K.TROUBLE, False, None, None, None),
    "801": ("", K.TROUBLE, True, None, None, None),
    "802": ("", K.TROUBLE, False, None, None, None),
    "803": ("", K.TROUBLE, True, None, None, None),
    "806": ("", K.TROUBLE, False, None, None, None),
    "807": ("", K.TROUBLE, True, None, None, None),
    "810": ("", K.TROUBLE, False, None, None, None),
    "811": ("", K.TROUBLE, True, None, None, None),
    "812": ("", K.TROUBLE, False, None, None, None),
    "813": ("", K.TROUBLE, True, None, None, None),
    "814": ("", K.TROUBLE, False, None, None, None),
    "821": ("012", K.TROUBLE, False, None, 12, None),
    "822": ("012", K.TROUBLE, True, None, 12, None),
    "825": ("003", K.TROUBLE, False, None, None, None),
    "826": ("003", K.TROUBLE, True, None, None, None),
    "827": ("001", K.TROUBLE, False, None, None, None),
    "828": ("001", K.TROUBLE, True, None, None, None),
    "829": ("", K.TAMPER, False, None, None, None),
    "830": ("", K.TAMPER, True, None, None, None),
    "831": ("", K.TROUBLE, False, None, None, None),
    "832": ("", K.TROUBLE, True, None, None, None),
    "840": ("1", K.TROUBLE, False, 1, None, None),
    "841": ("1", K.TROUBLE, True, 1, None, None),
    "842": ("", K.TROUBLE, False, None, None, None),
    "843": ("", K.TROUBLE, True, None, None, None),
    "896": ("", K.TROUBLE, False, None, None, None),
    "897": ("", K.TROUBLE, True, None, None, None),
}


def test_table_and_expectations_cover_the_same_alarm_messages() -> None:
    in_table = {c for c, m in IT100_MESSAGES.items() if m.kind is not None}
    assert in_table == set(SIGNALS)


@pytest.mark.parametrize("command", sorted(SIGNALS))
def test_every_alarm_message(command: str) -> None:
    data, kind, restore, partition, zone, user = SIGNALS[command]
    events, decoder = decode(frame(command, data))
    assert len(events) == 1
    signal = events[0]
    assert isinstance(signal, AlarmSignal)
    assert (signal.kind, signal.restore) == (kind, restore)
    assert (signal.partition, signal.panel_zone, signal.user) == (partition, zone, user)
    assert (signal.code, signal.protocol, signal.device) == (command, "dsc-it100", "dsc")
    assert signal.zone is None
    assert signal.raw == frame(command, data).rstrip(b"\r\n")
    assert decoder.rejects() == []


def test_zone_open_and_restored_are_activity_not_alarms() -> None:
    events, _ = decode(frame("609", "012"), frame("610", "012"))
    assert events == [
        ZoneActivity(
            time=events[0].time,
            device="dsc",
            panel_zone=12,
            open=True,
            protocol="dsc-it100",
            raw=frame("609", "012").rstrip(),
        ),
        ZoneActivity(
            time=events[1].time,
            device="dsc",
            panel_zone=12,
            open=False,
            protocol="dsc-it100",
            raw=frame("610", "012").rstrip(),
        ),
    ]


def test_replies_to_commands() -> None:
    events, _ = decode(frame("500", "000"), frame("501"), frame("502", "024"), frame("502", "099"))
    replies = [e for e in events if isinstance(e, PanelReply)]
    assert [(r.accepted, r.command, r.error_code) for r in replies] == [
        (True, "000", None),
        (False, "", None),
        (False, "", 24),
        (False, "", 99),
    ]
    assert replies[1].reason == "command error: the interface saw a bad checksum"
    assert replies[2].reason == "system error 24: system not ready to arm"
    assert replies[3].reason == "system error 99: unknown error"


def test_tpi_login_states() -> None:
    events, _ = decode(frame("505", "3"), frame("505", "0"), frame("505", "2"), frame("505", "1"))
    assert [(e.command, e.accepted, e.error_code) for e in events] == [  # type: ignore[attr-defined]
        ("005", False, 3),
        ("005", False, 0),
        ("005", False, 2),
        ("005", True, None),
    ]
    assert events[0].reason == "TPI asks for the password"  # type: ignore[attr-defined]


# --- partition states -----------------------------------------------------------------


def states(events: list[Event]) -> list[tuple[int, str, bool | None]]:
    return [(e.partition, e.state, e.ready) for e in events if isinstance(e, PanelState)]


@pytest.mark.parametrize(
    ("mode", "state"),
    [
        ("0", "armed_away"),
        ("1", "armed_home"),
        ("2", "armed_away"),
        ("3", "armed_night"),
        ("", "armed_away"),
    ],
)
def test_armed_modes(mode: str, state: str) -> None:
    events, _ = decode(frame("652", "1" + mode))
    assert states(events) == [(1, state, None)]


def test_partition_state_sequence() -> None:
    events, _ = decode(
        frame("650", "1"),
        frame("650", "1"),  # repeated: no new state
        frame("651", "1"),
        frame("656", "1"),
        frame("652", "10"),
        frame("657", "1"),
        frame("654", "1"),
        frame("655", "1"),
        frame("650", "2"),
        frame("674", "2"),
    )
    assert states(events) == [
        (1, "disarmed", True),
        (1, "disarmed", False),
        (1, "arming", False),
        (1, "armed_away", False),
        (1, "pending", False),
        (1, "triggered", False),
        (1, "disarmed", False),
        (2, "disarmed", True),
        (2, "arming", True),
    ]


def test_informative_messages_raise_nothing_and_are_not_rejected() -> None:
    events, decoder = decode(frame("663", "1"), frame("901", "1000132Hello"), frame("849", "01"))
    assert events == []
    assert decoder.rejects() == []
    assert decoder.stats.frames == 3


# --- bad input ------------------------------------------------------------------------


def test_unknown_command_with_good_checksum_is_unknown_not_bad_checksum() -> None:
    events, decoder = decode(frame("999", "12"), frame("601", "1001"))
    assert [e.code for e in events if isinstance(e, AlarmSignal)] == ["601"]
    assert decoder.unknown == 1
    assert decoder.stats.bad_checksum == 0
    assert [r.reason for r in decoder.rejects()] == ["unknown command 999"]


def test_bad_checksum_is_counted_and_the_next_frame_decoded() -> None:
    events, decoder = decode(b"6011005FF\r\n", frame("625"))
    assert [e.kind for e in events if isinstance(e, AlarmSignal)] == [K.PANIC]
    assert decoder.stats.bad_checksum == 1
    assert decoder.unknown == 0


def test_known_command_with_bad_data_is_rejected() -> None:
    events, decoder = decode(frame("601", "12"), frame("652", "9"))
    assert events == []
    reasons = [r.reason for r in decoder.rejects()]
    assert reasons == [
        "bad data '12' for 601 (Zone alarm)",
        "bad data '9' for 652 (Partition armed)",
    ]


def test_garbage_glued_before_a_frame() -> None:
    events, decoder = decode(b"\x00\xffnoise" + frame("625"))
    assert [e.kind for e in events if isinstance(e, AlarmSignal)] == [K.PANIC]
    assert [r.reason for r in decoder.rejects()] == ["garbage before a frame"]


def test_digits_glued_before_a_frame_do_not_fool_the_checksum() -> None:
    # "00088" adds 256 to the ASCII sum: the whole line checks as command 000 with
    # data "886011001". Only the real frame at the end has a data layout that fits.
    events, _ = decode(b"00088" + frame("601", "1001"))
    assert [(e.code, e.panel_zone) for e in events if isinstance(e, AlarmSignal)] == [("601", 1)]


def test_frame_split_byte_by_byte() -> None:
    decoder = It100Decoder("dsc")
    out: list[Event] = []
    for byte in frame("601", "1005") + frame("602", "1005"):
        out.extend(decoder.feed(bytes([byte])))
    assert [e.restore for e in out if isinstance(e, AlarmSignal)] == [False, True]
