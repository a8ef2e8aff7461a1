"""The SIA DC-09 receiver, end to end over real loopback TCP connections."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import plugins.panels
from hub.app import Hub
from hub.config import load_config
from hub.events import AlarmKind, AlarmSignal, Event, LinkLost, LinkRestored
from hub.journal import read_entries
from hub.plugins import PluginManager
from hub.testing import EventRecorder, wait_until
from plugins.panels.devices import LINE_QUALITY_CODE
from plugins.panels.panel_events import LinkTest
from plugins.panels.simulators import Dc09Simulator
from tests.test_config import SITE

HEX_KEY = "000102030405060708090A0B0C0D0E0F"
TEXT_KEY = "jewel-shop-key16"


@pytest.fixture
def receiver(build_device: Any) -> Any:
    return build_device("sia-dc09", {"host": "127.0.0.1", "port": 0}, device_id="recepteur")


@pytest.fixture
async def communicator(receiver: Any, running: Any) -> AsyncIterator[Dc09Simulator]:
    async with running(receiver), Dc09Simulator("127.0.0.1", receiver.port) as sim:
        yield sim


async def test_holdup_duress_and_panic_are_acknowledged_and_decoded(
    receiver: Any, communicator: Dc09Simulator, recorder: EventRecorder
) -> None:
    replies = [
        await communicator.holdup(zone=3, area=1),
        await communicator.contact_id(121, zone=7, partition=2),  # duress, user 7
        await communicator.panic(zone=4),
    ]
    assert [(r.kind, r.crc_ok, r.encrypted) for r in replies] == [("ACK", True, False)] * 3
    assert [r.sequence for r in replies] == ["0001", "0002", "0003"]
    holdup, duress, panic = await recorder.wait_for(AlarmSignal, count=3)
    assert (holdup.kind, holdup.panel_zone, holdup.partition, holdup.code) == (
        AlarmKind.HOLDUP,
        3,
        1,
        "HA",
    )
    assert (holdup.device, holdup.protocol) == ("recepteur", "sia-dc09")
    assert (duress.kind, duress.user, duress.partition) == (AlarmKind.DURESS, 7, 2)
    assert (panic.kind, panic.panel_zone) == (AlarmKind.PANIC, 4)
    assert receiver.answers["ACK"] == 3
    assert receiver.frames == 3


async def test_a_timestamp_out_of_the_window_is_refused_with_nak(
    receiver: Any, communicator: Dc09Simulator, recorder: EventRecorder
) -> None:
    communicator.clock_offset = -120.0  # the communicator's clock is two minutes late
    refused = await communicator.holdup(zone=1)
    assert (refused.kind, refused.crc_ok) == ("NAK", True)
    communicator.clock_offset = 0.0
    accepted = await communicator.holdup(zone=1)
    assert accepted.kind == "ACK"
    (signal,) = await recorder.wait_for(AlarmSignal)
    assert signal.kind is AlarmKind.HOLDUP
    assert receiver.answers == {"ACK": 1, "NAK": 1, "DUH": 0}


async def test_unsupported_message_gets_duh(
    receiver: Any, communicator: Dc09Simulator, recorder: EventRecorder
) -> None:
    reply = await communicator.unsupported()
    assert reply.kind == "DUH"
    assert reply.sequence == f"{communicator.sequence:04d}"
    assert recorder.events == []


async def test_link_tests_feed_supervision(
    build_device: Any, running: Any, recorder: EventRecorder
) -> None:
    device = build_device("sia-dc09", {"host": "127.0.0.1", "port": 0, "supervision_interval": 0.3})
    async with running(device), Dc09Simulator("127.0.0.1", device.port) as sim:
        (lost,) = await recorder.wait_for(LinkLost)
        assert "no data for 0.3 s" in lost.reason
        reply = await sim.link_test()
        assert reply.kind == "ACK"
        await recorder.wait_for(LinkRestored)
        (test,) = await recorder.wait_for(LinkTest)
        assert test.account == "1234"
    assert not recorder.of_type(AlarmSignal)


async def test_bad_crc_gets_no_answer_is_counted_and_the_next_frame_goes_through(
    build_device: Any, running: Any, recorder: EventRecorder
) -> None:
    device = build_device("sia-dc09", {"host": "127.0.0.1", "port": 0, "bad_frame_burst": 2})
    async with running(device), Dc09Simulator("127.0.0.1", device.port) as sim:
        await sim.bad_crc()
        await sim.send_unanswered(b"\x00garbage!\r")
        await sim.bad_crc()
        reply = await sim.holdup(zone=2)  # the first answer on the connection is this one
        assert reply.kind == "ACK"
        await recorder.wait_for(AlarmSignal, lambda s: s.kind is AlarmKind.HOLDUP)
    assert device.bad_checksum == 2
    assert device.rejected == 3
    troubles = recorder.of_type(AlarmSignal, lambda s: s.code == LINE_QUALITY_CODE)
    assert [(t.kind, t.restore) for t in troubles] == [(AlarmKind.TROUBLE, False)]


@pytest.mark.parametrize(
    ("key_text", "key_bytes"),
    [(HEX_KEY, bytes.fromhex(HEX_KEY)), (TEXT_KEY, TEXT_KEY.encode())],
    ids=["hex-key", "text-key"],
)
async def test_encrypted_frames_with_either_key_convention(
    build_device: Any, running: Any, recorder: EventRecorder, key_text: str, key_bytes: bytes
) -> None:
    settings = {"host": "127.0.0.1", "port": 0, "keys": {"BEEF": key_text}}
    device = build_device("sia-dc09", settings)
    async with (
        running(device),
        Dc09Simulator("127.0.0.1", device.port, account="BEEF", key=key_bytes) as sim,
    ):
        reply = await sim.holdup(zone=6)
        assert (reply.kind, reply.encrypted, reply.crc_ok) == ("ACK", True, True)
        (signal,) = await recorder.wait_for(AlarmSignal)
    assert (signal.kind, signal.panel_zone) == (AlarmKind.HOLDUP, 6)


async def test_an_encrypted_frame_without_a_key_is_refused(
    receiver: Any, running: Any, recorder: EventRecorder
) -> None:
    async with (
        running(receiver),
        Dc09Simulator(
            "127.0.0.1", receiver.port, account="BEEF", key=bytes.fromhex(HEX_KEY)
        ) as sim,
    ):
        reply = await sim.holdup(zone=6)
    assert reply.kind == "NAK"
    assert recorder.events == []


async def test_a_repeat_on_a_new_connection_is_acknowledged_but_not_doubled(
    receiver: Any, running: Any, recorder: EventRecorder
) -> None:
    async with running(receiver):
        first = Dc09Simulator("127.0.0.1", receiver.port)
        async with first:
            frame = first.frame("SIA-DCS", "Nri1/HA05")
            assert (await first.send_frame(frame)).kind == "ACK"
        async with Dc09Simulator("127.0.0.1", receiver.port) as second:  # it resends
            assert (await second.send_frame(frame)).kind == "ACK"
        await recorder.wait_for(AlarmSignal)
        assert receiver.connections == 2
    assert len(recorder.of_type(AlarmSignal)) == 1
    assert receiver.decoder.duplicates == 1


async def test_two_communicators_at_once(
    receiver: Any, running: Any, recorder: EventRecorder
) -> None:
    async with running(receiver):
        sims = [Dc09Simulator("127.0.0.1", receiver.port, account=a) for a in ("1111", "2222")]
        for sim in sims:
            await sim.connect()
        try:
            replies = await asyncio.gather(*(sim.holdup(zone=i + 1) for i, sim in enumerate(sims)))
        finally:
            for sim in sims:
                await sim.close()
        signals = await recorder.wait_for(AlarmSignal, count=2)
    assert [r.kind for r in replies] == ["ACK", "ACK"]
    assert sorted(s.panel_zone or 0 for s in signals) == [1, 2]


async def test_a_port_in_use_is_a_clear_oserror(
    receiver: Any, running: Any, build_device: Any
) -> None:
    async with running(receiver):
        second = build_device("sia-dc09", {"host": "127.0.0.1", "port": receiver.port})
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{receiver.port}"):
            async with second:
                pass


def is_nak_with_the_receivers_time(raw: bytes) -> bool:
    """A NAK as DC-09 builds it: no sequence, no account, the receiver's timestamp."""
    body = raw.strip(b"\r\n")[8:].decode("ascii")
    head, _, stamp = body.partition("]_")
    return head == '"NAK"0000R0L0A0[' and len(stamp) == len("17:30:00,12-24-2024")


