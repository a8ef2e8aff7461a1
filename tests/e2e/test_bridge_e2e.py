"""The firmware bridge, end to end: the real firmware to the referent's server.

Each test runs the real firmware (firmware-bridge/) on the real MicroPython
interpreter, its pins driven through the host's ``machine`` stand-in, its UART relayed
to a pseudo-terminal that the real hub of a shop opens as a ``bridge`` device: the
shop's YAML file, the plugins from their entry points, the journal on disk, the
escalation engine, and the contacts' webhook receivers on loopback.

The board's heartbeat is configured to 0.2 s by the hub, so three periods of silence
are 0.6 s; every wait is for a condition, with a bound.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hub.app import Hub
from hub.config import load_config
from hub.devices import DeviceContext, DeviceType
from hub.escalation.webhooks import verify_signature
from hub.events import AlarmKind, AlarmSignal, Event, LinkLost, LinkRestored
from hub.journal import read_entries
from hub.plugins import PluginManager
from hub.testing import wait_until
from hub.transports.pty import PtyCable
from plugins.bridge.board import FirmwareBoard
from plugins.bridge.device import BridgeDevice
from tests.bridge.micropython import FIRMWARE, tool
from tests.e2e.conftest import INTERLOCUTOR, REFERENT, write_shop
from tests.escalation.conftest import SECRET_37, Receiver

#: The shop's bridge: the inputs of firmware-bridge/boards/pico.json, and their zones.
BRIDGE = """\
devices:
  - id: pont
    type: bridge
    settings:
      port: "{port}"
      heartbeat: 0.2
      retry_ms: 200
      reconnect_max: 0.2
      inputs:
        0: holdup
        1: {{kind: intrusion, inverted: true}}
        2: {{kind: holdup, supervised: true}}
        3: {{kind: intrusion, supervised: true}}
    zones:
      0: {{zone: comptoir, type: holdup}}
      1: vitrine
      2: {{zone: vitrine, type: holdup}}
      3: vitrine
