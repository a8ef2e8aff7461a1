"""What a byte-stream link is to the code that supervises it.

A serial port, a pyserial URL and a TCP connection to an Envisalink all look the same to
a panel device: open, read chunks, write frames, close. Keeping that one small protocol
lets ``hub.transports.supervision`` reopen any of them with the same backoff and the
same ``LinkLost``/``LinkRestored`` rules, and lets a test drive a device over a real
pseudo-terminal or a real socket without a fake in between.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["LinkDown", "StreamLink"]


class LinkDown(ConnectionError):
    """The link went away while open (port vanished, peer closed, I/O error).

    It is an ``OSError`` so that code which already handles I/O errors handles this one,
    but it is distinct from the ``OSError`` of a failed ``open``: a link that was up and
    went down is reported as ``LinkLost`` and reopened; a link that never opened is the
    hub's business (it logs and retries the whole device).
    """


@runtime_checkable
class StreamLink(Protocol):
    """A reopenable byte stream.

    Implementations must allow ``open`` again after ``close``: the same object lives for
    the whole life of the device, so that a command queued by the device while the link
    is down finds the link again once it is back.
    """

    @property
    def name(self) -> str:
        """How to call the link in messages, e.g. ``"serial port /dev/ttyUSB0"``."""
        ...

    @property
    def is_open(self) -> bool:
        """True between a successful ``open`` and ``close``."""
        ...

    async def open(self) -> None:
        """Open the link.

        Raises:
            OSError: it cannot be opened; the message names the link and the reason.
        """
        ...

    async def read(self) -> bytes:
        """Return the next chunk of bytes (never empty).

        Raises:
            LinkDown: the link went away; ``close`` it before opening it again.
        """
        ...

    async def write(self, data: bytes) -> None:
        """Queue ``data`` and return once it has been handed to the link.

        Writes are serialised: frames from concurrent callers are never interleaved.

        Raises:
            LinkDown: the link is closed or went away before ``data`` was written.
        """
        ...

    async def close(self) -> None:
        """Release the link; safe to call on a link that is closed or already gone."""
        ...
