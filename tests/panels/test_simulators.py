"""The simulated panels speak the real protocols: checked from the hub's end of a real
pty with the hub's own serial link and the protocol parsers."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.testing import read_until
from hub.transports.pty import PtyCable
from hub.transports.serial import SerialConfig, SerialLink
from plugins.panels.ad2 import KeypadMessage, LrrMessage, parse_ad2_message
from plugins.panels.contact_id import ContactIdError, parse_contact_id
from plugins.panels.dsc_it100 import It100Frame, encode_it100, it100_poll, parse_it100_frame
from plugins.panels.simulators import Ad2Simulator, ContactIdSimulator, It100Simulator


@pytest.fixture
async def hub_end(pty_cable: PtyCable) -> AsyncIterator[SerialLink]:
    """The hub's end of the cable, opened with the hub's serial link."""
    link = SerialLink(SerialConfig(port=pty_cable.path))
    await link.open()
    yield link
    await link.close()


async def read_lines(link: SerialLink, count: int) -> list[bytes]:
    data = await read_until(link.read, lambda got: got.count(b"\r\n") >= count)
    return data.split(b"\r\n")[:count]


async def test_it100_answers_polls_commands_and_bad_checksums(
    pty_cable: PtyCable, hub_end: SerialLink
) -> None:
    async with It100Simulator(pty_cable) as panel:
        await hub_end.write(it100_poll())
        (reply,) = await read_lines(hub_end, 1)
        assert parse_it100_frame(reply) == It100Frame("500", "000")
        await hub_end.write(b"00091\r\n")  # the poll with a wrong checksum
        (error,) = await read_lines(hub_end, 1)
        assert parse_it100_frame(error) == It100Frame("501", "")
    assert panel.commands == [It100Frame("000", "")]
    assert panel.bad_frames == [b"00091"]


async def test_it100_status_report_names_each_partition(
    pty_cable: PtyCable, hub_end: SerialLink
) -> None:
    async with It100Simulator(pty_cable, partitions=2):
        await hub_end.write(encode_it100("001"))
        lines = await read_lines(hub_end, 3)
    frames = [parse_it100_frame(line) for line in lines]
    assert frames == [It100Frame("500", "001"), It100Frame("650", "1"), It100Frame("650", "2")]


async def test_a_silent_it100_does_not_answer(pty_cable: PtyCable, hub_end: SerialLink) -> None:
    async with It100Simulator(pty_cable) as panel:
        panel.go_silent()
        await hub_end.write(it100_poll())
        await panel.wait_command("000")
        panel.resume()
        await hub_end.write(encode_it100("071", "1*1#"))
        (first_reply,) = await read_lines(hub_end, 1)
    # The first answer the hub gets is to the command sent after the silence.
    assert parse_it100_frame(first_reply) == It100Frame("500", "071")


async def test_it100_events_are_valid_frames(pty_cable: PtyCable, hub_end: SerialLink) -> None:
    async with It100Simulator(pty_cable) as panel:
        await panel.zone_alarm(zone=7, partition=2)
        await panel.panic_key()
        await panel.armed(partition=1, mode=3)
        bad = await panel.bad_checksum("601", "1001")
        lines = await read_lines(hub_end, 4)
    assert [parse_it100_frame(line) for line in lines[:3]] == [
        It100Frame("601", "2007"),
        It100Frame("625", ""),
        It100Frame("652", "13"),
    ]
    assert lines[3] == bad.rstrip(b"\r\n")
    with pytest.raises(ValueError, match="bad checksum"):
        parse_it100_frame(lines[3])


async def test_contact_id_lines_parse_and_the_bad_one_fails_its_checksum(
    pty_cable: PtyCable, hub_end: SerialLink
) -> None:
    async with ContactIdSimulator(pty_cable, account="B2C4") as receiver:
        sent = await receiver.holdup(zone=15, partition=3)
        bad = await receiver.bad_checksum()
        good_line, bad_line = await read_lines(hub_end, 2)
    assert good_line == f"B2C4 18 1122 03 015 {sent[15]}".encode()
    message = parse_contact_id(good_line.decode())
    assert (message.account, message.event_code, message.group, message.number) == (
        "B2C4",
        "122",
        "03",
        "015",
    )
    with pytest.raises(ContactIdError) as caught:
        parse_contact_id(bad_line.decode())
    assert caught.value.checksum
    assert bad_line.replace(b" ", b"") == bad.encode()


async def test_ad2_repeats_its_keypad_and_reports_lrr(
    pty_cable: PtyCable, hub_end: SerialLink
) -> None:
    async with Ad2Simulator(pty_cable, refresh=0.02) as panel:
        await panel.armed_away()
        lines = await read_lines(hub_end, 3)
        await panel.duress(user=5)
        lrr_line = await read_until(hub_end.read, lambda got: b"!LRR" in got)
    keypads = [parse_ad2_message(line.decode("latin-1")) for line in lines]
    assert all(isinstance(k, KeypadMessage) and k.state == "armed_away" for k in keypads)
    lrr = parse_ad2_message(lrr_line[lrr_line.index(b"!LRR") :].split(b"\r\n")[0].decode())
    assert isinstance(lrr, LrrMessage)
    assert lrr.event_type == "CID_1121"


async def test_garbage_has_no_line_end_inside(pty_cable: PtyCable, hub_end: SerialLink) -> None:
    async with ContactIdSimulator(pty_cable) as receiver:
        noise = await receiver.garbage(200)
        data = await read_until(hub_end.read, lambda got: got.endswith(b"\r\n"))
    assert data == noise + b"\r\n"
    assert b"\r" not in noise
    assert b"\n" not in noise


def test_cable_unplug_removes_the_path_and_replug_brings_a_new_pty(tmp_path: Path) -> None:
    cable = PtyCable(tmp_path / "ttyUSB0")
    try:
        first = os.path.realpath(cable.path)
        assert first.startswith("/dev/pts/")
        cable.unplug()
        assert not os.path.lexists(cable.path)
        assert not cable.plugged
        cable.plug()
        assert os.path.realpath(cable.path).startswith("/dev/pts/")
        assert cable.plugged
    finally:
        cable.close()
