"""The firmware bridge's wire codec, shared by the board and the hub (firmware-bridge/PROTOCOL.md).

One file, two interpreters: the hub's ``bridge`` plugin imports it as
``plugins.bridge.codec`` under CPython, and the board runs the very same file under
MicroPython, copied to it as ``bridge_codec.py`` (firmware-bridge/README.md). A frame
encoded on one side is decoded by the same lines of code on the other, so the two can
never drift apart.

That is why it is written in the subset MicroPython runs: no ``__future__``, no
``typing`` at run time (type names are imported only for the type checker, and
annotations that name them are quoted), no dataclasses, no keyword-only arguments in
the board's hot paths, and only small integers on the board's side (a MicroPython
board allocates an integer past 2**30 on the heap). The board must not grow its heap
in its main loop, so everything it calls per loop turn writes into buffers made once:
``Encoder`` frames into its own buffers and hands back a view of the wire bytes,
``Decoder.push`` takes one byte and decodes in place, and the payload packers write
at an offset of a buffer. The convenience functions that return new objects
(``encode_frame``, ``Decoder.feed``, the ``parse_*`` functions) are for the hub.

Layout of a frame (PROTOCOL.md, "Framing"): on the wire ``0x00 COBS(body) 0x00``;
``body`` is ``version u8, type u8, seq u16, payload, crc u16`` (big-endian), the CRC
being CRC-16/CCITT-FALSE over everything before it.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:  # the type checker only: MicroPython has no ``typing`` module
    from collections.abc import Iterator

    Buffer = bytes | bytearray | memoryview

#: The protocol version this codec speaks, and the oldest it still understands.
VERSION = 1
MIN_VERSION = 1

# -- frame types (PROTOCOL.md, "Frame types") ----------------------------------------
HELLO = 0x01
HEARTBEAT = 0x10
INPUT = 0x11
HOLDUP = 0x12
TAMPER = 0x13
ACK = 0x20
ERROR = 0x21
CONFIGURE = 0x30
SET_OUTPUT = 0x31
REQUEST_STATE = 0x32

#: What a board sends, and so what the hub's decoder accepts.
BOARD_TYPES = bytes((HELLO, HEARTBEAT, INPUT, HOLDUP, TAMPER, ACK, ERROR))
#: What the hub sends, and so what the board's decoder accepts.
HUB_TYPES = bytes((HELLO, ACK, ERROR, CONFIGURE, SET_OUTPUT, REQUEST_STATE))
#: Board frames kept and sent again, with the same sequence number, until acknowledged.
BOARD_RELIABLE = bytes((HOLDUP, TAMPER))
#: Hub commands the hub sends again, with the same sequence number, until acknowledged.
HUB_RELIABLE = bytes((CONFIGURE, SET_OUTPUT))

FRAME_NAMES = {
    HELLO: "hello",
    HEARTBEAT: "heartbeat",
    INPUT: "input",
    HOLDUP: "hold-up",
    TAMPER: "tamper",
    ACK: "ack",
    ERROR: "error",
    CONFIGURE: "configure",
    SET_OUTPUT: "set-output",
    REQUEST_STATE: "request-state",
}

# -- input states ---------------------------------------------------------------------
NORMAL = 0
ALARM = 1
CUT = 2  # supervised loop open: the wire was cut (tamper)
SHORT = 3  # supervised loop shorted across its resistors (tamper)
DISABLED = 4  # the input is switched off by configuration
STATE_NAMES = ("normal", "alarm", "cut", "short", "disabled")

# -- input modes (CONFIGURE): a role in the low two bits, and flags --------------------
ROLE_OFF = 0
ROLE_INPUT = 1  # changes are INPUT frames (best effort: heartbeats carry the state)
ROLE_HOLDUP = 2  # changes are HOLDUP frames (kept until acknowledged)
ROLE_MASK = 0x03
MODE_SUPERVISED = 0x04  # end-of-line resistors read on the ADC: normal/alarm/cut/short
MODE_INVERTED = 0x08  # a plain contact that is closed at rest (opens on alarm)

# -- capabilities (HELLO) -------------------------------------------------------------
CAP_SUPERVISED = 0x0001
CAP_OUTPUTS = 0x0002
CAP_WATCHDOG = 0x0004
CAP_CONFIGURE = 0x0008

# -- error codes (ERROR) --------------------------------------------------------------
ERR_UNKNOWN_TYPE = 1
ERR_BAD_PAYLOAD = 2
ERR_VERSION = 3
ERR_BAD_CONFIG = 4
ERR_NO_SUCH_OUTPUT = 5
ERROR_NAMES = {
    ERR_UNKNOWN_TYPE: "unknown frame type",
    ERR_BAD_PAYLOAD: "malformed payload",
    ERR_VERSION: "unsupported protocol version",
    ERR_BAD_CONFIG: "configuration refused",
    ERR_NO_SUCH_OUTPUT: "no such output",
}

# -- sizes ----------------------------------------------------------------------------
HEADER = 4  # version, type, seq (u16)
CRC_SIZE = 2
MAX_PAYLOAD = 120
MAX_BODY = HEADER + MAX_PAYLOAD + CRC_SIZE  # 126: COBS adds one byte below 254
MAX_COBS = MAX_BODY + 1
#: The longest frame on the wire: both delimiters and the COBS-encoded body.
MAX_WIRE = MAX_COBS + 2
#: The most inputs a board may have: a heartbeat must fit in one payload.
MAX_INPUTS = 32
MAX_OUTPUTS = 8

# -- what Decoder.push returns ----------------------------------------------------------
NOTHING = 0  # no frame ended with this byte (or an empty one: back-to-back delimiters)
FRAME = 1  # a good frame of a known type: read it from the decoder's attributes
UNKNOWN_TYPE = 2  # a whole frame, good CRC, of a type this side does not know (counted)
BAD_VERSION = 3  # a whole frame, good CRC, of a protocol version this side cannot read
REJECTED = 4  # a frame ended but was unusable: bad CRC, bad COBS, too short or too long


def _crc_table() -> "list[int]":
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_CRC_TABLE = _crc_table()


def crc16(data: "Buffer", start: int = 0, end: int = -1) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor).

    Over ``data[start:end]`` (``end`` -1: to the end) without slicing, so the board
    computes it without allocating. ``crc16(b"123456789") == 0x29B1``.
    """
    if end < 0:
        end = len(data)
    crc = 0xFFFF
    table = _CRC_TABLE
    for i in range(start, end):
        crc = ((crc << 8) & 0xFF00) ^ table[(crc >> 8) ^ data[i]]
    return crc


