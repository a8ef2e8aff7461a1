"""The network between a hub and its broker, as a cable the test can pull.

To show that nothing published while the hub is cut off is lost, the test must know
for sure that the hub is cut off while the NVR publishes, whatever the hub's
reconnection backoff does meanwhile. ``TcpRelay`` listens on a loopback port and relays
every connection made to it to the broker, byte for byte; ``cut()`` closes every
relayed connection at once (the broker sees its client vanish without a DISCONNECT,
as with a pulled cable: it publishes the hub's last will and keeps its persistent
session) and refuses new ones, until ``mend()``. The broker and the hub are the real
ones; only the cable is the test's.
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["TcpRelay"]

_CHUNK = 65536


class TcpRelay:
    """A loopback port (``port``) relayed to ``host:target``.

    Args:
        host: the broker's host (and the relay's).
        target: the broker's port.
    """

    def __init__(self, host: str, target: int) -> None:
        self.host = host
        self.target = target
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def cut_off(self) -> bool:
        """Whether the cable is pulled now."""
        return self._server is None

    async def start(self) -> TcpRelay:
        """Listen (on a free port the first time, then on the same one)."""
        self._server = await asyncio.start_server(
            self._relay, self.host, self.port, reuse_address=True
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def mend(self) -> None:
        """Put the cable back: connections are relayed again."""
        if self._server is None:
            await self.start()

    async def cut(self) -> None:
        """Pull the cable: every relayed connection ends at once (no goodbye on either
        side), and new ones are refused until ``mend()``."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            _reset(writer)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._writers.clear()
        if server is not None:
            await server.wait_closed()

    async def __aenter__(self) -> TcpRelay:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop relaying, for good."""
        await self.cut()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection(self.host, self.target)
            except OSError:
                return  # the broker is not there: the client sees its connection end
            self.connections += 1
            self._writers.add(up_writer)
            try:
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                self._writers.discard(up_writer)
                _reset(up_writer)
        finally:
            self._writers.discard(writer)
            _reset(writer)
            self._tasks.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction until it ends, then end the other side's writing."""
    with contextlib.suppress(OSError):
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
    _reset(writer)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close a connection at once, dropping what was not sent yet. (A pulled cable
    would not even say the connection ended; the broker would notice it only after the
    keepalive. What matters here is the same: no MQTT DISCONNECT.)"""
    writer.transport.abort()