"""

HOLDUP_INPUT = 0
LOOP_INPUT = 2


@dataclass
class BridgeShop:
    """A running hub, the firmware board on its serial line, and the referent."""

    hub: Hub
    board: FirmwareBoard
    devices: list[BridgeDevice]
    referent: Receiver

    @property
    def device(self) -> BridgeDevice:
        """The bridge device the hub built last (it builds one again after a crash)."""
        return self.devices[-1]

    def events(
        self, kind: type[Event], where: Callable[[Any], bool] = lambda _e: True
    ) -> list[Any]:
        """The journal's events of a type, oldest first."""
        found = [e.event() for e in read_entries(self.hub.journal_path)]
        return [e for e in found if isinstance(e, kind) and where(e)]

    async def wait_events(
        self,
        kind: type[Event],
        where: Callable[[Any], bool] = lambda _e: True,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[Any]:
        await wait_until(lambda: len(self.events(kind, where)) >= count, timeout)
        return self.events(kind, where)

    async def in_session(self) -> None:
        """Wait for the handshake and the board's acknowledgement of its configuration."""
        await wait_until(lambda: bool(self.devices) and self.device.decoder.in_session, 15.0)
        await wait_until(lambda: self.device.decoder.pending == 0, 10.0)


def holdups(signal: AlarmSignal) -> bool:
    return signal.kind is AlarmKind.HOLDUP and not signal.restore


def capturing(device_type: DeviceType, made: list[BridgeDevice]) -> DeviceType:
    """The device type with a factory that keeps what it built, for the counters."""

    def factory(ctx: DeviceContext) -> BridgeDevice:
        device = BridgeDevice(ctx)
        made.append(device)
        return device

    return dataclasses.replace(device_type, factory=factory, schema={})


@pytest.fixture
def firmware() -> Path:
    """The firmware's directory, once the MicroPython interpreter is known to be here."""
    tool("micropython")
    if not (FIRMWARE / "main.py").exists():
        pytest.fail(f"the bridge firmware is missing from {FIRMWARE}")
    return FIRMWARE


@pytest.fixture
def bridge_shop(
    tmp_path: Path, pty_cable: PtyCable, receivers: dict[str, Receiver], firmware: Path
) -> Callable[..., Any]:
    @asynccontextmanager
    async def running(*, before_hub: Any = None) -> AsyncIterator[BridgeShop]:
        for receiver in receivers.values():
            await receiver.start()
        path, _tokens = write_shop(
            tmp_path, pty_cable.path, receivers[REFERENT], receivers[INTERLOCUTOR]
        )
        text = path.read_text(encoding="utf-8")
        text = re.sub(
            r"^devices:\n.*?(?=^contacts:)",
            lambda _m: BRIDGE.format(port=pty_cable.path),
            text,
            flags=re.M | re.S,
        )
        path.write_text(text, encoding="utf-8")
        manager = PluginManager()
        manager.load_entry_points()
        assert not manager.errors, manager.errors
        types = manager.device_types()
        made: list[BridgeDevice] = []
        types["bridge"] = capturing(types["bridge"], made)
        config = load_config(path, types, manager.config_sections())
        async with FirmwareBoard(pty_cable, tmp_path / "board", firmware=firmware) as board:
            if before_hub is not None:
                await before_hub(board)
            async with Hub(config, manager, types, http_port=0) as hub:
                shop = BridgeShop(hub, board, made, receivers[REFERENT])
                await shop.in_session()
                yield shop

    return running


async def test_pressing_the_holdup_input_is_one_signal_and_one_escalation(
    bridge_shop: Callable[..., Any],
) -> None:
    async with bridge_shop() as shop:
        await shop.board.press(HOLDUP_INPUT)
        (request,) = await shop.referent.wait_for(
            lambda r: r.event == "escalation.created", timeout=10
        )
        await shop.board.release(HOLDUP_INPUT)
        await shop.wait_events(AlarmSignal, lambda s: s.kind is AlarmKind.HOLDUP and s.restore)
        signals = shop.events(AlarmSignal, holdups)
    assert verify_signature(SECRET_37, request.signature, request.body, time.time())
    assert (request.data["kind"], request.data["zone"]["id"]) == ("holdup", "comptoir")
    assert [(s.device, s.panel_zone, s.zone, s.protocol) for s in signals] == [
        ("pont", HOLDUP_INPUT, "comptoir", "bridge")
    ]
    assert [r.event for r in shop.referent.requests] == ["escalation.created"]


async def test_an_unacknowledged_holdup_is_sent_again_and_arrives_once(
    bridge_shop: Callable[..., Any],
) -> None:
    async with bridge_shop() as shop:
        shop.board.withhold_acks = 2  # the line loses the hub's first two acknowledgements
        await shop.board.press(HOLDUP_INPUT)
        await wait_until(lambda: shop.board.withheld == 2, 10.0)
        # Each lost acknowledgement made the board send the same frame again.
        await wait_until(lambda: shop.device.decoder.seqs.duplicates >= 2, 10.0)
        await wait_until(lambda: shop.device.decoder.heartbeat is not None, 10.0)
        await wait_until(lambda: shop.device.protocol_counters()["board_pending"] == 0, 10.0)
        await shop.referent.wait_for(lambda r: r.event == "escalation.created", timeout=10)
        signals = shop.events(AlarmSignal, holdups)
    assert len(signals) == 1
    assert len(shop.referent.requests) == 1


async def test_a_holdup_pressed_before_the_hub_starts_is_not_lost(
    bridge_shop: Callable[..., Any],
) -> None:
    async def press_first(board: FirmwareBoard) -> None:
        await board.press(HOLDUP_INPUT)

    async with bridge_shop(before_hub=press_first) as shop:
        (signal,) = await shop.wait_events(AlarmSignal, holdups)
        await shop.referent.wait_for(lambda r: r.event == "escalation.created", timeout=10)
    assert signal.zone == "comptoir"


@pytest.mark.parametrize(("how", "code"), [("cut", "tamper cut"), ("short", "tamper short")])
async def test_a_cut_or_shorted_loop_is_tamper(
    bridge_shop: Callable[..., Any], how: str, code: str
) -> None:
    async with bridge_shop() as shop:
        await getattr(shop.board, how)(LOOP_INPUT)
        (tamper,) = await shop.wait_events(AlarmSignal, lambda s: s.kind is AlarmKind.TAMPER)
        await shop.board.release(LOOP_INPUT)
        await shop.wait_events(AlarmSignal, lambda s: s.kind is AlarmKind.TAMPER, count=2)
        restored = shop.events(AlarmSignal, lambda s: s.kind is AlarmKind.TAMPER)[1]
        alarms = shop.events(AlarmSignal, lambda s: s.kind is AlarmKind.HOLDUP)
    assert (tamper.code, tamper.restore, tamper.panel_zone, tamper.zone) == (
        code,
        False,
        LOOP_INPUT,
        "vitrine",
    )
    assert restored.restore
    assert alarms == []  # tamper, not a hold-up


async def test_killing_the_firmware_loses_the_link_and_restarting_it_restores_it(
    bridge_shop: Callable[..., Any],
) -> None:
    async with bridge_shop() as shop:
        await shop.board.kill()
        (lost,) = await shop.wait_events(LinkLost, lambda e: e.device == "pont")
        await shop.board.start()
        await shop.wait_events(LinkRestored, lambda e: e.device == "pont")
        await shop.in_session()  # greeted and configured again
        await shop.board.press(HOLDUP_INPUT)
        await shop.wait_events(AlarmSignal, holdups)
    assert lost.reason == "no data for 0.6 s"  # three heartbeat periods of 0.2 s
    assert shop.board.starts == 2


async def test_garbage_on_the_line_is_skipped(bridge_shop: Callable[..., Any]) -> None:
    async with bridge_shop() as shop:
        for _ in range(3):
            await shop.board.garbage(200)
        await wait_until(lambda: shop.device.protocol_counters()["skipped"] >= 450, 10.0)
        await shop.board.press(HOLDUP_INPUT)
        (signal,) = await shop.wait_events(AlarmSignal, holdups)
        counters = shop.device.protocol_counters()
    assert signal.zone == "comptoir"
    assert counters["resyncs"] >= 1
    assert counters["oversize"] >= 1  # no 0x00 in the noise: runs longer than any frame
    assert shop.device.noise >= 1
    assert shop.events(LinkLost) == []
