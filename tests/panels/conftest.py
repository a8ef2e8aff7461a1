"""Fixtures for the panel end-to-end tests: devices built the way the hub builds them,
running against simulated panels over real pseudo-terminals."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

import plugins.panels
from hub.devices import Device, DeviceContext, DeviceType
from hub.plugins import PluginManager
from hub.schema import validate_settings
from hub.transports.pty import PtyCable
from tests.transports.sink import EventSink

#: Settings that keep the tests fast: a replugged port is found within 0.2 s.
FAST = {"reconnect_max": 0.2}


@pytest.fixture(scope="session")
def panel_types() -> dict[str, DeviceType]:
    """The panel plugin's device types, through a plugin manager as the hub gets them."""
    manager = PluginManager()
    manager.register(plugins.panels, "panels")
    assert not manager.errors
    return manager.device_types()


@pytest.fixture
def cable(tmp_path: Path) -> Iterator[PtyCable]:
    """A pty cable whose hub end is the symlink ``tmp_path/ttyUSB0`` (replug-able)."""
    pty = PtyCable(tmp_path / "ttyUSB0")
    yield pty
    pty.close()


@pytest.fixture
def sink() -> EventSink:
    return EventSink()


@pytest.fixture
def build_device(panel_types: dict[str, DeviceType], sink: EventSink) -> Callable[..., Any]:
    """Build a device as the hub does: settings validated against the type's schema
    (defaults filled in), a context whose ``emit`` is the sink's, then the factory."""

    def build(type_name: str, settings: dict[str, Any], device_id: str = "centrale") -> Any:
        device_type = panel_types[type_name]
        values, errors = validate_settings(device_type.schema, settings)
        assert not errors, errors
        ctx = DeviceContext(
            device_id=device_id,
            settings=values,
            emit=sink.emit,
            log=logging.getLogger(f"ecrin.device.{device_id}"),
        )
        device = device_type.factory(ctx)
        assert isinstance(device, Device)
        return device

    return build


@asynccontextmanager
async def _running(device: Any) -> AsyncIterator[Any]:
    async with device:
        task = asyncio.create_task(device.run())
        try:
            yield device
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled(), "run() must run until it is cancelled"


@pytest.fixture
def running() -> Callable[[Any], AbstractAsyncContextManager[Any]]:
    """Enter a device and run it in a task until the block ends (as the hub does)."""
    return _running
