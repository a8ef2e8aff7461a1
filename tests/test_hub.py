"""The hub end to end: configuration, plugins, devices, journal and bus together."""

from __future__ import annotations

import asyncio
import io
import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import pytest

from hub.app import Hub
from hub.cli import config_for_run
from hub.config import load_config
from hub.devices import DeviceContext, DeviceType
from hub.events import (
    AlarmKind,
    AlarmSignal,
    CameraAvailability,
    DeviceFault,
    HubStarted,
    HubStopping,
    PanelState,
)
from hub.hookspecs import hookimpl
from hub.journal import JournalQuarantined, tail, verify_journal
from hub.plugins import PluginManager
from hub.supervisor import Backoff
from hub.testing import EventRecorder

SHOP = """\
site:
  name: Bijouterie Test
  address: 3 rue Nationale, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {id: comptoir, name: Comptoir, risk: high}
  - {id: entree, name: Entrée, risk: medium}
devices:
  - id: panel
    type: sim-panel
    settings: {interval: 0.05, holdup_zone: 5}
    zones:
      5: {zone: comptoir, type: holdup}
    default_zone: entree
{extra}
cameras:
  - id: cam
    type: sim-camera
    zones: [comptoir]
    placement: indoor
    settings: {period: 0.2}
journal:
  path: journal.db
"""


class Unplugged:
    """A device whose port is never there, as a USB adapter left unplugged."""

    def __init__(self, ctx: DeviceContext) -> None:
        self.ctx = ctx

    async def __aenter__(self) -> Unplugged:
        raise OSError(f"cannot open {self.ctx.settings['port']}: No such file or directory")

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def run(self) -> None:
        raise AssertionError("never opened")


class Stuck(Unplugged):
    """A device whose open never ends, as a port that hangs in its driver."""

    async def __aenter__(self) -> Unplugged:
        await asyncio.Event().wait()
        raise AssertionError("never opened")


def unplugged_plugin() -> types.ModuleType:
    module = types.ModuleType("unplugged_plugin")

    @hookimpl
    def register_device_types(register: Callable[[DeviceType], None]) -> None:
        from hub.schema import Setting

        register(DeviceType("usb-panel", Unplugged, {"port": Setting(str, required=True)}))
        register(DeviceType("stuck-panel", Stuck, {"port": Setting(str, required=True)}))

    module.register_device_types = register_device_types  # type: ignore[attr-defined]
    return module


def write_shop(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP.replace("{extra}", textwrap.indent(extra, "  ")))
    return path


def manager(with_unplugged: bool = False) -> PluginManager:
    pm = PluginManager(allow=frozenset({"sim"}))
    pm.load_entry_points()
    if with_unplugged:
        pm.register(unplugged_plugin(), "unplugged")
    return pm


def fast() -> Backoff:
    return Backoff(initial=0.02, maximum=0.1)


async def test_holdup_from_a_device_is_mapped_journaled_then_delivered(tmp_path: Path) -> None:
    pm = manager()
    config = load_config(write_shop(tmp_path), pm.device_types(), pm.config_sections())
    async with Hub(config, pm, backoff=fast) as hub:
        rec = EventRecorder()
        journal_path = hub.journal_path
        seen_in_journal: list[bool] = []

        async def check_journal(event: AlarmSignal) -> None:
            rows = await asyncio.to_thread(tail, journal_path, 1000)
            seen_in_journal.append(any(r.event() == event for r in rows))

        hub.bus.subscribe(AlarmSignal, check_journal, predicate=lambda e: e.life_safety)
        hub.bus.subscribe(AlarmSignal, rec.handle)
        hub.bus.subscribe(CameraAvailability, rec.handle)
        holdups = await rec.wait_for(AlarmSignal, lambda e: not e.restore, count=2)
        await rec.wait_for(CameraAvailability)
        await hub.bus.drain()
    assert {(e.kind, e.zone, e.panel_zone) for e in holdups} == {(AlarmKind.HOLDUP, "comptoir", 5)}
    assert seen_in_journal
    assert all(seen_in_journal)  # every hold-up was in the journal before a subscriber saw it
    result = verify_journal(journal_path)
    assert result.ok, result.reason
    types_in_journal = {type(r.event()) for r in tail(journal_path, 10_000)}
    expected = {HubStarted, PanelState, AlarmSignal, CameraAvailability, HubStopping}
    assert expected <= types_in_journal


async def test_device_that_cannot_open_is_retried_and_others_run(tmp_path: Path) -> None:
    pm = manager(with_unplugged=True)
    extra = "- id: usb\n  type: usb-panel\n  settings: {port: /dev/ttyUSB7}\n"
    config = load_config(write_shop(tmp_path, extra), pm.device_types(), pm.config_sections())
    async with Hub(config, pm, backoff=fast) as hub:
        rec = EventRecorder()
        hub.bus.subscribe(DeviceFault, rec.handle)
        hub.bus.subscribe(AlarmSignal, rec.handle)
        faults = await rec.wait_for(DeviceFault, count=3)
        await rec.wait_for(AlarmSignal, count=3)
    assert {f.device for f in faults} == {"usb"}
    assert all("/dev/ttyUSB7" in f.reason for f in faults)
    assert hub.supervisors["usb"].failures >= 3


