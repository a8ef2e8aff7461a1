"""The interface shared by every protocol decoder.

Decoders are pure: bytes in, typed events out, no I/O, no clock unless given one. That
makes them the easiest part of the hub to test exhaustively and to fuzz. A decoder
never raises on bad input: it counts the bad frame, remembers why, skips it and
resynchronises on the next good frame. Transports feed them whatever chunks the link
delivered; framing across chunk boundaries is the decoder's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hub.events import Event

__all__ = ["DecodeStats", "Decoder", "Rejected"]


@dataclass(frozen=True, slots=True)
class Rejected:
    """One frame a decoder could not use, kept for the installer's diagnostics.

    Attributes:
        raw: the bytes of the rejected frame (or garbage run).
        reason: one line: bad checksum, unknown command, too long...
    """

    raw: bytes
    reason: str


@dataclass(slots=True)
class DecodeStats:
    """Counters every decoder keeps (exposed per device in metrics).

    Attributes:
        frames: frames (lines) completed.
        events: events produced.
        rejected: frames and runs of garbage rejected, for whatever reason.
        bad_checksum: rejected for a bad checksum.
        noise: runs of bytes that could not be framed at all (bytes no frame holds, a
            run too long to be a frame, bytes skipped to find the next frame), bad
            checksums apart: what line noise, a wrong baud rate or a broken cable leave.
            A decoder may add to it without a reject (a long run counts once per
            longest-frame length).
        last_rejects: the last few rejects, for diagnostics.
    """

    frames: int = 0
    events: int = 0
    rejected: int = 0
    bad_checksum: int = 0
    noise: int = 0
    last_rejects: list[Rejected] = field(default_factory=list)

    @property
    def line_errors(self) -> int:
        """What line quality is judged on: bad checksums and noise, each reject once."""
        return self.bad_checksum + self.noise

    def reject(
        self, raw: bytes, reason: str, *, checksum: bool = False, noise: bool = False
    ) -> Rejected:
        """Count a rejected frame and keep the last few for diagnostics.

        Args:
            raw: the rejected bytes.
            reason: one line saying why.
            checksum: the frame was whole but its checksum was wrong.
            noise: the bytes could not be framed (counted once: a bad checksum wins).
        """
        self.rejected += 1
        if checksum:
            self.bad_checksum += 1
        elif noise:
            self.noise += 1
        item = Rejected(bytes(raw[:256]), reason)
        self.last_rejects.append(item)
        del self.last_rejects[:-20]
        return item


class Decoder(Protocol):
    """A stream decoder for one device.

    ``feed`` takes the next chunk of bytes from the link and returns the events of the
    frames it completed; ``rejects`` returns (and forgets) the frames rejected since the
    last call, so the transport can log or count them.
    """

    stats: DecodeStats

    def feed(self, data: bytes) -> Sequence[Event]:
        """Consume ``data``; return the events of every frame completed by it."""
        ...

    def rejects(self) -> Sequence[Rejected]:
        """Return and clear the frames rejected since the previous call."""
        ...
