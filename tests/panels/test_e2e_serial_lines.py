"""What a serial line does under a panel device, over real pseudo-terminals: nothing
the kernel held is lost to a reopening.

The protocol end-to-end tests (``test_e2e_*.py``) cover each protocol's frames; these
cover what all the serial panels share.
"""

from __future__ import annotations

from typing import Any

from hub.events import AlarmKind, AlarmSignal, LinkLost, LinkRestored
from hub.transports.pty import PtyCable
from plugins.panels.simulators import It100Simulator
from tests.panels.conftest import FAST
from tests.transports.sink import EventSink

#: The IT-100 without its poll and status request, so that only the panel talks.
QUIET_IT100 = {"poll_interval": 0.0, "status_request": False, **FAST}


async def test_a_duress_sent_while_the_port_was_away_is_decoded_after_the_reopening(
    cable: PtyCable, sink: EventSink, build_device: Any, running: Any
) -> None:
    """The replug case: the new adapter is there and the panel talks before the device
    has reopened the port."""
    device = build_device("dsc-it100", {"port": cable.path, **QUIET_IT100})
    async with It100Simulator(cable) as panel, running(device):
        panel.unplug()
        await sink.wait_for(LinkLost)
        panel.replug()
        await panel.duress(user=40)  # written at once, before the device could reopen
        assert not sink.of_type(LinkRestored)
        (duress,) = await sink.wait_for(AlarmSignal)
    assert duress.kind is AlarmKind.DURESS
    assert [type(e) for e in sink.events] == [LinkLost, LinkRestored, AlarmSignal]
    assert device.reconnects == 1
