"""Small waiting helpers shared by the transport and panel tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from hub.transports.pty import PtyCable


async def read_until(
    read: Callable[[], Awaitable[bytes]], condition: Callable[[bytes], bool], timeout: float = 5.0
) -> bytes:
    """Read chunks until ``condition`` holds on everything read so far."""
    got = b""
    async with asyncio.timeout(timeout):
        while not condition(got):
            got += await read()
    return got


async def cable_read_until(cable: PtyCable, marker: bytes, timeout: float = 5.0) -> bytes:
    """What the hub wrote to the cable, up to and including ``marker``."""
    return await read_until(cable.read, lambda got: marker in got, timeout)
