"""Serial ports (and pyserial URLs) as non-blocking, reopenable byte streams.

Why it is built this way (the long form is in ``docs/serial.md``):

* pyserial opens and configures the port (baud rate, parity, flow control, an exclusive
  lock so that two programs never steal each other's bytes), in a worker thread because
  opening some adapters and every network URL can block. Its habit of discarding the
  input buffer as it opens is turned off: the bytes the kernel (or a device server) held
  for us while the hub was restarting or the port was being reopened are a panel's
  frames, a hold-up among them.
* A local port is then read and written through its file descriptor with
  ``loop.add_reader``/``add_writer`` and non-blocking ``os.read``/``os.write``. No thread
  sits in a blocking read, readiness costs nothing while the panel is quiet, and a
  vanished port (USB adapter pulled, pty master closed) wakes the reader at once with
  ``EIO`` or end of file, which becomes ``LinkDown``.
* A pyserial URL whose handler adds its own logic to ``read`` (``rfc2217://``,
  ``socket://``, ``spy://``, ``loop://``) has no descriptor we may read behind its back,
  so it gets one dedicated reader thread that hands chunks to the loop.
* Every write goes through one queue and one writer task, so frames from the poll timer
  and from commands are never interleaved, and a write that has to wait for the port
  (flow control, a full buffer) never holds up a read.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import termios
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import serial

from hub.transports.link import LinkDown

__all__ = ["PARITIES", "SerialConfig", "SerialLink"]

log = logging.getLogger(__name__)

#: Parity letters accepted in settings, as pyserial spells them.
PARITIES = ("N", "E", "O")

_READ_CHUNK = 4096
#: How long the reader thread (URL handlers only) blocks in one read, so that it sees a
#: close request promptly.
_THREAD_READ_TIMEOUT = 0.1


@dataclass(frozen=True, slots=True)
class SerialConfig:
    """How to open one serial port.

    Attributes:
        port: a device path (``/dev/ttyUSB0``, a stable ``/dev/serial/by-id/...`` link)
            or a pyserial URL (``rfc2217://host:port``, ``socket://host:port``).
        baudrate: bits per second.
        bytesize: data bits (5 to 8).
        parity: ``N``, ``E`` or ``O``.
        stopbits: 1, 1.5 or 2.
        rtscts: hardware (RTS/CTS) flow control.
        xonxoff: software (XON/XOFF) flow control.
        exclusive: take an exclusive lock on a local port, so that a second program
            (or a second hub) opening it fails clearly instead of sharing its bytes.
    """

    port: str
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    rtscts: bool = False
    xonxoff: bool = False
    exclusive: bool = True

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> SerialConfig:
        """Build from a device's validated settings (missing keys take the defaults)."""
        defaults = cls(port="")
        return cls(
            port=str(settings["port"]),
            baudrate=int(settings.get("baudrate", defaults.baudrate)),
            bytesize=int(settings.get("bytesize", defaults.bytesize)),
            parity=str(settings.get("parity", defaults.parity)),
            stopbits=float(settings.get("stopbits", defaults.stopbits)),
            rtscts=bool(settings.get("rtscts", defaults.rtscts)),
            xonxoff=bool(settings.get("xonxoff", defaults.xonxoff)),
        )

    def describe(self) -> str:
        """The line settings in the usual short form, e.g. ``9600 8N1``."""
        stop = f"{self.stopbits:g}"
        flow = " rtscts" if self.rtscts else ""
        flow += " xonxoff" if self.xonxoff else ""
        return f"{self.baudrate} {self.bytesize}{self.parity}{stop}{flow}"


def _open_port(config: SerialConfig) -> serial.SerialBase:
    """Open and configure the port (blocking: runs in a worker thread)."""
    stopbits: float = config.stopbits
    if stopbits in (1, 2):
        stopbits = int(stopbits)
    port = serial.serial_for_url(
        config.port,
        baudrate=config.baudrate,
        bytesize=config.bytesize,
        parity=config.parity,
        stopbits=stopbits,
        rtscts=config.rtscts,
        xonxoff=config.xonxoff,
        timeout=_THREAD_READ_TIMEOUT,
        write_timeout=None,
        exclusive=config.exclusive,
        do_not_open=True,
    )
    _open_keeping_input(port)
    return port


#: The methods pyserial's ``open`` calls to discard what is waiting to be read: the
#: POSIX port's ``_reset_input_buffer`` (``tcflush(TCIFLUSH)``), and the URL handlers'
#: ``reset_input_buffer`` (a purge request to an RFC 2217 server, a drain of a socket).
_INPUT_FLUSHES = ("_reset_input_buffer", "reset_input_buffer")


def _discard_nothing() -> None:
    """Stands in for an input flush while a port opens."""


def _open_keeping_input(port: serial.SerialBase) -> None:
    """Open ``port`` without discarding the bytes already waiting to be read.

    pyserial flushes the input as it opens a port, for a "clean start". Here those bytes
    are what a panel sent while the hub was restarting or reopening a port that had gone
    away, a hold-up among them, and the decoder resynchronises on a partial frame anyway.
    The flush is shadowed on this one object for the duration of ``open`` (every class,
    the URL handlers included, keeps its own ``open``), then the class's methods are
    visible again, so a deliberate ``reset_input_buffer`` later still works.
    """
    for name in _INPUT_FLUSHES:
        setattr(port, name, _discard_nothing)
    try:
        port.open()  # type: ignore[attr-defined]  # every class has it; the stubs omit it
    finally:
        for name in _INPUT_FLUSHES:
            vars(port).pop(name, None)


def _open_reason(exc: BaseException) -> str:
    """One human line for why a port did not open (pyserial's own text repeats the
    path and wraps the errno text in brackets)."""
    code = getattr(exc, "errno", None)
    if isinstance(exc, serial.SerialException) and "exclusively lock" in str(exc):
        return "already in use by another program (exclusive lock held)"
    if isinstance(code, int) and code:
        return os.strerror(code)
    context = exc.__context__
    if isinstance(context, termios.error) and len(context.args) == 2:
        return f"not a serial port ({context.args[1]})"
    text = str(exc).strip()
    return text or type(exc).__name__


def _close_when_opened(opening: asyncio.Future[serial.SerialBase]) -> None:
    """Close a port whose opening finished after its caller gave up."""
    if opening.cancelled() or opening.exception() is not None:
        return
    with contextlib.suppress(OSError, serial.SerialException):
        opening.result().close()


def _direct_fd(port: serial.SerialBase) -> int | None:
    """The descriptor to read directly, or None when the handler must do the reading.

    Reading the descriptor behind pyserial's back is only equivalent when the object's
    ``read`` is the plain POSIX one: URL handlers that override it (telnet escaping in
    ``rfc2217://``, logging in ``spy://``) would silently lose their work.
    """
    posix_serial = getattr(serial, "Serial", None)
    if posix_serial is None or type(port).read is not posix_serial.read:
        return None
    try:
        fd = port.fileno()
    except (OSError, AttributeError, ValueError):
        return None
    return fd if isinstance(fd, int) else None


def _make_nonblocking(fd: int) -> None:
    """Make reads return ``EAGAIN`` when no data waits, and empty only on hang-up.

    pyserial leaves VMIN = VTIME = 0 (it waits with ``select``), and with those a tty
    read that finds no data returns zero bytes even on a non-blocking descriptor, which
    is indistinguishable from the end of file of a pulled adapter. VMIN = 1 restores the
    ``EAGAIN`` answer, so an empty read means the device is really gone.
    """
    os.set_blocking(fd, False)
    attrs = termios.tcgetattr(fd)
    attrs[6][termios.VMIN] = 1
    attrs[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


class SerialLink:
    """One serial port as a reopenable, non-blocking byte stream (a ``StreamLink``).

    Args:
        config: the port and its line settings.
        write_queue: how many writes may wait for the writer before ``write`` waits too
            (back-pressure on a caller that writes faster than the port).
    """

    def __init__(self, config: SerialConfig, *, write_queue: int = 256) -> None:
        self.config = config
        self._write_queue_size = write_queue
        self._port: serial.SerialBase | None = None
        self._fd: int | None = None
        self._failure: LinkDown | None = None
        self._read_waiter: asyncio.Future[None] | None = None
        self._writes: asyncio.Queue[tuple[bytes, asyncio.Future[None]]] | None = None
        self._writer: asyncio.Task[None] | None = None
        # URL handlers only: chunks (or the failure) from the reader thread.
        self._rx: asyncio.Queue[bytes | LinkDown] | None = None
        self._thread: threading.Thread | None = None
        self._stop_thread = threading.Event()
        #: Bytes read and written since the link object was created (diagnostics).
        self.bytes_in = 0
        self.bytes_out = 0

    @property
    def name(self) -> str:
        """``serial port <path or URL>``, used in every message about this link."""
        return f"serial port {self.config.port}"

    @property
    def is_open(self) -> bool:
        """True between a successful ``open`` and ``close``."""
        return self._port is not None

    @property
    def uses_thread(self) -> bool:
        """True when a reader thread serves the port (a URL handler without a
        descriptor we may read directly)."""
        return self._thread is not None

    # -- open and close ----------------------------------------------------------------
    async def open(self) -> None:
        """Open and configure the port.

        Raises:
            OSError: the port cannot be opened; the message names the port and the
                reason (missing, permission denied, not a serial port, in use, bad URL).
        """
        if self._port is not None:
            return
        opening = asyncio.ensure_future(asyncio.to_thread(_open_port, self.config))
        try:
            port = await asyncio.shield(opening)
        except asyncio.CancelledError:
            # The thread goes on and may still open the port: close it when it does, or
            # its exclusive lock would refuse the next attempt.
            opening.add_done_callback(_close_when_opened)
            raise
        except (serial.SerialException, OSError, ValueError) as exc:
            raise self._open_error(exc) from exc
        fd = _direct_fd(port)
        if fd is not None:
            try:
                _make_nonblocking(fd)
            except (OSError, termios.error) as exc:
                port.close()
                raise self._open_error(exc) from exc
        loop = asyncio.get_running_loop()
        self._port = port
        self._fd = fd
        self._failure = None
        self._writes = asyncio.Queue(self._write_queue_size)
        self._rx = None
        if fd is None:
            self._rx = asyncio.Queue()
            self._stop_thread = threading.Event()
            self._thread = threading.Thread(
                target=self._thread_reader,
                args=(port, loop, self._rx, self._stop_thread),
                name=f"ecrin-serial-{self.config.port}",
                daemon=True,
            )
            self._thread.start()
        self._writer = asyncio.create_task(self._write_loop(), name=f"write {self.name}")
        log.info("%s: open (%s)", self.name, self.config.describe())

    def _open_error(self, exc: BaseException) -> OSError:
        error = OSError(f"{self.name}: cannot open: {_open_reason(exc)}")
        error.errno = getattr(exc, "errno", None)
        return error

    async def close(self) -> None:
        """Stop the writer, fail pending writes, release the port. Never raises."""
        port, self._port = self._port, None
        if port is None:
            return
        closed = LinkDown(f"{self.name}: closed")
        if self._failure is None:
            self._failure = closed
        self._wake_reader(self._failure)
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        self._fail_pending_writes(self._failure)
        fd, self._fd = self._fd, None
        if fd is not None:
            loop = asyncio.get_running_loop()
            loop.remove_reader(fd)
            loop.remove_writer(fd)
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop_thread.set()
            await asyncio.to_thread(thread.join)
        try:
            port.close()
        except (OSError, serial.SerialException) as exc:  # a vanished port may not close
            log.debug("%s: close: %s", self.name, exc)
        log.info("%s: closed", self.name)

    # -- reading ---------------------------------------------------------------------
    async def read(self) -> bytes:
        """Return the next chunk the port delivers (never empty).

        Raises:
            LinkDown: the port is closed or went away (``EIO`` from a pty whose other
                end closed, end of file or ``ENODEV`` from a pulled USB adapter).
        """
        if self._failure is not None:
            raise self._failure
        if self._port is None:
            raise LinkDown(f"{self.name}: not open")
        if self._fd is None:
            return await self._read_queued()
        fd = self._fd
        while True:
            try:
                data = os.read(fd, _READ_CHUNK)
            except BlockingIOError:
                await self._wait_readable(fd)
                if self._failure is not None:
                    raise self._failure from None
                continue
            except OSError as exc:
                raise self._fail(exc) from exc
            if not data:
                raise self._fail(None)
            self.bytes_in += len(data)
            return data

    async def _wait_readable(self, fd: int) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._read_waiter = waiter

        def ready() -> None:
            if not waiter.done():
                waiter.set_result(None)

        loop.add_reader(fd, ready)
        try:
            await waiter
        finally:
            self._read_waiter = None
            if self._fd == fd:
                loop.remove_reader(fd)

    async def _read_queued(self) -> bytes:
        rx = self._rx
        assert rx is not None
        item = await rx.get()
        if isinstance(item, LinkDown):
            self._failure = self._failure or item
            raise self._failure
        self.bytes_in += len(item)
        return item

    @staticmethod
    def _thread_reader(
        port: serial.SerialBase,
        loop: asyncio.AbstractEventLoop,
        rx: asyncio.Queue[bytes | LinkDown],
        stop: threading.Event,
    ) -> None:
        """Blocking reads in a thread, for URL handlers only. Each chunk is handed to
        the loop; an error ends the thread after handing over a ``LinkDown``."""
        name = f"serial port {port.port}"
        item: bytes | LinkDown
        while not stop.is_set():
            try:
                # Read what is waiting, or block (up to the timeout) for one byte: a
                # fixed-size read would hold a short frame until the timeout.
                waiting = int(getattr(port, "in_waiting", 0))
                item = port.read(max(1, min(waiting, _READ_CHUNK)))
            except Exception as exc:  # any handler error means the link is gone
                if stop.is_set():
                    return
                item = LinkDown(f"{name}: {_open_reason(exc)}")
            if not item:
                continue
            try:
                loop.call_soon_threadsafe(rx.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                return
            if isinstance(item, LinkDown):
                return

    # -- writing ---------------------------------------------------------------------
    async def write(self, data: bytes) -> None:
        """Queue ``data`` for the one writer and wait until it is written.

        A write cancelled before the writer takes it is dropped; once taken it is
        written whole, so the panel never sees half a frame.

        Raises:
            LinkDown: the port is closed or went away first.
        """
        if self._failure is not None:
            raise self._failure
        writes = self._writes
        if self._port is None or writes is None:
            raise LinkDown(f"{self.name}: not open")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await writes.put((bytes(data), done))
        await done

    async def _write_loop(self) -> None:
        writes = self._writes
        assert writes is not None
        while True:
            data, done = await writes.get()
            if done.done():  # the caller gave up before its turn
                continue
            try:
                await self._write_all(data)
            except LinkDown as exc:
                done.set_exception(exc)
                self._fail_pending_writes(exc)
                return
            self.bytes_out += len(data)
            if not done.done():
                done.set_result(None)

    async def _write_all(self, data: bytes) -> None:
        port = self._port
        if port is None:
            raise self._failure or LinkDown(f"{self.name}: not open")
        if self._fd is None:
            try:
                await asyncio.to_thread(port.write, data)
            except Exception as exc:  # any handler error means the link is gone
                raise self._fail(exc) from exc
            return
        fd = self._fd
        view = memoryview(data)
        while view:
            if self._failure is not None:
                raise self._failure
            try:
                written = os.write(fd, view)
            except BlockingIOError:
                await self._wait_writable(fd)
                continue
            except OSError as exc:
                raise self._fail(exc) from exc
            view = view[written:]

    async def _wait_writable(self, fd: int) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()

        def ready() -> None:
            if not waiter.done():
                waiter.set_result(None)

        loop.add_writer(fd, ready)
        try:
            await waiter
        finally:
            if self._fd == fd:
                loop.remove_writer(fd)

    # -- failure -----------------------------------------------------------------------
    def _fail(self, exc: BaseException | None) -> LinkDown:
        """Record that the port went away and wake whoever waits on it."""
        if self._failure is None:
            if exc is None:
                reason = "hang-up (device unplugged or other end closed)"
            elif isinstance(exc, OSError) and exc.errno == errno.EIO:
                reason = "I/O error (device unplugged or other end closed)"
            else:
                reason = _open_reason(exc)
            self._failure = LinkDown(f"{self.name}: {reason}")
            log.warning("%s", self._failure)
        self._wake_reader(self._failure)
        return self._failure

    def _wake_reader(self, failure: LinkDown) -> None:
        waiter = self._read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)  # the reader re-checks ``_failure`` and raises it
        if self._rx is not None:
            self._rx.put_nowait(failure)

    def _fail_pending_writes(self, failure: LinkDown) -> None:
        writes = self._writes
        if writes is None:
            return
        while not writes.empty():
            _data, done = writes.get_nowait()
            if not done.done():
                done.set_exception(failure)
