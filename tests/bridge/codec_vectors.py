"""The codec's test vectors, run unchanged under CPython and under MicroPython.

Each line printed is ``name: value``. tests/bridge/test_codec_micropython.py runs this
script with both interpreters and compares their outputs with each other and with
the known answers, so the board and the hub are proved to frame, check and parse the
same bytes the same way. The codec is imported as the board imports it
(``bridge_codec``), from the staging directory the test puts on the path.
"""

import binascii

import bridge_codec as c


def show(name, value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = binascii.hexlify(bytes(value)).decode()
    print(name + ": " + str(value))


def counters(d):
    return (
        f"frames={d.frames} bad_crc={d.bad_crc} bad_cobs={d.bad_cobs} short={d.short}"
        f" oversize={d.oversize} unknown={d.unknown_type} version={d.bad_version}"
        f" resyncs={d.resyncs} skipped={d.skipped}"
    )


def error_of(fn, arg):
    try:
        fn(arg)
    except ValueError as exc:
        return "ValueError: " + str(exc)
    return "no error"


# CRC-16/CCITT-FALSE: the catalogue's check value, and the empty input.
show("crc check", hex(c.crc16(b"123456789")))
show("crc empty", hex(c.crc16(b"")))
show("crc span", hex(c.crc16(b"xx123456789yy", 2, 11)))

# COBS, the published examples.
for name, data in (
    ("cobs 00", b"\x00"),
    ("cobs 0000", b"\x00\x00"),
    ("cobs 11220033", b"\x11\x22\x00\x33"),
    ("cobs 11223344", b"\x11\x22\x33\x44"),
    ("cobs 11000000", b"\x11\x00\x00\x00"),
    ("cobs 254", bytes(range(1, 255))),
    ("cobs 255", bytes(range(255))),
    ("cobs 01ff", bytes(range(1, 256))),
):
    encoded = c.cobs_encode(data)
    show(name, encoded)
    show(name + " back", c.cobs_decode(encoded) == data)
show("cobs invalid", error_of(c.cobs_decode, b"\x05\x01"))

# Frames of every type, through the packers.
buf = bytearray(c.MAX_PAYLOAD)
hello = c.Hello(1, 1, c.CAP_SUPERVISED | c.CAP_OUTPUTS, 0x12345678, 4, 2, 1000, "pico", "1.0.0")
n = c.pack_hello(buf, 0, hello)
hello_frame = c.encode_frame(c.HELLO, 0, buf[:n])
show("hello", hello_frame)
n = c.pack_heartbeat(buf, 0, 3600, 250, 1, 2, bytes((c.NORMAL, c.ALARM, c.CUT, c.SHORT)), 4, 1)
heartbeat_frame = c.encode_frame(c.HEARTBEAT, 1, buf[:n])
show("heartbeat", heartbeat_frame)
n = c.pack_change(buf, 0, 2, c.ALARM, 70000, 999)
holdup_frame = c.encode_frame(c.HOLDUP, 2, buf[:n])
show("holdup", holdup_frame)
n = c.pack_change(buf, 0, 3, c.SHORT, 1, 0)
tamper_frame = c.encode_frame(c.TAMPER, 0xFFFF, buf[:n])
show("tamper", tamper_frame)
n = c.pack_ack(buf, 0, c.HOLDUP, 2)
ack_frame = c.encode_frame(c.ACK, 7, buf[:n])
show("ack", ack_frame)
n = c.pack_error(buf, 0, c.ERR_UNKNOWN_TYPE, 0x7E, 9, 0)
show("error", c.encode_frame(c.ERROR, 3, buf[:n]))
configure = c.Configure(1000, 30, 500, bytes((c.ROLE_HOLDUP | c.MODE_SUPERVISED, c.ROLE_INPUT)))
n = c.pack_configure(buf, 0, configure)
show("configure", c.encode_frame(c.CONFIGURE, 8, buf[:n]))
n = c.pack_set_output(buf, 0, 1, 1, 2000)
show("set output", c.encode_frame(c.SET_OUTPUT, 9, buf[:n]))
show("request state", c.encode_frame(c.REQUEST_STATE, 10))

# The allocation-free encoder gives the same bytes as encode_frame.
encoder = c.Encoder()
n = c.pack_change(encoder.payload, 0, 2, c.ALARM, 70000, 999)
show("encoder same", bytes(encoder.encode(c.HOLDUP, 2, n)) == holdup_frame)

# Parsing back.
hub = c.Decoder(c.BOARD_TYPES)
frames = list(hub.feed(hello_frame + heartbeat_frame + holdup_frame + tamper_frame))
show("decoded", ",".join(f"{c.frame_name(f.type)}/{f.seq}" for f in frames))
show("hello back", c.parse_hello(frames[0].payload) == hello)
show("hello repr", repr(c.parse_hello(frames[0].payload)))
show("heartbeat back", repr(c.parse_heartbeat(frames[1].payload)))
show("holdup back", repr(c.parse_change(frames[2].payload)))
show("tamper back", repr(c.parse_change(frames[3].payload)))
show("configure back", repr(c.parse_configure(b"\x03\xe8\x00\x1e\x01\xf4\x02\x06\x01")))
show("set output back", c.parse_set_output(b"\x01\x01\x07\xd0"))
show("ack back", c.parse_ack(b"\x12\x00\x02"))
show("error back", repr(c.parse_error(b"\x03\x01\x00\x00\x02")))

# Bad payloads: a clear error, never a wrong figure.
show("short hello", error_of(c.parse_hello, b"\x01"))
show("heartbeat count", error_of(c.parse_heartbeat, b"\x00" * 9 + b"\x05" + b"\x00"))
show("heartbeat state", error_of(c.parse_heartbeat, b"\x00" * 9 + b"\x01\x09\x00"))
show("change size", error_of(c.parse_change, b"\x00" * 7))
show("output value", error_of(c.parse_set_output, b"\x00\x02\x00\x00"))

# The decoder on a hostile line: each kind of bad input counted, good frames kept.
bad_crc = bytearray(holdup_frame)
bad_crc[5] ^= 0x01  # the sequence number's low byte
unknown = c.encode_frame(0x7E, 3)
newer = c.encode_frame(c.HEARTBEAT, 4, b"", 2)
line = (
    b"\xff\xfe noise"
    + holdup_frame
    + bytes(bad_crc)
    + b"\x00\x01\x00"  # a COBS run too short for a header
    + b"\x00"
    + b"\x05" * 300  # an oversize run
    + heartbeat_frame
    + unknown
    + newer
    + b"\x00\x09\x01\x00"  # a block that runs past the end: not COBS
    + tamper_frame
)
hub = c.Decoder(c.BOARD_TYPES)
statuses = []
for byte in line:
    status = hub.push(byte)
    if status != c.NOTHING:
        statuses.append(str(status))
show("statuses", ",".join(statuses))
show("counters", counters(hub))
show("errors", hub.errors)

# A frame split anywhere between two reads is still decoded.
whole = 0
for cut in range(len(holdup_frame) + 1):
    d = c.Decoder(c.BOARD_TYPES)
    got = list(d.feed(holdup_frame[:cut])) + list(d.feed(holdup_frame[cut:]))
    whole += len(got)
show("split", whole)

# Sequence numbers: in order, retransmitted, jumped, repeated, wrapped.
t = c.SeqTracker(8)
results = []
for seq, reliable in (
    (10, False),
    (11, True),
    (12, False),
    (11, True),  # retransmission already handled: duplicate
    (12, False),  # repeat: skipped
    (15, False),  # jump over 13 and 14
    (13, True),  # a reliable frame whose first copy was lost: new
    (13, True),  # and again: duplicate
    (0xFFFF, False),  # far behind: a repeat
):
    results.append(str(t.check(seq, reliable)))
show("seq", ",".join(results))
show(
    "seq counters",
    f"jumps={t.jumps} missed={t.missed} repeats={t.repeats} duplicates={t.duplicates}",
)
t = c.SeqTracker(8)
show("seq wrap", [t.check(0xFFFE, False), t.check(0xFFFF, False), t.check(0, False)])
show("seq wrap jumps", t.jumps)
show("next seq", c.next_seq(0xFFFF))

# Version negotiation.
show("negotiate same", c.negotiate(c.Hello(1, 1), c.Hello(1, 1)))
show("negotiate newer board", c.negotiate(c.Hello(1, 1), c.Hello(3, 2)))
show("negotiate overlap", c.negotiate(c.Hello(2, 1), c.Hello(3, 1)))
show("error message", c.Error(c.ERR_VERSION, c.HELLO, 0, 1).message())
show("tamper states", [c.is_tamper(c.CUT), c.is_tamper(c.SHORT), c.is_tamper(c.ALARM)])
show(
    "reliable",
    [
        c.is_reliable(c.HOLDUP, True),
        c.is_reliable(c.HEARTBEAT, True),
        c.is_reliable(c.SET_OUTPUT, False),
    ],
)
