"""AlarmDecoder (AD2): keypad states, LRR Contact ID, expanders, RF, bad lines."""

from __future__ import annotations

from typing import Any

import pytest

from hub.events import AlarmKind, AlarmSignal, Event, PanelState
from plugins.panels.ad2 import (
    Ad2Decoder,
    Ad2Error,
    KeypadMessage,
    LrrMessage,
    OtherMessage,
    encode_ad2_expander,
    encode_ad2_keypad,
    encode_ad2_lrr,
    encode_ad2_rfx,
    parse_ad2_message,
)
from plugins.panels.panel_events import ExpanderReport, KeypadState, RfReport

K = AlarmKind

# Keypad lines as an AD2 on a Vista-20P prints them (captured in AlarmDecoder logs).
DISARMED = (
    b"[10010001000000003A--],008,[f72600ff1008001c08020000000000],"
    b'"****DISARMED****  Ready to Arm  "'
)
ARMED_STAY = (
    b"[00110001000000003A--],008,[f72600ff100800bc02000000000000],"
    b'"ARMED ***STAY***                "'
)


def decode(*lines: bytes) -> tuple[list[Event], Ad2Decoder]:
    decoder = Ad2Decoder("ad2")
    events = list(decoder.feed(b"".join(line.rstrip(b"\r\n") + b"\r\n" for line in lines)))
    return events, decoder


def panel_states(events: list[Event]) -> list[PanelState]:
    return [e for e in events if isinstance(e, PanelState)]


# --- keypad messages ------------------------------------------------------------------


def test_keypad_bitfield_positions() -> None:
    msg = parse_ad2_message(DISARMED)
    assert isinstance(msg, KeypadMessage)
    assert (msg.ready, msg.armed_away, msg.armed_home) == (True, False, False)
    assert (msg.ac_power, msg.battery_low, msg.fire) == (True, False, False)
    assert (msg.alarm_sounding, msg.alarm_event_occurred, msg.zone_bypassed) == (
        False,
        False,
        False,
    )
    assert msg.text == "****DISARMED****  Ready to Arm"
    assert msg.state == "disarmed"


def test_dash_means_not_reported() -> None:
    msg = parse_ad2_message(
        b'[001000010000--------],010,[f70700060010808c08020000],"ARMED ***STAY** ZONE BYPASSED "'
    )
    assert isinstance(msg, KeypadMessage)
    assert msg.armed_home is True
    assert msg.ac_power is True
    assert msg.fire is None
    assert msg.state == "armed_home"


def test_kpm_prefix_is_accepted() -> None:
    assert isinstance(parse_ad2_message(b"!KPM:" + DISARMED), KeypadMessage)


@pytest.mark.parametrize(
    ("flags", "state"),
    [
        ({}, "disarmed"),
        ({"armed_away": True, "ready": False}, "armed_away"),
        ({"armed_home": True, "ready": False}, "armed_home"),
        ({"armed_away": True, "alarm_sounding": True}, "triggered"),
        ({"alarm_sounding": True}, "triggered"),
    ],
)
def test_home_assistant_states(flags: dict[str, Any], state: str) -> None:
    events, _ = decode(encode_ad2_keypad(**flags))
    assert [s.state for s in panel_states(events)] == [state]


def test_keypad_state_fields() -> None:
    events, _ = decode(
        encode_ad2_keypad(
            ready=False,
            ac_power=False,
            battery_low=True,
            fire=True,
            zone_bypassed=True,
            alarm_event_occurred=True,
            text="FIRE 05",
        )
    )
    (state,) = panel_states(events)
    assert isinstance(state, KeypadState)
    assert (state.ready, state.ac_power, state.battery_low, state.fire) == (
        False,
        False,
        True,
        True,
    )
    assert (state.zone_bypassed, state.alarm_event_occurred) == (True, True)
    assert (state.device, state.partition, state.text) == ("ad2", 1, "FIRE 05")


def test_state_is_emitted_only_when_it_changes() -> None:
    events, decoder = decode(
        DISARMED,
        DISARMED,
        encode_ad2_keypad(text="FAULT 05 FRONT DOOR"),  # only the text differs
        DISARMED,
        ARMED_STAY,
        ARMED_STAY,
        DISARMED,
    )
    assert [s.state for s in panel_states(events)] == ["disarmed", "armed_home", "disarmed"]
    assert decoder.stats.frames == 7


# --- LRR reports ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind", "restore", "zone", "user", "code"),
    [
        (b"!LRR:008,1,CID_1123,ff", K.PANIC, False, 8, None, "123"),
        (b"!LRR:099,1,CID_1120,ff", K.PANIC, False, 99, None, "120"),
        (b"!LRR:012,1,CID_1121,ff", K.DURESS, False, None, 12, "121"),
        (b"!LRR:003,1,CID_1122,ff", K.HOLDUP, False, 3, None, "122"),
        (b"!LRR:003,1,CID_3122,ff", K.HOLDUP, True, 3, None, "122"),
        (b"!LRR:005,1,CID_1131,ff", K.BURGLARY, False, 5, None, "131"),
        (b"!LRR:000,1,CID_1301,ff", K.TROUBLE, False, None, None, "301"),
        (b"!LRR:002,1,CID_3441,ff", K.CLOSING, False, None, 2, "441"),
        (b"!LRR:002,1,CID_1441,ff", K.OPENING, False, None, 2, "441"),
        (b"!LRR:001,1,CID_1406,ff", K.OPENING, False, None, 1, "406"),
        (b"!LRR:000,1,CID_1602,00", K.TEST, False, None, None, "602"),
    ],
)
def test_lrr_contact_id(
    line: bytes, kind: AlarmKind, restore: bool, zone: int | None, user: int | None, code: str
) -> None:
    events, decoder = decode(line)
    assert len(events) == 1
    signal = events[0]
    assert isinstance(signal, AlarmSignal)
    assert (signal.kind, signal.restore, signal.panel_zone, signal.user, signal.code) == (
        kind,
        restore,
        zone,
        user,
        code,
    )
    assert (signal.partition, signal.protocol, signal.raw) == (1, "ad2", line)
    assert decoder.rejects() == []


