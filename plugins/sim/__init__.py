"""Simulated devices for the demo and for trying a configuration without hardware.

``sim-panel`` raises a hold-up every ``interval`` seconds on its ``holdup_zone`` (and
restores it shortly after); ``sim-camera`` goes offline and online every ``period``
seconds, with motion in between. They go through the same plugin path, schema
validation and supervision as real devices, so the demo exercises the real hub. The
plugin also adds ``ecrin demo`` (``plugins.sim.demo``). It uses only ``hub.sdk``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from hub.sdk import (
    AlarmKind,
    AlarmSignal,
    CameraAvailability,
    CameraMotion,
    Command,
    DeviceContext,
    DeviceType,
    PanelState,
    hookimpl,
    setting,
)
from plugins.sim.demo import demo_command

__all__ = [
    "SimCamera",
    "SimCameraSettings",
    "SimPanel",
    "SimPanelSettings",
    "register_commands",
    "register_device_types",
]


@dataclass(frozen=True, kw_only=True)
class SimPanelSettings:
    """The settings of ``sim-panel``."""

    interval: float = setting(5.0, minimum=0.05, help="seconds between simulated hold-ups")
    holdup_zone: int = setting(1, minimum=0, help="panel zone the hold-up is reported on")


@dataclass(frozen=True, kw_only=True)
class SimCameraSettings:
    """The settings of ``sim-camera``."""

    period: float = setting(7.0, minimum=0.05, help="seconds of one online/offline cycle")


class SimPanel:
    """A panel that reports a silent hold-up on one zone at a fixed interval."""

    def __init__(self, ctx: DeviceContext) -> None:
        self._ctx = ctx
        settings = ctx.settings_as(SimPanelSettings)
        self.interval = settings.interval
        self.zone = settings.holdup_zone
        self.sent = 0

    async def __aenter__(self) -> SimPanel:
        self._ctx.emit(PanelState(device=self._ctx.device_id, state="disarmed", ready=True))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def run(self) -> None:
        """Alternate hold-up and restore forever."""
        while True:
            await asyncio.sleep(self.interval)
            self.sent += 1
            for restore in (False, True):
                self._ctx.emit(
                    AlarmSignal(
                        kind=AlarmKind.HOLDUP,
                        restore=restore,
                        device=self._ctx.device_id,
                        panel_zone=self.zone,
                        code="sim-holdup",
                        protocol="sim",
                    )
                )
                if not restore:
                    await asyncio.sleep(min(1.0, self.interval / 2))


class SimCamera:
    """A camera that drops offline and comes back, with motion while online."""

    def __init__(self, ctx: DeviceContext) -> None:
        self._ctx = ctx
        self.period = ctx.settings_as(SimCameraSettings).period

    async def __aenter__(self) -> SimCamera:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def run(self) -> None:
        """Cycle online → motion → offline forever."""
        camera = self._ctx.device_id
        while True:
            self._ctx.emit(CameraAvailability(camera=camera, state="online", role="record"))
            await asyncio.sleep(self.period / 3)
            self._ctx.emit(CameraMotion(camera=camera, active=True))
            await asyncio.sleep(self.period / 3)
            self._ctx.emit(CameraMotion(camera=camera, active=False))
            await asyncio.sleep(self.period / 3)
            self._ctx.emit(CameraAvailability(camera=camera, state="offline", role="record"))
            await asyncio.sleep(self.period / 3)


@hookimpl
def register_device_types(register: Callable[[DeviceType], None]) -> None:
    """Declare ``sim-panel`` and ``sim-camera``."""
    register(
        DeviceType(
            name="sim-panel",
            factory=SimPanel,
            settings=SimPanelSettings,
            description="Simulated panel raising a silent hold-up at a fixed interval",
            category="panel",
        )
    )
    register(
        DeviceType(
            name="sim-camera",
            factory=SimCamera,
            settings=SimCameraSettings,
            description="Simulated camera going offline and online, with motion",
            category="camera",
        )
    )


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    """Add ``ecrin demo``."""
    register(demo_command())
