"""Simulated panels that speak the real protocols, for tests, demos and walk-throughs.

Each serial simulator holds the far end of a ``PtyCable``: the hub opens the cable's
``path`` exactly as it would open ``/dev/ttyUSB0``, and the simulator writes the bytes
a real panel or receiver would write, using the same encoders the decoders are tested
against. It can also misbehave on purpose: go silent, send garbage or bad checksums,
be unplugged and plugged back. The Envisalink simulator speaks the same IT-100
protocol from a ``TcpPanelPort`` (the hub connects to it, logs in, polls). The DC-09
simulator is a communicator that connects to the hub's receiver over TCP and reads its
ACK/NAK/DUH answers.

Typical use::

    cable = PtyCable(tmp_path / "ttyUSB0")
    async with It100Simulator(cable) as panel:
        ...  # start the hub's device on cable.path
        await panel.zone_alarm(zone=5)
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self

from hub.sdk import PtyCable
from plugins.panels.ad2 import (
    encode_ad2_expander,
    encode_ad2_keypad,
    encode_ad2_lrr,
    encode_ad2_rfx,
)
from plugins.panels.contact_id import contact_id_checksum, encode_contact_id
from plugins.panels.dsc_it100 import It100Error, It100Frame, encode_it100, parse_it100_frame
from plugins.panels.sia_dc09 import adm_cid_payload, dc09_crc, encode_dc09, sia_payload

__all__ = [
    "Ad2Simulator",
    "ContactIdSimulator",
    "Dc09Reply",
    "Dc09Simulator",
    "EnvisalinkSimulator",
    "It100Simulator",
    "PanelPort",
    "SerialPanelSimulator",
    "TcpPanelPort",
    "parse_dc09_reply",
]


class PanelPort(Protocol):
    """The panel's end of a link: a ``PtyCable``, or a ``TcpPanelPort`` for panels
    the hub reaches over TCP (an Envisalink)."""

    @property
    def plugged(self) -> bool:
        """True while the hub can reach the panel."""
        ...

    def plug(self) -> None:
        """Make the panel reachable again."""
        ...

    def unplug(self) -> None:
        """Cut the link; the hub's reads end."""
        ...

    async def read(self) -> bytes:
        """The next bytes from the hub; ``ConnectionError`` when the link is cut."""
        ...

    async def write(self, data: bytes) -> None:
        """Send bytes to the hub; ``ConnectionError`` when the link is cut."""
        ...


