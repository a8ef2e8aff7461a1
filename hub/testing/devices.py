"""Devices built and run the way the hub builds and runs them, for tests.

``build_device`` validates the settings against the device type's schema exactly as
the configuration loader does (defaults filled in, every problem reported), builds the
``DeviceContext`` and calls the factory; ``running`` enters the device and runs it in
a task for the length of a block, then stops it as the hub does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from hub.devices import Device, DeviceContext, DeviceType, ZoneMap
from hub.events import Event
from hub.messages import MessageSession
from hub.schema import validate_settings
from hub.transports.pty import PtyCable

__all__ = ["build_device", "cable_read_until", "read_until", "running"]

D = TypeVar("D", bound=Device)


def build_device(
    device_type: DeviceType,
    settings: Mapping[str, Any],
    emit: Callable[[Event], None],
    *,
    device_id: str = "centrale",
    zone_map: ZoneMap | None = None,
    messages: MessageSession | None = None,
    zones: tuple[str, ...] = (),
    retention_days: int | None = None,
) -> Any:
    """Build a device as the hub does.

    Args:
        device_type: the type (from a plugin's ``register_device_types``).
        settings: the settings as a shop file would give them.
        emit: where its events go (``EventRecorder.emit``).
        device_id: the id put on its events.
        zone_map: its panel-zone mapping (none by default).
        messages: the message session a message device is given (a ``MemorySession``,
            or the broker fixture's).
        zones: the shop zones a camera covers (its ``zones:``), as ``ctx.zones``.
        retention_days: a camera's declared retention, as ``ctx.retention_days``.

    Raises:
        ValueError: the settings are refused, one ``settings.KEY: reason`` per line, as
            ``ecrin check-config`` would say it.
    """
    values, errors = validate_settings(device_type.schema, settings)
    if errors:
        raise ValueError("\n".join(f"settings.{e.where()}: {e.reason}" for e in errors))
    if device_type.check is not None:
        problems = device_type.check(values, tuple(zones))
        if problems:
            raise ValueError(
                "\n".join(
                    f"settings.{p.setting}{'.' + p.item if p.item else ''}: {p.reason}"
                    for p in problems
                )
            )
    ctx = DeviceContext(
        device_id=device_id,
        settings=values,
        emit=emit,
        zone_map=zone_map or ZoneMap(),
        log=logging.getLogger(f"ecrin.device.{device_id}"),
        messages=messages,
        zones=tuple(zones),
        retention_days=retention_days,
    )
    device = device_type.factory(ctx)
    if not isinstance(device, Device):
        raise TypeError(f"{device_type.name}: the factory built {device!r}, not a Device")
    return device


@asynccontextmanager
async def running(device: D) -> AsyncIterator[D]:
    """Enter ``device`` and run it in a task until the block ends, as the hub does.

    Raises:
        AssertionError: ``run()`` ended by itself before the block did (a device runs
            until it is cancelled; an error it raised is chained).
    """
    async with device:
        task = asyncio.create_task(device.run())
        try:
            yield device
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if not task.cancelled():
        raise AssertionError("run() must run until it is cancelled") from task.exception()


async def read_until(
    read: Callable[[], Awaitable[bytes]], condition: Callable[[bytes], bool], timeout: float = 5.0
) -> bytes:
    """Read chunks until ``condition`` holds on everything read so far."""
    got = b""
    async with asyncio.timeout(timeout):
        while not condition(got):
            got += await read()
    return got


async def cable_read_until(cable: PtyCable, marker: bytes, timeout: float = 5.0) -> bytes:
    """What the hub wrote to the cable, up to and including ``marker``."""
    return await read_until(cable.read, lambda got: marker in got, timeout)
