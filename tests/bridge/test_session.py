"""The bridge decoder alone, on clocks the test holds: dating and retransmission."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.sdk import AlarmSignal
from plugins.bridge import codec
from plugins.bridge.session import BridgeDecoder
from plugins.bridge.settings import InputSpec

HUB_TIME = datetime(2031, 2, 14, 18, 30, tzinfo=UTC)


def hello(boot_id: int = 7) -> bytes:
    buf = bytearray(codec.MAX_PAYLOAD)
    end = codec.pack_hello(buf, 0, codec.Hello(1, 1, 0, boot_id, 2, 0, 1000, "pico", "t"))
    return codec.encode_frame(codec.HELLO, 0, bytes(buf[:end]))


def heartbeat(seq: int, uptime_s: int, ms: int) -> bytes:
    buf = bytearray(codec.MAX_PAYLOAD)
    end = codec.pack_heartbeat(buf, 0, uptime_s, ms, 0, 0, bytes(2), 2, 0)
    return codec.encode_frame(codec.HEARTBEAT, seq, bytes(buf[:end]))


def holdup(seq: int, at_s: int, at_ms: int) -> bytes:
    buf = bytearray(codec.CHANGE_SIZE)
    codec.pack_change(buf, 0, 0, codec.ALARM, at_s, at_ms)
    return codec.encode_frame(codec.HOLDUP, seq, bytes(buf))


def frames(replies: list[bytes]) -> list[codec.Frame]:
    decoder = codec.Decoder(codec.HUB_TYPES)
    return [f for reply in replies for f in decoder.feed(reply)]


def test_a_late_frame_keeps_the_time_it_happened_by_the_board_clock() -> None:
    now = [HUB_TIME]
    decoder = BridgeDecoder("pont", now=lambda: now[0], clock=lambda: 0.0)
    decoder.feed(hello())
    decoder.feed(heartbeat(1, 100, 250))  # board time 100.250 s at HUB_TIME
    now[0] = HUB_TIME + timedelta(seconds=5)  # delivered five seconds later...
    (signal,) = decoder.feed(holdup(2, 99, 750))  # ... of a press at board time 99.750 s
    assert isinstance(signal, AlarmSignal)
    assert signal.time == HUB_TIME - timedelta(milliseconds=500)


def test_configure_is_sent_again_each_retry_period_until_acknowledged() -> None:
    clock = [0.0]
    specs = {0: InputSpec(0, "holdup"), 1: InputSpec(1, "off")}
    decoder = BridgeDecoder(
        "pont", specs, retry_ms=500, now=lambda: HUB_TIME, clock=lambda: clock[0]
    )
    decoder.feed(hello())
    sent = frames(decoder.replies())
    (configure,) = [f for f in sent if f.type == codec.CONFIGURE]
    assert [f.type for f in sent] == [codec.HELLO, codec.CONFIGURE, codec.REQUEST_STATE]
    decoder.due()
    assert decoder.replies() == []  # not yet due
    clock[0] = 0.5
    decoder.due()
    (again,) = frames(decoder.replies())
    assert (again.type, again.seq, again.payload) == (
        codec.CONFIGURE,
        configure.seq,
        configure.payload,
    )
    buf = bytearray(codec.ACK_SIZE)
    codec.pack_ack(buf, 0, codec.CONFIGURE, configure.seq)
    decoder.feed(codec.encode_frame(codec.ACK, 1, bytes(buf)))
    clock[0] = 5.0
    decoder.due()
    assert decoder.replies() == []
    assert decoder.pending == 0