class TcpPanelPort:
    """The panel's end of a TCP link: it listens, the hub connects (as to an
    Envisalink's port 4025). One hub connection at a time, as the Envisalink allows.

    Args:
        host: the address to listen on.
        port: the port; 0 picks a free one (read it back from ``port``).
        greeting: bytes sent to each new connection (the Envisalink's login prompt).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, greeting: bytes = b"") -> None:
        self.host = host
        self.port = port
        self.greeting = greeting
        self._server: asyncio.Server | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._connected = asyncio.Event()
        self._listening: asyncio.Task[None] | None = None
        #: Connections accepted so far.
        self.connections = 0

    async def start(self) -> None:
        """Start listening (``port`` is known afterwards)."""
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and drop the connection."""
        self.unplug()
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.hang_up()
        self._reader, self._writer = reader, writer
        self.connections += 1
        if self.greeting:
            writer.write(self.greeting)
        self._connected.set()

    def hang_up(self) -> None:
        """Close the hub's connection but keep listening (the hub may reconnect)."""
        writer, self._writer, self._reader = self._writer, None, None
        self._connected.clear()
        if writer is not None:
            writer.close()

    @property
    def plugged(self) -> bool:
        """True while listening."""
        return self._server is not None

    def unplug(self) -> None:
        """Stop listening and close the hub's connection (it reads end of file)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        self.hang_up()

    def plug(self) -> None:
        """Listen again on the same port."""
        if self._server is None and (self._listening is None or self._listening.done()):
            self._listening = asyncio.create_task(self.start(), name="panel port listen")

    async def read(self) -> bytes:
        """The next bytes from the hub (waits for the hub to connect)."""
        await self._connected.wait()
        reader = self._reader
        if reader is None:
            raise ConnectionError("no hub connected")
        data = await reader.read(4096)
        if not data:
            self.hang_up()
            raise ConnectionError("the hub closed the connection")
        return data

    async def write(self, data: bytes) -> None:
        """Send bytes to the connected hub."""
        writer = self._writer
        if writer is None:
            raise ConnectionError("no hub connected")
        writer.write(data)
        await writer.drain()


class SerialPanelSimulator:
    """A simulated panel on the far end of a pty cable (or a ``TcpPanelPort``).

    Use it as an async context manager: a reader task collects what the hub writes (and
    lets a protocol answer it, as the IT-100 answers polls) until the context ends.

    Args:
        cable: the cable; the hub opens ``cable.path``.
        eol: the line end the protocol uses.
    """

    def __init__(self, cable: PanelPort, *, eol: bytes = b"\r\n") -> None:
        self.cable = cable
        self.eol = eol
        #: Everything the hub wrote to the panel, in order.
        self.received = bytearray()
        #: False while the panel plays dead (``go_silent``): no answers, no chatter.
        self.talking = True
        self._changed = asyncio.Event()
        self._plugged = asyncio.Event()
        self._plugged.set()
        self._reader: asyncio.Task[None] | None = None
        self._random = random.Random(0)

    async def __aenter__(self) -> Self:
        self._reader = asyncio.create_task(self._read_loop(), name="panel simulator reader")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    # -- what the hub sends ----------------------------------------------------------
    async def _read_loop(self) -> None:
        while True:
            await self._plugged.wait()
            try:
                data = await self.cable.read()
            except ConnectionError:  # unplugged under us: wait for the replug
                continue
            self.received += data
            self._changed.set()
            with contextlib.suppress(ConnectionError):  # unplugged while answering
                await self.on_hub_data(data)

    async def on_hub_data(self, data: bytes) -> None:
        """React to bytes from the hub (a protocol answers its commands here)."""

    async def wait_received(self, condition: Callable[[bytes], bool], timeout: float = 5.0) -> None:
        """Wait until ``condition`` holds on everything the hub wrote so far."""
        async with asyncio.timeout(timeout):
            while not condition(bytes(self.received)):
                self._changed.clear()
                await self._changed.wait()

    # -- what the panel sends --------------------------------------------------------
    async def send(self, data: bytes) -> None:
        """Write raw bytes to the hub."""
        await self.cable.write(data)

    async def send_line(self, line: bytes) -> None:
        """Write one line with the protocol's line end."""
        await self.cable.write(line + self.eol)

    async def garbage(self, length: int = 48, *, terminated: bool = True) -> bytes:
        """Send random bytes, as a cable being plugged or a wrong baud rate produce.

        Args:
            length: how many bytes.
            terminated: end the run with a line end (so the next frame starts clean);
                False leaves it to run into the next frame.

        Returns:
            The bytes sent (without the line end).
        """
        noise = bytes(
            self._random.choice(b"!#$%&'()*+,-./:;<=>?@XYZ~\x00\x7f\xff\x1b") for _ in range(length)
        )
        await self.cable.write(noise + (self.eol if terminated else b""))
        return noise

    # -- the cable -------------------------------------------------------------------
    def go_silent(self) -> None:
        """Stop answering and stop any chatter (a panel that hung or lost power)."""
        self.talking = False

    def resume(self) -> None:
        """Talk again after ``go_silent``."""
        self.talking = True

    def unplug(self) -> None:
        """Pull the cable (the hub's reads fail and its port path disappears)."""
        self._plugged.clear()
        self.cable.unplug()

    def replug(self) -> None:
        """Plug a fresh cable in under the same path."""
        self.cable.plug()
        self._plugged.set()


