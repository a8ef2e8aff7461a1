"""Simulated devices for the demo and for trying a configuration without hardware.

``sim-panel`` raises a hold-up every ``interval`` seconds on its ``holdup_zone`` (and
restores it shortly after); ``sim-camera`` goes offline and online every ``period``
seconds, with motion in between. They go through the same plugin path, schema
validation and supervision as real devices, so the demo exercises the real hub.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType

from hub.devices import DeviceContext, DeviceType
from hub.events import AlarmKind, AlarmSignal, CameraAvailability, CameraMotion, PanelState
from hub.hookspecs import hookimpl
from hub.schema import Setting

__all__ = ["SimCamera", "SimPanel", "register_device_types"]


class SimPanel:
    """A panel that reports a silent hold-up on one zone at a fixed interval."""

    def __init__(self, ctx: DeviceContext) -> None:
        self._ctx = ctx
        self.interval = float(ctx.settings["interval"])
        self.zone = int(ctx.settings["holdup_zone"])
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
        self.period = float(ctx.settings["period"])

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
            schema={
                "interval": Setting(
                    float, default=5.0, minimum=0.05, help="seconds between simulated hold-ups"
                ),
                "holdup_zone": Setting(
                    int, default=1, minimum=0, help="panel zone the hold-up is reported on"
                ),
            },
            description="Simulated panel raising a silent hold-up at a fixed interval",
            category="panel",
        )
    )
    register(
        DeviceType(
            name="sim-camera",
            factory=SimCamera,
            schema={
                "period": Setting(
                    float, default=7.0, minimum=0.05, help="seconds of one online/offline cycle"
                ),
            },
            description="Simulated camera going offline and online, with motion",
            category="camera",
        )
    )
