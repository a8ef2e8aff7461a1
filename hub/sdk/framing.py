"""Line framing and decoder scaffolding shared by the line-oriented panel protocols.

Contact ID receivers, the DSC IT-100, the AlarmDecoder and SIA DC-09 all end a frame
with CR and/or LF. Serial links deliver whatever chunks they like, and a panel that
is rebooting or a cable that is being plugged in produces garbage with no line end at
all. This splitter cuts the stream at CR or LF and keeps its buffer bounded: when a
line grows past the maximum, the excess is dropped (and reported once) but the tail
is kept, because a good frame may start in it. A decoder can then still find a frame
at the end of a garbage run.

``LineDecoder`` holds what every line decoder repeats: the splitter, the counters,
the bounded list of rejects. A protocol implements only ``decode_line``.

It also decides, once for every protocol, which rejects are line noise (``noise`` in
the stats, judged by the device's line-quality rule beside bad checksums). Bytes that
cannot be framed are noise, counted in runs so that one glitch counts once and a
wrong baud rate counts fast:

* a line holding a byte that no line of the protocol holds (all these protocols are
  printable ASCII; a wrong baud rate, a wrong parity or a broken cable make control
  characters and 8-bit bytes): one per line;
* bytes skipped to find a frame further on the line (resynchronisation): one per line;
* a run with no line end longer than the longest frame: one when it starts, and one
  more for every further ``max_line`` bytes dropped, so that a stream with no line end
  at all keeps counting;
* for a protocol without a checksum, any line the decoder cannot use.

A printable line that a protocol with a checksum does not know is not noise: the
panel printed it on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from hub.decoding import DecodeStats, Rejected
from hub.events import Event

__all__ = ["Line", "LineDecoder", "LineSplitter", "Overflow"]

_EOL = re.compile(rb"[\r\n]")

#: How many dropped bytes an ``Overflow`` keeps as evidence.
_EVIDENCE = 256

#: Rejects kept for ``rejects()`` when the caller does not collect them.
_MAX_PENDING_REJECTS = 500


@dataclass(frozen=True, slots=True)
class Line:
    """One line cut from the stream, without its CR/LF.

    Attributes:
        data: the bytes of the line (never empty).
        after_overflow: the line is the kept tail of an over-long line; its start was
            already reported as dropped, so a decoder need not report it again.
    """

    data: bytes
    after_overflow: bool = False


@dataclass(frozen=True, slots=True)
class Overflow:
    """Bytes dropped because a line grew past the maximum without a line end.

    Attributes:
        dropped: the first bytes that were dropped (up to 256), kept as evidence.
        limit: the maximum line length in force.
    """

    dropped: bytes
    limit: int


class LineSplitter:
    """Cut a byte stream into lines at CR or LF, with a bounded buffer.

    Empty lines (as between the CR and LF of a CRLF) are skipped. The buffer never
    holds more than ``max_line`` bytes between calls.
    """

    def __init__(self, max_line: int) -> None:
        """Create a splitter.

        Args:
            max_line: the longest line the protocol can produce; longer runs without
                a line end are garbage.
        """
        if max_line < 1:
            raise ValueError("max_line must be positive")
        self.max_line = max_line
        self._buf = bytearray()
        self._overflowed = False
        self._run_dropped = 0
        #: Pieces of over-long runs dropped: one as a run starts overflowing, and one
        #: more for each further ``max_line`` bytes dropped from it (how line noise
        #: without line ends is counted).
        self.overflow_blocks = 0

    @property
    def pending(self) -> int:
        """How many bytes wait for a line end."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Line | Overflow]:
        """Add ``data``; return the lines it completed and any overflow notices."""
        out: list[Line | Overflow] = []
        self._buf += data
        start = 0
        buf = self._buf
        while True:
            match = _EOL.search(buf, start)
            if match is None:
                break
            end = match.start()
            overflowed = self._overflowed
            if end - start > self.max_line:
                if not overflowed:
                    dropped = buf[start : min(end - self.max_line, start + _EVIDENCE)]
                    out.append(Overflow(bytes(dropped), self.max_line))
                overflowed = True
                self._dropped(end - self.max_line - start)
                start = end - self.max_line
            if end > start:
                out.append(Line(bytes(buf[start:end]), overflowed))
            self._overflowed = False
            self._run_dropped = 0
            start = end + 1
        del buf[:start]
        if len(buf) > self.max_line:
            excess = len(buf) - self.max_line
            if not self._overflowed:
                out.append(Overflow(bytes(buf[: min(excess, _EVIDENCE)]), self.max_line))
                self._overflowed = True
            self._dropped(excess)
            del buf[:excess]
        return out

    def _dropped(self, count: int) -> None:
        """Count ``count`` more bytes dropped from the current over-long run, in blocks
        of ``max_line`` (a block counts from its first byte)."""
        before, self._run_dropped = self._run_dropped, self._run_dropped + count
        started_before = -(before // -self.max_line)  # ceiling divisions
        started_now = -(self._run_dropped // -self.max_line)
        self.overflow_blocks += started_now - started_before

    def finish(self) -> list[Line | Overflow]:
        """Return the last line when the stream ended without a line end."""
        if not self._buf:
            return []
        line = Line(bytes(self._buf), self._overflowed)
        self._buf.clear()
        self._overflowed = False
        self._run_dropped = 0
        return [line]


class LineDecoder:
    """Base of the line decoders: framing, counters and rejects.

    Subclasses set ``protocol`` and implement ``decode_line``, which returns the
    events of one line and calls ``reject_frame`` for what it cannot use. Nothing here
    raises on input.
    """

    protocol: ClassVar[str] = ""
    #: Whether the protocol's frames carry a checksum. Without one, a line the decoder
    #: cannot use is the only sign of a mangled line, so every reject is noise.
    checked: ClassVar[bool] = True
    #: A byte no line of the protocol holds: a rejected line with one is noise.
    noise_byte: ClassVar[re.Pattern[bytes]] = re.compile(rb"[^\t\x20-\x7e]")

    def __init__(self, device: str, *, max_line: int) -> None:
        """Create the decoder for ``device`` (its id goes on every event)."""
        self.device = device
        self.stats = DecodeStats()
        self._lines = LineSplitter(max_line)
        self._overflow_blocks = 0
        self._rejects: list[Rejected] = []

    @property
    def pending(self) -> int:
        """Bytes waiting for a line end (never more than the maximum line length)."""
        return self._lines.pending

    def feed(self, data: bytes) -> Sequence[Event]:
        """Consume ``data``; return the events of every frame completed by it."""
        return self._handle(self._lines.feed(data))

    def finish(self) -> Sequence[Event]:
        """Decode a last frame left without a line end (the end of a file)."""
        return self._handle(self._lines.finish())

    def rejects(self) -> Sequence[Rejected]:
        """Return and clear the frames rejected since the previous call."""
        out, self._rejects = self._rejects, []
        return out

    def _handle(self, pieces: Sequence[Line | Overflow]) -> list[Event]:
        events: list[Event] = []
        for piece in pieces:
            if isinstance(piece, Overflow):
                # Evidence only: the run's noise is counted in blocks, below.
                self._keep(
                    self.stats.reject(
                        piece.dropped, f"line longer than {piece.limit} bytes, dropped"
                    )
                )
                continue
            self.stats.frames += 1
            events.extend(self.decode_line(piece))
        self.stats.events += len(events)
        blocks = self._lines.overflow_blocks
        self.stats.noise += blocks - self._overflow_blocks
        self._overflow_blocks = blocks
        return events

    def decode_line(self, line: Line) -> list[Event]:
        raise NotImplementedError

    def reject_frame(
        self, raw: bytes, reason: str, *, checksum: bool = False, noise: bool = False
    ) -> None:
        """Count and keep a reject.

        Args:
            raw: the rejected bytes.
            reason: one line saying why.
            checksum: a whole frame with a wrong checksum.
            noise: bytes the decoder skipped to find a frame further on; a line with a
                ``noise_byte``, and any reject of a protocol without a checksum, are
                noise whatever the caller says.
        """
        noise = noise or not self.checked or self.noise_byte.search(raw) is not None
        self._keep(self.stats.reject(raw, reason, checksum=checksum, noise=noise))

    def _keep(self, reject: Rejected) -> None:
        self._rejects.append(reject)
        if len(self._rejects) > _MAX_PENDING_REJECTS:
            del self._rejects[: len(self._rejects) - _MAX_PENDING_REJECTS]