class ContactIdSimulator(SerialPanelSimulator):
    """An alarm receiver's computer port printing Contact ID, one message per line.

    Args:
        cable: the cable.
        account: the 4-digit account the panel reports with.
        template: how the receiver prints a line; ``{message}`` is the 16 digits. The
            default groups them as many receivers do (``1234 18 1122 01 015 7``).
    """

    def __init__(
        self,
        cable: PtyCable,
        *,
        account: str = "1234",
        template: str = "{acct} {mt} {q}{code} {gg} {ccc} {s}",
    ) -> None:
        super().__init__(cable, eol=b"\r\n")
        self.account = account
        self.template = template

    def _line(self, message: str) -> bytes:
        fields = {
            "message": message,
            "acct": message[0:4],
            "mt": message[4:6],
            "q": message[6],
            "code": message[7:10],
            "gg": message[10:12],
            "ccc": message[12:15],
            "s": message[15],
        }
        return self.template.format(**fields).encode("ascii")

    async def report(
        self, code: int | str, *, qualifier: int = 1, partition: int = 1, zone: int = 0
    ) -> str:
        """Print one Contact ID event; returns the 16-digit message."""
        message = encode_contact_id(self.account, qualifier, code, partition, zone)
        await self.send_line(self._line(message))
        return message

    async def holdup(self, zone: int, *, partition: int = 1) -> str:
        """A silent hold-up (122) on a zone."""
        return await self.report(122, partition=partition, zone=zone)

    async def duress(self, user: int, *, partition: int = 1) -> str:
        """A duress code (121) entered by a user."""
        return await self.report(121, partition=partition, zone=user)

    async def panic(self, zone: int, *, partition: int = 1) -> str:
        """A panic (120) on a zone."""
        return await self.report(120, partition=partition, zone=zone)

    async def burglary(self, zone: int, *, partition: int = 1) -> str:
        """A burglary alarm (130) on a zone."""
        return await self.report(130, partition=partition, zone=zone)

    async def restore(self, code: int | str, zone: int, *, partition: int = 1) -> str:
        """The restore (qualifier 3) of an event."""
        return await self.report(code, qualifier=3, partition=partition, zone=zone)

    async def periodic_test(self) -> str:
        """The periodic test report (602)."""
        return await self.report(602, partition=0, zone=0)

    async def bad_checksum(self, code: int | str = 130, zone: int = 1) -> str:
        """Print a message whose check digit is wrong (line noise on one digit)."""
        good = encode_contact_id(self.account, 1, code, 1, zone)
        body = good[:15]
        right = contact_id_checksum(body)
        wrong = next(d for d in "123456789BCDEF" if d != right)
        message = body + wrong
        await self.send_line(self._line(message))
        return message


