"""A Vista panel through an AlarmDecoder, end to end over a real pseudo-terminal."""

from __future__ import annotations

from typing import Any

from hub.events import AlarmKind, AlarmSignal, LinkLost, LinkRestored, PanelState
from hub.testing import EventRecorder
from hub.transports.pty import PtyCable
from plugins.panels.devices import LINE_QUALITY_CODE
from plugins.panels.panel_events import KeypadState
from plugins.panels.simulators import Ad2Simulator
from tests.panels.conftest import FAST


async def test_holdup_duress_and_panic_from_lrr_reports(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    device = build_device("ad2", {"port": pty_cable.path, **FAST})
    async with Ad2Simulator(pty_cable) as panel, running(device):
        await panel.holdup(zone=4)
        await panel.duress(user=12)
        await panel.panic(zone=9, partition=2)
        await recorder.wait_for(AlarmSignal, count=3)
    holdup, duress, panic = recorder.of_type(AlarmSignal)
    assert (holdup.kind, holdup.panel_zone, holdup.code, holdup.protocol) == (
        AlarmKind.HOLDUP,
        4,
        "122",
        "ad2",
    )
    assert (duress.kind, duress.user) == (AlarmKind.DURESS, 12)
    assert (panic.kind, panic.panel_zone, panic.partition) == (AlarmKind.PANIC, 9, 2)
    assert all(s.life_safety for s in (holdup, duress, panic))


async def test_keypad_states_are_reported_on_change_only(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    device = build_device("ad2", {"port": pty_cable.path, **FAST})
    async with Ad2Simulator(pty_cable) as panel, running(device):
        await panel.disarmed()
        await panel.disarmed()  # the same keypad message again: no new state
        await panel.armed_away()
        states = await recorder.wait_for(PanelState, count=2)
        await recorder.wait_until(lambda: device.frames == 3)
    assert [s.state for s in states] == ["disarmed", "armed_away"]
    assert all(isinstance(s, KeypadState) for s in states)
    assert len(recorder.of_type(PanelState)) == 2


async def test_garbage_then_a_good_line_and_a_burst_of_bad_lines(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    device = build_device("ad2", {"port": pty_cable.path, "bad_frame_burst": 3, **FAST})
    async with Ad2Simulator(pty_cable) as panel, running(device):
        await panel.garbage(30)
        await panel.holdup(zone=1)
        await recorder.wait_for(AlarmSignal, lambda s: s.kind is AlarmKind.HOLDUP)
        assert device.rejected == 1
        assert not recorder.of_type(AlarmSignal, lambda s: s.code == LINE_QUALITY_CODE)
        for _ in range(3):
            await panel.send_line(b'[00100001000000000A--],00,[f70000ff],"ARMED ***AW')
        (trouble,) = await recorder.wait_for(AlarmSignal, lambda s: s.code == LINE_QUALITY_CODE)
    assert (trouble.kind, trouble.restore, trouble.protocol) == (AlarmKind.TROUBLE, False, "ad2")
    assert device.rejected == 4


async def test_keypad_refresh_keeps_the_link_up_and_silence_is_lost(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    device = build_device("ad2", {"port": pty_cable.path, "supervision_interval": 0.4, **FAST})
    async with Ad2Simulator(pty_cable, refresh=0.05) as panel, running(device):
        await panel.disarmed()
        await recorder.wait_until(lambda: device.frames >= 12)  # 0.6 s of keypad repeats
        assert not recorder.of_type(LinkLost)
        panel.go_silent()
        (lost,) = await recorder.wait_for(LinkLost)
        assert "no data for 0.4 s" in lost.reason
        panel.resume()
        await recorder.wait_for(LinkRestored)


async def test_unplug_and_replug(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    device = build_device("ad2", {"port": pty_cable.path, **FAST})
    async with Ad2Simulator(pty_cable) as panel, running(device):
        panel.unplug()
        await recorder.wait_for(LinkLost)
        panel.replug()
        await recorder.wait_for(LinkRestored)
        await panel.holdup(zone=2)
        await recorder.wait_for(AlarmSignal)
    assert device.reconnects == 1
    assert [type(e) for e in recorder.events] == [LinkLost, LinkRestored, AlarmSignal]