def test_lrr_report_code_override_is_off_by_default() -> None:
    line = b"!LRR:004,1,CID_1130,23\r\n"
    plain = Ad2Decoder("ad2").feed(line)
    overridden = Ad2Decoder("ad2", report_code_override=True).feed(line)
    assert [e.code for e in plain] == ["130"]  # type: ignore[attr-defined]
    assert [(e.code, e.kind) for e in overridden] == [("123", K.PANIC)]  # type: ignore[attr-defined]


def test_lrr_v1_names() -> None:
    events, _ = decode(b"!LRR:012,1,ALARM_PANIC", b"!LRR:012,1,CANCEL")
    assert [(e.kind, e.code) for e in events if isinstance(e, AlarmSignal)] == [
        (K.PANIC, "ALARM_PANIC"),
        (K.OTHER, "CANCEL"),
    ]


def test_lrr_from_other_sources_is_kept_as_other() -> None:
    events, _ = decode(b"!LRR:001,1,DSC_1570,ff")
    assert [(e.kind, e.code) for e in events if isinstance(e, AlarmSignal)] == [
        (K.OTHER, "DSC_1570")
    ]


def test_lrr_with_a_bad_qualifier_is_rejected() -> None:
    events, decoder = decode(b"!LRR:001,1,CID_2130,ff")
    assert events == []
    assert [r.reason for r in decoder.rejects()] == [
        "LRR Contact ID qualifier must be 1, 3 or 6, got 2"
    ]


def test_lrr_encoder() -> None:
    assert encode_ad2_lrr(8, 1, 1, 123) == b"!LRR:008,1,CID_1123,ff\r\n"
    msg = parse_ad2_message(encode_ad2_lrr(8, 1, 1, 123))
    assert msg == LrrMessage("008", "1", "CID_1123", "ff")
    assert msg.version == 2


# --- expanders and wireless -----------------------------------------------------------


def test_expander_and_relay() -> None:
    events, _ = decode(encode_ad2_expander(7, 1, 1), encode_ad2_expander(12, 2, 0, relay=True))
    assert [(e.relay, e.address, e.channel, e.value) for e in events] == [  # type: ignore[attr-defined]
        (False, 7, 1, 1),
        (True, 12, 2, 0),
    ]
    assert all(isinstance(e, ExpanderReport) for e in events)


@pytest.mark.parametrize(
    ("status", "battery", "supervision", "loops"),
    [
        (0x80, False, False, (True, False, False, False)),
        (0x20, False, False, (False, True, False, False)),
        (0x10, False, False, (False, False, True, False)),
        (0x40, False, False, (False, False, False, True)),
        (0x02, True, False, (False, False, False, False)),
        (0x04, False, True, (False, False, False, False)),
        (0xF6, True, True, (True, True, True, True)),
    ],
)
def test_rfx_status_bits(
    status: int, battery: bool, supervision: bool, loops: tuple[bool, ...]
) -> None:
    events, _ = decode(encode_ad2_rfx("0180036", status))
    (report,) = events
    assert isinstance(report, RfReport)
    assert (report.serial, report.status) == ("0180036", status)
    assert (report.battery_low, report.supervision) == (battery, supervision)
    assert (report.loop1, report.loop2, report.loop3, report.loop4) == loops


# --- other and bad lines --------------------------------------------------------------


def test_firmware_messages_are_ignored_not_rejected() -> None:
    events, decoder = decode(b"!Sending.done", b"!AUI:01,READY", b"!VER:ffffffff,V2.2a.8.8,TX;RX")
    assert events == []
    assert decoder.ignored == 3
    assert decoder.rejects() == []
    assert isinstance(parse_ad2_message("!Sending.done"), OtherMessage)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"[0010", "malformed keypad message"),
        (b"!LRR:xx", "malformed !LRR message"),
        (b"!EXP:1,2", "malformed !EXP message"),
        (b"!RFX:123", "malformed !RFX message"),
        (b"hello", "not an AlarmDecoder message"),
    ],
)
def test_bad_lines_are_counted_and_skipped(line: bytes, reason: str) -> None:
    events, decoder = decode(line, encode_ad2_lrr(8, 1, 1, 123))
    assert [e.kind for e in events if isinstance(e, AlarmSignal)] == [K.PANIC]
    assert [r.reason for r in decoder.rejects()] == [reason]
    assert decoder.stats.rejected == 1
    with pytest.raises(Ad2Error):
        parse_ad2_message(line)


def test_garbage_glued_before_a_message() -> None:
    events, decoder = decode(b"\x00\xfe!!x" + encode_ad2_lrr(8, 1, 1, 122))
    assert [e.kind for e in events if isinstance(e, AlarmSignal)] == [K.HOLDUP]
    assert [r.reason for r in decoder.rejects()] == ["garbage before a message"]
