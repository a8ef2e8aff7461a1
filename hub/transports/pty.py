"""A serial cable made of a pseudo-terminal, for simulators, tests and demos.

The hub opens the cable's ``path`` exactly as it opens ``/dev/ttyUSB0``; a simulated
panel holds the other end. ``path`` can be a symlink that the cable re-points, so that
"unplug" (the adapter is pulled: the hub's reads fail with ``EIO``) and "replug" (a
new device appears under the same name) behave as they do with real USB adapters, even
though a pty's own ``/dev/pts/N`` name disappears once both ends close.

POSIX only (``os.openpty``), like the serial ports it stands in for.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from pathlib import Path

__all__ = ["PtyCable"]

_READ_CHUNK = 4096


class PtyCable:
    """The panel's end of a simulated serial cable.

    The pty is put in raw mode as soon as it exists, before the hub opens it and before
    the panel writes: otherwise the line discipline would echo the panel's bytes back to
    it and turn its CRs into LFs. The cable keeps its own descriptor on the hub's end
    open while plugged, so the panel's reads never fail while the hub is between two
    reopenings.

    Args:
        link: where the hub's end appears (a symlink, re-pointed on each ``plug``);
            None to use the pty's own ``/dev/pts/N`` name (no replug possible).
    """

    def __init__(self, link: str | os.PathLike[str] | None = None) -> None:
        self.link = Path(link) if link is not None else None
        self._master: int | None = None
        self._slave: int | None = None
        self._slave_name = ""
        self._waiters: set[asyncio.Future[None]] = set()
        #: Bytes the panel wrote and read through this cable (all plugs together).
        self.bytes_out = 0
        self.bytes_in = 0
        self.plug()

    @property
    def path(self) -> str:
        """What the hub opens: the symlink if one was given, else the pty's name."""
        return str(self.link) if self.link is not None else self._slave_name

    @property
    def plugged(self) -> bool:
        """True between ``plug`` and ``unplug``."""
        return self._master is not None

    def plug(self) -> None:
        """Create a fresh pty, raw, and (re-)point the link at it."""
        if self._master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(master)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._slave_name = os.ttyname(slave)
        if self.link is not None:
            temporary = self.link.with_name(self.link.name + ".new")
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            temporary.symlink_to(self._slave_name)
            temporary.replace(self.link)  # atomic: the hub never sees a half-made link

    def unplug(self) -> None:
        """Pull the cable: the hub's reads fail with ``EIO`` and its path disappears."""
        master, self._master = self._master, None
        slave, self._slave = self._slave, None
        if master is not None:
            with contextlib.suppress(RuntimeError):  # no running loop: nothing registered
                loop = asyncio.get_running_loop()
                loop.remove_reader(master)
                loop.remove_writer(master)
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_exception(ConnectionError("the cable was unplugged"))
            self._waiters.clear()
            os.close(master)
        if slave is not None:
            os.close(slave)
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()

    def close(self) -> None:
        """Unplug for good (same as ``unplug``; named for ``with``/fixture use)."""
        self.unplug()

    def _fd(self) -> int:
        if self._master is None:
            raise ConnectionError("the cable is unplugged")
        return self._master

    async def write(self, data: bytes) -> None:
        """Send bytes to the hub, waiting for room rather than blocking the loop."""
        view = memoryview(data)
        while view:
            fd = self._fd()
            try:
                written = os.write(fd, view)
            except BlockingIOError:
                await self._wait(fd, writable=True)
                continue
            view = view[written:]
            self.bytes_out += written

    async def read(self) -> bytes:
        """Return the next chunk the hub wrote (never empty)."""
        while True:
            fd = self._fd()
            try:
                data = os.read(fd, _READ_CHUNK)
            except BlockingIOError:
                await self._wait(fd, writable=False)
                continue
            if data:
                self.bytes_in += len(data)
                return data

    async def _wait(self, fd: int, *, writable: bool) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.add(waiter)

        def ready() -> None:
            if not waiter.done():
                waiter.set_result(None)

        if writable:
            loop.add_writer(fd, ready)
        else:
            loop.add_reader(fd, ready)
        try:
            await waiter
        finally:
            self._waiters.discard(waiter)
            # Once unplugged, the number may already belong to someone else's descriptor
            # (the hub reopening its port): only our own registration is removed.
            if self._master == fd:
                if writable:
                    loop.remove_writer(fd)
                else:
                    loop.remove_reader(fd)
