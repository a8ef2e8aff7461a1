"""Reading the broker's socket a chunk at a time, taking the plain PUBLISH packets
without paho, and pausing while the hub is busy: ``ChunkedSocket`` on a real socket
pair (its parse checked against paho's own decoder), the session on a real Mosquitto."""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Iterator

import aiomqtt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt import _packet as paho_packet
from paho.mqtt.client import MQTTv311

from hub.messages import Message
from hub.testing import sever, wait_until
from hub.testing.plugin import StartMosquitto
from hub.transports.mqtt import MqttSession
from hub.transports.mqtt_reading import CHUNK, ChunkedSocket, Publish, read_in_chunks

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


def _length(n: int) -> bytes:
    """MQTT's remaining length: seven bits a byte, least significant first."""
    out = bytearray()
    while True:
        n, byte = divmod(n, 128)
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def publish_packet(
    topic: bytes, payload: bytes, qos: int = 0, retain: bool = False, mid: int = 1
) -> bytes:
    """A PUBLISH packet as MQTT 3.1.1 (section 3.3) lays it out."""
    body = len(topic).to_bytes(2, "big") + topic + (mid.to_bytes(2, "big") if qos else b"")
    body += payload
    return bytes([0x30 | (qos << 1) | int(retain)]) + _length(len(body)) + body


