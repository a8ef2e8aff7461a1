"""Reading the broker's socket a chunk at a time, and pausing while the hub is busy:
``ChunkedSocket`` on a real socket pair, the session's pause on a real Mosquitto."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from hub.messages import Message
from hub.testing import sever, wait_until
from hub.testing.plugin import StartMosquitto
from hub.transports.mqtt import MqttSession
from hub.transports.mqtt_reading import ChunkedSocket

QUICK = 10.0  # seconds any wait below may take at most: a condition, never a delay


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    left.setblocking(False)
    with left, right:
        yield left, right


def test_small_reads_are_served_from_one_chunk(pair: tuple[socket.socket, socket.socket]) -> None:
    sock, peer = pair
    peer.sendall(b"\x30\x05hello\x30\x03abc")
    chunked = ChunkedSocket(sock, chunk=64)
    assert chunked.recv(1) == b"\x30"
    assert chunked.pending() == 11  # read from the kernel at once, held
    assert chunked.recv(1) == b"\x05"
    assert chunked.recv(5) == b"hello"
    assert chunked.recv(100) == b"\x30\x03abc"  # what is held, no more
    assert chunked.pending() == 0
    with pytest.raises(BlockingIOError):
        chunked.recv(1)  # nothing held, nothing in the kernel: as the socket says


def test_a_chunk_is_bounded_and_the_rest_stays_in_the_kernel(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    sock, peer = pair
    peer.sendall(bytes(range(100)))
    chunked = ChunkedSocket(sock, chunk=10)
    assert chunked.recv(1) == b"\x00"
    assert chunked.pending() == 9
    assert chunked.recv(50) == bytes(range(1, 10))
    assert chunked.recv(50) == bytes(range(10, 60))  # a large read goes to the kernel


def test_the_peer_closing_reads_as_empty(pair: tuple[socket.socket, socket.socket]) -> None:
    sock, peer = pair
    peer.sendall(b"ab")
    peer.shutdown(socket.SHUT_WR)
    chunked = ChunkedSocket(sock, chunk=64)
    assert chunked.recv(1) == b"a"
    assert chunked.recv(1) == b"b"
    assert chunked.recv(1) == b""


def test_everything_else_is_the_socket_s(pair: tuple[socket.socket, socket.socket]) -> None:
    sock, _peer = pair
    chunked = ChunkedSocket(sock)
    assert chunked.fileno() == sock.fileno()
    assert chunked.getsockname() == sock.getsockname()


async def test_reading_pauses_while_the_hub_is_busy_and_loses_nothing(
    mosquitto: StartMosquitto,
) -> None:
    broker = mosquitto()
    busy = False
    got: list[Message] = []
    session = MqttSession(broker.mqtt_config(client_id="ecrin-test"), busy=lambda: busy)
    await session.subscribe("cams/#", got.append, qos=1)
    async with session:
        await wait_until(lambda: session.connected, timeout=QUICK)
        busy = True
        async with broker.client() as camera:
            for i in range(50):
                await camera.publish(f"cams/{i}", str(i).encode(), qos=1)
        await wait_until(lambda: session.counters.read_pauses >= 1, timeout=QUICK)
        paused_at = len(got)
        await asyncio.sleep(0.2)  # paused: the broker keeps the rest meanwhile
        assert len(got) == paused_at < 50
        busy = False
        await wait_until(lambda: len(got) == 50, timeout=QUICK)
    assert [m.payload for m in got] == [str(i).encode() for i in range(50)]


async def test_a_connection_lost_while_paused_is_taken_up_again(
    mosquitto: StartMosquitto,
) -> None:
    broker = mosquitto()
    busy = False
    got: list[Message] = []
    session = MqttSession(broker.mqtt_config(client_id="ecrin-test"), busy=lambda: busy)
    await session.subscribe("cams/#", got.append, qos=1)
    async with session:
        await wait_until(lambda: session.connected, timeout=QUICK)
        busy = True
        async with broker.client() as camera:
            await camera.publish("cams/a", b"1", qos=1)
            await wait_until(lambda: session.counters.read_pauses >= 1, timeout=QUICK)
            sever(session)
            busy = False
            await wait_until(
                lambda: session.counters.connects == 2 and session.connected, timeout=QUICK
            )
            await camera.publish("cams/a", b"2", qos=1)
        await wait_until(lambda: b"2" in [m.payload for m in got], timeout=QUICK)
    assert session.nodelay is None  # stopped
