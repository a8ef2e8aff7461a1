"""The bridge codec under CPython: round trips, a hostile line, sequence numbers.

Property-based where the input space is large (hypothesis): any frame survives
framing and any split between reads; garbage never raises past the decoder and a
good frame after it is still decoded; the payload parsers only ever raise
ValueError, whatever they are given.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.bridge import codec as c

payloads = st.binary(max_size=c.MAX_PAYLOAD)
types = st.sampled_from(sorted(c.BOARD_TYPES))
seqs = st.integers(0, 0xFFFF)


@given(st.binary(max_size=600))
def test_cobs_round_trip_has_no_zero(data: bytes) -> None:
    encoded = c.cobs_encode(data)
    assert 0 not in encoded
    assert c.cobs_decode(encoded) == data
    assert len(encoded) <= len(data) + len(data) // 254 + 1


@given(types, seqs, payloads)
def test_a_frame_round_trips(frame_type: int, seq: int, payload: bytes) -> None:
    wire = c.encode_frame(frame_type, seq, payload)
    assert wire[0] == 0
    assert wire[-1] == 0
    assert 0 not in wire[1:-1]
    assert len(wire) <= c.MAX_WIRE
    decoder = c.Decoder(c.BOARD_TYPES)
    assert list(decoder.feed(wire)) == [c.Frame(c.VERSION, frame_type, seq, payload)]
    assert decoder.errors == 0


@given(types, seqs, payloads, st.data())
def test_a_frame_split_between_reads_is_decoded(
    frame_type: int, seq: int, payload: bytes, data: st.DataObject
) -> None:
    wire = c.encode_frame(frame_type, seq, payload)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=4)))
    decoder = c.Decoder(c.BOARD_TYPES)
    got = []
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        got += list(decoder.feed(wire[start:end]))
    assert [(f.type, f.seq, f.payload) for f in got] == [(frame_type, seq, payload)]


@given(st.binary(max_size=2000), types, seqs, payloads)
def test_garbage_never_raises_and_the_next_frame_is_kept(
    garbage: bytes, frame_type: int, seq: int, payload: bytes
) -> None:
    decoder = c.Decoder(c.BOARD_TYPES)
    list(decoder.feed(garbage))
    frames = list(decoder.feed(c.encode_frame(frame_type, seq, payload)))
    assert frames[-1] == c.Frame(c.VERSION, frame_type, seq, payload)


def test_each_kind_of_bad_frame_is_counted_under_its_reason() -> None:
    good = c.encode_frame(c.HOLDUP, 1, bytes(8))
    bad_crc = bytearray(good)
    bad_crc[5] ^= 0x40
    decoder = c.Decoder(c.BOARD_TYPES)
    line = (
        bytes(bad_crc)
        + b"\x00\x01\x00"
        + b"\x07" * 500
        + c.encode_frame(0x55, 2)
        + c.encode_frame(c.HEARTBEAT, 3, b"", version=c.VERSION + 1)
        + good
    )
    frames = list(decoder.feed(line))
    assert [f.status for f in frames] == [c.UNKNOWN_TYPE, c.BAD_VERSION, c.FRAME]
    assert (decoder.bad_crc, decoder.short, decoder.oversize) == (1, 1, 1)
    assert (decoder.unknown_type, decoder.bad_version, decoder.frames) == (1, 1, 1)
    assert decoder.skipped == 500
    assert decoder.errors == 5


def test_the_board_refuses_a_hub_frame_type_and_the_hub_a_board_one() -> None:
    board, hub = c.Decoder(c.HUB_TYPES), c.Decoder(c.BOARD_TYPES)
    holdup = c.encode_frame(c.HOLDUP, 1, bytes(8))
    command = c.encode_frame(c.SET_OUTPUT, 1, bytes(4))
    assert [f.status for f in board.feed(holdup)] == [c.UNKNOWN_TYPE]
    assert [f.status for f in hub.feed(command)] == [c.UNKNOWN_TYPE]


@pytest.mark.parametrize(
    ("frame_type", "seq", "payload"),
    [(0x100, 0, b""), (c.ACK, 0x10000, b""), (c.ACK, -1, b""), (c.ACK, 0, bytes(121))],
)
def test_encode_refuses_what_does_not_fit(frame_type: int, seq: int, payload: bytes) -> None:
    with pytest.raises(ValueError, match=r"byte|16-bit|too long"):
        c.encode_frame(frame_type, seq, payload)


@pytest.mark.parametrize(
    "parse",
    [
        c.parse_hello,
        c.parse_heartbeat,
        c.parse_change,
        c.parse_ack,
        c.parse_error,
        c.parse_configure,
        c.parse_set_output,
    ],
)
@given(payload=st.binary(max_size=c.MAX_PAYLOAD))
def test_parsers_raise_only_value_error(parse: object, payload: bytes) -> None:
    assert callable(parse)
    with contextlib.suppress(ValueError):
        parse(payload)


def test_payloads_round_trip() -> None:
    buf = bytearray(c.MAX_PAYLOAD)
    hello = c.Hello(1, 1, c.CAP_WATCHDOG, 0xDEADBEEF, 8, 2, 1000, "esp32", "1.2.3")
    assert c.parse_hello(buf[: c.pack_hello(buf, 0, hello)]) == hello
    states = bytes([c.NORMAL, c.ALARM, c.CUT, c.SHORT, c.DISABLED])
    end = c.pack_heartbeat(buf, 0, 2**32 - 1, 999, 3, 70000, states, 5, 0b10)
    assert c.parse_heartbeat(buf[:end]) == c.Heartbeat(2**32 - 1, 999, 3, 0xFFFF, states, 2)
    assert c.parse_change(buf[: c.pack_change(buf, 0, 7, c.CUT, 5, 6)]) == c.Change(7, c.CUT, 5, 6)
    assert c.parse_ack(buf[: c.pack_ack(buf, 0, c.TAMPER, 513)]) == (c.TAMPER, 513)
    error = c.Error(c.ERR_BAD_CONFIG, c.CONFIGURE, 4, 2)
    assert c.parse_error(buf[: c.pack_error(buf, 0, 4, c.CONFIGURE, 4, 2)]) == error
    config = c.Configure(500, 20, 250, bytes([c.ROLE_HOLDUP, c.ROLE_INPUT | c.MODE_INVERTED]))
    assert c.parse_configure(buf[: c.pack_configure(buf, 0, config)]) == config
    assert c.parse_set_output(buf[: c.pack_set_output(buf, 0, 1, 1, 300)]) == (1, 1, 300)


def test_the_allocation_free_encoder_matches_encode_frame() -> None:
    encoder = c.Encoder()
    for seq in (0, 1, 0x1234, 0xFFFF):
        payload = bytes(range(seq % 50))
        expected = c.encode_frame(c.HEARTBEAT, seq, payload)
        assert bytes(encoder.encode_bytes(c.HEARTBEAT, seq, payload)) == expected


def test_sequence_numbers_tell_retransmissions_from_repeats_and_jumps() -> None:
    tracker = c.SeqTracker(memory=4)
    assert tracker.check(100, reliable=True) == c.NEW
    assert tracker.check(101, reliable=False) == c.NEW
    assert tracker.check(100, reliable=True) == c.DUPLICATE  # its ack was lost
    assert tracker.check(101, reliable=False) == c.REPEAT
    assert tracker.check(105, reliable=False) == c.NEW
    assert (tracker.jumps, tracker.missed) == (1, 3)
    assert tracker.check(103, reliable=True) == c.NEW  # first copy lost on the line
    assert tracker.check(103, reliable=True) == c.DUPLICATE
    assert (tracker.repeats, tracker.duplicates) == (1, 2)
    tracker.reset()
    assert tracker.check(100, reliable=True) == c.NEW  # a restarted board numbers afresh


@given(st.lists(st.tuples(seqs, st.booleans()), max_size=50))
def test_a_reliable_frame_is_acted_on_once_however_often_it_comes(
    frames: list[tuple[int, bool]],
) -> None:
    tracker = c.SeqTracker(memory=64)
    acted: list[int] = []
    for seq, reliable in frames:
        for _ in range(2 if reliable else 1):  # each reliable frame retransmitted once
            if tracker.check(seq, reliable) == c.NEW and reliable:
                acted.append(seq)
    assert len(acted) == len(set(acted))


def test_version_negotiation() -> None:
    assert c.negotiate(c.Hello(1, 1), c.Hello(1, 1)) == 1
    assert c.negotiate(c.Hello(1, 1), c.Hello(3, 2)) == -1  # the board is too new
    assert c.negotiate(c.Hello(3, 2), c.Hello(1, 1)) == -1  # the board is too old
    assert c.negotiate(c.Hello(4, 1), c.Hello(2, 1)) == 2


def test_names_and_states() -> None:
    assert c.frame_name(c.HOLDUP) == "hold-up"
    assert c.frame_name(0x99) == "type 0x99"
    assert [c.is_tamper(s) for s in range(5)] == [False, False, True, True, False]
    assert c.state_name(9) == "state 9"
    assert c.is_reliable(c.HOLDUP, from_board=True)
    assert not c.is_reliable(c.INPUT, from_board=True)
    assert c.is_reliable(c.CONFIGURE, from_board=False)
