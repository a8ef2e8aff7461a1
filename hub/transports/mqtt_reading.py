"""Reading the broker's socket in chunks: one ``recv`` for many MQTT packets.

paho (under aiomqtt) reads a packet with three ``recv`` calls or more: one byte for its
type, one per byte of its length, then the rest. aiomqtt calls paho's ``loop_read``
once each time the event loop finds the socket readable, and paho reads one packet
there. A camera's message thus costs the hub about four system calls and a turn of
the event loop, more than the hub's own work on it (docs/benchmarks.md, "Cameras over
MQTT").

``ChunkedSocket`` stands in front of the connected socket: a ``recv`` takes what the
kernel holds, up to ``CHUNK`` bytes, and hands it out to paho's small reads from
memory. It tells what it holds through ``pending()``, the method paho and aiomqtt
already ask of a TLS socket (whose library buffers records the same way), so aiomqtt's
reader keeps calling ``loop_read`` until the chunk is used up, in one turn of the loop.
Nothing else changes: sends, options and closing go to the socket itself.

Reading faster than before, the hub can now take camera messages faster than its
journal writes them: a broker holding a backlog hands it over at full speed. The
session's reader therefore pauses while the hub says it is busy (the recorder's
backlog past its bound, see ``_Reader``), and the broker keeps the rest, as it does
for a hub that is away.

Most of what remains of a camera message's cost is then paho's own Python per packet:
a ``recv`` call per byte of the header, a state dictionary, an ``MQTTMessage``, a
filter match for callbacks, aiomqtt's ``Message``, a debug line formatted for nobody.
So the reader takes the common case itself (``ChunkedSocket.take_publish``): a PUBLISH
at QoS 0 or 1, whole in the chunk, with a topic in UTF-8 and (MQTT 3.1.1, as the hub
speaks it) no properties, read between two of paho's packets. It is parsed in place
and handed to the session as topic, payload, QoS and retain flag; a QoS 1 message is
then acknowledged through paho's own PUBACK (as paho does, after the handlers ran),
and paho's receive time is set (its keepalive reads it). Everything else, a packet
across two chunks, any other packet type, anything unusual or malformed, goes to paho
exactly as before, and paho decides what it means: a parse that is not sure leaves the
bytes where they are.

The chunk is bounded so that a turn of the loop stays short: a burst of camera
messages is handled a chunk at a time (at most ``CHUNK`` bytes, about 13 of Frigate's
1.2 KB events, well under a millisecond of the hub's work), and the serial line of a
hold-up button is read between two chunks.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from typing import Any, Final, NamedTuple

import aiomqtt
from paho.mqtt.enums import MQTTProtocolVersion

__all__ = ["CHUNK", "ChunkedSocket", "Publish", "PublishReceiver", "read_in_chunks"]

#: Bytes asked of the kernel at a time.
CHUNK: Final = 16384
#: Seconds between two looks at a busy hub, while reading is paused.
PAUSE_CHECK: Final = 0.005


#: PUBLISH's packet type, in the high nibble of a packet's first byte.
_PUBLISH: Final = 3
#: Whatever a socket raises when it has nothing to give yet (a TLS socket's included).
_NOTHING_YET: Final = (BlockingIOError, InterruptedError, ssl.SSLWantReadError)


class Publish(NamedTuple):
    """A PUBLISH packet the reader parsed itself (see ``ChunkedSocket.take_publish``)."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int


#: Takes a message the reader parsed: topic, payload, QoS, retain flag.
PublishReceiver = Callable[[str, bytes, int, bool], None]