def cobs_encode_into(
    src: "Buffer", start: int, end: int, dst: "bytearray | memoryview", pos: int
) -> int:
    """COBS-encode ``src[start:end]`` into ``dst`` from ``pos``; return the end position.

    The output holds no 0x00 byte and is at most one byte longer than the input for
    inputs under 254 bytes (one more byte per 254 beyond).
    """
    code_pos = pos
    pos += 1
    code = 1
    full = False  # the last block was a full one (254 non-zero bytes)
    for i in range(start, end):
        byte = src[i]
        full = False
        if byte == 0:
            dst[code_pos] = code
            code_pos = pos
            pos += 1
            code = 1
        else:
            dst[pos] = byte
            pos += 1
            code += 1
            if code == 0xFF:
                dst[code_pos] = code
                code_pos = pos
                pos += 1
                code = 1
                full = True
    if full:  # a full block that ends the data needs no empty block after it
        return code_pos
    dst[code_pos] = code
    return pos


def cobs_decode_into(src: "Buffer", n: int, dst: "bytearray | memoryview") -> int:
    """Decode the ``n`` COBS bytes at the start of ``src`` into ``dst``.

    Returns the decoded length, or -1 when the bytes are not valid COBS (a zero byte,
    or a block that runs past the end) or would not fit in ``dst``.
    """
    i = 0
    out = 0
    size = len(dst)
    while i < n:
        code = src[i]
        if code == 0:
            return -1
        i += 1
        end = i + code - 1
        if end > n or out + code - 1 > size:
            return -1
        while i < end:
            dst[out] = src[i]
            out += 1
            i += 1
        if code < 0xFF and i < n:
            if out >= size:
                return -1
            dst[out] = 0
            out += 1
    return out


