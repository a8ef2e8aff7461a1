"""Simulated devices for the demo and for trying a configuration without hardware.

``sim-panel`` raises a hold-up every ``interval`` seconds on its ``holdup_zone`` (and
restores it shortly after); ``sim-camera`` goes offline and online every ``period``
seconds, with motion in between. They go through the same plugin path, schema
validation and supervision as real devices, so the demo exercises the real hub. The
simulated camera is a message device, as an MQTT camera is: it publishes Frigate-like
messages (``sim/<camera>/available``, ``sim/<camera>/motion``) on an in-memory
session, and its ``MessageDevice`` side decodes them into events. The plugin also adds
``ecrin demo`` (``plugins.sim.demo``). It uses only ``hub.sdk``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

from hub.sdk import (
    AlarmKind,
    AlarmSignal,
    CameraAvailability,
    CameraMotion,
    Command,
    DecodeStats,
    DeviceContext,
    DeviceType,
    Event,
    MemorySession,
    Message,
    MessageDevice,
    PanelState,
    hookimpl,
    setting,
)
from plugins.sim.demo import demo_command

__all__ = [
    "SimCamera",
    "SimCameraDecoder",
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


class SimCameraDecoder:
    """Messages of a simulated camera in, camera events out: pure, never raising.

    ``sim/<camera>/available`` carries ``online`` or ``offline``; ``sim/<camera>/motion``
    carries ``ON`` or ``OFF`` (Frigate's vocabulary). Anything else is counted and
    skipped.
    """

    def __init__(self) -> None:
        self.stats = DecodeStats()

    def decode(self, message: Message) -> Sequence[Event]:
        """The event one message means, if any."""
        self.stats.frames += 1
        parts = message.topic.split("/")
        payload = message.payload.decode("utf-8", "replace")
        event: Event | None = None
        if len(parts) == 3 and parts[0] == "sim":
            camera, what = parts[1], parts[2]
            if what == "available" and payload in ("online", "offline"):
                event = CameraAvailability(camera=camera, state=payload, role="record")
            elif what == "motion" and payload in ("ON", "OFF"):
                event = CameraMotion(camera=camera, active=payload == "ON")
        if event is None:
            self.stats.reject(message.payload, f"unknown message on {message.topic}")
            return []
        self.stats.events += 1
        return [event]


class SimCamera(MessageDevice):
    """A camera that drops offline and comes back, with motion while online.

    The camera's side publishes on an in-memory session of its own; the device's side
    is the SDK's message device, subscribed to ``sim/<camera>/#``.
    """

    def __init__(self, ctx: DeviceContext) -> None:
        self.period = ctx.settings_as(SimCameraSettings).period
        super().__init__(ctx, MemorySession(), SimCameraDecoder(), [f"sim/{ctx.device_id}/#"])

    async def run(self) -> None:
        """Cycle online → motion → offline forever, as the camera publishes it."""
        base = f"sim/{self.ctx.device_id}"
        publish = self.session.publish
        while True:
            await publish(f"{base}/available", b"online", retain=True)
            await asyncio.sleep(self.period / 3)
            await publish(f"{base}/motion", b"ON")
            await asyncio.sleep(self.period / 3)
            await publish(f"{base}/motion", b"OFF")
            await asyncio.sleep(self.period / 3)
            await publish(f"{base}/available", b"offline", retain=True)
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
