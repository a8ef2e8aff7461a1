"""The serial link over real pseudo-terminals (and pyserial's own ``loop://`` handler)."""

from __future__ import annotations

import asyncio
import os
import termios
from pathlib import Path

import pytest

from hub.testing import cable_read_until, read_until
from hub.transports.link import LinkDown, StreamLink
from hub.transports.pty import PtyCable
from hub.transports.serial import SerialConfig, SerialLink


async def test_reads_what_the_panel_writes_and_writes_to_the_panel(pty_cable: PtyCable) -> None:
    link = SerialLink(SerialConfig(port=pty_cable.path))
    assert isinstance(link, StreamLink)
    await link.open()
    try:
        assert link.is_open
        assert not link.uses_thread  # a local port is read through its descriptor
        await pty_cable.write(b"hello\r\n")
        got = await read_until(link.read, lambda b: b.endswith(b"\r\n"))
        assert got == b"hello\r\n"
        await link.write(b"00090\r\n")
        assert await cable_read_until(pty_cable, b"\r\n") == b"00090\r\n"
        assert (link.bytes_in, link.bytes_out) == (7, 7)
    finally:
        await link.close()
    assert not link.is_open


async def test_line_settings_reach_the_port(pty_cable: PtyCable) -> None:
    """Parity, stop bits and flow control from the settings are applied with termios."""
    settings = {
        "port": pty_cable.path,
        "baudrate": 19200,
        "bytesize": 7,
        "parity": "E",
        "stopbits": 2.0,
        "rtscts": True,
        "xonxoff": True,
    }
    config = SerialConfig.from_settings(settings)
    assert config.describe() == "19200 7E2 rtscts xonxoff"
    link = SerialLink(config)
    await link.open()
    try:
        fd = os.open(pty_cable.path, os.O_RDWR | os.O_NOCTTY)
        try:
            iflag, _oflag, cflag, lflag, ispeed, _ospeed, _cc = termios.tcgetattr(fd)
        finally:
            os.close(fd)
        # Linux ptys force CS8 without parity whatever is asked (drivers/tty/pty.c), so
        # data bits and parity are checked on the port object pyserial configured.
        port = link._port
        assert port is not None
        assert (port.bytesize, port.parity, port.stopbits) == (7, "E", 2)
        assert cflag & termios.CSTOPB
        assert cflag & termios.CRTSCTS
        assert iflag & termios.IXON
        assert not lflag & termios.ICANON  # raw: no line editing between panel and hub
        assert ispeed == termios.B19200
    finally:
        await link.close()


async def test_concurrent_writes_are_never_interleaved(pty_cable: PtyCable) -> None:
    """Blocks far larger than the pty's buffer force partial writes; each block still
    arrives whole, in the order the writes were made."""
    link = SerialLink(SerialConfig(port=pty_cable.path))
    await link.open()
    blocks = [bytes([65 + i]) * 40_000 for i in range(8)]
    total = sum(map(len, blocks))
    try:
        writes = [asyncio.create_task(link.write(block)) for block in blocks]
        received = await read_until(pty_cable.read, lambda got: len(got) >= total, timeout=10)
        await asyncio.gather(*writes)
    finally:
        await link.close()
    assert received == b"".join(blocks)


async def test_reads_go_on_while_a_write_waits_for_the_port(pty_cable: PtyCable) -> None:
    """A write stuck on a full buffer (the panel is not reading) does not hold up reads."""
    link = SerialLink(SerialConfig(port=pty_cable.path))
    await link.open()
    try:
        stuck = asyncio.create_task(link.write(b"x" * 1_000_000))
        await pty_cable.write(b"601100\r\n")
        got = await read_until(link.read, lambda b: b.endswith(b"\r\n"))
        assert got == b"601100\r\n"
        assert not stuck.done()
        stuck.cancel()
    finally:
        await link.close()
    with pytest.raises((LinkDown, asyncio.CancelledError)):
        await stuck


async def test_unplug_turns_reads_and_writes_into_link_down(pty_cable: PtyCable) -> None:
    link = SerialLink(SerialConfig(port=pty_cable.path))
    await link.open()
    try:
        reading = asyncio.create_task(link.read())
        await asyncio.sleep(0)  # let the read start waiting on the port
        pty_cable.unplug()
        with pytest.raises(LinkDown, match=r"ttyUSB0: (hang-up|I/O error)"):
            await asyncio.wait_for(reading, 5)
        with pytest.raises(LinkDown):
            await link.write(b"00090\r\n")
    finally:
        await link.close()


async def test_reopens_the_same_path_after_replug(pty_cable: PtyCable) -> None:
    link = SerialLink(SerialConfig(port=pty_cable.path))
    await link.open()
    pty_cable.unplug()
    with pytest.raises(LinkDown):
        await asyncio.wait_for(link.read(), 5)
    await link.close()
    with pytest.raises(OSError, match="No such file or directory"):
        await link.open()
    pty_cable.plug()
    await link.open()
    try:
        await pty_cable.write(b"back\n")
        assert await read_until(link.read, lambda b: b.endswith(b"\n")) == b"back\n"
    finally:
        await link.close()