async def test_unknown_device_type_skips_that_device_only(tmp_path: Path) -> None:
    pm = manager()
    extra = "- id: ghost\n  type: acme-9000\n  settings: {}\n"
    path = write_shop(tmp_path, extra)
    err = io.StringIO()
    config = config_for_run(path, pm.device_types(), err, pm.config_sections())
    assert config is not None
    lines = err.getvalue().splitlines()
    assert any("devices[1].type" in line and "acme-9000" in line for line in lines)
    assert [d.id for d in config.devices] == ["panel"]
    async with Hub(config, pm, backoff=fast) as hub:
        rec = EventRecorder()
        hub.bus.subscribe(AlarmSignal, rec.handle)
        await rec.wait_for(AlarmSignal)
    assert set(hub.supervisors) == {"panel", "cam"}


def test_problem_outside_devices_stops_the_run(tmp_path: Path) -> None:
    path = write_shop(tmp_path)
    path.write_text(path.read_text().replace("Europe/Paris", "Mars/Olympus"))
    err = io.StringIO()
    assert config_for_run(path, manager().device_types(), err, manager().config_sections()) is None
    assert "site.timezone" in err.getvalue()


async def test_corrupt_journal_is_set_aside_and_the_hub_runs(tmp_path: Path) -> None:
    pm = manager()
    config = load_config(write_shop(tmp_path), pm.device_types(), pm.config_sections())
    config.journal.path.write_bytes(b"this is not a journal" * 100)
    async with Hub(config, pm, backoff=fast) as hub:
        rec = EventRecorder()
        hub.bus.subscribe(AlarmSignal, rec.handle)
        await rec.wait_for(AlarmSignal)
        assert hub.journal is not None
        assert hub.journal.quarantined is not None
    aside = list(tmp_path.glob("journal.db.corrupt-*"))
    assert len(aside) == 1
    assert aside[0].read_bytes() == b"this is not a journal" * 100
    assert verify_journal(config.journal.path).ok
    first = tail(config.journal.path, 100_000)[0]
    assert isinstance(first.event(), JournalQuarantined)


async def test_plugins_are_told_of_start_and_stop(tmp_path: Path) -> None:
    pm = manager()
    told: list[str] = []
    module = types.ModuleType("listener")

    @hookimpl
    def hub_started(info: object) -> None:
        told.append("started")

    @hookimpl
    def hub_stopping(info: object) -> None:
        told.append("stopping")

    module.hub_started = hub_started  # type: ignore[attr-defined]
    module.hub_stopping = hub_stopping  # type: ignore[attr-defined]
    pm.register(module, "listener")
    config = load_config(write_shop(tmp_path), pm.device_types(), pm.config_sections())
    async with Hub(config, pm, backoff=fast) as hub:
        assert told == ["started"]
        assert hub.info.devices == ("panel", "cam")
    assert told == ["started", "stopping"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_request_stop_ends_run_until_signal(tmp_path: Path) -> None:
    pm = manager()
    config = load_config(write_shop(tmp_path), pm.device_types(), pm.config_sections())
    async with Hub(config, pm, backoff=fast) as hub:
        asyncio.get_running_loop().call_later(0.05, hub.request_stop, "test")
        assert await hub.run_until_signal() == "test"


async def test_ready_once_every_device_was_opened_or_failed_to(tmp_path: Path) -> None:
    """A device that cannot open does not hold the start-up back: the hub is ready, and
    says how many of its devices run."""
    pm = manager(with_unplugged=True)
    extra = "  - {id: usb, type: usb-panel, settings: {port: /dev/ttyUSB9}}\n"
    path = write_shop(tmp_path)
    path.write_text(path.read_text().replace("cameras:", f"{extra}cameras:"))
    config = load_config(path, pm.device_types(), pm.config_sections())
    async with Hub(config, pm, backoff=fast) as hub:
        assert not hub.readiness().ready
        async with asyncio.timeout(10):  # far less than the wait's own limit
            readiness = await hub.wait_ready(timeout=60)
    assert readiness.ready
    assert (readiness.configured, readiness.running) == (3, 2)
    assert readiness.document() == (
        200,
        {"status": "degraded", "ready": True, "devices": {"configured": 3, "running": 2}},
    )


async def test_a_stop_during_start_up_ends_the_wait_for_devices(tmp_path: Path) -> None:
    """A device whose open hangs would hold the start-up for the whole wait: a stop asked
    meanwhile (SIGTERM) ends it at once, and the hub stops."""
    pm = manager(with_unplugged=True)
    extra = "  - {id: stuck, type: stuck-panel, settings: {port: /dev/ttyUSB9}}\n"
    path = write_shop(tmp_path)
    path.write_text(path.read_text().replace("cameras:", f"{extra}cameras:"))
    config = load_config(path, pm.device_types(), pm.config_sections())
    async with Hub(config, pm, backoff=fast) as hub:
        asyncio.get_running_loop().call_later(0.2, hub.request_stop, "SIGTERM")
        async with asyncio.timeout(10):  # far less than the wait's own limit
            readiness = await hub.wait_ready(timeout=60)
        assert await hub.run_until_signal() == "SIGTERM"
    assert readiness.ready
    assert readiness.running < readiness.configured
