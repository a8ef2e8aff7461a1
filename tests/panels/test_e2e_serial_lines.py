"""What a serial line does under a panel device, over real pseudo-terminals: nothing
the kernel held is lost to a reopening, and noise is line-quality trouble.

The protocol end-to-end tests (``test_e2e_*.py``) cover each protocol's frames; these
cover what all the serial panels share: the serial link and the framing's counting.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from hub.events import AlarmKind, AlarmSignal, LinkLost, LinkRestored
from hub.testing import EventRecorder
from hub.transports.pty import PtyCable
from plugins.panels.devices import LINE_QUALITY_CODE
from plugins.panels.simulators import (
    Ad2Simulator,
    ContactIdSimulator,
    It100Simulator,
    SerialPanelSimulator,
)
from tests.panels.conftest import FAST

#: The IT-100 without its poll and status request, so that only the panel talks.
QUIET_IT100 = {"poll_interval": 0.0, "status_request": False, **FAST}

#: Random bytes, as a wrong baud rate or a broken cable deliver them (seeded: the same
#: bytes on every run).
NOISE = random.Random(9).randbytes(64 * 1024)


async def _it100_panic(panel: Any) -> object:
    return await panel.panic_key()


async def _holdup(panel: Any) -> object:
    return await panel.holdup(zone=5)


#: Per device type: its simulator, its settings, how it sends a life-safety signal, and
#: the signal's kind.
PANELS: dict[
    str,
    tuple[
        type[SerialPanelSimulator], dict[str, Any], Callable[[Any], Awaitable[object]], AlarmKind
    ],
] = {
    "dsc-it100": (It100Simulator, QUIET_IT100, _it100_panic, AlarmKind.PANIC),
    "contact-id": (ContactIdSimulator, FAST, _holdup, AlarmKind.HOLDUP),
    "ad2": (Ad2Simulator, FAST, _holdup, AlarmKind.HOLDUP),
}


def line_quality(signal: AlarmSignal) -> bool:
    return signal.code == LINE_QUALITY_CODE


async def test_a_duress_sent_while_the_port_was_away_is_decoded_after_the_reopening(
    pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    """The replug case: the new adapter is there and the panel talks before the device
    has reopened the port."""
    device = build_device("dsc-it100", {"port": pty_cable.path, **QUIET_IT100})
    async with It100Simulator(pty_cable) as panel, running(device):
        panel.unplug()
        await recorder.wait_for(LinkLost)
        panel.replug()
        await panel.duress(user=40)  # written at once, before the device could reopen
        assert not recorder.of_type(LinkRestored)
        (duress,) = await recorder.wait_for(AlarmSignal)
    assert duress.kind is AlarmKind.DURESS
    assert [type(e) for e in recorder.events] == [LinkLost, LinkRestored, AlarmSignal]
    assert device.reconnects == 1


@pytest.mark.parametrize("type_name", sorted(PANELS))
async def test_random_bytes_are_one_line_quality_trouble_and_the_next_alarm_is_decoded(
    type_name: str, pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    simulator, settings, alarm, kind = PANELS[type_name]
    device = build_device(type_name, {"port": pty_cable.path, **settings})
    async with simulator(pty_cable) as panel, running(device):
        await panel.send(NOISE + b"\r\n")
        (trouble,) = await recorder.wait_for(AlarmSignal, line_quality)
        await alarm(panel)
        (signal,) = await recorder.wait_for(AlarmSignal, lambda s: s.kind is kind)
    assert (trouble.kind, trouble.restore, trouble.protocol) == (
        AlarmKind.TROUBLE,
        False,
        type_name,
    )
    assert signal.life_safety
    # One trouble for the whole burst, however many runs of noise it held.
    assert len(recorder.of_type(AlarmSignal, line_quality)) == 1
    assert device.noise > 5
    assert device.counters().line_quality_troubles == 1


@pytest.mark.parametrize("type_name", sorted(PANELS))
async def test_a_stream_with_no_line_end_at_all_is_a_line_quality_trouble(
    type_name: str, pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    """A wrong baud rate can turn every byte into one that is never a line end: the
    framer's dropped runs still count, one per longest-frame length."""
    simulator, settings, alarm, kind = PANELS[type_name]
    device = build_device(type_name, {"port": pty_cable.path, **settings})
    endless = NOISE.replace(b"\r", b"").replace(b"\n", b"")
    async with simulator(pty_cable) as panel, running(device):
        await panel.send(endless)
        await recorder.wait_for(AlarmSignal, line_quality)
        await alarm(panel)
        await recorder.wait_for(AlarmSignal, lambda s: s.kind is kind)


@pytest.mark.parametrize("type_name", sorted(PANELS))
async def test_a_single_glitch_is_counted_but_is_no_trouble(
    type_name: str, pty_cable: PtyCable, recorder: EventRecorder, build_device: Any, running: Any
) -> None:
    """A cable plugged in while the panel talks: one run of garbage, then frames."""
    simulator, settings, alarm, kind = PANELS[type_name]
    device = build_device(type_name, {"port": pty_cable.path, **settings})
    async with simulator(pty_cable) as panel, running(device):
        await panel.garbage(100)
        for _ in range(3):
            await alarm(panel)
        await recorder.wait_for(AlarmSignal, lambda s: s.kind is kind, count=3)
    assert device.noise == 1
    assert not recorder.of_type(AlarmSignal, line_quality)
