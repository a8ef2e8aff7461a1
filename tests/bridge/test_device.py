"""The ``bridge`` device against a board played with the codec on a real pty.

Each test is one rule of firmware-bridge/PROTOCOL.md seen from the hub: the
handshake and the configuration, reliable frames acknowledged and acted on once,
tamper, a newer board refused in words, bad input skipped and counted, supervision
on heartbeats. The real firmware's side is in the end-to-end tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import pytest

import plugins.bridge
from hub.sdk import (
    AlarmKind,
    AlarmSignal,
    DeviceFault,
    LinkLost,
    LinkRestored,
    PanelZone,
    ZoneMap,
)
from hub.testing import EventRecorder, PtyCable, wait_until
from plugins.bridge import codec
from plugins.bridge.settings import BridgeSettings
from tests.bridge.peer import Peer

#: A shop's four inputs: the counter's hold-up button, a door, a supervised hold-up
#: loop, a supervised intrusion loop.
INPUTS = {
    0: "holdup",
    1: {"kind": "intrusion", "inverted": True},
    2: {"kind": "holdup", "supervised": True},
    3: {"kind": "intrusion", "supervised": True},
}
SETTINGS = {"inputs": INPUTS, "reconnect_max": 0.2, "retry_ms": 100}
ZONES = ZoneMap({0: PanelZone("comptoir"), 1: PanelZone("entree"), 2: PanelZone("coffre")})


@pytest.fixture
def ecrin_plugins() -> Sequence[ModuleType]:
    return [plugins.bridge]


@pytest.fixture
def bridge(pty_cable: PtyCable, build_device: Any) -> Any:
    return build_device("bridge", {"port": pty_cable.path, **SETTINGS}, "pont", zone_map=ZONES)


async def test_handshake_configures_the_board_from_the_settings(
    pty_cable: PtyCable, bridge: Any, running: Any
) -> None:
    peer = Peer(pty_cable)
    async with running(bridge):
        await peer.handshake()
        (configure,) = await peer.expect(codec.CONFIGURE)
    config = codec.parse_configure(configure.payload)
    assert config.heartbeat_ms == 1000
    assert config.retry_ms == 100
    assert list(config.modes) == [
        codec.ROLE_HOLDUP,
        codec.ROLE_INPUT | codec.MODE_INVERTED,
        codec.ROLE_HOLDUP | codec.MODE_SUPERVISED,
        codec.ROLE_INPUT | codec.MODE_SUPERVISED,
    ]
    assert bridge.decoder.in_session


async def test_configure_is_sent_again_until_acknowledged(
    pty_cable: PtyCable, bridge: Any, running: Any
) -> None:
    peer = Peer(pty_cable)
    async with running(bridge):
        await peer.handshake()
        first, second = await peer.expect(codec.CONFIGURE, count=2)
        assert (second.seq, second.payload) == (first.seq, first.payload)
        await peer.ack(first)
        await wait_until(lambda: bridge.decoder.pending == 0)
        # The board's period is the configured one now: supervision follows it.
        assert bridge.decoder.period_ms == 1000


async def test_a_refused_configuration_is_not_sent_again(
    pty_cable: PtyCable, bridge: Any, running: Any, caplog: pytest.LogCaptureFixture
) -> None:
    peer = Peer(pty_cable)
    async with running(bridge):
        await peer.handshake()
        (configure, *_) = await peer.expect(codec.CONFIGURE)
        buf = bytearray(codec.ERROR_SIZE)
        codec.pack_error(buf, 0, codec.ERR_BAD_CONFIG, codec.CONFIGURE, configure.seq, 2)
        await peer.send(codec.ERROR, bytes(buf))
        await wait_until(lambda: bridge.decoder.pending == 0)
    assert "refused its configuration at input 2" in caplog.text


async def test_holdup_before_the_handshake_waits_and_arrives_once(
    pty_cable: PtyCable, bridge: Any, running: Any, recorder: EventRecorder
) -> None:
    """The board started first: its hold-up is not acknowledged until the handshake,
    and its retransmission after it is acted on once."""
    peer = Peer(pty_cable)
    async with running(bridge):
        seq = await peer.holdup(0)
        await peer.heartbeat(bytes([codec.ALARM, 0, 0, 0]))
        await wait_until(lambda: bridge.decoder.before_handshake == 2)
        assert not peer.of_type(codec.ACK)
        assert not recorder.of_type(AlarmSignal)
        await peer.handshake()
        await peer.holdup(0, seq=seq)  # sent again, same number
        (ack,) = await peer.expect(codec.ACK)
        await peer.holdup(0, seq=seq)  # the acknowledgement was lost: again
        await peer.expect(codec.ACK, count=2)
        (signal,) = await recorder.wait_for(AlarmSignal)
    assert codec.parse_ack(ack.payload) == (codec.HOLDUP, seq)
    assert (signal.kind, signal.restore, signal.panel_zone) == (AlarmKind.HOLDUP, False, 0)
    assert ZONES.apply(signal).zone == "comptoir"  # the hub applies the device's zone map
    assert signal.protocol == "bridge"
    assert signal.raw.startswith(b"\x00")
    assert bridge.decoder.seqs.duplicates == 1
    assert len(recorder.of_type(AlarmSignal)) == 1


async def test_panic_kind_and_restore(
    pty_cable: PtyCable, build_device: Any, running: Any, recorder: EventRecorder
) -> None:
    device = build_device(
        "bridge", {"port": pty_cable.path, "inputs": {0: "panic", 1: "off"}, "reconnect_max": 0.2}
    )
    peer = Peer(pty_cable)
    async with running(device):
        await peer.handshake()
        await peer.holdup(0, codec.ALARM)
        await peer.holdup(0, codec.NORMAL)
        await peer.input(1, codec.ALARM)  # switched off in the shop file: nothing
        await peer.expect(codec.ACK, count=2)
        signals = await recorder.wait_for(AlarmSignal, count=2)
    assert [(s.kind, s.restore) for s in signals] == [
        (AlarmKind.PANIC, False),
        (AlarmKind.PANIC, True),
    ]
    assert all(s.life_safety for s in signals)


async def test_cut_and_short_loops_are_tamper(
    pty_cable: PtyCable, bridge: Any, running: Any, recorder: EventRecorder
) -> None:
    peer = Peer(pty_cable)
    async with running(bridge):
        await peer.handshake()
        await peer.tamper(2, codec.CUT)
        await peer.tamper(2, codec.NORMAL)
        await peer.tamper(3, codec.SHORT)
        await peer.expect(codec.ACK, count=3)
        signals = await recorder.wait_for(AlarmSignal, count=3)
    assert [(s.kind, s.restore, s.panel_zone, s.code) for s in signals] == [
        (AlarmKind.TAMPER, False, 2, "tamper cut"),
        (AlarmKind.TAMPER, True, 2, "tamper normal"),
        (AlarmKind.TAMPER, False, 3, "tamper short"),
    ]


async def test_a_lost_input_frame_is_told_by_the_next_heartbeat(
    pty_cable: PtyCable, bridge: Any, running: Any, recorder: EventRecorder
) -> None:
    peer = Peer(pty_cable)
    async with running(bridge):
        await peer.handshake()
        await peer.heartbeat(bytes(4))
        await peer.heartbeat(bytes([0, codec.ALARM, 0, 0]))  # the INPUT frame was lost
        await peer.input(1, codec.ALARM)  # ... or late: already told
        await peer.input(1, codec.NORMAL)
        signals = await recorder.wait_for(AlarmSignal, count=2)
    assert [(s.kind, s.restore, ZONES.apply(s).zone) for s in signals] == [
        (AlarmKind.BURGLARY, False, "entree"),
        (AlarmKind.BURGLARY, True, "entree"),
    ]


async def test_a_newer_board_is_refused_in_words(
    pty_cable: PtyCable, bridge: Any, running: Any, recorder: EventRecorder
) -> None:
    peer = Peer(pty_cable, max_version=3, min_version=2)
    async with running(bridge):
        await peer.hello()
        (fault,) = await recorder.wait_for(DeviceFault)
        await peer.expect(codec.HELLO, count=2)  # the hub's HELLO says what it speaks
        peer.version = 2
        await peer.holdup(0)
        (error,) = await peer.expect(codec.ERROR)
    assert fault.reason == (
        "the bridge speaks protocol versions 2..3, this hub speaks 1..1: update the hub"
    )
    assert codec.parse_error(error.payload).code == codec.ERR_VERSION
    assert error.version == 1
    assert not recorder.of_type(AlarmSignal)
    assert not peer.of_type(codec.ACK)
    assert bridge.decoder.frames.bad_version == 1


async def test_bad_input_is_skipped_counted_and_answered(
    pty_cable: PtyCable, bridge: Any, running: Any, recorder: EventRecorder
) -> None:
    peer = Peer(pty_cable)
    async with running(bridge):
        await peer.handshake()
        await pty_cable.write(b"\x00garbage\xff\xfe" * 3)
        wire = bytearray(codec.encode_frame(codec.HEARTBEAT, 50, bytes(15)))
        wire[3] ^= 0xFF  # a bad CRC
        await pty_cable.write(bytes(wire))
        await peer.send(0x7F, b"new")  # a type this hub does not know
        await peer.send(codec.HOLDUP, b"\x00")  # a malformed payload
        await pty_cable.write(b"\x01" * 300)  # longer than any frame
        seq = await peer.holdup(0)
        (signal,) = await recorder.wait_for(AlarmSignal, lambda s: s.kind is AlarmKind.HOLDUP)
        errors = await peer.expect(codec.ERROR, count=2)
    assert signal.kind is AlarmKind.HOLDUP
    # Its evidence is its own bytes on the wire, nothing of the noise before it.
    assert signal.raw == codec.encode_frame(codec.HOLDUP, seq, peer.change(0, codec.ALARM))
    assert [codec.parse_error(e.payload).code for e in errors] == [
        codec.ERR_UNKNOWN_TYPE,
        codec.ERR_BAD_PAYLOAD,
    ]
    counters = bridge.protocol_counters()
    assert counters["bad_crc"] == 1
    assert counters["oversize"] == 1
    assert counters["unknown_type"] == 1
    assert counters["bad_cobs"] + counters["short"] >= 1
    assert counters["resyncs"] >= 1
    assert bridge.bad_checksum == 1
    assert bridge.noise >= 2
    assert bridge.rejected >= 5
    assert len(recorder.of_type(AlarmSignal, lambda s: s.kind is AlarmKind.HOLDUP)) == 1
    assert bridge.decoder.seqs.jumps == 0


async def test_repeats_are_skipped_and_jumps_counted(
    pty_cable: PtyCable, bridge: Any, running: Any, recorder: EventRecorder
) -> None:
    peer = Peer(pty_cable)
    async with running(bridge):
        await peer.handshake()
        seq = await peer.input(1, codec.ALARM)
        await peer.input(1, codec.NORMAL, seq=seq)  # a repeated number: skipped
        peer.seq += 10  # ten frames lost on the line
        await peer.input(1, codec.NORMAL)
        signals = await recorder.wait_for(AlarmSignal, count=2)
    assert [s.restore for s in signals] == [False, True]
    assert bridge.decoder.seqs.repeats == 1
    assert (bridge.decoder.seqs.jumps, bridge.decoder.seqs.missed) == (1, 10)


async def test_heartbeats_stopping_is_link_lost_and_noise_does_not_hide_it(
    pty_cable: PtyCable, build_device: Any, running: Any, recorder: EventRecorder
) -> None:
    settings = {"port": pty_cable.path, "heartbeat": 0.2, "inputs": {0: "holdup"}}
    device = build_device("bridge", settings)
    peer = Peer(pty_cable, heartbeat_ms=200)
    async with running(device):
        await peer.handshake()
        (configure,) = await peer.expect(codec.CONFIGURE)
        await peer.ack(configure)
        await wait_until(lambda: device.decoder.pending == 0)
        assert device.health.silence == pytest.approx(0.6)  # three periods
        # The board dies; the line still carries noise.
        async with asyncio.timeout(10):
            while not recorder.of_type(LinkLost):
                await pty_cable.write(b"\x05noise")
                await asyncio.sleep(0.05)
        (lost,) = recorder.of_type(LinkLost)
        await peer.heartbeat(b"\x00")
        await recorder.wait_for(LinkRestored)
    assert "0.6 s" in lost.reason


def test_the_settings_refuse_bad_inputs(build_device: Any) -> None:
    with pytest.raises(ValueError) as refused:
        build_device(
            "bridge",
            {
                "port": "/dev/null",
                "inputs": {0: "doorbell", 1: {"kind": "holdup", "loud": True}, 40: "holdup"},
            },
        )
    text = str(refused.value)
    assert "settings.inputs[0]: unknown input kind 'doorbell'" in text
    assert "settings.inputs[1].loud: unknown key" in text
    assert "settings.inputs[40]: an input number goes from 0 to 31" in text


def test_settings_defaults() -> None:
    settings = BridgeSettings(port="/dev/ttyACM0")
    assert (settings.baudrate, settings.heartbeat_ms, settings.specs()) == (115200, 1000, {})