class ChunkedSocket:
    """The connected socket (plain or TLS), read a chunk at a time.

    Args:
        sock: the socket paho opened.
        chunk: bytes asked of the kernel at a time.
    """

    __slots__ = ("_buffer", "_chunk", "_failure", "_inner_pending", "_offset", "sock")

    def __init__(self, sock: Any, chunk: int = CHUNK) -> None:
        self.sock = sock
        self._chunk = chunk
        self._buffer = b""
        self._offset = 0
        # What ``fill`` met (the broker's close, a reset), kept for paho's next recv.
        self._failure: BaseException | bytes | None = None
        # A TLS socket's own buffer (asked after every packet: looked up once).
        self._inner_pending: Callable[[], int] | None = getattr(sock, "pending", None)

    def recv(self, bufsize: int) -> bytes:
        """Up to ``bufsize`` bytes: from the chunk held, or else from a new chunk. An
        empty chunk (the broker closed) and the socket's exceptions (nothing to read,
        a TLS record incomplete, the connection reset) reach paho unchanged."""
        offset = self._offset
        if offset >= len(self._buffer):
            failure = self._failure
            if failure is not None:
                self._failure = None
                if isinstance(failure, bytes):
                    return failure
                raise failure
            data: bytes = self.sock.recv(max(bufsize, self._chunk))
            if len(data) <= bufsize:
                self._buffer, self._offset = b"", 0
                return data
            self._buffer, offset = data, 0
        end = offset + bufsize
        self._offset = end
        return self._buffer[offset:end]

    def fill(self) -> bool:
        """Read a new chunk if none is held; True when bytes are held.

        Nothing to read yet is False. The broker's close or a failure of the socket is
        also False, and kept: paho's next ``recv`` gets it, as it would have got it
        from the socket, and paho handles the lost connection as ever."""
        if self._offset < len(self._buffer):
            return True
        if self._failure is not None:
            return False
        try:
            data: bytes = self.sock.recv(self._chunk)
        except _NOTHING_YET:
            return False
        except OSError as exc:
            self._failure = exc
            return False
        if not data:
            self._failure = b""
            return False
        self._buffer, self._offset = data, 0
        return True

    def take_publish(self) -> Publish | None:
        """The PUBLISH packet at the head of the chunk, consumed, when it is one the
        reader takes itself: whole in the chunk, QoS 0 or 1, a UTF-8 topic, MQTT 3.1.1
        (no properties). Anything else is None and leaves the chunk as it was, for
        paho. Call it only between two of paho's packets (paho holds no partial one).
        """
        buffer, start = self._buffer, self._offset
        end_held = len(buffer)
        if start >= end_held:
            return None
        first = buffer[start]
        qos = (first >> 1) & 3
        if first >> 4 != _PUBLISH or qos > 1:
            return None
        # Remaining length: up to four bytes, seven bits each, least significant first.
        pos, length, shift = start + 1, 0, 0
        while True:
            if pos >= end_held or shift > 21:
                return None  # not all here, or malformed: paho's to read
            byte = buffer[pos]
            pos += 1
            length |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
        end = pos + length
        if end > end_held or length < 2:
            return None
        topic_end = pos + 2 + ((buffer[pos] << 8) | buffer[pos + 1])
        body = topic_end + 2 if qos else topic_end
        if body > end:
            return None
        try:
            topic = buffer[pos + 2 : topic_end].decode("utf-8")
        except UnicodeDecodeError:
            return None
        mid = (buffer[topic_end] << 8) | buffer[topic_end + 1] if qos else 0
        self._offset = end
        return Publish(topic, buffer[body:end], qos, bool(first & 1), mid)

    def pending(self) -> int:
        """Bytes already read and not yet handed out (a TLS socket's own included)."""
        held = len(self._buffer) - self._offset
        inner = self._inner_pending
        return max(held, 0) + (inner() if inner is not None else 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


class _Reader:
    """Reads one connection for aiomqtt, and stops reading while the hub is busy.

    It replaces aiomqtt's reader on the socket (same work: paho's ``loop_read`` until
    nothing is held, a failure handed to the client as a lost connection) and adds
    two things. Given a ``receive``, it takes the plain PUBLISH packets itself (see
    the module). After each packet it asks ``busy()`` (the hub's journal is behind);
    if so it takes its reader off the socket and looks again every ``PAUSE_CHECK``
    seconds. Meanwhile the kernel's buffer fills, TCP tells the broker to wait, and
    the broker queues for the hub, as it would for a hub that was away: nothing is
    lost, and the journal is never outrun (past its bound it would drop events).
    """

    __slots__ = ("_busy", "_client", "_fd", "_loop", "_paho", "_paused", "_receive", "_sock")

    def __init__(
        self,
        client: aiomqtt.Client,
        sock: ChunkedSocket,
        busy: Callable[[], bool],
        paused: Callable[[], None],
        loop: asyncio.AbstractEventLoop,
        receive: PublishReceiver | None = None,
    ) -> None:
        self._client = client
        self._paho = client._client
        self._sock = sock
        self._fd = sock.fileno()
        self._busy = busy
        self._paused = paused
        self._loop = loop
        # paho decodes MQTT 5's properties; the reader only 3.1.1's plain packets.
        plain = self._paho._protocol != MQTTProtocolVersion.MQTTv5
        self._receive = receive if plain else None

    def take_over(self) -> None:
        """Put this reader on the socket in place of aiomqtt's (still connected)."""
        if self._paho._sock is self._sock:
            self._loop.add_reader(self._fd, self.read)

    def read(self) -> None:
        """Read every packet the socket holds, or until the hub is busy."""
        paho, sock, busy, receive = self._paho, self._sock, self._busy, self._receive
        taken = False
        try:
            while True:
                # paho between two packets, and a whole plain PUBLISH held: ours.
                if (
                    receive is not None
                    and not paho._in_packet["command"]
                    and sock.fill()
                    and (publish := sock.take_publish()) is not None
                ):
                    taken = True
                    receive(publish.topic, publish.payload, publish.qos, publish.retain)
                    if publish.qos:
                        paho._send_puback(publish.mid)
                else:
                    paho.loop_read()
                if busy():
                    self._pause()
                    return
                if sock.pending() <= 0:
                    return
        except Exception as exc:  # as aiomqtt's reader: a broken connection
            disconnected = self._client._disconnected
            if not disconnected.done():
                disconnected.set_exception(exc)
        finally:
            if taken:  # what paho's keepalive reads: bytes came in
                paho._last_bytes_received = time.monotonic()

    def _pause(self) -> None:
        if self._paho._sock is not self._sock:
            return  # the connection ended while reading
        self._paused()
        self._loop.remove_reader(self._fd)
        self._loop.call_later(PAUSE_CHECK, self._resume)

    def _resume(self) -> None:
        if self._paho._sock is not self._sock:
            return  # the connection ended meanwhile: nothing to resume
        if self._busy():
            self._loop.call_later(PAUSE_CHECK, self._resume)
            return
        self._loop.add_reader(self._fd, self.read)
        # What the chunk still holds is not the kernel's: the socket may never turn
        # readable for it.
        self.read()


def read_in_chunks(
    client: aiomqtt.Client,
    options: Iterable[tuple[int, int, int]] = (),
    chunk: int = CHUNK,
    busy: Callable[[], bool] | None = None,
    paused: Callable[[], None] | None = None,
    receive: PublishReceiver | None = None,
) -> None:
    """Make ``client`` read its socket through a ``ChunkedSocket`` from its next
    connection on, pausing while ``busy()`` (call it on the loop, before ``async with
    client``); ``paused()`` is told of each pause. Given ``receive``, the plain
    PUBLISH packets go to it (topic, payload, QoS, retain) instead of through paho and
    aiomqtt; every other message still reaches aiomqtt's queue.

    The socket paho opens is wrapped when paho announces it (``on_socket_open``),
    before aiomqtt registers its reader and before the first byte is read; the reader
    aiomqtt registers is then replaced by a ``_Reader``. aiomqtt sets its
    ``socket_options`` only on a socket it recognises, which a wrapped one no longer
    is: the session's ``options`` are set here instead, before the CONNECT.
    """
    paho = client._client
    announce = paho.on_socket_open
    loop = asyncio.get_running_loop()
    is_busy = busy if busy is not None else _never
    told = paused if paused is not None else _nothing

    def on_socket_open(paho_client: Any, userdata: Any, sock: Any) -> None:
        if isinstance(sock, socket.socket):
            for option in options:
                sock.setsockopt(*option)
        wrapped = ChunkedSocket(sock, chunk)
        paho_client._sock = wrapped
        if announce is not None:
            announce(paho_client, userdata, wrapped)  # aiomqtt: its reader, its tasks
        # From paho's connecting thread, after aiomqtt's own calls: runs after them.
        reader = _Reader(client, wrapped, is_busy, told, loop, receive)
        loop.call_soon_threadsafe(reader.take_over)

    paho.on_socket_open = on_socket_open


def _never() -> bool:
    return False


def _nothing() -> None:
    pass
