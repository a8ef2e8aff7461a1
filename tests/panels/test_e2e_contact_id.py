"""A Contact ID receiver's computer port, end to end over a real pseudo-terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.events import AlarmKind, AlarmSignal, LinkLost, LinkRestored
from hub.testing import EventRecorder
from hub.transports.pty import PtyCable
from plugins.panels.devices import LINE_QUALITY_CODE
from plugins.panels.simulators import ContactIdSimulator
from tests.panels.conftest import FAST


def signals(recorder: EventRecorder, code: str) -> list[AlarmSignal]:
    return recorder.of_type(AlarmSignal, lambda s: s.code == code)


async def test_holdup_duress_and_panic_are_decoded(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    device = build_device("contact-id", {"port": pty_cable.path, **FAST})
    async with ContactIdSimulator(pty_cable) as receiver, running(device):
        await receiver.holdup(zone=5)
        await receiver.duress(user=3)
        await receiver.panic(zone=7, partition=2)
        await receiver.restore(122, zone=5)
        await recorder.wait_for(AlarmSignal, count=4)
    holdup, duress, panic, restore = recorder.of_type(AlarmSignal)
    assert (holdup.kind, holdup.panel_zone, holdup.code, holdup.restore) == (
        AlarmKind.HOLDUP,
        5,
        "122",
        False,
    )
    assert holdup.device == "centrale"
    assert holdup.protocol == "contact-id"
    assert holdup.raw.startswith(b"1234 18 1122 01 005")
    assert holdup.life_safety
    assert (duress.kind, duress.user, duress.panel_zone) == (AlarmKind.DURESS, 3, None)
    assert (panic.kind, panic.panel_zone, panic.partition) == (AlarmKind.PANIC, 7, 2)
    assert (restore.kind, restore.restore) == (AlarmKind.HOLDUP, True)
    assert device.frames == 4
    assert device.events == 4
    assert device.rejected == 0


async def test_garbage_then_a_good_frame_is_still_decoded(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    device = build_device("contact-id", {"port": pty_cable.path, **FAST})
    async with ContactIdSimulator(pty_cable) as receiver, running(device):
        await receiver.garbage(64)
        await receiver.garbage(20, terminated=False)  # runs into the next line
        await receiver.holdup(zone=2)
        (signal,) = await recorder.wait_for(AlarmSignal)
        assert (signal.kind, signal.panel_zone) == (AlarmKind.HOLDUP, 2)
        await recorder.wait_until(lambda: device.rejected == 1)
    assert device.bad_checksum == 0


async def test_bad_checksum_is_counted_and_a_burst_is_one_line_quality_trouble(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    device = build_device(
        "contact-id", {"port": pty_cable.path, "bad_frame_burst": 3, "bad_frame_window": 60, **FAST}
    )
    async with ContactIdSimulator(pty_cable) as receiver, running(device):
        await receiver.bad_checksum()
        await receiver.holdup(zone=1)
        await recorder.wait_for(AlarmSignal, lambda s: s.code == "122")
        assert device.bad_checksum == 1
        assert not signals(recorder, LINE_QUALITY_CODE)
        for _ in range(5):
            await receiver.bad_checksum()
        await receiver.holdup(zone=1)
        await recorder.wait_for(AlarmSignal, lambda s: s.code == "122", count=2)
        assert device.bad_checksum == 6
    (trouble,) = signals(recorder, LINE_QUALITY_CODE)  # reported once for the whole burst
    assert (trouble.kind, trouble.restore, trouble.device) == (AlarmKind.TROUBLE, False, "centrale")
    assert trouble.protocol == "contact-id"
    assert device.counters().line_quality_troubles == 1


async def test_unplug_and_replug(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    device = build_device("contact-id", {"port": pty_cable.path, **FAST})
    async with ContactIdSimulator(pty_cable) as receiver, running(device):
        await receiver.holdup(zone=1)
        await recorder.wait_for(AlarmSignal)
        receiver.unplug()
        (lost,) = await recorder.wait_for(LinkLost)
        assert lost.device == "centrale"
        assert pty_cable.path in lost.reason
        receiver.replug()
        await recorder.wait_for(LinkRestored)
        await receiver.duress(user=9)
        await recorder.wait_for(AlarmSignal, lambda s: s.kind is AlarmKind.DURESS)
    assert device.reconnects == 1
    kinds = [type(e).__name__ for e in recorder.events]
    assert kinds == ["AlarmSignal", "LinkLost", "LinkRestored", "AlarmSignal"]


async def test_supervision_reports_a_silent_receiver(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    device = build_device(
        "contact-id", {"port": pty_cable.path, "supervision_interval": 0.3, **FAST}
    )
    async with ContactIdSimulator(pty_cable) as receiver, running(device):
        (lost,) = await recorder.wait_for(LinkLost)
        assert "no data for 0.3 s" in lost.reason
        await receiver.periodic_test()
        await recorder.wait_for(LinkRestored)
        (test,) = await recorder.wait_for(AlarmSignal)
        assert test.kind is AlarmKind.TEST


async def test_a_port_that_cannot_be_opened_is_a_clear_oserror(
    tmp_path: Path, build_device: Any
) -> None:
    port = str(tmp_path / "ttyUSB7")
    device = build_device("contact-id", {"port": port})
    with pytest.raises(OSError, match="No such file or directory") as caught:
        async with device:
            pass
    assert port in str(caught.value)
