"""TCP links over real loopback sockets: the listener and the reconnecting client."""

from __future__ import annotations

import asyncio

import pytest

from hub.events import LinkLost, LinkRestored
from hub.testing import EventRecorder, read_until
from hub.transports.link import LinkDown, StreamLink
from hub.transports.supervision import LinkHealth, StreamSupervisor
from hub.transports.tcp import TcpLink, TcpServer


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while line := await reader.readline():
        writer.write(b"echo " + line)
        await writer.drain()


async def test_server_serves_each_connection_and_closes_them_on_close() -> None:
    server = TcpServer("127.0.0.1", 0, echo, name="test receiver")
    await server.start()
    assert server.port != 0
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"hello\n")
    assert await asyncio.wait_for(reader.readline(), 5) == b"echo hello\n"
    assert server.active == 1
    await server.close()
    assert await asyncio.wait_for(reader.read(), 5) == b""  # the server closed it
    writer.close()
    assert server.active == 0
    assert server.accepted == 1


async def test_a_failing_handler_does_not_stop_the_server() -> None:
    async def fragile(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if await reader.readline() == b"boom\n":
            raise ValueError("bad frame")
        writer.write(b"ok\n")
        await writer.drain()

    server = TcpServer("127.0.0.1", 0, fragile)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"boom\n")
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"fine\n")
        assert await asyncio.wait_for(reader.readline(), 5) == b"ok\n"
        writer.close()
    finally:
        await server.close()


async def test_a_port_in_use_is_a_clear_oserror() -> None:
    first = TcpServer("127.0.0.1", 0, echo)
    await first.start()
    try:
        second = TcpServer("127.0.0.1", first.port, echo, name="DC-09 receiver")
        expected = (
            f"DC-09 receiver: cannot listen on 127.0.0.1:{first.port}: Address already in use"
        )
        with pytest.raises(OSError, match=f"^{expected}$"):
            await second.start()
    finally:
        await first.close()


async def test_client_reads_and_writes() -> None:
    server = TcpServer("127.0.0.1", 0, echo)
    await server.start()
    link = TcpLink("127.0.0.1", server.port)
    assert isinstance(link, StreamLink)
    try:
        await link.open()
        await asyncio.gather(link.write(b"a\n"), link.write(b"b\n"))
        got = await read_until(link.read, lambda b: b.count(b"\n") == 2)
        assert got == b"echo a\necho b\n"
    finally:
        await link.close()
        await server.close()


async def test_client_refused_is_a_clear_oserror() -> None:
    server = TcpServer("127.0.0.1", 0, echo)
    await server.start()
    port = server.port
    await server.close()
    with pytest.raises(
        OSError, match=rf"TCP 127.0.0.1:{port}: cannot connect: Connection refused$"
    ):
        await TcpLink("127.0.0.1", port).open()


async def test_client_reconnects_when_the_peer_comes_back(recorder: EventRecorder) -> None:
    server = TcpServer("127.0.0.1", 0, echo)
    await server.start()
    port = server.port
    link = TcpLink("127.0.0.1", port, connect_timeout=1)
    await link.open()
    received: list[bytes] = []
    health = LinkHealth("envisalink", recorder.emit)
    supervisor = StreamSupervisor(
        link, health, received.append, reconnect_initial=0.02, reconnect_max=0.1
    )
    task = asyncio.create_task(supervisor.run())
    try:
        await server.close()  # the peer drops the session
        (lost,) = await recorder.wait_for(LinkLost)
        assert "closed by the peer" in lost.reason
        with pytest.raises(LinkDown):
            await link.write(b"x\n")
        server = TcpServer("127.0.0.1", port, echo)
        await server.start()
        await recorder.wait_for(LinkRestored)
        await link.write(b"back\n")
        await recorder.wait_until(lambda: b"".join(received) == b"echo back\n")
        assert supervisor.reconnects == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await link.close()
        await server.close()
