"""The ``frigate`` camera plugin: cameras behind a Frigate NVR, over its MQTT API.

A shop's camera is configured once, under ``cameras:``, with the name Frigate gives it
(``settings.camera``, the camera id by default) and, optionally, a mapping of Frigate's
zones (regions drawn on the image) to the shop's zones (places on the floor plan):

.. code-block:: yaml

    cameras:
      - id: cam-comptoir
        type: frigate
        zones: [comptoir, vitrine]
        placement: indoor
        settings:
          camera: comptoir            # its name in Frigate's configuration
          zones: {caisse: comptoir, presentoir: vitrine}
          api: http://nvr.local:5000  # to keep a hold-up's recordings

The device subscribes to the camera's topics on the hub's shared session (Frigate's
``events`` and ``reviews``, shared by all its cameras, through one subscription that
hands each message to the camera it names: ``plugins.cameras.frigate_shared``) and
turns them into camera events through a pure decoder
(``plugins.cameras.frigate_decoder``, where the rules of availability are);
``keep_recordings`` asks Frigate to export the window of a hold-up
(``plugins.cameras.frigate_api``); with ``api`` set, the camera's retention at Frigate
is checked against its declared ``retention_days`` at start and daily
(``plugins.cameras.frigate_retention``); ``FrigateSimulator``
(``plugins.cameras.frigate_sim``) plays Frigate for the tests, the demo and the
benchmark, on a broker through ``NvrConnection`` (``plugins.cameras.nvr_connection``),
a connection of its own with Frigate's last will; ``frigate_demo``
(``plugins.cameras.frigate_demo``) is the demo shop's NVR, which ``ecrin demo`` finds
on the device type (``broker_simulator``). docs/frigate.md is the installer's guide.
It uses only ``hub.sdk``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import urlsplit

from hub.sdk import (
    DeviceContext,
    DeviceType,
    EntryProblem,
    Message,
    MessageDevice,
    hookimpl,
    setting,
)
from plugins.cameras import frigate_shared as shared
from plugins.cameras.frigate_api import FrigateExporter
from plugins.cameras.frigate_decoder import (
    BROKER_LOST,
    DETECTION_SOURCES,
    NVR_LAST_WILL,
    STATUS_MODES,
    FrigateDecoder,
    FrigateView,
    frigate_topics,
    shared_topics,
)
from plugins.cameras.frigate_demo import frigate_demo
from plugins.cameras.frigate_retention import FrigateRetention, watch_retention
from plugins.cameras.frigate_sim import FrigateSimulator, SimCamera, frigate_will
from plugins.cameras.nvr_connection import NvrConnection

__all__ = [
    "BROKER_LOST",
    "NVR_LAST_WILL",
    "TYPE",
    "FrigateCamera",
    "FrigateDecoder",
    "FrigateExporter",
    "FrigateSettings",
    "FrigateSimulator",
    "FrigateView",
    "NvrConnection",
    "SimCamera",
    "check_entry",
    "frigate_demo",
    "frigate_will",
    "keep_recordings",
    "register_device_types",
]

#: The device type's name.
TYPE: Final = "frigate"
#: What Frigate accepts as a camera name (its configuration refuses anything else).
_NAME = re.compile(r"[A-Za-z0-9_-]+")
#: The QoS of every subscription: Frigate's topics carry states (a lost ``OFF`` or
#: ``end`` would leave a motion or a detection open), so none may be dropped between
#: the broker and the hub.
SUBSCRIPTION_QOS: Final = 1
#: Stale retained messages are told once per subject, up to this many subjects.
_TOLD_MAX: Final = 256


def _check_name(value: str) -> str | None:
    if value and not _NAME.fullmatch(value):
        return "a Frigate camera name has only letters, digits, '_' and '-'"
    return None


def _check_prefix(value: str) -> str | None:
    if not value:
        return "the topic prefix cannot be empty"
    if any(c in value for c in "+#\0"):
        return "the topic prefix cannot hold the wildcards + or #"
    if "" in value.split("/"):
        return "the topic prefix cannot start or end with '/', nor hold '//'"
    return None


def _check_zone_map(value: dict[Any, Any]) -> str | None:
    for frigate_zone, shop_zone in value.items():
        if not isinstance(frigate_zone, str) or not frigate_zone:
            return f"Frigate zone names are strings, got {frigate_zone!r}"
        if not isinstance(shop_zone, str) or not shop_zone:
            return f"Frigate zone {frigate_zone!r}: map it to a shop zone id, got {shop_zone!r}"
    return None


def _check_api(value: str) -> str | None:
    if not value:
        return None
    try:
        url = urlsplit(value)
        url.port  # noqa: B018 - a bad port raises here
    except ValueError as exc:
        return f"not a URL: {exc}"
    if url.scheme not in ("http", "https") or not url.hostname:
        return "Frigate's address is an http:// or https:// URL, e.g. http://nvr.local:5000"
    if url.username is not None or url.password is not None:
        return "no credentials in the address: they would be shown wherever it is logged"
    if url.query or url.fragment:
        return "Frigate's address has no query nor fragment"
    return None


@dataclass(frozen=True, kw_only=True)
class FrigateSettings:
    """The settings of a ``frigate`` camera."""

    camera: str = setting(
        "", check=_check_name, help="the camera's name at Frigate (default: the camera id)"
    )
    prefix: str = setting(
        "frigate", check=_check_prefix, help="Frigate's MQTT topic prefix (mqtt.topic_prefix)"
    )
    zones: dict[str, str] = setting(
        {},
        check=_check_zone_map,
        help="Frigate zone name -> shop zone (one of the camera's zones)",
    )
    status_topics: str = setting(
        "auto",
        choices=STATUS_MODES,
        help="Frigate 0.17's per-role status: yes (0.17+), no (older), auto (once heard)",
    )
    detections: str = setting(
        "events",
        choices=DETECTION_SOURCES,
        help="which Frigate topic becomes detections: events, reviews or both",
    )
    api: str = setting(
        "",
        check=_check_api,
        help="Frigate's HTTP address (http://nvr:5000), to export a hold-up's recordings",
    )
    api_timeout: float = setting(
        10.0, minimum=1.0, maximum=300.0, help="seconds one request to Frigate may take"
    )
    retry_max: float = setting(
        300.0, minimum=1.0, maximum=3600.0, help="longest pause between two export attempts (s)"
    )
    settle: float = setting(
        60.0,
        minimum=0.0,
        maximum=600.0,
        help="seconds Frigate needs to have written what it filmed, before an export",
    )


def check_entry(settings: Mapping[str, Any], zones: tuple[str, ...]) -> Sequence[EntryProblem]:
    """A Frigate zone may only be mapped to a zone the camera covers (its ``zones:``)."""
    covered = ", ".join(zones) or "none"
    return [
        EntryProblem(
            "zones",
            f"shop zone {shop_zone!r} is not one of the camera's zones ({covered})",
            item=str(frigate_zone),
        )
        for frigate_zone, shop_zone in dict(settings.get("zones") or {}).items()
        if shop_zone not in zones
    ]


#: The running Frigate cameras of the process, by camera id: ``keep_recordings`` names a
#: camera by id, and the I/O belongs to that camera's device.
_RUNNING: dict[str, FrigateCamera] = {}


class FrigateCamera(MessageDevice):
    """One shop camera behind Frigate, on the hub's shared message session."""

    def __init__(self, ctx: DeviceContext) -> None:
        if ctx.messages is None:
            raise OSError("no message session: a Frigate camera needs the shop's MQTT broker")
        settings = ctx.settings_as(FrigateSettings)
        self.settings = settings
        self.name = settings.camera or ctx.device_id
        decoder = FrigateDecoder(
            ctx.device_id,
            self.name,
            prefix=settings.prefix,
            zone_map=settings.zones,
            zones=ctx.zones,
            status_topics=settings.status_topics,
        )
        topics = frigate_topics(settings.prefix, self.name, settings.detections)
        super().__init__(ctx, ctx.messages, decoder, topics, qos=SUBSCRIPTION_QOS)
        self.frigate: FrigateDecoder = decoder
        #: Topics of every camera of the NVR, read once for all (``frigate_shared``).
        self._shared = shared_topics(settings.prefix)
        self.log = ctx.log
        self.exporter: FrigateExporter | None = None
        if settings.api:
            self.exporter = FrigateExporter(
                settings.api,
                self.name,
                ctx.log,
                timeout=settings.api_timeout,
                retry_max=settings.retry_max,
                settle=settings.settle,
            )
        self.retention: FrigateRetention | None = None
        if settings.api and ctx.retention_days is not None:
            self.retention = FrigateRetention(
                settings.api, self.name, ctx.log, timeout=settings.api_timeout
            )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._kept: set[str] = set()
        self._told: set[str] = set()

    # -- lifecycle ------------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        """Listen to the session, then subscribe (``available`` last), QoS 1: the
        shared topics through their router, the camera's own ones directly."""
        self._remove_listener = self.session.add_connection_listener(self.connection_changed)
        for topic in self.topics:
            if topic in self._shared:
                await shared.join(self.session, topic, self.name, self.handle, SUBSCRIPTION_QOS)
            else:
                await self.session.subscribe(topic, self.handle, qos=SUBSCRIPTION_QOS)
        _RUNNING[self.ctx.device_id] = self
        if self.retention is not None and self.ctx.retention_days is not None:
            check = watch_retention(
                self.retention,
                self.ctx.device_id,
                self.ctx.retention_days,
                self.ctx.emit,
                retry=self.settings.retry_max,
            )
            task = asyncio.get_running_loop().create_task(
                check, name=f"frigate-retention:{self.ctx.device_id}"
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if _RUNNING.get(self.ctx.device_id) is self:
            del _RUNNING[self.ctx.device_id]
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        for topic in self.topics:
            if topic in self._shared:
                await shared.leave(self.session, topic, self.name, self.handle)
            else:
                await self.session.unsubscribe(topic, self.handle)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.exporter is not None:
            await self.exporter.close()

    def connection_changed(self, connected: bool) -> None:
        """The broker is lost: the camera is ``unknown`` (never silently still online).
        Back: nothing, until Frigate's retained states arrive again."""
        if not connected:
            for event in self.frigate.lost(BROKER_LOST):
                self.ctx.emit(event)

    def handle(self, message: Message) -> None:
        """Decode one message, emit its events, tell what was skipped (rate-limited)."""
        stats = self.frigate.stats
        rejected, stale = stats.rejected, self.frigate.stale
        for event in self.frigate.decode(message):
            self.ctx.emit(event)
        if stats.rejected != rejected:
            # One template: the hub's log filter lets one such line a minute through.
            self.log.warning(
                "%s: skipped a Frigate message: %s",
                self.ctx.device_id,
                stats.last_rejects[-1].reason,
            )
        if self.frigate.stale != stale and self.frigate.stale_about not in self._told:
            if len(self._told) < _TOLD_MAX:
                self._told.add(self.frigate.stale_about)
            self.log.warning(
                "%s: ignored %s: Frigate never retains it, an earlier setup left it on"
                " the broker (clear it with an empty retained message)",
                self.ctx.device_id,
                self.frigate.stale_about,
            )

    def counters(self) -> dict[str, int]:
        """What metrics read: messages, events, rejects, stale and other cameras'."""
        stats = self.frigate.stats
        return {
            "frames": stats.frames,
            "events": stats.events,
            "rejected": stats.rejected,
            "stale": self.frigate.stale,
            "other_cameras": self.frigate.other,
            "export_attempts": self.exporter.attempts if self.exporter is not None else 0,
        }

    # -- keeping recordings ------------------------------------------------------------------------
    def keep(self, start: datetime, end: datetime, incident: str) -> None:
        """Start keeping a window of recordings (returns at once; the I/O runs in a task
        of the device, cancelled when it stops)."""
        if incident in self._kept:
            return
        self._kept.add(incident)
        if self.exporter is None:
            self.log.warning(
                "%s: keep the recordings of Frigate camera %s from %s to %s (incident %s):"
                " settings.api is not set, so export that window by hand in Frigate"
                " (History, Export) once it is over; see docs/frigate.md",
                self.ctx.device_id,
                self.name,
                start.isoformat(),
                end.isoformat(),
                incident,
            )
            return
        task = asyncio.get_running_loop().create_task(
            self.exporter.keep(start, end, incident), name=f"frigate-keep:{self.ctx.device_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._kept_done)

    def _kept_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log.error(
                "%s: keeping recordings at Frigate failed: %r",
                self.ctx.device_id,
                task.exception(),
            )


@hookimpl
def keep_recordings(camera: str, start: datetime, end: datetime, incident: str) -> None:
    """Ask Frigate to keep a hold-up's window, for a Frigate camera that runs."""
    device = _RUNNING.get(camera)
    if device is not None:
        device.keep(start, end, incident)


@hookimpl
def register_device_types(register: Callable[[DeviceType], None]) -> None:
    """Declare ``frigate``."""
    register(
        DeviceType(
            name=TYPE,
            factory=FrigateCamera,
            settings=FrigateSettings,
            description="camera behind a Frigate NVR, over Frigate's MQTT API",
            category="camera",
            messages=True,
            check=check_entry,
            broker_simulator=frigate_demo,
        )
    )