def cobs_encode(data: "Buffer") -> bytes:
    """COBS-encode ``data`` (allocates: for the hub and for tests)."""
    out = bytearray(len(data) + len(data) // 254 + 1)
    end = cobs_encode_into(data, 0, len(data), out, 0)
    return bytes(out[:end])


def cobs_decode(data: "Buffer") -> bytes:
    """Decode COBS ``data``; raise ValueError when it is not valid COBS."""
    out = bytearray(len(data))
    n = cobs_decode_into(data, len(data), out)
    if n < 0:
        raise ValueError("not valid COBS")
    return bytes(out[:n])


class Encoder:
    """Frames payloads into buffers made once, for a sender that must not allocate.

    Write the payload into ``payload`` (a view of the frame body, at most
    ``MAX_PAYLOAD`` bytes; the ``pack_*`` functions do, at offset 0), then call
    ``encode``: it returns a view of the wire bytes, valid until the next call. The
    views of every length are made here once, so handing one to ``write`` costs no
    allocation (slicing a memoryview would make a new object each time).
    """

    def __init__(self) -> None:
        self.body = bytearray(MAX_BODY)
        self.payload = memoryview(self.body)[HEADER : HEADER + MAX_PAYLOAD]
        self.out = bytearray(MAX_WIRE)
        whole = memoryview(self.out)
        self._views = [whole[:n] for n in range(MAX_WIRE + 1)]

    def encode(self, frame_type: int, seq: int, length: int, version: int = VERSION) -> memoryview:
        """Frame the ``length`` payload bytes already in ``payload``.

        Raises:
            ValueError: ``length`` is past ``MAX_PAYLOAD`` (a bug in the caller).
        """
        if length < 0 or length > MAX_PAYLOAD:
            raise ValueError("payload too long")
        body = self.body
        body[0] = version
        body[1] = frame_type
        body[2] = (seq >> 8) & 0xFF
        body[3] = seq & 0xFF
        end = HEADER + length
        crc = crc16(body, 0, end)
        body[end] = crc >> 8
        body[end + 1] = crc & 0xFF
        out = self.out
        out[0] = 0
        pos = cobs_encode_into(body, 0, end + CRC_SIZE, out, 1)
        out[pos] = 0
        return self._views[pos + 1]

    def encode_bytes(
        self, frame_type: int, seq: int, payload: "Buffer", version: int = VERSION
    ) -> memoryview:
        """Copy ``payload`` in and frame it (``encode``)."""
        n = len(payload)
        if n > MAX_PAYLOAD:
            raise ValueError("payload too long")
        target = self.payload
        for i in range(n):
            target[i] = payload[i]
        return self.encode(frame_type, seq, n, version)


def encode_frame(
    frame_type: int, seq: int, payload: "Buffer" = b"", version: int = VERSION
) -> bytes:
    """The wire bytes of one frame (``0x00 COBS(body) 0x00``), as a new ``bytes``.

    Raises:
        ValueError: the payload is longer than ``MAX_PAYLOAD``, or the type, sequence
            number or version does not fit its field.
    """
    if not 0 <= frame_type <= 0xFF or not 0 <= version <= 0xFF:
        raise ValueError("frame type and version are single bytes")
    if not 0 <= seq <= 0xFFFF:
        raise ValueError("sequence numbers are 16-bit")
    return bytes(Encoder().encode_bytes(frame_type, seq, payload, version))


class Frame:
    """One decoded frame, as ``Decoder.feed`` yields it (the hub's side).

    Attributes:
        version: the protocol version in its header.
        type: its frame type (one of the constants, or an unknown number).
        seq: its sequence number.
        payload: its payload bytes.
        status: ``FRAME``, ``UNKNOWN_TYPE`` or ``BAD_VERSION`` (what ``push`` said).
    """

    __slots__ = ("payload", "seq", "status", "type", "version")

    def __init__(
        self, version: int, frame_type: int, seq: int, payload: bytes, status: int = FRAME
    ) -> None:
        self.version = version
        self.type = frame_type
        self.seq = seq
        self.payload = payload
        self.status = status

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Frame)
            and self.version == other.version
            and self.type == other.type
            and self.seq == other.seq
            and self.payload == other.payload
            and self.status == other.status
        )

    def __hash__(self) -> int:
        return hash((self.version, self.type, self.seq, self.payload, self.status))

    def __repr__(self) -> str:
        name = frame_name(self.type)
        return f"Frame({name} v{self.version} seq={self.seq} payload={self.payload!r})"


