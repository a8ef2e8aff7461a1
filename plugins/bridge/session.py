"""The hub's side of the bridge protocol: bytes from the board in, events and replies out.

``BridgeDecoder`` is the ``Decoder`` the ``bridge`` device feeds (hub.sdk): pure, no
I/O, a clock given. It holds what the conversation with one board needs
(firmware-bridge/PROTOCOL.md):

* the handshake: before a board ``HELLO`` with a version both sides speak, nothing but
  ``HELLO`` is acted on and no reliable frame is acknowledged, so the board keeps its
  hold-up and tamper frames and sends them again once the hub is there; a board that
  speaks only newer versions is refused with a ``DeviceFault`` saying which side to
  update, and none of its frames is acted on;
* reliable frames: each ``HOLDUP`` and ``TAMPER`` is acknowledged every time it comes,
  and acted on once (``SeqTracker``: a retransmission whose acknowledgement was lost is
  a duplicate);
* the hub's own reliable commands (``CONFIGURE``), sent again every ``retry_ms`` until
  the board acknowledges or refuses them;
* what could not be used, counted in the SDK's ``DecodeStats`` (bad CRCs as bad
  checksums, undecodable runs as noise, unknown types and malformed payloads as
  rejects) and in the codec's own counters, each kind told once per window.

The frames to write back (``ACK``, ``ERROR``, ``HELLO``, ``CONFIGURE``,
``REQUEST_STATE``) wait in ``replies()`` for the device to write them in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.sdk import AlarmKind, AlarmSignal, DecodeStats, DeviceFault, Event, Rejected, utcnow
from plugins.bridge import codec
from plugins.bridge.settings import InputSpec

__all__ = ["PROTOCOL", "BridgeDecoder", "Notice", "version_refusal"]

#: The protocol name on the bridge's signals.
PROTOCOL = "bridge"

#: What the hub sends in its own HELLO: only versions and capabilities mean anything.
HUB_HELLO = codec.Hello(codec.VERSION, codec.MIN_VERSION, codec.CAP_CONFIGURE)


@dataclass(frozen=True, slots=True)
class Notice:
    """A line for the device to log (throttled by ``key``: one per kind and window).

    Attributes:
        key: what kind of trouble it is (``unknown-type 0x7f``, ``bad-payload``...).
        message: the line.
        warning: a warning rather than an informational line.
    """

    key: str
    message: str
    warning: bool = True


def version_refusal(board: codec.Hello) -> str:
    """The refusal of a board that shares no protocol version with the hub, in words."""
    side = "the hub" if board.min_version > codec.VERSION else "the firmware"
    return (
        f"the bridge speaks protocol versions {board.min_version}..{board.max_version},"
        f" this hub speaks {codec.MIN_VERSION}..{codec.VERSION}: update {side}"
    )


@dataclass(slots=True)
class _Command:
    """A reliable hub command waiting for the board's acknowledgement."""

    type: int
    seq: int
    wire: bytes
    due: float