class _Socket:
    """A socket that hands out fixed chunks (``ChunkedSocket`` asks; this answers)."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)

    def recv(self, bufsize: int) -> bytes:
        if not self.chunks:
            raise BlockingIOError
        return self.chunks.pop(0)


def test_a_whole_publish_is_taken_and_the_rest_left_for_paho() -> None:
    held = (
        publish_packet(b"cams/a/motion", b"ON")
        + publish_packet(b"cams/b/state", b"1", qos=1, retain=True, mid=513)
        + b"\xd0\x00"  # PINGRESP: paho's
        + publish_packet(b"cams/c", b"x" * 300)[:100]  # the rest is in the next chunk
    )
    chunked = ChunkedSocket(_Socket(held), chunk=len(held))
    assert chunked.fill()
    assert chunked.take_publish() == Publish("cams/a/motion", b"ON", 0, False, 0)
    assert chunked.take_publish() == Publish("cams/b/state", b"1", 1, True, 513)
    assert chunked.take_publish() is None
    assert chunked.recv(2) == b"\xd0\x00"  # left where it was
    assert chunked.take_publish() is None  # not whole
    assert chunked.pending() == 100


@pytest.mark.parametrize(
    ("packet", "why"),
    [
        (b"\x34\x05\x00\x01t\x00\x01", "QoS 2"),
        (b"\x30\x80\x80\x80\x80\x01", "a length over four bytes"),
        (b"\x30\x01\x00", "no room for the topic's length"),
        (b"\x30\x04\x00\x09ab", "a topic longer than the packet"),
        (b"\x32\x03\x00\x01t", "QoS 1 without its packet id"),
        (publish_packet(b"\xff\xfe", b"x"), "a topic not in UTF-8"),
        (b"\x20\x02\x00\x00", "a CONNACK"),
    ],
)
def test_anything_unusual_is_left_to_paho(packet: bytes, why: str) -> None:
    chunked = ChunkedSocket(_Socket(packet), chunk=64)
    assert chunked.fill()
    assert chunked.take_publish() is None, why
    assert chunked.pending() == len(packet)  # untouched


@given(
    packets=st.lists(
        st.tuples(
            st.text(min_size=1, max_size=40),
            st.binary(max_size=400),
            st.integers(0, 1),
            st.booleans(),
            st.integers(1, 65535),
        ),
        min_size=1,
        max_size=8,
    ),
    chunk=st.integers(1, 2000),
)
def test_the_parse_is_paho_s_and_every_whole_packet_is_taken(
    packets: list[tuple[str, bytes, int, bool, int]], chunk: int
) -> None:
    """The stream cut at any chunk size: each packet is taken with paho's own reading
    of it when it is whole in the chunk, and left otherwise."""
    encoded = [publish_packet(t.encode(), p, q, r, m) for t, p, q, r, m in packets]
    stream = b"".join(encoded)
    chunked = ChunkedSocket(_Socket(*[stream[i : i + chunk] for i in range(0, len(stream), chunk)]))
    for (topic, payload, qos, retain, mid), packet in zip(packets, encoded, strict=True):
        assert chunked.fill()
        whole = chunked.pending() >= len(packet)
        taken = chunked.take_publish()
        if not whole:
            assert taken is None
            read = b""
            while len(read) < len(packet):  # paho's reading, across chunks
                read += chunked.recv(len(packet) - len(read))
            assert read == packet
            continue
        assert taken == Publish(topic, payload, qos, retain, mid if qos else 0)
        body = 2 + len(topic.encode()) + 2 * qos + len(payload)
        paho = paho_packet.decode_publish(packet[0], packet[-body:], MQTTv311)
        assert (taken.topic.encode(), taken.payload) == (paho.topic, paho.payload)
        assert (taken.qos, taken.retain) == (paho.qos, paho.retain)
        if qos:
            assert taken.mid == paho.mid
    assert chunked.pending() == 0


def test_fill_keeps_the_peer_s_close_and_failures_for_paho(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    sock, peer = pair
    chunked = ChunkedSocket(sock, chunk=64)
    assert not chunked.fill()  # nothing yet
    with pytest.raises(BlockingIOError):
        chunked.recv(1)  # and paho is told so, as by the socket
    peer.sendall(b"ab")
    peer.shutdown(socket.SHUT_WR)
    assert chunked.fill()
    assert chunked.recv(2) == b"ab"
    assert not chunked.fill()  # the close, kept
    assert chunked.recv(1) == b""  # for paho, which ends the connection

    class Reset:
        def recv(self, bufsize: int) -> bytes:
            raise ConnectionResetError(errno.ECONNRESET, "reset")

    broken = ChunkedSocket(Reset())
    assert not broken.fill()
    with pytest.raises(ConnectionResetError):
        broken.recv(1)


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


async def test_the_reader_takes_plain_publishes_and_paho_the_rest_in_order(
    mosquitto: StartMosquitto,
) -> None:
    """A burst of every kind on a real Mosquitto: small and large payloads (one larger
    than a chunk, which only paho can read), QoS 0 and 1, a retained message, a topic
    in full Unicode, an empty payload. All arrive, in the order sent, as sent; most
    by the session's own reading; the QoS 1 ones acknowledged (a second session under
    the same client id gets none of them again)."""
    broker = mosquitto()
    sent = [
        Message("cams/é/état", "présent".encode(), qos=0),
        Message("cams/a", b"", qos=1),
        Message("cams/big", bytes(range(256)) * (CHUNK // 128), qos=1),
        *(Message(f"cams/{i}", str(i).encode() * 50, qos=i % 2) for i in range(200)),
    ]
    async with broker.client() as camera:
        await camera.publish("cams/kept", b"retained", qos=1, retain=True)
    got: list[Message] = []
    session = MqttSession(broker.mqtt_config(client_id="ecrin-test"))
    await session.subscribe("cams/#", got.append, qos=1)
    async with session:
        await wait_until(lambda: len(got) == 1, timeout=QUICK)
        assert (got[0].topic, got[0].payload, got[0].retain) == ("cams/kept", b"retained", True)
        before = time.monotonic()
        async with broker.client() as camera:
            for m in sent:
                await camera.publish(m.topic, m.payload, qos=m.qos)
        await wait_until(lambda: len(got) == 1 + len(sent), timeout=QUICK)
        counters = session.counters
        assert session._client is not None
        assert session._client._client._last_bytes_received >= before  # paho's keepalive
    assert [(m.topic, m.payload, m.qos, m.retain) for m in got[1:]] == [
        (m.topic, m.payload, m.qos, False) for m in sent
    ]
    assert counters.received == 1 + len(sent)
    assert len(sent) // 2 < counters.read_directly < counters.received  # the big one: paho's
    again: list[Message] = []
    session = MqttSession(broker.mqtt_config(client_id="ecrin-test"))
    await session.subscribe("cams/#", again.append, qos=1)
    async with session:
        await wait_until(lambda: len(again) == 1, timeout=QUICK)  # the retained one
        async with broker.client() as camera:
            await camera.publish("cams/end", b"end", qos=1)
        await wait_until(lambda: len(again) == 2, timeout=QUICK)
    assert [m.topic for m in again] == ["cams/kept", "cams/end"]  # nothing redelivered


async def test_without_a_receiver_every_message_goes_through_paho(
    mosquitto: StartMosquitto,
) -> None:
    """``read_in_chunks`` with no ``receive``: chunks and pauses only; aiomqtt's queue
    gets every message, whole, in order."""
    broker = mosquitto()
    client = aiomqtt.Client(broker.host, broker.port, identifier="ecrin-test-plain")
    read_in_chunks(client)
    async with client:
        await client.subscribe("cams/#", qos=1)
        async with broker.client() as camera:
            for i in range(100):
                await camera.publish(f"cams/{i}", str(i).encode() * 40, qos=i % 2)
        got = []
        async with asyncio.timeout(QUICK):
            async for message in client.messages:
                got.append((message.topic.value, message.payload))
                if len(got) == 100:
                    break
    assert got == [(f"cams/{i}", str(i).encode() * 40) for i in range(100)]
