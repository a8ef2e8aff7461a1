"""The bridge firmware run on the real MicroPython interpreter, for the tests.

``FirmwareProcess`` stages a board's filesystem in a directory (the firmware's
modules, the codec as ``bridge_codec.py``, a ``board.json``, and the host's
``machine`` stand-in), opens a pseudo-terminal for its UART, and starts
``micropython main.py`` on it. The test drives the board's pins through the
process's standard input and speaks to it through the pty with the codec, as the
hub does: ``frames()`` and ``expect()`` read what the board sends, ``send()``
writes a frame to it.
"""

from __future__ import annotations

import json
import os
import queue
import select
import shutil
import subprocess
import threading
import time
import tty
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from plugins.bridge import codec
from tests.bridge.micropython import FIRMWARE, stage_codec, tool

#: A board with one of each kind of input and two outputs, as boards/pico.json.
BOARD: dict[str, Any] = json.loads((FIRMWARE / "boards" / "pico.json").read_text())


def stage(directory: Path, board: dict[str, Any]) -> Path:
    """Lay out a board's filesystem in ``directory``, as flashing one does."""
    directory.mkdir(parents=True, exist_ok=True)
    for source in FIRMWARE.glob("*.py"):
        shutil.copyfile(source, directory / source.name)
    shutil.copyfile(FIRMWARE / "host" / "machine.py", directory / "machine.py")
    stage_codec(directory)
    (directory / "board.json").write_text(json.dumps(board))
    return directory


class FirmwareProcess:
    """The firmware on MicroPython, its UART on a pty the test holds."""

    def __init__(
        self,
        directory: Path,
        board: dict[str, Any] | None = None,
        *,
        args: tuple[str, ...] = (),
        idle_ms: int = 1,
    ) -> None:
        self.directory = stage(directory, board if board is not None else BOARD)
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        env = dict(
            os.environ,
            MICROPYPATH=str(self.directory),
            BRIDGE_UART=os.ttyname(self.slave),
            BRIDGE_IDLE_MS=str(idle_ms),
        )
        self.process = subprocess.Popen(
            [tool("micropython"), "main.py", *args],
            cwd=self.directory,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # The firmware's printed lines, read by a thread: select() on a buffered pipe
        # would miss lines already in its buffer.
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.printed: list[str] = []
        self._reader = threading.Thread(target=self._read_lines, daemon=True)
        self._reader.start()
        self.decoder = codec.Decoder(codec.BOARD_TYPES)
        self.seq = 0
        self.received: list[codec.Frame] = []

    # -- the board's pins ---------------------------------------------------------------

    def command(self, line: str) -> None:
        """One line to the host's ``machine`` stand-in (``pin 2 0``, ``adc 26 0``)."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def pin(self, pin: int, level: int) -> None:
        self.command(f"pin {pin} {level}")

    def adc(self, pin: int, reading: int) -> None:
        self.command(f"adc {pin} {reading}")

    # -- the serial line -----------------------------------------------------------------

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            select.select([], [self.master], [], 5)
            view = view[os.write(self.master, view) :]

    def send(self, frame_type: int, payload: bytes = b"", *, seq: int | None = None) -> int:
        """Send a frame as the hub; return its sequence number."""
        if seq is None:
            seq = self.seq
            self.seq = codec.next_seq(seq)
        self.write(codec.encode_frame(frame_type, seq, payload))
        return seq

    def hello(self) -> None:
        buf = bytearray(codec.MAX_PAYLOAD)
        self.send(codec.HELLO, bytes(buf[: codec.pack_hello(buf, 0, codec.Hello())]))

    def ack(self, frame: codec.Frame) -> None:
        self.send(codec.ACK, bytes([frame.type]) + frame.seq.to_bytes(2, "big"))

    def frames(self, timeout: float = 10.0) -> Iterator[codec.Frame]:
        """The board's frames as they come, until ``timeout`` passes without one."""
        while True:
            ready, _, _ = select.select([self.master], [], [], timeout)
            if not ready:
                return
            try:
                data = os.read(self.master, 4096)
            except BlockingIOError:
                continue
            for frame in self.decoder.feed(data):
                self.received.append(frame)
                yield frame

    def expect(self, match: Callable[[codec.Frame], bool], timeout: float = 10.0) -> codec.Frame:
        """The first frame the board sends that ``match`` accepts; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        for frame in self.frames(timeout):
            if match(frame):
                return frame
            if time.monotonic() > deadline:
                break
        raise AssertionError(
            f"no matching frame from the board within {timeout} s; got"
            f" {self.received[-10:]!r}; stderr: {self.stderr_so_far()}"
        )

    def stderr_so_far(self) -> str:
        if self.process.poll() is None:
            return "(running)"
        assert self.process.stderr is not None
        return self.process.stderr.read()

    def _read_lines(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.printed.append(line.rstrip())
            self.lines.put(line.strip())
        self.lines.put(None)  # the firmware has stopped

    def read_stdout_line(self, prefix: str, timeout: float = 10.0) -> str:
        """The next line the firmware prints that starts with ``prefix``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self.process.wait(timeout=10)
                break
            if line.startswith(prefix):
                return line
        raise AssertionError(
            f"no line starting {prefix!r}; printed: {self.printed[-5:]!r};"
            f" stderr: {self.stderr_so_far()}"
        )

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._reader.join(timeout=10)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        os.close(self.master)
        os.close(self.slave)
