"""TCP links: a client stream (Envisalink TPI) and a listener (SIA DC-09 receiver).

``TcpLink`` is a ``StreamLink``, so the same ``StreamSupervisor`` that reopens a pulled
USB adapter reconnects a dropped TCP session, with the same events. ``TcpServer`` is a
thin layer over ``asyncio.start_server`` that adds what a receiver needs and asyncio
3.11 lacks: a clear error naming the address when it cannot listen, and closing every
open connection (not just the listening socket) when the device stops, so a restart
never leaves a communicator talking to a dead handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable

from hub.transports.link import LinkDown

__all__ = ["ConnectionHandler", "TcpLink", "TcpServer"]

log = logging.getLogger(__name__)

ConnectionHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

_READ_CHUNK = 4096


def _reason(exc: OSError) -> str:
    """The system's short text for the error (asyncio wraps it in long sentences that
    repeat the address)."""
    if isinstance(exc.errno, int) and exc.errno > 0:
        return os.strerror(exc.errno)
    return exc.strerror or str(exc) or type(exc).__name__


class TcpLink:
    """A TCP client connection as a reopenable byte stream (a ``StreamLink``).

    Args:
        host: the peer's address (an Envisalink's IP address).
        port: the peer's port (4025 for the Envisalink TPI).
        connect_timeout: seconds to wait for the connection before giving up.
    """

    def __init__(self, host: str, port: int, *, connect_timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()
        self.bytes_in = 0
        self.bytes_out = 0

    @property
    def name(self) -> str:
        """``TCP <host>:<port>``, used in every message about this link."""
        return f"TCP {self.host}:{self.port}"

    @property
    def is_open(self) -> bool:
        """True between a successful ``open`` and ``close``."""
        return self._writer is not None

    async def open(self) -> None:
        """Connect.

        Raises:
            OSError: refused, unreachable, timed out; the message names the address.
        """
        if self._writer is not None:
            return
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(self.host, self.port)
        except TimeoutError as exc:
            raise OSError(
                f"{self.name}: cannot connect: no answer within {self.connect_timeout:g} s"
            ) from exc
        except OSError as exc:
            error = OSError(f"{self.name}: cannot connect: {_reason(exc)}")
            error.errno = exc.errno
            raise error from exc
        self._reader, self._writer = reader, writer
        log.info("%s: connected", self.name)

    async def read(self) -> bytes:
        """Return the next chunk from the peer.

        Raises:
            LinkDown: not connected, or the peer closed or reset the connection.
        """
        reader = self._reader
        if reader is None:
            raise LinkDown(f"{self.name}: not connected")
        try:
            data = await reader.read(_READ_CHUNK)
        except OSError as exc:
            raise LinkDown(f"{self.name}: {exc.strerror or exc}") from exc
        if not data:
            raise LinkDown(f"{self.name}: connection closed by the peer")
        self.bytes_in += len(data)
        return data

    async def write(self, data: bytes) -> None:
        """Send ``data`` whole; concurrent writes are serialised by a lock.

        Raises:
            LinkDown: not connected, or the connection failed.
        """
        async with self._lock:
            writer = self._writer
            if writer is None or writer.is_closing():
                raise LinkDown(f"{self.name}: not connected")
            try:
                writer.write(data)
                await writer.drain()
            except OSError as exc:
                raise LinkDown(f"{self.name}: {exc.strerror or exc}") from exc
            self.bytes_out += len(data)

    async def close(self) -> None:
        """Close the connection; never raises."""
        writer, self._writer, self._reader = self._writer, None, None
        if writer is None:
            return
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


class TcpServer:
    """A TCP listener that runs ``handler`` for each connection and owns those tasks.

    Args:
        host: the address to listen on (``0.0.0.0`` for every interface).
        port: the port; 0 picks a free one (tests), read it back from ``port``.
        handler: the coroutine run per connection; the server closes the connection
            when it returns or raises.
        name: how to call the listener in messages.
    """

    def __init__(self, host: str, port: int, handler: ConnectionHandler, *, name: str = "") -> None:
        self.host = host
        self.requested_port = port
        self._handler = handler
        self.name = name or f"TCP listener {host}:{port}"
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        #: Connections accepted since the listener started.
        self.accepted = 0

    @property
    def port(self) -> int:
        """The port actually bound (useful when 0 was requested)."""
        if self._server is None or not self._server.sockets:
            return self.requested_port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def active(self) -> int:
        """Connections open right now."""
        return len(self._connections)

    async def start(self) -> None:
        """Start listening.

        Raises:
            OSError: the address cannot be bound (in use, not local, no permission).
        """
        try:
            self._server = await asyncio.start_server(self._serve, self.host, self.requested_port)
        except OSError as exc:
            error = OSError(
                f"{self.name}: cannot listen on {self.host}:{self.requested_port}: {_reason(exc)}"
            )
            error.errno = exc.errno
            raise error from exc
        log.info("%s: listening on %s:%d", self.name, self.host, self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self.accepted += 1
        peer = writer.get_extra_info("peername")
        try:
            await self._handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("%s: connection from %s ended: %s", self.name, peer, exc)
        except Exception:  # one bad connection must not stop the listener
            log.exception("%s: connection from %s failed", self.name, peer)
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def close(self) -> None:
        """Stop listening and close every open connection; never raises."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(OSError):
            await server.wait_closed()