class BridgeDecoder:
    """One board's conversation with the hub, as a stream decoder.

    Args:
        device_id: the id put on events.
        specs: what each input means (the ``inputs`` setting); empty: the board's own
            roles, a ``HOLDUP`` frame a hold-up and an ``INPUT`` frame an intrusion.
        heartbeat_ms: the heartbeat period the board is configured with.
        debounce_ms: the board's debounce (0: its own).
        retry_ms: how often an unacknowledged command is sent again, and the board's.
        now: the wall clock that dates events (UTC).
        clock: a monotonic clock in seconds, for retransmissions.
    """

    def __init__(
        self,
        device_id: str,
        specs: Mapping[int, InputSpec] | None = None,
        *,
        heartbeat_ms: int = 1000,
        debounce_ms: int = 0,
        retry_ms: int = 500,
        now: Callable[[], datetime] = utcnow,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.device_id = device_id
        self.specs = dict(specs or {})
        self.heartbeat_ms = heartbeat_ms
        self.debounce_ms = debounce_ms
        self.retry_ms = retry_ms
        self._now = now
        self._clock = clock
        self.stats = DecodeStats()
        self.frames = codec.Decoder(codec.BOARD_TYPES)
        self.seqs = codec.SeqTracker(64)
        #: The board's HELLO (None until one came), the version in use (0: none yet).
        self.board: codec.Hello | None = None
        self.version = 0
        #: Why the board is refused (a newer protocol), or "" while it is not.
        self.refused = ""
        #: The board's heartbeat period now (its HELLO's until it acknowledges ours).
        self.period_ms = heartbeat_ms
        #: The last heartbeat: every input's state, and the board's counters.
        self.heartbeat: codec.Heartbeat | None = None
        #: Reliable frames acknowledged, and those acknowledged again (duplicates).
        self.acks_sent = 0
        #: Frames acted on (hold-up, tamper, input changes).
        self.changes = 0
        #: Frames skipped for having come before the handshake (the board sends the
        #: reliable ones again after it).
        self.before_handshake = 0
        #: Good frames of any type (what proves the board is alive).
        self.good_frames = 0
        self._seq = 0
        self._replies: list[bytes] = []
        self._rejects: list[Rejected] = []
        self._notices: list[Notice] = []
        self._commands: dict[tuple[int, int], _Command] = {}
        self._raw = bytearray()
        self._known: dict[int, int] = {}
        self._ordinary: set[int] = {i for i, s in self.specs.items() if s.kind == "intrusion"}
        self._clock_ref: tuple[datetime, int] | None = None
        self._hello_due = 0.0

    # -- what the device reads ---------------------------------------------------------

    @property
    def in_session(self) -> bool:
        """The handshake is done and the board is not refused."""
        return self.version > 0 and not self.refused

    @property
    def pending(self) -> int:
        """Hub commands waiting for the board's acknowledgement."""
        return len(self._commands)

    def rejects(self) -> Sequence[Rejected]:
        """Return and clear the frames rejected since the previous call."""
        out, self._rejects = self._rejects, []
        return out

    def replies(self) -> list[bytes]:
        """Return and clear the frames to write to the board, in order."""
        out, self._replies = self._replies, []
        return out

    def notices(self) -> list[Notice]:
        """Return and clear the lines to log."""
        out, self._notices = self._notices, []
        return out

    # -- what the device tells it --------------------------------------------------------

    def opened(self) -> None:
        """The link was (re)opened: greet the board, whatever it was doing."""
        self._send_hello()

    def due(self) -> None:
        """Send again the commands whose acknowledgement is overdue."""
        now = self._clock()
        for command in self._commands.values():
            if command.due <= now:
                command.due = now + self.retry_ms / 1000
                self._replies.append(command.wire)

    # -- decoding ------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[Event]:
        """Consume bytes from the board; return the events of the frames they complete."""
        events: list[Event] = []
        frames = self.frames
        raw = self._raw
        for byte in data:
            if byte != 0 and len(raw) <= codec.MAX_COBS:
                raw.append(byte)
            before = (frames.bad_crc, frames.bad_cobs, frames.short, frames.oversize)
            status = frames.push(byte)
            if status == codec.NOTHING:
                if byte == 0:  # an empty frame, or the end of a run too long to keep
                    raw.clear()
                continue
            wire = b"\x00" + bytes(raw) + b"\x00"
            if byte == 0:
                raw.clear()
            if status == codec.REJECTED:
                self._rejected(wire, before)
                continue
            self.stats.frames += 1
            self.good_frames += 1
            frame = codec.Frame(frames.version, frames.type, frames.seq, frames.payload(), status)
            events.extend(self._frame(frame, wire))
        self.stats.events += len(events)
        return events

    def _rejected(self, wire: bytes, before: tuple[int, int, int, int]) -> None:
        frames = self.frames
        bad_crc, bad_cobs, short, _oversize = before
        stats = self.stats
        if frames.bad_crc > bad_crc:
            self._rejects.append(stats.reject(wire, "bad CRC", checksum=True))
            self._note("bad-crc", "frames with a bad CRC skipped (line noise?)")
        elif frames.bad_cobs > bad_cobs:
            self._rejects.append(stats.reject(wire, "not valid COBS", noise=True))
            self._note("noise", "bytes that make no frame skipped (line noise, wrong speed?)")
        elif frames.short > short:
            self._rejects.append(stats.reject(wire, "too short for a frame", noise=True))
            self._note("noise", "bytes that make no frame skipped (line noise, wrong speed?)")
        else:
            self._rejects.append(
                stats.reject(wire[: codec.MAX_WIRE], "longer than any frame", noise=True)
            )
            self._note("noise", "bytes that make no frame skipped (line noise, wrong speed?)")

    def _frame(self, frame: codec.Frame, wire: bytes) -> list[Event]:
        if frame.status == codec.BAD_VERSION:
            self._refuse_frame(frame, "bad-version", f"a frame of protocol version {frame.version}")
            self._error(codec.ERR_VERSION, frame, codec.VERSION, version=1)
            return []
        if frame.status == codec.UNKNOWN_TYPE:
            if self.in_session:  # its number counts: the next frame's is not a jump
                self.seqs.check(frame.seq, False)
            self._refuse_frame(
                frame, f"unknown-type {frame.type}", f"a frame of unknown type 0x{frame.type:02x}"
            )
            self._error(codec.ERR_UNKNOWN_TYPE, frame, 0)
            return []
        try:
            if frame.type == codec.HELLO:
                return self._hello(codec.parse_hello(frame.payload), frame.seq)
            if not self.in_session:
                self.before_handshake += 1
                self._greet_again()
                return []
            return self._in_session(frame, wire)
        except ValueError as exc:
            name = codec.frame_name(frame.type)
            self._refuse_frame(frame, f"bad-payload {frame.type}", f"a malformed {name} ({exc})")
            self._error(codec.ERR_BAD_PAYLOAD, frame, 0)
            return []

    def _refuse_frame(self, frame: codec.Frame, key: str, what: str) -> None:
        self._rejects.append(self.stats.reject(frame.payload, what))
        self._note(key, f"{what} skipped (seq {frame.seq})")

    def _note(self, key: str, message: str) -> None:
        self._notices.append(Notice(key, f"{self.device_id}: {message}"))

    # -- the handshake -------------------------------------------------------------------

    def _hello(self, hello: codec.Hello, seq: int) -> list[Event]:
        new_boot = self.board is None or hello.boot_id != self.board.boot_id
        self.board = hello
        if not new_boot:
            self.seqs.check(seq, False)  # the answer to ours: in the count, nothing to do
            return []
        self.seqs.reset()
        self.seqs.check(seq, False)
        self._commands.clear()
        self._known.clear()
        self._clock_ref = None
        self.heartbeat = None
        self.period_ms = hello.heartbeat_ms or self.heartbeat_ms
        self._send_hello()
        version = codec.negotiate(HUB_HELLO, hello)
        if version < 0:
            self.version = 0
            self.refused = version_refusal(hello)
            self._notices.append(Notice("refused", f"{self.device_id}: {self.refused}"))
            return [DeviceFault(device=self.device_id, reason=self.refused)]
        self.version = version
        self.refused = ""
        self._notices.append(
            Notice(
                "hello",
                f"{self.device_id}: bridge {hello.name!r} firmware {hello.firmware},"
                f" {hello.inputs} inputs, {hello.outputs} outputs, protocol version {version}",
                warning=False,
            )
        )
        self._configure(hello)
        self._send(codec.REQUEST_STATE, b"")
        return []

    def _greet_again(self) -> None:
        """Frames from a board the hub has not greeted (its HELLO lost, or the hub came
        second): greet it, at most once per retry period."""
        now = self._clock()
        if self.refused or now < self._hello_due:
            return
        self._send_hello()

    def _send_hello(self) -> None:
        self._hello_due = self._clock() + self.retry_ms / 1000
        buf = bytearray(codec.MAX_PAYLOAD)
        end = codec.pack_hello(buf, 0, HUB_HELLO)
        self._send(codec.HELLO, bytes(buf[:end]), version=1)

    def _configure(self, hello: codec.Hello) -> None:
        """Send ``CONFIGURE`` when the shop file says more than the board's defaults."""
        if not self.specs:
            # CONFIGURE carries a mode for every input: without the inputs listed, the
            # board keeps its own roles, and its own timings with them.
            if hello.heartbeat_ms != self.heartbeat_ms or self.debounce_ms:
                self._notices.append(
                    Notice(
                        "timings-only",
                        f"{self.device_id}: the board keeps its heartbeat of"
                        f" {hello.heartbeat_ms} ms and its debounce: list its inputs in the"
                        " settings to set them",
                    )
                )
            return
        modes = bytearray(hello.inputs)
        for index, spec in self.specs.items():
            if index >= hello.inputs:
                self._notices.append(
                    Notice(
                        f"no-input {index}",
                        f"{self.device_id}: the settings name input {index}, but the board"
                        f" has {hello.inputs} inputs (0..{hello.inputs - 1}): check inputs",
                    )
                )
                continue
            modes[index] = spec.mode
        config = codec.Configure(self.heartbeat_ms, self.debounce_ms, self.retry_ms, bytes(modes))
        buf = bytearray(codec.MAX_PAYLOAD)
        end = codec.pack_configure(buf, 0, config)
        self._send(codec.CONFIGURE, bytes(buf[:end]), reliable=True)

    # -- in session ----------------------------------------------------------------------

    def _in_session(self, frame: codec.Frame, wire: bytes) -> list[Event]:
        kind = frame.type
        reliable = codec.is_reliable(kind, True)
        jumps = self.seqs.jumps
        verdict = self.seqs.check(frame.seq, reliable)
        if self.seqs.jumps > jumps:
            self._note(
                "jump", f"frames from the board lost on the line (seq jumped to {frame.seq})"
            )
        if verdict == codec.REPEAT:
            self._note("repeat", f"a frame whose sequence number repeats skipped (seq {frame.seq})")
            return []
        if kind == codec.ACK:
            self._acked(*codec.parse_ack(frame.payload))
            return []
        if kind == codec.ERROR:
            self._board_error(codec.parse_error(frame.payload))
            return []
        if kind == codec.HEARTBEAT:
            return self._heartbeat(codec.parse_heartbeat(frame.payload))
        change = codec.parse_change(frame.payload)
        if reliable:
            self._send(codec.ACK, bytes([kind]) + frame.seq.to_bytes(2, "big"))
            self.acks_sent += 1
            if verdict == codec.DUPLICATE:
                return []
        return self._change(kind, change, wire)

    def _acked(self, kind: int, seq: int) -> None:
        command = self._commands.pop((kind, seq), None)
        if command is not None and kind == codec.CONFIGURE:
            self.period_ms = self.heartbeat_ms
            self._notices.append(
                Notice("configured", f"{self.device_id}: the board took its configuration", False)
            )

    def _board_error(self, error: codec.Error) -> None:
        self._commands.pop((error.ref_type, error.ref_seq), None)
        message = f"{self.device_id}: the board refused a frame: {error.message()}"
        if error.code == codec.ERR_BAD_CONFIG:
            message = (
                f"{self.device_id}: the board refused its configuration at input"
                f" {error.detail} (a supervised input needs a pin with an ADC): it keeps"
                " its current one"
            )
        self._notices.append(Notice(f"board-error {error.code}", message))

    def _heartbeat(self, beat: codec.Heartbeat) -> list[Event]:
        now = self._now()
        self._clock_ref = (now, beat.uptime_s * 1000 + beat.ms)
        self.heartbeat = beat
        events: list[Event] = []
        for index, state in enumerate(beat.states):
            known = self._known.get(index)
            self._known[index] = state
            if known is None or known == state or index not in self._ordinary:
                continue
            # An INPUT frame lost on the line: the heartbeat tells the change.
            signal = self._signal(codec.INPUT, codec.Change(index, state, 0, 0), b"", now)
            if signal is not None:
                events.append(signal)
        return events

    def _change(self, kind: int, change: codec.Change, wire: bytes) -> list[Event]:
        if kind == codec.INPUT:
            self._ordinary.add(change.input)
            if self._known.get(change.input) == change.state:
                return []  # a heartbeat already told it
        if kind != codec.TAMPER:
            self._known[change.input] = change.state
        self.changes += 1
        signal = self._signal(kind, change, wire, self._dated(change))
        return [signal] if signal is not None else []

    def _dated(self, change: codec.Change) -> datetime:
        """When the change happened, by the board's clock against the last heartbeat's."""
        now = self._now()
        if self._clock_ref is None:
            return now
        at, board_ms = self._clock_ref
        when = at + timedelta(milliseconds=change.at_s * 1000 + change.at_ms - board_ms)
        return min(when, now)

    def _signal(
        self, kind: int, change: codec.Change, wire: bytes, when: datetime
    ) -> AlarmSignal | None:
        state = change.state
        spec = self.specs.get(change.input)
        code = f"{codec.frame_name(kind)} {codec.state_name(state)}"
        if kind == codec.TAMPER:
            signal_kind: AlarmKind | None = AlarmKind.TAMPER
            restore = not codec.is_tamper(state)
        elif state in (codec.ALARM, codec.NORMAL):
            default = AlarmKind.HOLDUP if kind == codec.HOLDUP else AlarmKind.BURGLARY
            signal_kind = spec.signal if spec is not None else default
            restore = state == codec.NORMAL
        else:
            return None  # disabled, or a tamper state the TAMPER frame reports
        if signal_kind is None:
            return None  # an input switched off in the shop file
        return AlarmSignal(
            time=when,
            kind=signal_kind,
            device=self.device_id,
            restore=restore,
            panel_zone=change.input,
            code=code,
            protocol=PROTOCOL,
            raw=wire,
        )

    # -- writing -------------------------------------------------------------------------

    def _send(self, kind: int, payload: bytes, *, reliable: bool = False, version: int = 0) -> None:
        seq = self._seq
        self._seq = codec.next_seq(seq)
        wire = codec.encode_frame(kind, seq, payload, version or self.version or codec.VERSION)
        self._replies.append(wire)
        if reliable:
            due = self._clock() + self.retry_ms / 1000
            self._commands[(kind, seq)] = _Command(kind, seq, wire, due)

    def _error(self, code: int, frame: codec.Frame, detail: int, *, version: int = 0) -> None:
        buf = bytearray(codec.ERROR_SIZE)
        codec.pack_error(buf, 0, code, frame.type, frame.seq, detail)
        self._send(codec.ERROR, bytes(buf), version=version)