class It100Simulator(SerialPanelSimulator):
    """A DSC PowerSeries panel behind an IT-100 interface.

    It answers what the hub sends as the interface does: ``500`` + the command for a
    good frame (so the poll ``000`` gets ``500000``), ``501`` for a bad checksum, and
    the partition states after a status request (``001``). ``go_silent`` stops the
    answers, as a hung interface would.

    Args:
        cable: the cable.
        partitions: how many partitions the panel reports in a status report.
    """

    def __init__(self, cable: PanelPort, *, partitions: int = 1) -> None:
        super().__init__(cable, eol=b"\r\n")
        self.partitions = partitions
        #: Every good frame the hub sent, in order.
        self.commands: list[It100Frame] = []
        #: Frames from the hub with a bad checksum or no command.
        self.bad_frames: list[bytes] = []
        self._pending = b""

    # -- what the hub sends ----------------------------------------------------------
    async def on_hub_data(self, data: bytes) -> None:
        """Split the hub's bytes into frames and answer each."""
        self._pending += data
        *lines, self._pending = self._pending.split(b"\r\n")
        for line in lines:
            if not line:
                continue
            try:
                frame = parse_it100_frame(line)
            except It100Error:
                self.bad_frames.append(line)
                if self.talking:
                    await self.send(encode_it100("501"))
                continue
            self.commands.append(frame)
            if self.talking:
                await self.answer(frame)

    async def answer(self, frame: It100Frame) -> None:
        """Acknowledge a command, then do what it asks (a status report)."""
        await self.send(encode_it100("500", frame.command))
        if frame.command == "001":
            for partition in range(1, self.partitions + 1):
                await self.frame("650", str(partition))

    def commands_named(self, command: str) -> list[It100Frame]:
        """The good frames the hub sent with this command."""
        return [f for f in self.commands if f.command == command]

    async def wait_command(self, command: str, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until the hub has sent ``count`` frames with this command."""
        await self.wait_received(lambda _b: len(self.commands_named(command)) >= count, timeout)

    # -- what the panel sends --------------------------------------------------------
    async def frame(self, command: str, data: str = "") -> bytes:
        """Send one frame; returns its bytes."""
        raw = encode_it100(command, data)
        await self.send(raw)
        return raw

    async def zone_alarm(self, zone: int, partition: int = 1) -> bytes:
        """A zone in alarm (601)."""
        return await self.frame("601", f"{partition}{zone:03d}")

    async def zone_restore(self, zone: int, partition: int = 1) -> bytes:
        """A zone alarm restored (602)."""
        return await self.frame("602", f"{partition}{zone:03d}")

    async def zone_tamper(self, zone: int, partition: int = 1) -> bytes:
        """A zone tampered (603)."""
        return await self.frame("603", f"{partition}{zone:03d}")

    async def zone_open(self, zone: int) -> bytes:
        """A zone opened, no alarm (609)."""
        return await self.frame("609", f"{zone:03d}")

    async def zone_closed(self, zone: int) -> bytes:
        """A zone closed again (610)."""
        return await self.frame("610", f"{zone:03d}")

    async def panic_key(self) -> bytes:
        """The keypad's panic keys pressed (625)."""
        return await self.frame("625")

    async def panic_restore(self) -> bytes:
        """The panic key alarm restored (626)."""
        return await self.frame("626")

    async def fire_key(self) -> bytes:
        """The keypad's fire keys pressed (621)."""
        return await self.frame("621")

    async def duress(self, user: int = 1) -> bytes:
        """A duress code entered (620; the data layout is unverified, sent as the
        4-digit user number)."""
        return await self.frame("620", f"{user:04d}")

    async def armed(self, partition: int = 1, mode: int = 0) -> bytes:
        """A partition armed (652; mode 0 away, 1 stay, 2 zero-entry away, 3 night)."""
        return await self.frame("652", f"{partition}{mode}")

    async def armed_by_user(self, user: int, partition: int = 1) -> bytes:
        """The closing report of a user (700)."""
        return await self.frame("700", f"{partition}{user:04d}")

    async def disarmed(self, partition: int = 1) -> bytes:
        """A partition disarmed (655)."""
        return await self.frame("655", str(partition))

    async def disarmed_by_user(self, user: int, partition: int = 1) -> bytes:
        """The opening report of a user (750)."""
        return await self.frame("750", f"{partition}{user:04d}")

    async def in_alarm(self, partition: int = 1) -> bytes:
        """A partition in alarm (654)."""
        return await self.frame("654", str(partition))

    async def ac_trouble(self, restore: bool = False) -> bytes:
        """Mains lost (802) or back (803)."""
        return await self.frame("803" if restore else "802")

    async def bad_checksum(self, command: str = "601", data: str = "1001") -> bytes:
        """Send a frame whose checksum is wrong (a bit flipped on the line)."""
        good = encode_it100(command, data)
        body, checksum = good[:-4], good[-4:-2]
        wrong = format((int(checksum, 16) + 1) & 0xFF, "02X").encode("ascii")
        raw = body + wrong + b"\r\n"
        await self.send(raw)
        return raw


class EnvisalinkSimulator(It100Simulator):
    """A DSC panel behind an Envisalink: the IT-100 protocol on TCP, after a login.

    Each new connection is greeted with the login prompt (``505`` ``3``); the hub must
    answer ``005`` with the password, which gets ``505`` ``1`` (accepted) or ``505``
    ``0`` (refused, and the connection is closed). Commands before a login are
    ignored.

    Args:
        port: the ``TcpPanelPort`` (its greeting is set here).
        password: the password the Envisalink expects.
    """

    def __init__(self, port: TcpPanelPort, *, password: str = "user", partitions: int = 1) -> None:
        port.greeting = encode_it100("505", "3")
        super().__init__(port, partitions=partitions)
        self.port = port
        self.password = password
        self._session = -1  # the connection number that logged in
        #: Login attempts, with the password tried.
        self.logins: list[str] = []

    @property
    def logged_in(self) -> bool:
        """True when the current connection has logged in."""
        return self._session == self.port.connections

    async def answer(self, frame: It100Frame) -> None:
        """Handle the login, then answer as an IT-100 would."""
        if frame.command == "005":
            self.logins.append(frame.data)
            if frame.data == self.password:
                self._session = self.port.connections
                await self.send(encode_it100("505", "1"))
            else:
                await self.send(encode_it100("505", "0"))
                self.port.hang_up()
            return
        if self.logged_in:
            await super().answer(frame)


class Ad2Simulator(SerialPanelSimulator):
    """A Vista panel seen through an AlarmDecoder.

    Like the real one, it repeats the current keypad message every ``refresh`` seconds
    while talking (``go_silent`` stops it), and reports panic, duress and hold-up as
    ``!LRR`` Contact ID lines.

    Args:
        cable: the cable.
        refresh: seconds between keypad repeats; 0 to repeat nothing.
    """

    def __init__(self, cable: PtyCable, *, refresh: float = 0.0) -> None:
        super().__init__(cable, eol=b"\r\n")
        self.refresh = refresh
        self.keypad_state: dict[str, Any] = {}
        self._repeater: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        if self.refresh > 0:
            self._repeater = asyncio.create_task(self._repeat(), name="ad2 keypad repeat")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        repeater, self._repeater = self._repeater, None
        if repeater is not None:
            repeater.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await repeater
        await super().__aexit__(exc_type, exc, tb)

    async def _repeat(self) -> None:
        while True:
            await asyncio.sleep(self.refresh)
            if self.talking and self.cable.plugged:
                with contextlib.suppress(ConnectionError):
                    await self.send(encode_ad2_keypad(**self.keypad_state))

    async def keypad(self, **state: Any) -> bytes:
        """Show a keypad state (``encode_ad2_keypad``'s flags and text) and keep
        repeating it."""
        self.keypad_state = dict(state)
        raw = encode_ad2_keypad(**state)
        await self.send(raw)
        return raw

    async def disarmed(self) -> bytes:
        """Disarmed and ready."""
        return await self.keypad(ready=True, text="****DISARMED****  Ready to Arm  ")

    async def armed_away(self) -> bytes:
        """Armed away."""
        return await self.keypad(ready=False, armed_away=True, text="ARMED ***AWAY***")

    async def armed_home(self) -> bytes:
        """Armed stay (home)."""
        return await self.keypad(ready=False, armed_home=True, text="ARMED ***STAY***")

    async def lrr(self, code: int, number: int, *, qualifier: int = 1, partition: int = 1) -> bytes:
        """A long-range radio report carrying a Contact ID event."""
        raw = encode_ad2_lrr(number, partition, qualifier, code)
        await self.send(raw)
        return raw

    async def holdup(self, zone: int, *, partition: int = 1) -> bytes:
        """A silent hold-up (Contact ID 122) on a zone."""
        return await self.lrr(122, zone, partition=partition)

    async def duress(self, user: int, *, partition: int = 1) -> bytes:
        """A duress code (Contact ID 121) entered by a user."""
        return await self.lrr(121, user, partition=partition)

    async def panic(self, zone: int, *, partition: int = 1) -> bytes:
        """A panic (Contact ID 120)."""
        return await self.lrr(120, zone, partition=partition)

    async def expander(self, address: int, channel: int, value: int) -> bytes:
        """A zone expander input change (``!EXP``)."""
        raw = encode_ad2_expander(address, channel, value)
        await self.send(raw)
        return raw

    async def rfx(self, serial: str, status: int) -> bytes:
        """A wireless transmitter report (``!RFX``)."""
        raw = encode_ad2_rfx(serial, status)
        await self.send(raw)
        return raw


@dataclass(frozen=True, slots=True)
class Dc09Reply:
    """A receiver's answer, as the communicator reads it.

    Attributes:
        kind: ``ACK``, ``NAK`` or ``DUH``.
        encrypted: the answer was encrypted (``*ACK``).
        sequence: the sequence number it echoes (``0000`` in a NAK).
        crc_ok: its CRC and length matched.
        raw: the answer frame.
    """

    kind: str
    encrypted: bool
    sequence: str
    crc_ok: bool
    raw: bytes


def parse_dc09_reply(raw: bytes) -> Dc09Reply:
    """Read an answer frame (``<LF>CRC LEN "ACK"seq...<CR>``), checking CRC and LEN."""
    text = raw.strip(b"\r\n").decode("latin-1")
    body = text[8:]
    crc_ok = (
        len(text) > 8
        and text[:4] == f"{dc09_crc(body.encode('latin-1')):04X}"
        and text[4:8] == f"{len(body):04X}"
    )
    word = body[1:].split('"', 1)[0] if body.startswith('"') else ""
    encrypted = word.startswith("*")
    kind = word.lstrip("*")
    sequence = body[len(word) + 2 : len(word) + 6]
    return Dc09Reply(kind, encrypted, sequence, crc_ok, raw)


class Dc09Simulator:
    """A panel's IP communicator reporting to the hub's DC-09 receiver over TCP.

    It keeps one connection open (``async with``) and waits for the answer to each
    frame, as a communicator does. Its clock can be set off by ``clock_offset`` seconds
    to provoke the receiver's NAK.

    Args:
        host: the receiver's address.
        port: the receiver's port.
        account: the account (3-16 hex digits).
        key: the AES key bytes to encrypt with (16, 24 or 32), or None for plain.
        receiver: the receiver number to put in frames, or None.
        line: the line (account prefix) number.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        account: str = "1234",
        key: bytes | None = None,
        receiver: str | None = None,
        line: str = "0",
    ) -> None:
        self.host = host
        self.port = port
        self.account = account
        self.key = key
        self.receiver = receiver
        self.line = line
        self.clock_offset = 0.0
        self.sequence = 0
        self.replies: list[Dc09Reply] = []
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        """Open the connection to the receiver."""
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        """Close the connection."""
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def now(self) -> datetime:
        """The communicator's clock (the hub's, shifted by ``clock_offset``)."""
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset)

    def frame(self, message_id: str, payload: str = "") -> bytes:
        """Build the next frame (the sequence number advances)."""
        self.sequence = self.sequence % 9999 + 1
        return encode_dc09(
            message_id,
            self.sequence,
            self.account,
            payload,
            receiver=self.receiver,
            line=self.line,
            key=self.key,
            timestamp=self.now(),
        )

    async def send_frame(self, raw: bytes, *, timeout: float = 5.0) -> Dc09Reply:
        """Send a frame and wait for the receiver's answer."""
        if self._writer is None or self._reader is None:
            raise ConnectionError("the communicator is not connected")
        self._writer.write(raw)
        await self._writer.drain()
        async with asyncio.timeout(timeout):
            answer = await self._reader.readuntil(b"\r")
        reply = parse_dc09_reply(answer)
        self.replies.append(reply)
        return reply

    async def send_unanswered(self, raw: bytes) -> None:
        """Send bytes that get no answer (a frame with a bad CRC, garbage)."""
        if self._writer is None:
            raise ConnectionError("the communicator is not connected")
        self._writer.write(raw)
        await self._writer.drain()

    async def sia(
        self, code: str, number: int | None = None, *, area: int | None = None
    ) -> Dc09Reply:
        """Report one SIA event (``HA`` hold-up, ``PA`` panic, ``BA`` burglary...)."""
        return await self.send_frame(self.frame("SIA-DCS", sia_payload(code, number, area=area)))

    async def contact_id(
        self, code: int, zone: int, *, qualifier: int = 1, partition: int = 1
    ) -> Dc09Reply:
        """Report one Contact ID event (``ADM-CID``)."""
        payload = adm_cid_payload(qualifier, code, partition, zone)
        return await self.send_frame(self.frame("ADM-CID", payload))

    async def holdup(self, zone: int, *, area: int = 1) -> Dc09Reply:
        """A hold-up (SIA ``HA``; duress codes report the same way)."""
        return await self.sia("HA", zone, area=area)

    async def panic(self, zone: int, *, area: int = 1) -> Dc09Reply:
        """A panic alarm (SIA ``PA``)."""
        return await self.sia("PA", zone, area=area)

    async def link_test(self) -> Dc09Reply:
        """A ``NULL`` link test."""
        return await self.send_frame(self.frame("NULL"))

    async def unsupported(self) -> Dc09Reply:
        """A frame with a message ID the receiver does not support (expects DUH)."""
        return await self.send_frame(self.frame("SIA-XYZ", sia_payload("BA", 1)))

    async def bad_crc(self) -> bytes:
        """Send a frame whose CRC is wrong (no answer is due)."""
        good = self.frame("SIA-DCS", sia_payload("BA", 1))
        crc = int(good[1:5], 16)
        raw = good[:1] + f"{crc ^ 0x0101:04X}".encode() + good[5:]
        await self.send_unanswered(raw)
        return raw