class Decoder:
    """A streaming decoder: fed bytes as they come, it finds, checks and counts frames.

    Every 0x00 on the line ends a frame, so the decoder is back in step at the next
    delimiter whatever came before: noise, a frame cut by a reset, a wrong baud rate.
    Nothing it is fed makes it raise; each unusable frame is counted under its reason.

    ``push(byte)`` is the board's entry (no allocation): when it returns ``FRAME``,
    ``UNKNOWN_TYPE`` or ``BAD_VERSION``, the frame's ``version``, ``type``, ``seq`` and
    ``length`` are in the attributes and its payload is ``frame[HEADER:HEADER+length]``
    until the next push. ``feed(data)`` is the hub's: it yields a ``Frame`` for each.

    Args:
        known: the frame types this side accepts (``BOARD_TYPES`` on the hub,
            ``HUB_TYPES`` on the board); others are ``UNKNOWN_TYPE``.

    Attributes (counters):
        frames: good frames of a known type.
        bad_crc: whole frames whose CRC did not match.
        bad_cobs: runs between delimiters that are not valid COBS.
        short: frames too short to hold a header and a CRC.
        oversize: runs longer than the longest frame (skipped to the next delimiter).
        unknown_type: good frames of a type not in ``known``.
        bad_version: good frames of a protocol version outside MIN_VERSION..VERSION.
        skipped: bytes discarded while skipping an oversize run.
        resyncs: times a usable frame came after unusable bytes: the decoder was
            back in step at a delimiter after noise.
    """

    def __init__(self, known: "Buffer" = BOARD_TYPES + HUB_TYPES) -> None:
        self.known = bytes(known)
        self._raw = bytearray(MAX_COBS)
        self._n = 0
        self._skipping = False
        self.frame = bytearray(MAX_BODY)
        self.version = 0
        self.type = 0
        self.seq = 0
        self.length = 0
        self.frames = 0
        self.bad_crc = 0
        self.bad_cobs = 0
        self.short = 0
        self.oversize = 0
        self.unknown_type = 0
        self.bad_version = 0
        self.skipped = 0
        self.resyncs = 0
        self._lost = False

    @property
    def errors(self) -> int:
        """Every frame this side could not use, whatever the reason."""
        return (
            self.bad_crc
            + self.bad_cobs
            + self.short
            + self.oversize
            + self.unknown_type
            + self.bad_version
        )

    def push(self, byte: int) -> int:
        """Take one byte; return ``NOTHING``, ``FRAME``, ``UNKNOWN_TYPE``, ``BAD_VERSION``
        or ``REJECTED`` (see the module constants)."""
        if byte == 0:
            n = self._n
            self._n = 0
            if self._skipping:
                self._skipping = False
                return NOTHING
            if n == 0:
                return NOTHING
            return self._finish(n)
        if self._skipping:
            self.skipped += 1
            return NOTHING
        if self._n >= MAX_COBS:
            self.oversize += 1
            self.skipped += self._n + 1
            self._n = 0
            self._skipping = True
            self._lost = True
            return REJECTED
        self._raw[self._n] = byte
        self._n += 1
        return NOTHING

    def _finish(self, n: int) -> int:
        status = self._check(n)
        if status == REJECTED:
            self._lost = True
        elif self._lost:
            self._lost = False
            self.resyncs += 1
        return status

    def _check(self, n: int) -> int:
        frame = self.frame
        length = cobs_decode_into(self._raw, n, frame)
        if length < 0:
            self.bad_cobs += 1
            return REJECTED
        if length < HEADER + CRC_SIZE:
            self.short += 1
            return REJECTED
        end = length - CRC_SIZE
        if crc16(frame, 0, end) != (frame[end] << 8) | frame[end + 1]:
            self.bad_crc += 1
            return REJECTED
        self.version = frame[0]
        self.type = frame[1]
        self.seq = (frame[2] << 8) | frame[3]
        self.length = end - HEADER
        if self.version < MIN_VERSION or self.version > VERSION:
            self.bad_version += 1
            return BAD_VERSION
        if self.type not in self.known:
            self.unknown_type += 1
            return UNKNOWN_TYPE
        self.frames += 1
        return FRAME

    def payload(self) -> bytes:
        """A copy of the last frame's payload (allocates: for the hub)."""
        return bytes(self.frame[HEADER : HEADER + self.length])

    def feed(self, data: "Buffer") -> "Iterator[Frame]":
        """Push every byte of ``data``; yield each whole frame with a good CRC.

        Frames of an unknown type or version are yielded too, with their ``status``,
        so that the caller can answer them (PROTOCOL.md, "Errors"); they are counted.
        """
        for byte in data:
            status = self.push(byte)
            if status in (FRAME, UNKNOWN_TYPE, BAD_VERSION):
                yield Frame(self.version, self.type, self.seq, self.payload(), status)


# -- sequence numbers -------------------------------------------------------------------
NEW = 0  # act on it
DUPLICATE = 1  # a reliable frame already handled: acknowledge it again, do not act again
REPEAT = 2  # an ordinary frame with a sequence number already seen: skip it (counted)


