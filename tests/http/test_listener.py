"""The listener's limits over real loopback sockets: read deadlines, keep-alive, the
connection caps, and the descriptor reserve.

Each test waits for the event it is about (a close, an answer) with a timeout; none
measures how fast anything is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

import aiohttp
from yarl import URL

from hub.http import HttpSettings, create_app, serve
from hub.http.listener import ConnectionGate
from hub.logs import RepeatFilter
from tests.http.conftest import Client, Shop, post_with_stalled_body

PARTIAL_HEAD = b"GET /healthz HTTP/1.1\r\nHost: hub\r\n"
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n"


@contextlib.asynccontextmanager
async def hub_http(shop: Shop, **limits: float) -> AsyncIterator[str]:
    app = create_app(shop.service, HttpSettings(**limits))  # type: ignore[arg-type]
    async with serve(app) as url:
        yield url


class Connections:
    """Raw client connections, all closed at the end."""

    def __init__(self, base: str) -> None:
        url = URL(base)
        assert url.host is not None
        self.host = url.host
        self.port = url.port
        self.open: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def connect(
        self, source: str | None = None, send: bytes = b""
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        local = (source, 0) if source else None
        reader, writer = await asyncio.open_connection(self.host, self.port, local_addr=local)
        if send:
            writer.write(send)
            await writer.drain()
        self.open.append((reader, writer))
        return reader, writer

    async def close_all(self) -> None:
        for _, writer in self.open:
            writer.close()
        self.open.clear()


@contextlib.asynccontextmanager
async def connections(base: str) -> AsyncIterator[Connections]:
    pool = Connections(base)
    try:
        yield pool
    finally:
        await pool.close_all()


async def closed_by_server(reader: asyncio.StreamReader, timeout: float = 10.0) -> bytes:
    """Everything the server sent before closing (waits for the close)."""
    async with asyncio.timeout(timeout):
        return await reader.read()


async def answers(base: str, timeout: float = 10.0) -> None:
    """Wait until the API answers a new client again."""
    async with aiohttp.ClientSession() as session, asyncio.timeout(timeout):
        while True:
            try:
                async with session.get(base + "/healthz") as reply:
                    if reply.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)


def refusal(data: bytes) -> dict[str, str]:
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 "), head[:40]
    parsed = json.loads(body)
    assert isinstance(parsed, dict)
    return parsed


async def test_a_request_head_that_never_completes_is_closed(shop: Shop) -> None:
    async with hub_http(shop, header_timeout=0.5) as base, connections(base) as pool:
        reader, _writer = await pool.connect(send=PARTIAL_HEAD)
        assert await closed_by_server(reader) == b""
        # A connection that never sends a byte is closed too.
        silent, _ = await pool.connect()
        assert await closed_by_server(silent) == b""


async def test_a_head_trickled_on_a_kept_alive_connection_is_closed(shop: Shop) -> None:
    async with hub_http(shop, header_timeout=0.5) as base, connections(base) as pool:
        reader, writer = await pool.connect(send=HEALTHZ)
        async with asyncio.timeout(10):
            assert (await reader.readline()).startswith(b"HTTP/1.1 200")
        writer.write(PARTIAL_HEAD)
        await writer.drain()
        rest = await closed_by_server(reader)
        assert b"HTTP/1.1" not in rest  # the rest of the first answer, and no second one


async def test_a_body_that_never_arrives_is_408_and_changes_nothing(
    client: Client, shop: Shop
) -> None:
    escalation = await shop.holdup()
    path = f"/api/v1/escalations/{escalation.id}/ack"
    assert await post_with_stalled_body(client, path) == 408
    assert shop.service.get(shop.installer, escalation.id) == escalation


async def test_an_idle_kept_alive_connection_is_closed(shop: Shop) -> None:
    async with hub_http(shop, keepalive_timeout=0.5) as base, connections(base) as pool:
        reader, _ = await pool.connect(send=HEALTHZ)
        data = await closed_by_server(reader)
        assert data.startswith(b"HTTP/1.1 200")


async def test_connections_from_one_address_are_capped(shop: Shop) -> None:
    async with (
        hub_http(shop, max_connections_per_address=3) as base,
        connections(base) as pool,
    ):
        held = [await pool.connect(send=PARTIAL_HEAD) for _ in range(3)]
        reader, _ = await pool.connect()
        body = refusal(await closed_by_server(reader))
        assert body["error"] == "unavailable"
        # Another address is not held back by this one.
        other, _writer = await pool.connect(source="127.0.0.2", send=HEALTHZ)
        async with asyncio.timeout(10):
            assert (await other.readline()).startswith(b"HTTP/1.1 200")
        for _, held_writer in held:
            held_writer.close()
        await answers(base)


async def test_connections_in_total_are_capped(shop: Shop) -> None:
    async with (
        hub_http(shop, max_connections=4, max_connections_per_address=100) as base,
        connections(base) as pool,
    ):
        for n in range(4):
            await pool.connect(source=f"127.0.0.{n + 2}", send=PARTIAL_HEAD)
        reader, _ = await pool.connect(source="127.0.0.9")
        assert refusal(await closed_by_server(reader))["error"] == "unavailable"
        await pool.close_all()
        await answers(base)


def test_the_gate_keeps_a_descriptor_reserve() -> None:
    gate = ConnectionGate(max_total=1000, max_per_address=1000, fd_reserve=64, fd_limit=1024)
    assert gate.admit("a", 959) is None
    assert gate.admit("a", 960) == "descriptors"
    assert gate.admit("b", 1023) == "descriptors"
    assert gate.open == 1
    gate.release("a")
    assert gate.open == 0
    assert gate.by_address("a") == 0
    assert gate.refused == {"descriptors": 2}


async def test_a_stream_of_refused_connections_logs_one_line(shop: Shop) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(RepeatFilter())
    logger = logging.getLogger("hub.http.listener")
    logger.addHandler(handler)
    try:
        async with (
            hub_http(shop, max_connections_per_address=1) as base,
            connections(base) as pool,
        ):
            await pool.connect(send=PARTIAL_HEAD)
            for _ in range(20):
                reader, _ = await pool.connect()
                await closed_by_server(reader)
    finally:
        logger.removeHandler(handler)
    assert len([r for r in records if r.levelno >= logging.WARNING]) == 1
