"""The shop's serial line, end to end: what a panel sends while the hub is not reading
reaches the referent once the hub is up, and noise on the line is reported without
losing the hold-up that follows it.

The hub is the real one of ``tests/e2e/conftest.py`` (its YAML file, plugins, journal,
outbox and referent API), the panel a DSC IT-100 simulated on a raw pseudo-terminal.
The cable keeps its own descriptor on the hub's end, as a port held open across a
restart would, so the kernel holds what the panel writes before the hub opens it.
"""

from __future__ import annotations

import asyncio
import random
import signal
from pathlib import Path

from hub.events import AlarmKind, AlarmSignal, Event
from hub.testing import EventRecorder
from hub.transports.pty import PtyCable
from plugins.panels.devices import LINE_QUALITY_CODE
from plugins.panels.simulators import It100Simulator
from tests.e2e.conftest import MakeShop
from tests.escalation.conftest import SECRET_37, Receiver, Request, free_port
from tests.escalation.test_kill import journaled_holdups, start_hub


def holdup_created(request: Request) -> bool:
    return request.event == "escalation.created" and request.data["kind"] == "holdup"


async def test_a_holdup_sent_before_the_hub_opened_the_port_reaches_the_referent(
    make_shop: MakeShop,
) -> None:
    """The panel presses a hold-up while the hub is restarting (not yet reading)."""

    async def holdup_while_the_hub_is_down(panel: It100Simulator) -> None:
        await panel.zone_alarm(zone=5)

    async with make_shop(before_hub=holdup_while_the_hub_is_down) as shop:
        (request,) = await shop.referent.wait_for(holdup_created)
    assert request.verified
    assert (request.data["kind"], request.data["zone"]["id"]) == ("holdup", "comptoir")


async def test_noise_on_the_line_is_a_line_quality_trouble_and_the_next_holdup_gets_through(
    make_shop: MakeShop,
) -> None:
    """Random bytes, as a wrong baud rate or a broken cable make, then a hold-up."""
    noise = random.Random(9).randbytes(64 * 1024)
    async with make_shop() as shop:
        on_bus = EventRecorder()
        shop.hub.bus.subscribe(Event, on_bus.handle)
        await shop.panel.send(noise + b"\r\n")
        (trouble,) = await on_bus.wait_for(
            AlarmSignal, lambda s: s.code == LINE_QUALITY_CODE, timeout=30
        )
        await shop.panel.zone_alarm(zone=5)
        (request,) = await shop.referent.wait_for(holdup_created, timeout=30)
        (holdup,) = await on_bus.wait_for(AlarmSignal, lambda s: s.kind is AlarmKind.HOLDUP)
    assert (trouble.kind, trouble.restore, trouble.device) == (AlarmKind.TROUBLE, False, "centrale")
    assert request.verified
    assert (holdup.zone, request.data["zone"]["id"]) == ("comptoir", "comptoir")


RESTART_CONFIG = """\
site:
  name: Bijouterie Marchal
  address: 14 rue Nationale, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {{id: comptoir, name: Comptoir, risk: high}}
devices:
  - id: centrale
    type: dsc-it100
    settings: {{port: "{port}", poll_interval: 0}}
    zones:
      5: {{zone: comptoir, type: holdup}}
contacts:
  - id: referent-37
    name: Référent sûreté
    role: local_referent
    webhook: {{url: "{url}", secret: !secret referent}}
escalation:
  ladder: [{{contacts: [referent-37], ack_deadline: 300}}]
  fold_window: 0
  webhook: {{timeout: 1, backoff_initial: 0.05, backoff_max: 0.3}}
  high_stock: {{calendar: false}}  # today's date must decide nothing here
http: {{port: {http_port}}}
journal: {{path: journal.db}}
"""


async def test_holdups_sent_while_the_hub_was_killed_reach_the_referent_after_the_restart(
    tmp_path: Path, pty_cable: PtyCable
) -> None:
    """``ecrin run`` is killed (``kill -9``) after opening the port, and started again
    after the panel has pressed three hold-ups. The cable holds the port open meanwhile,
    as another process holding it would, so the kernel keeps what the panel sent: all
    of it is escalated."""
    receiver = await Receiver(SECRET_37).start()
    (tmp_path / "secrets.yaml").write_text(f"referent: {SECRET_37}\n", encoding="utf-8")
    config = tmp_path / "shop.yaml"
    config.write_text(
        RESTART_CONFIG.format(port=pty_cable.path, url=receiver.url, http_port=free_port()),
        encoding="utf-8",
    )
    log = tmp_path / "hub.log"

    def escalations() -> set[str]:
        return {r.data["id"] for r in receiver.delivered() if holdup_created(r)}

    async def delivered(count: int) -> None:
        async with asyncio.timeout(30):
            while len(escalations()) < count:
                assert process.poll() is None, log.read_text()
                await receiver.wait_for(count=len(receiver.requests) + 1, timeout=30)

    async with It100Simulator(pty_cable) as panel:
        process = start_hub(config, log)
        try:
            await panel.wait_command("001", timeout=30)  # the hub has opened the port
            process.send_signal(signal.SIGKILL)
            await asyncio.to_thread(process.wait, 10)
            for _ in range(3):  # the hub is down: nothing reads the port
                await panel.zone_alarm(zone=5)
            process = start_hub(config, log)
            await panel.wait_command("001", count=2, timeout=30)
            await delivered(3)
            process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(process.wait, 10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
            await receiver.stop()
    assert journaled_holdups(tmp_path / "journal.db") == 3
    assert all(r.verified for r in receiver.requests)