class SeqTracker:
    """Tells new frames from retransmissions, and counts jumps and repeats.

    Each side numbers its frames 0, 1, 2... (mod 65536), and sends a reliable frame
    again with its first number until it is acknowledged, so a receiver sees numbers
    that go back. Comparison is modulo 65536 over half the range (serial-number
    arithmetic).

    Args:
        memory: how many reliable sequence numbers to remember, to recognise a
            retransmission of one already handled (its acknowledgement was lost).

    Attributes:
        last: the highest sequence number seen (-1: none since ``reset``).
        jumps: times the sequence jumped forward past the next number.
        missed: frames the jumps skipped over (lost on the line, or never sent).
        repeats: ordinary frames whose number was not new (skipped).
        duplicates: reliable frames already handled (acknowledged again).
    """

    def __init__(self, memory: int = 64) -> None:
        self._seen = [-1] * memory
        self._pos = 0
        self.last = -1
        self.jumps = 0
        self.missed = 0
        self.repeats = 0
        self.duplicates = 0

    def reset(self) -> None:
        """Forget the numbers seen: the other side restarted (a new HELLO)."""
        for i in range(len(self._seen)):
            self._seen[i] = -1
        self.last = -1

    def _known(self, seq: int) -> bool:
        return seq in self._seen

    def _remember(self, seq: int) -> None:
        self._seen[self._pos] = seq
        self._pos = (self._pos + 1) % len(self._seen)

    def check(self, seq: int, reliable: bool) -> int:
        """Classify a frame's sequence number: ``NEW``, ``DUPLICATE`` or ``REPEAT``."""
        if self.last >= 0:
            ahead = (seq - self.last) & 0xFFFF
            if ahead == 0 or ahead >= 0x8000:
                if not reliable:
                    self.repeats += 1
                    return REPEAT
                if self._known(seq):
                    self.duplicates += 1
                    return DUPLICATE
                self._remember(seq)
                return NEW
            if ahead > 1:
                self.jumps += 1
                self.missed += ahead - 1
        self.last = seq
        if reliable:
            if self._known(seq):
                self.duplicates += 1
                return DUPLICATE
            self._remember(seq)
        return NEW


def next_seq(seq: int) -> int:
    """The sequence number after ``seq`` (16 bits, wrapping)."""
    return (seq + 1) & 0xFFFF


# -- payloads: packers write at ``buf[at:]`` and return the end; parsers allocate --------


def put_u16(buf: "bytearray | memoryview", at: int, value: int) -> int:
    """Write ``value`` big-endian in two bytes at ``at``; return ``at + 2``."""
    buf[at] = (value >> 8) & 0xFF
    buf[at + 1] = value & 0xFF
    return at + 2


def put_u32(buf: "bytearray | memoryview", at: int, value: int) -> int:
    """Write ``value`` big-endian in four bytes at ``at``; return ``at + 4``."""
    buf[at] = (value >> 24) & 0xFF
    buf[at + 1] = (value >> 16) & 0xFF
    buf[at + 2] = (value >> 8) & 0xFF
    buf[at + 3] = value & 0xFF
    return at + 4


def get_u16(buf: "Buffer", at: int) -> int:
    """Read a big-endian u16 at ``at``."""
    return (buf[at] << 8) | buf[at + 1]


def get_u32(buf: "Buffer", at: int) -> int:
    """Read a big-endian u32 at ``at``."""
    return (buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]


def _put_text(buf: "bytearray | memoryview", at: int, text: str) -> int:
    data = text.encode()
    if len(data) > 32:
        raise ValueError("text fields are at most 32 bytes")
    buf[at] = len(data)
    at += 1
    for byte in data:
        buf[at] = byte
        at += 1
    return at


def _get_text(payload: "Buffer", at: int) -> "tuple[str, int]":
    if at >= len(payload):
        raise ValueError("truncated text field")
    n = payload[at]
    end = at + 1 + n
    if end > len(payload):
        raise ValueError("truncated text field")
    return bytes(payload[at + 1 : end]).decode(), end


def _need(payload: "Buffer", n: int, what: str) -> None:
    if len(payload) < n:
        raise ValueError(f"{what} payload too short: {len(payload)} bytes, at least {n}")


