"""The hold-up button box: its decoder as a pure function, its device over a real
pseudo-terminal, with Écrin's test kit (recorder, pty_cable, build_device, running)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from hub.sdk import LINE_QUALITY_CODE, AlarmKind, AlarmSignal, LinkLost, LinkRestored
from hub.testing import EventRecorder, PtyCable

from ecrin_holdup_box import PROTOCOL, HoldupBoxDecoder, encode_box

#: A replugged port is found within 0.2 s.
FAST = {"reconnect_max": 0.2}


# -- the decoder: bytes in, events out ---------------------------------------------------


def test_a_press_and_its_release() -> None:
    decoder = HoldupBoxDecoder("box")
    pressed, released = decoder.feed(encode_box("HU 3") + encode_box("RS 3"))
    assert isinstance(pressed, AlarmSignal)
    assert isinstance(released, AlarmSignal)
    assert (pressed.kind, pressed.panel_zone, pressed.restore) == (AlarmKind.HOLDUP, 3, False)
    assert (released.kind, released.panel_zone, released.restore) == (AlarmKind.HOLDUP, 3, True)
    assert pressed.device == "box"
    assert pressed.protocol == PROTOCOL


def test_the_documented_lines() -> None:
    decoder = HoldupBoxDecoder("box")
    events = decoder.feed(b"HU 3*F0\r\nRS 3*F8\r\nTA*95\r\nOK*9A\n")
    assert [(e.kind, e.restore) for e in events if isinstance(e, AlarmSignal)] == [
        (AlarmKind.HOLDUP, False),
        (AlarmKind.HOLDUP, True),
        (AlarmKind.TAMPER, False),
    ]
    assert decoder.stats.frames == 4
    assert decoder.stats.rejected == 0


def test_a_frame_split_anywhere_is_decoded_once() -> None:
    raw = encode_box("HU 42")
    for cut in range(len(raw) + 1):
        decoder = HoldupBoxDecoder("box")
        events = [*decoder.feed(raw[:cut]), *decoder.feed(raw[cut:])]
        assert [e.panel_zone for e in events if isinstance(e, AlarmSignal)] == [42]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"HU 3*00\r\n", "bad checksum"),
        (b"HU 3\r\n", "no checksum"),
        (encode_box("HU 0"), "unknown line"),
        (encode_box("HU 100"), "unknown line"),
        (encode_box("XX 1"), "unknown line"),
    ],
)
def test_a_bad_line_is_counted_and_skipped(line: bytes, reason: str) -> None:
    decoder = HoldupBoxDecoder("box")
    events = decoder.feed(line + encode_box("HU 7"))
    assert [e.panel_zone for e in events if isinstance(e, AlarmSignal)] == [7]
    (rejected,) = decoder.rejects()
    assert reason in rejected.reason
    assert decoder.stats.bad_checksum == (1 if reason == "bad checksum" else 0)


def test_garbage_never_raises_and_the_next_good_line_gets_through() -> None:
    rng = random.Random(20261207)  # seeded: the same bytes on every run
    decoder = HoldupBoxDecoder("box")
    for _ in range(200):
        decoder.feed(rng.randbytes(rng.randrange(1, 64)))
    events = decoder.feed(b"\r\n" + encode_box("HU 5"))
    assert [e.panel_zone for e in events if isinstance(e, AlarmSignal)] == [5]


# -- the device: a real serial line (a pty), built and run as the hub does --------------


async def test_a_holdup_crosses_the_serial_line(
    pty_cable: PtyCable,
    build_device: Callable[..., Any],
    running: Callable[[Any], Any],
    recorder: EventRecorder,
) -> None:
    device = build_device(PROTOCOL, {"port": pty_cable.path, **FAST})
    assert device.settings.supervision_interval == 30.0  # the box's own default
    async with running(device):
        await pty_cable.write(encode_box("OK") + encode_box("HU 2"))
        (signal,) = await recorder.wait_for(AlarmSignal)
    assert (signal.kind, signal.panel_zone, signal.device) == (AlarmKind.HOLDUP, 2, "centrale")
    assert device.counters().frames == 2


async def test_a_burst_of_bad_checksums_is_one_line_quality_trouble(
    pty_cable: PtyCable,
    build_device: Callable[..., Any],
    running: Callable[[Any], Any],
    recorder: EventRecorder,
) -> None:
    device = build_device(PROTOCOL, {"port": pty_cable.path, "bad_frame_burst": 3, **FAST})
    async with running(device):
        await pty_cable.write(b"HU 1*00\r\n" * 4)
        (trouble,) = await recorder.wait_for(AlarmSignal, lambda s: s.code == LINE_QUALITY_CODE)
        await pty_cable.write(encode_box("HU 1"))
        await recorder.wait_for(AlarmSignal, lambda s: s.kind is AlarmKind.HOLDUP)
    assert trouble.kind is AlarmKind.TROUBLE
    assert trouble.protocol == PROTOCOL
    assert device.bad_checksum == 4


async def test_silence_is_a_lost_link_and_a_heartbeat_brings_it_back(
    pty_cable: PtyCable,
    build_device: Callable[..., Any],
    running: Callable[[Any], Any],
    recorder: EventRecorder,
) -> None:
    device = build_device(PROTOCOL, {"port": pty_cable.path, "supervision_interval": 0.3})
    async with running(device):
        (lost,) = await recorder.wait_for(LinkLost)
        await pty_cable.write(encode_box("OK"))
        await recorder.wait_for(LinkRestored)
    assert lost.device == "centrale"


def test_refused_settings_are_reported_as_the_shop_file_would_be(
    build_device: Callable[..., Any],
) -> None:
    with pytest.raises(ValueError, match=r"settings\.port: required setting is missing"):
        build_device(PROTOCOL, {})