async def test_close_is_idempotent_and_fails_pending_reads(pty_cable: PtyCable) -> None:
    link = SerialLink(SerialConfig(port=pty_cable.path))
    await link.open()
    reading = asyncio.create_task(link.read())
    await asyncio.sleep(0)
    await link.close()
    await link.close()
    with pytest.raises(LinkDown, match="closed"):
        await asyncio.wait_for(reading, 5)
    with pytest.raises(LinkDown):
        await link.read()


async def test_missing_port_is_a_clear_oserror(tmp_path: Path) -> None:
    port = tmp_path / "ttyUSB9"
    with pytest.raises(OSError, match="No such file or directory") as caught:
        await SerialLink(SerialConfig(port=str(port))).open()
    assert str(port) in str(caught.value)
    assert not isinstance(caught.value, LinkDown)


async def test_a_file_that_is_not_a_serial_port_is_a_clear_oserror(tmp_path: Path) -> None:
    not_a_port = tmp_path / "notes.txt"
    not_a_port.write_text("hello")
    with pytest.raises(OSError, match=r"not a serial port \(Inappropriate ioctl") as caught:
        await SerialLink(SerialConfig(port=str(not_a_port))).open()
    assert str(not_a_port) in str(caught.value)


async def test_a_port_held_by_another_link_is_refused(pty_cable: PtyCable) -> None:
    first = SerialLink(SerialConfig(port=pty_cable.path))
    await first.open()
    try:
        with pytest.raises(OSError, match="already in use") as caught:
            await SerialLink(SerialConfig(port=pty_cable.path)).open()
        assert pty_cable.path in str(caught.value)
    finally:
        await first.close()


async def test_an_unknown_url_scheme_is_a_clear_oserror() -> None:
    with pytest.raises(OSError, match=r"nosuch://x.*not known"):
        await SerialLink(SerialConfig(port="nosuch://x")).open()


async def test_url_handlers_are_read_in_a_thread() -> None:
    """``loop://`` echoes writes; its handler owns ``read``, so a thread reads it."""
    link = SerialLink(SerialConfig(port="loop://"))
    await link.open()
    try:
        assert link.uses_thread
        await link.write(b"00090\r\n")
        assert await read_until(link.read, lambda b: b.endswith(b"\r\n")) == b"00090\r\n"
    finally:
        await link.close()
    with pytest.raises(LinkDown):
        await link.read()


async def test_what_the_panel_sent_before_the_port_opened_is_read(pty_cable: PtyCable) -> None:
    """pyserial flushes the input as it opens a port; the hub must not: those bytes are
    what a panel sent while the hub was restarting, a hold-up among them."""
    await pty_cable.write(b"sent while the hub was down\r\n")
    link = SerialLink(SerialConfig(port=pty_cable.path))
    await link.open()
    try:
        await pty_cable.write(b"sent after\r\n")
        got = await read_until(link.read, lambda b: b.endswith(b"after\r\n"))
        assert got == b"sent while the hub was down\r\nsent after\r\n"
    finally:
        await link.close()


async def test_what_the_panel_sent_while_the_port_was_away_is_read_after_reopening(
    pty_cable: PtyCable,
) -> None:
    """The replug case: a new adapter is there, the panel talks before the link has
    reopened it; nothing it said is discarded by the reopening."""
    link = SerialLink(SerialConfig(port=pty_cable.path))
    await link.open()
    pty_cable.unplug()
    with pytest.raises(LinkDown):
        await asyncio.wait_for(link.read(), 5)
    await link.close()
    pty_cable.plug()
    await pty_cable.write(b"sent before the reopening\r\n")
    await link.open()
    try:
        await pty_cable.write(b"sent after\r\n")
        got = await read_until(link.read, lambda b: b.endswith(b"after\r\n"))
        assert got == b"sent before the reopening\r\nsent after\r\n"
    finally:
        await link.close()


async def test_a_url_handler_keeps_what_was_sent_before_it_opened(
    pty_cable: PtyCable, tmp_path: Path
) -> None:
    """``spy://`` wraps a local port in a handler that owns ``read`` (so a thread reads
    it): its opening keeps the waiting bytes too."""
    await pty_cable.write(b"sent while the hub was down\r\n")
    link = SerialLink(SerialConfig(port=f"spy://{pty_cable.path}?file={tmp_path / 'spy.txt'}"))
    await link.open()
    try:
        assert link.uses_thread
        await pty_cable.write(b"sent after\r\n")
        got = await read_until(link.read, lambda b: b.endswith(b"after\r\n"))
        assert got == b"sent while the hub was down\r\nsent after\r\n"
    finally:
        await link.close()


async def test_a_deliberate_input_flush_still_works_after_opening(pty_cable: PtyCable) -> None:
    """Only the opening keeps the waiting bytes: the port object is left as pyserial
    made it, so its own ``reset_input_buffer`` still discards them."""
    link = SerialLink(SerialConfig(port=pty_cable.path))
    await link.open()
    try:
        port = link._port
        assert port is not None
        await pty_cable.write(b"stale\r\n")
        async with asyncio.timeout(5):
            while port.in_waiting < 7:  # the kernel hands pty bytes on in a worker
                await asyncio.sleep(0.01)
        port.reset_input_buffer()
        await pty_cable.write(b"fresh\r\n")
        assert await read_until(link.read, lambda b: b.endswith(b"\r\n")) == b"fresh\r\n"
    finally:
        await link.close()