class Hello:
    """A HELLO payload: who is speaking, which protocol versions, what it can do.

    Both sides send one (the hub leaves board-only fields at zero). The handshake's
    layout is frozen across versions and HELLO is always sent with header version 1,
    so that any two versions can read each other's and refuse with a clear message.
    """

    __slots__ = (
        "boot_id",
        "capabilities",
        "firmware",
        "heartbeat_ms",
        "inputs",
        "max_version",
        "min_version",
        "name",
        "outputs",
    )

    def __init__(
        self,
        max_version: int = VERSION,
        min_version: int = MIN_VERSION,
        capabilities: int = 0,
        boot_id: int = 0,
        inputs: int = 0,
        outputs: int = 0,
        heartbeat_ms: int = 0,
        name: str = "",
        firmware: str = "",
    ) -> None:
        self.max_version = max_version
        self.min_version = min_version
        self.capabilities = capabilities
        self.boot_id = boot_id
        self.inputs = inputs
        self.outputs = outputs
        self.heartbeat_ms = heartbeat_ms
        self.name = name
        self.firmware = firmware

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hello) and all(
            getattr(self, k) == getattr(other, k) for k in Hello.__slots__
        )

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, k) for k in Hello.__slots__))

    def __repr__(self) -> str:
        return (
            f"Hello({self.name} {self.firmware}, versions {self.min_version}..{self.max_version},"
            f" {self.inputs} inputs, {self.outputs} outputs)"
        )


#: HELLO's fixed part: versions (2), capabilities (2), boot id (4), inputs, outputs,
#: heartbeat period (2); then the name and the firmware version, each length-prefixed.
HELLO_FIXED = 12


def pack_hello(buf: "bytearray | memoryview", at: int, hello: Hello) -> int:
    """Write a HELLO payload at ``at``; return its end."""
    buf[at] = hello.max_version
    buf[at + 1] = hello.min_version
    at = put_u16(buf, at + 2, hello.capabilities)
    at = put_u32(buf, at, hello.boot_id)
    buf[at] = hello.inputs
    buf[at + 1] = hello.outputs
    at = put_u16(buf, at + 2, hello.heartbeat_ms)
    at = _put_text(buf, at, hello.name)
    return _put_text(buf, at, hello.firmware)


def parse_hello(payload: "Buffer") -> Hello:
    """Read a HELLO payload; raise ValueError if it is malformed."""
    _need(payload, HELLO_FIXED + 2, "hello")
    name, at = _get_text(payload, HELLO_FIXED)
    firmware, _ = _get_text(payload, at)
    return Hello(
        payload[0],
        payload[1],
        get_u16(payload, 2),
        get_u32(payload, 4),
        payload[8],
        payload[9],
        get_u16(payload, 10),
        name,
        firmware,
    )


def negotiate(ours: Hello, theirs: Hello) -> int:
    """The protocol version two sides speak: the highest both know, or -1 if none."""
    version = min(ours.max_version, theirs.max_version)
    if version < ours.min_version or version < theirs.min_version:
        return -1
    return version


class Heartbeat:
    """A HEARTBEAT payload: the board's clock, its counters and every input's state."""

    __slots__ = ("ms", "outputs", "pending", "rx_errors", "states", "uptime_s")

    def __init__(
        self,
        uptime_s: int,
        ms: int,
        pending: int,
        rx_errors: int,
        states: bytes,
        outputs: int,
    ) -> None:
        self.uptime_s = uptime_s
        self.ms = ms
        self.pending = pending
        self.rx_errors = rx_errors
        self.states = states
        self.outputs = outputs

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Heartbeat) and all(
            getattr(self, k) == getattr(other, k) for k in Heartbeat.__slots__
        )

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, k) for k in Heartbeat.__slots__))

    def __repr__(self) -> str:
        return (
            f"Heartbeat(up {self.uptime_s}.{self.ms:03d} s, states {self.states!r},"
            f" outputs {self.outputs}, pending {self.pending})"
        )


#: HEARTBEAT's fixed part: uptime s (4), ms (2), pending, rx_errors (2), input count;
#: then one state byte per input, then the outputs' bitmask.
HEARTBEAT_FIXED = 10


def pack_heartbeat(
    buf: "bytearray | memoryview",
    at: int,
    uptime_s: int,
    ms: int,
    pending: int,
    rx_errors: int,
    states: "Buffer",
    count: int,
    outputs: int,
) -> int:
    """Write a HEARTBEAT payload with the first ``count`` of ``states``; return its end."""
    at = put_u32(buf, at, uptime_s)
    at = put_u16(buf, at, ms)
    buf[at] = pending if pending < 0xFF else 0xFF
    at = put_u16(buf, at + 1, rx_errors if rx_errors < 0xFFFF else 0xFFFF)
    buf[at] = count
    at += 1
    for i in range(count):
        buf[at] = states[i]
        at += 1
    buf[at] = outputs & 0xFF
    return at + 1