async def test_an_unknown_account_gets_nak_and_no_event_then_a_known_one_goes_through(
    build_device: Any, running: Any, recorder: EventRecorder
) -> None:
    settings = {"host": "127.0.0.1", "port": 0, "accounts": ["1234"]}
    device = build_device("sia-dc09", settings, device_id="recepteur")
    async with running(device):
        async with Dc09Simulator("127.0.0.1", device.port, account="9999") as intruder:
            refused = await intruder.holdup(zone=3)
            refused_null = await intruder.link_test()
        # The device emits before it answers: anything the frames raised is in the recorder.
        assert recorder.events == []
        async with Dc09Simulator("127.0.0.1", device.port, account="1234") as panel:
            accepted = await panel.holdup(zone=3)
            (signal,) = await recorder.wait_for(AlarmSignal)
    assert (refused.kind, refused.crc_ok, refused.sequence) == ("NAK", True, "0000")
    assert is_nak_with_the_receivers_time(refused.raw)
    assert refused_null.kind == "NAK"  # a link test from it is no proof of a live link
    assert (accepted.kind, accepted.sequence) == ("ACK", "0001")
    assert accepted.raw.endswith(b'"ACK"0001L0#1234[]\r')
    assert (signal.kind, signal.panel_zone, signal.code) == (AlarmKind.HOLDUP, 3, "HA")
    assert b"#1234" in signal.raw
    assert len(recorder.events) == 1
    assert device.unknown_accounts == 2
    assert device.answers == {"ACK": 1, "NAK": 2, "DUH": 0}
    assert (device.rejected, device.bad_checksum) == (2, 0)


