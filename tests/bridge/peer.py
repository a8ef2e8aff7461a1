"""A board played by the test on the far end of a real pty, speaking the codec.

The plugin's own tests need a board that does exactly what each test says (a frame
of a newer version, an acknowledgement withheld, a sequence number repeated), which
the firmware, doing the right thing, never does: this peer writes the frames the
test asks for with the shared codec, and reads back what the hub wrote. The firmware
itself, on the real MicroPython interpreter, is the end-to-end tests' board.
"""

from __future__ import annotations

import asyncio

from hub.testing import PtyCable
from plugins.bridge import codec

__all__ = ["Peer"]


class Peer:
    """The board's end of a cable.

    Args:
        cable: the pty cable whose other end the hub opens.
        inputs: how many inputs the board says it has.
        heartbeat_ms: the period its HELLO announces.
        max_version: the newest protocol version it says it speaks.
        min_version: the oldest.
    """

    def __init__(
        self,
        cable: PtyCable,
        *,
        inputs: int = 4,
        heartbeat_ms: int = 1000,
        max_version: int = codec.VERSION,
        min_version: int = codec.MIN_VERSION,
        boot_id: int = 0x1234_5678,
    ) -> None:
        self.cable = cable
        self.hello_payload = codec.Hello(
            max_version,
            min_version,
            codec.CAP_SUPERVISED | codec.CAP_CONFIGURE,
            boot_id,
            inputs,
            2,
            heartbeat_ms,
            "pico",
            "test",
        )
        self.inputs = inputs
        self.version = codec.VERSION
        self.seq = 0
        self.uptime_ms = 0
        self.decoder = codec.Decoder(codec.HUB_TYPES)
        #: Every frame the hub sent, in order.
        self.received: list[codec.Frame] = []

    # -- sending ---------------------------------------------------------------------

    async def send(
        self, kind: int, payload: bytes = b"", *, seq: int | None = None, version: int = 0
    ) -> int:
        """Send one frame; return its sequence number."""
        if seq is None:
            seq = self.seq
            self.seq = codec.next_seq(seq)
        await self.cable.write(codec.encode_frame(kind, seq, payload, version or self.version))
        return seq

    async def hello(self) -> int:
        buf = bytearray(codec.MAX_PAYLOAD)
        end = codec.pack_hello(buf, 0, self.hello_payload)
        return await self.send(codec.HELLO, bytes(buf[:end]), version=1)

    async def heartbeat(self, states: bytes | None = None, *, seq: int | None = None) -> int:
        states = states if states is not None else bytes(self.inputs)
        buf = bytearray(codec.MAX_PAYLOAD)
        self.uptime_ms += 100
        end = codec.pack_heartbeat(
            buf, 0, self.uptime_ms // 1000, self.uptime_ms % 1000, 0, 0, states, len(states), 0
        )
        return await self.send(codec.HEARTBEAT, bytes(buf[:end]), seq=seq)

    def change(self, index: int, state: int) -> bytes:
        buf = bytearray(codec.CHANGE_SIZE)
        codec.pack_change(buf, 0, index, state, self.uptime_ms // 1000, self.uptime_ms % 1000)
        return bytes(buf)

    async def holdup(self, index: int, state: int = codec.ALARM, *, seq: int | None = None) -> int:
        return await self.send(codec.HOLDUP, self.change(index, state), seq=seq)

    async def tamper(self, index: int, state: int, *, seq: int | None = None) -> int:
        return await self.send(codec.TAMPER, self.change(index, state), seq=seq)

    async def input(self, index: int, state: int, *, seq: int | None = None) -> int:
        return await self.send(codec.INPUT, self.change(index, state), seq=seq)

    async def ack(self, frame: codec.Frame) -> None:
        buf = bytearray(codec.ACK_SIZE)
        codec.pack_ack(buf, 0, frame.type, frame.seq)
        await self.send(codec.ACK, bytes(buf))

    # -- receiving -------------------------------------------------------------------

    def of_type(self, kind: int) -> list[codec.Frame]:
        return [f for f in self.received if f.type == kind]

    async def expect(self, kind: int, count: int = 1, timeout: float = 5.0) -> list[codec.Frame]:
        """Read what the hub writes until it has sent ``count`` frames of ``kind``."""
        async with asyncio.timeout(timeout):
            while len(self.of_type(kind)) < count:
                data = await self.cable.read()
                self.received.extend(self.decoder.feed(data))
        return self.of_type(kind)

    async def handshake(self) -> codec.Frame:
        """HELLO, then the hub's answer; returns the hub's HELLO."""
        await self.hello()
        (hello, *_) = await self.expect(codec.HELLO)
        await self.expect(codec.REQUEST_STATE)
        return hello