def parse_heartbeat(payload: "Buffer") -> Heartbeat:
    """Read a HEARTBEAT payload; raise ValueError if it is malformed."""
    _need(payload, HEARTBEAT_FIXED + 1, "heartbeat")
    count = payload[9]
    if len(payload) != HEARTBEAT_FIXED + count + 1:
        raise ValueError(
            f"heartbeat payload of {len(payload)} bytes for {count} inputs"
            f" (expected {HEARTBEAT_FIXED + count + 1})"
        )
    states = bytes(payload[HEARTBEAT_FIXED : HEARTBEAT_FIXED + count])
    for state in states:
        if state >= len(STATE_NAMES):
            raise ValueError(f"unknown input state {state}")
    return Heartbeat(
        get_u32(payload, 0),
        get_u16(payload, 4),
        payload[6],
        get_u16(payload, 7),
        states,
        payload[HEARTBEAT_FIXED + count],
    )


class Change:
    """An INPUT, HOLDUP or TAMPER payload: an input reached a state at a board time."""

    __slots__ = ("at_ms", "at_s", "input", "state")

    def __init__(self, input: int, state: int, at_s: int, at_ms: int) -> None:
        self.input = input
        self.state = state
        self.at_s = at_s
        self.at_ms = at_ms

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Change) and all(
            getattr(self, k) == getattr(other, k) for k in Change.__slots__
        )

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, k) for k in Change.__slots__))

    def __repr__(self) -> str:
        name = state_name(self.state)
        return f"Change(input {self.input} {name} at {self.at_s}.{self.at_ms:03d} s)"


CHANGE_SIZE = 8


def pack_change(
    buf: "bytearray | memoryview", at: int, input: int, state: int, at_s: int, at_ms: int
) -> int:
    """Write an INPUT/HOLDUP/TAMPER payload; return its end."""
    buf[at] = input
    buf[at + 1] = state
    at = put_u32(buf, at + 2, at_s)
    return put_u16(buf, at, at_ms)


def parse_change(payload: "Buffer") -> Change:
    """Read an INPUT/HOLDUP/TAMPER payload; raise ValueError if it is malformed."""
    if len(payload) != CHANGE_SIZE:
        raise ValueError(f"change payload of {len(payload)} bytes (expected {CHANGE_SIZE})")
    if payload[1] >= len(STATE_NAMES):
        raise ValueError(f"unknown input state {payload[1]}")
    return Change(payload[0], payload[1], get_u32(payload, 2), get_u16(payload, 6))


ACK_SIZE = 3


def pack_ack(buf: "bytearray | memoryview", at: int, frame_type: int, seq: int) -> int:
    """Write an ACK payload (the acknowledged frame's type and sequence number)."""
    buf[at] = frame_type
    return put_u16(buf, at + 1, seq)


def parse_ack(payload: "Buffer") -> "tuple[int, int]":
    """Read an ACK payload: ``(type, seq)`` of the frame acknowledged."""
    if len(payload) != ACK_SIZE:
        raise ValueError(f"ack payload of {len(payload)} bytes (expected {ACK_SIZE})")
    return payload[0], get_u16(payload, 1)


class Error:
    """An ERROR payload: why a frame was refused (the refused frame's type and seq)."""

    __slots__ = ("code", "detail", "ref_seq", "ref_type")

    def __init__(self, code: int, ref_type: int, ref_seq: int, detail: int) -> None:
        self.code = code
        self.ref_type = ref_type
        self.ref_seq = ref_seq
        self.detail = detail

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Error) and all(
            getattr(self, k) == getattr(other, k) for k in Error.__slots__
        )

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, k) for k in Error.__slots__))

    def __repr__(self) -> str:
        return f"Error({self.message()})"

    def message(self) -> str:
        """One line an installer can act on."""
        what = ERROR_NAMES.get(self.code, f"error {self.code}")
        name = frame_name(self.ref_type)
        text = f"{what} (frame {name}, seq {self.ref_seq}, detail {self.detail})"
        if self.code == ERR_VERSION:
            text += f": the other side speaks protocol version {self.detail} at most"
        return text


ERROR_SIZE = 5