async def test_an_unknown_accounts_link_test_does_not_restore_a_silent_link(
    build_device: Any, running: Any, recorder: EventRecorder
) -> None:
    settings = {"host": "127.0.0.1", "port": 0, "accounts": ["1234"], "supervision_interval": 0.3}
    device = build_device("sia-dc09", settings)
    async with running(device):
        await recorder.wait_for(LinkLost)
        async with Dc09Simulator("127.0.0.1", device.port, account="9999") as intruder:
            assert (await intruder.link_test()).kind == "NAK"
        assert not recorder.of_type(LinkRestored)
        async with Dc09Simulator("127.0.0.1", device.port, account="1234") as panel:
            assert (await panel.link_test()).kind == "ACK"
        await recorder.wait_for(LinkRestored)
    assert [t.account for t in recorder.of_type(LinkTest)] == ["1234"]


#: The shop's receiver, after the ``site:`` and ``zones:`` of the configuration tests.
RECEIVER = """\
devices:
  - id: transmetteur
    type: sia-dc09
    settings:
      host: 127.0.0.1
      port: {port}
      accounts: ["4f21"]   # lower case here, upper case in the frames
    zones:
      3: {{zone: comptoir, type: holdup}}
journal: {{path: journal.db}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def connect(port: int, account: str) -> Dc09Simulator:
    """Connect once the hub's receiver listens (it starts in the background)."""
    sim = Dc09Simulator("127.0.0.1", port, account=account)
    async with asyncio.timeout(5):
        while True:
            try:
                await sim.connect()
            except OSError:
                await asyncio.sleep(0.02)
            else:
                return sim


async def test_the_hub_journals_only_the_known_accounts_frames(tmp_path: Path) -> None:
    """The whole path: the YAML file with ``accounts``, the hub, its bus and journal."""
    port = free_port()
    path = tmp_path / "shop.yaml"
    path.write_text(SITE + RECEIVER.format(port=port), encoding="utf-8")
    manager = PluginManager()
    manager.register(plugins.panels, "panels")
    config = load_config(path, manager.device_types(), manager.config_sections())
    on_bus = EventRecorder()
    async with Hub(config, manager, serve_http=False) as hub:
        hub.bus.subscribe(Event, on_bus.handle)
        intruder = await connect(port, "9999")
        try:
            refused = await intruder.holdup(zone=3)
        finally:
            await intruder.close()
        panel = await connect(port, "4F21")
        try:
            accepted = await panel.holdup(zone=3)
        finally:
            await panel.close()
        (signal,) = await on_bus.wait_for(AlarmSignal)
        await wait_until(
            lambda: any(e.type == "AlarmSignal" for e in read_entries(hub.journal_path))
        )
    assert (refused.kind, accepted.kind) == ("NAK", "ACK")
    assert is_nak_with_the_receivers_time(refused.raw)
    assert (signal.device, signal.zone, signal.kind) == (
        "transmetteur",
        "comptoir",
        AlarmKind.HOLDUP,
    )
    assert b"#4F21" in signal.raw
    journaled = [e.event() for e in read_entries(hub.journal_path) if e.type == "AlarmSignal"]
    assert journaled == [signal]
    assert not [e for e in on_bus.events if b"9999" in getattr(e, "raw", b"")]


async def test_noise_is_a_line_quality_trouble_and_the_next_frame_goes_through(
    build_device: Any, running: Any, recorder: EventRecorder
) -> None:
    """Random bytes with no CR (a port scanner, a wrong protocol): each run too long
    to be a frame is noise, counted with the same burst rule as bad CRCs."""
    device = build_device("sia-dc09", {"host": "127.0.0.1", "port": 0})
    noise = random.Random(9).randbytes(16 * 1024).replace(b"\r", b"")
    async with running(device):
        async with Dc09Simulator("127.0.0.1", device.port) as scanner:
            await scanner.send_unanswered(noise)
            (trouble,) = await recorder.wait_for(AlarmSignal, lambda s: s.code == LINE_QUALITY_CODE)
        async with Dc09Simulator("127.0.0.1", device.port) as sim:
            reply = await sim.holdup(zone=2)
            assert reply.kind == "ACK"
            await recorder.wait_for(AlarmSignal, lambda s: s.kind is AlarmKind.HOLDUP)
    assert (trouble.kind, trouble.restore, trouble.protocol) == (
        AlarmKind.TROUBLE,
        False,
        "sia-dc09",
    )
    assert device.noise >= 5
    assert device.bad_checksum == 0
