"""A DSC panel behind an IT-100, end to end over a real pseudo-terminal."""

from __future__ import annotations

import asyncio
from typing import Any

from hub.events import AlarmKind, AlarmSignal, LinkLost, LinkRestored, PanelState
from hub.testing import EventRecorder
from hub.transports.pty import PtyCable
from plugins.panels.devices import LINE_QUALITY_CODE
from plugins.panels.dsc_it100 import encode_it100, it100_panic
from plugins.panels.panel_events import PanelReply
from plugins.panels.simulators import It100Simulator
from tests.panels.conftest import FAST

#: No poll and no status request: the tests that do not look at them stay quiet.
QUIET = {"poll_interval": 0.0, "status_request": False, **FAST}


async def test_panic_duress_and_zone_alarm_are_decoded(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    device = build_device("dsc-it100", {"port": pty_cable.path, **QUIET})
    async with It100Simulator(pty_cable) as panel, running(device):
        await panel.panic_key()
        await panel.duress(user=40)
        await panel.zone_alarm(zone=12, partition=1)
        await panel.panic_restore()
        await recorder.wait_for(AlarmSignal, count=4)
    panic, duress, zone, restore = recorder.of_type(AlarmSignal)
    assert (panic.kind, panic.code, panic.restore, panic.protocol) == (
        AlarmKind.PANIC,
        "625",
        False,
        "dsc-it100",
    )
    assert panic.life_safety
    assert panic.raw == encode_it100("625").rstrip(b"\r\n")
    assert duress.kind is AlarmKind.DURESS
    assert (zone.kind, zone.panel_zone, zone.partition) == (AlarmKind.BURGLARY, 12, 1)
    assert (restore.kind, restore.restore) == (AlarmKind.PANIC, True)


async def test_arm_and_disarm_are_panel_states(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    device = build_device("dsc-it100", {"port": pty_cable.path, **QUIET})
    async with It100Simulator(pty_cable) as panel, running(device):
        await panel.armed(partition=1, mode=1)
        await panel.disarmed(partition=1)
        states = await recorder.wait_for(PanelState, count=2)
    assert [s.state for s in states] == ["armed_home", "disarmed"]


async def test_poll_is_sent_on_its_timer_and_its_answer_keeps_the_link_up(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    settings = {"poll_interval": 0.1, "supervision_interval": 0.6, "status_request": False}
    device = build_device("dsc-it100", {"port": pty_cable.path, **settings, **FAST})
    async with It100Simulator(pty_cable) as panel, running(device):
        await panel.wait_command("000", count=8)  # eight polls: 0.7 s past the interval
        assert not recorder.of_type(LinkLost)
        assert device.polls_sent >= 8
        # The panel hangs: the hub keeps polling, nothing answers, the link is lost.
        panel.go_silent()
        (lost,) = await recorder.wait_for(LinkLost)
        assert "no data for 0.6 s" in lost.reason
        polls_before = len(panel.commands_named("000"))
        panel.resume()
        await recorder.wait_for(LinkRestored)
        assert len(panel.commands_named("000")) > polls_before
    # The poll's acknowledgements are link chatter, not journal entries.
    assert not recorder.of_type(PanelReply, lambda r: r.command == "000")


async def test_status_request_on_open_and_after_a_replug(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    device = build_device("dsc-it100", {"port": pty_cable.path, "poll_interval": 0.1, **FAST})
    async with It100Simulator(pty_cable) as panel, running(device):
        await panel.wait_command("001")
        (ready,) = await recorder.wait_for(PanelState)
        assert (ready.state, ready.ready) == ("disarmed", True)
        panel.unplug()
        await recorder.wait_for(LinkLost)
        panel.replug()
        await recorder.wait_for(LinkRestored)
        await panel.wait_command("001", count=2)
        await panel.zone_alarm(zone=3)
        await recorder.wait_for(AlarmSignal)
    assert device.reconnects == 1


async def test_garbage_then_a_good_frame_and_bad_checksums(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    device = build_device("dsc-it100", {"port": pty_cable.path, "bad_frame_burst": 3, **QUIET})
    async with It100Simulator(pty_cable) as panel, running(device):
        await panel.garbage(40)
        await panel.garbage(12, terminated=False)  # glued to the front of the next frame
        await panel.panic_key()
        (panic,) = await recorder.wait_for(AlarmSignal)
        assert panic.kind is AlarmKind.PANIC
        assert device.rejected == 2
        assert device.bad_checksum == 0
        for _ in range(3):
            await panel.bad_checksum()
        await panel.zone_alarm(zone=4)
        await recorder.wait_for(AlarmSignal, lambda s: s.panel_zone == 4)
    assert device.bad_checksum == 3
    troubles = recorder.of_type(AlarmSignal, lambda s: s.code == LINE_QUALITY_CODE)
    assert [(t.kind, t.restore) for t in troubles] == [(AlarmKind.TROUBLE, False)]


async def test_unplug_and_replug(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    device = build_device("dsc-it100", {"port": pty_cable.path, **QUIET})
    async with It100Simulator(pty_cable) as panel, running(device):
        panel.unplug()
        await recorder.wait_for(LinkLost)
        panel.replug()
        await recorder.wait_for(LinkRestored)
        await panel.panic_key()
        await recorder.wait_for(AlarmSignal)
    assert [type(e) for e in recorder.events] == [LinkLost, LinkRestored, AlarmSignal]


async def test_writes_are_serialised(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    """Commands written concurrently, with the poll timer writing too, reach the panel
    as whole frames in the order they were made, each acknowledged."""
    device = build_device("dsc-it100", {"port": pty_cable.path, "poll_interval": 0.05, **FAST})
    commands = [encode_it100("071", f"1*{i % 10}#") for i in range(30)] + [it100_panic()]
    async with It100Simulator(pty_cable) as panel, running(device):
        await asyncio.gather(*(device.write(frame) for frame in commands))
        await panel.wait_command("071", count=30)
        await panel.wait_command("060")
        await recorder.wait_for(PanelReply, lambda r: r.command == "060")
    assert panel.bad_frames == []
    sent = [f for f in panel.commands if f.command in {"071", "060"}]
    assert [f.encode() for f in sent] == commands
    assert len(recorder.of_type(PanelReply, lambda r: r.command == "071")) == 30