def pack_error(
    buf: "bytearray | memoryview", at: int, code: int, ref_type: int, ref_seq: int, detail: int
) -> int:
    """Write an ERROR payload; return its end."""
    buf[at] = code
    buf[at + 1] = ref_type
    at = put_u16(buf, at + 2, ref_seq)
    buf[at] = detail & 0xFF
    return at + 1


def parse_error(payload: "Buffer") -> Error:
    """Read an ERROR payload; raise ValueError if it is malformed."""
    if len(payload) != ERROR_SIZE:
        raise ValueError(f"error payload of {len(payload)} bytes (expected {ERROR_SIZE})")
    return Error(payload[0], payload[1], get_u16(payload, 2), payload[4])


class Configure:
    """A CONFIGURE payload: timings, and one mode byte per input (role and flags)."""

    __slots__ = ("debounce_ms", "heartbeat_ms", "modes", "retry_ms")

    def __init__(self, heartbeat_ms: int, debounce_ms: int, retry_ms: int, modes: bytes) -> None:
        self.heartbeat_ms = heartbeat_ms
        self.debounce_ms = debounce_ms
        self.retry_ms = retry_ms
        self.modes = modes

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Configure) and all(
            getattr(self, k) == getattr(other, k) for k in Configure.__slots__
        )

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, k) for k in Configure.__slots__))

    def __repr__(self) -> str:
        return (
            f"Configure(heartbeat {self.heartbeat_ms} ms, debounce {self.debounce_ms} ms,"
            f" retry {self.retry_ms} ms, modes {self.modes!r})"
        )


CONFIGURE_FIXED = 7


def pack_configure(buf: "bytearray | memoryview", at: int, config: Configure) -> int:
    """Write a CONFIGURE payload; return its end."""
    if len(config.modes) > MAX_INPUTS:
        raise ValueError(f"at most {MAX_INPUTS} inputs")
    at = put_u16(buf, at, config.heartbeat_ms)
    at = put_u16(buf, at, config.debounce_ms)
    at = put_u16(buf, at, config.retry_ms)
    buf[at] = len(config.modes)
    at += 1
    for mode in config.modes:
        buf[at] = mode
        at += 1
    return at


def parse_configure(payload: "Buffer") -> Configure:
    """Read a CONFIGURE payload; raise ValueError if it is malformed."""
    _need(payload, CONFIGURE_FIXED, "configure")
    count = payload[6]
    if count > MAX_INPUTS or len(payload) != CONFIGURE_FIXED + count:
        raise ValueError(f"configure payload of {len(payload)} bytes for {count} inputs")
    return Configure(
        get_u16(payload, 0),
        get_u16(payload, 2),
        get_u16(payload, 4),
        bytes(payload[CONFIGURE_FIXED:]),
    )


SET_OUTPUT_SIZE = 4


def pack_set_output(
    buf: "bytearray | memoryview", at: int, output: int, value: int, pulse_ms: int
) -> int:
    """Write a SET_OUTPUT payload (``pulse_ms`` 0: stay; else back to 0 after it)."""
    buf[at] = output
    buf[at + 1] = 1 if value else 0
    return put_u16(buf, at + 2, pulse_ms)


def parse_set_output(payload: "Buffer") -> "tuple[int, int, int]":
    """Read a SET_OUTPUT payload: ``(output, value, pulse_ms)``."""
    if len(payload) != SET_OUTPUT_SIZE:
        raise ValueError(f"set-output payload of {len(payload)} bytes (expected {SET_OUTPUT_SIZE})")
    if payload[1] > 1:
        raise ValueError(f"output value {payload[1]} (expected 0 or 1)")
    return payload[0], payload[1], get_u16(payload, 2)


def frame_name(frame_type: int) -> str:
    """A frame type's name, or its number for a type this codec does not know."""
    return FRAME_NAMES.get(frame_type, f"type 0x{frame_type:02x}")


def state_name(state: int) -> str:
    """An input state's name, or its number for one this codec does not know."""
    return STATE_NAMES[state] if 0 <= state < len(STATE_NAMES) else f"state {state}"


def is_tamper(state: int) -> bool:
    """Cut and short are tamper: someone opened or bridged a supervised loop."""
    return state in (CUT, SHORT)


def is_reliable(frame_type: int, from_board: bool) -> bool:
    """Whether a frame of this type is sent again until acknowledged."""
    return frame_type in (BOARD_RELIABLE if from_board else HUB_RELIABLE)
