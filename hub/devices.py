"""What a device is to the hub, and what the hub gives a device.

A device is an async context manager with a ``run()`` coroutine: ``__aenter__`` opens
its link (and may fail when the hardware is not ready), ``run`` reads until the link
ends or the task is cancelled, ``__aexit__`` releases everything. The hub owns that
lifecycle (see ``hub.supervisor``), so a plugin author writes I/O and decoding only.

Plugins declare device types (name, factory, settings schema); the hub builds one
``DeviceContext`` per configured device and passes it to the factory. The context is
all a device may touch: its settings, a way to emit events, and a logger. No god
object: a device cannot reach the bus, the journal or other devices.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, TypeVar, runtime_checkable

from hub.events import AlarmKind, AlarmSignal, Event
from hub.messages import MessageSession
from hub.schema import Schema
from hub.simulation import BrokerSimulatorFactory, SimulatorFactory
from hub.typed_settings import settings_from, settings_schema

__all__ = [
    "Device",
    "DeviceContext",
    "DeviceFactory",
    "DeviceType",
    "EntryCheck",
    "EntryProblem",
    "PanelZone",
    "ZoneMap",
]

S = TypeVar("S")


@runtime_checkable
class Device(Protocol):
    """The interface every device object implements."""

    async def __aenter__(self) -> Any:
        """Open the link. Raise ``OSError`` (or any exception) when not ready: the hub
        logs one line and retries with backoff."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        """Close the link; must not raise for a link that is already gone."""

    async def run(self) -> None:
        """Read and emit events until the link ends (return or raise) or cancellation."""


@dataclass(frozen=True, slots=True)
class PanelZone:
    """How one panel zone maps to the shop.

    Attributes:
        zone: the shop zone id, or None to leave it unmapped.
        holdup: the panel zone is wired to a hold-up button, so its alarms are hold-ups.
    """

    zone: str | None
    holdup: bool = False


#: Kinds that a hold-up-wired zone turns into a hold-up. Troubles, tamper and tests
#: keep their kind: a cut hold-up cable is a fault, not an attack.
_HOLDUP_REWRITES = frozenset({AlarmKind.BURGLARY, AlarmKind.OTHER, AlarmKind.PANIC})


@dataclass(frozen=True, slots=True)
class ZoneMap:
    """Panel zone numbers (and the device's default) to shop zones."""

    zones: Mapping[int, PanelZone] = field(default_factory=dict)
    default_zone: str | None = None

    def apply(self, signal: AlarmSignal) -> AlarmSignal:
        """Fill in the shop zone and promote alarms from hold-up-wired zones."""
        mapped = self.zones.get(signal.panel_zone) if signal.panel_zone is not None else None
        zone = signal.zone
        kind = signal.kind
        if mapped is not None:
            zone = zone or mapped.zone
            if mapped.holdup and kind in _HOLDUP_REWRITES:
                kind = AlarmKind.HOLDUP
        if zone is None:
            zone = self.default_zone
        if zone == signal.zone and kind == signal.kind:
            return signal
        return dataclasses.replace(signal, zone=zone, kind=kind)


@dataclass(frozen=True, slots=True)
class DeviceContext:
    """What the hub hands a device when it builds it.

    Attributes:
        device_id: the id from the configuration, used in every event it emits.
        settings: the device's settings, validated against its type's schema, with
            defaults filled in.
        emit: queue an event for the journal and the bus. Never blocks.
        zone_map: the device's panel-zone mapping (applied by the hub to every
            ``AlarmSignal`` the device emits; devices need not use it).
        log: a logger named after the device.
        messages: the hub's shared message session (the MQTT broker's), for message
            devices; None while the shop has none.
        zones: the shop zones a camera covers (its ``zones:`` in the configuration);
            empty for other devices. A camera's events name the zones they happen in.
        retention_days: a camera's declared retention (its ``retention_days``), which
            a plugin that can read the NVR's own checks (``RetentionChecked``); None
            for other devices.
    """

    device_id: str
    settings: Mapping[str, Any]
    emit: Callable[[Event], None]
    zone_map: ZoneMap = field(default_factory=ZoneMap)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("ecrin.device"))
    messages: MessageSession | None = None
    zones: tuple[str, ...] = ()
    retention_days: int | None = None

    def settings_as(self, settings_type: type[S]) -> S:
        """The settings as an instance of the device type's settings dataclass.

        Args:
            settings_type: the dataclass the device type declared (``DeviceType.settings``).

        Raises:
            TypeError: the settings hold a key the dataclass does not know, or lack a
                required one (only a context built by hand can).
        """
        return settings_from(settings_type, self.settings)


DeviceFactory = Callable[[DeviceContext], Device]


@dataclass(frozen=True, slots=True)
class EntryProblem:
    """A device's settings that do not fit the rest of its entry (``DeviceType.check``).

    Attributes:
        setting: the setting at fault; the problem is reported at its line.
        reason: one line saying why.
        item: a key of the setting when the setting is a mapping: the problem is
            reported at that entry's line (``settings.zones.porte``).
    """

    setting: str
    reason: str
    item: str | None = None


#: ``DeviceType.check``: the device's validated settings and the shop zones its entry
#: covers (a camera's ``zones:``; empty for other devices) in, the problems out.
EntryCheck = Callable[[Mapping[str, Any], tuple[str, ...]], Sequence[EntryProblem]]


@dataclass(frozen=True, slots=True)
class DeviceType:
    """A kind of device a plugin provides.

    Attributes:
        name: the ``type`` the configuration uses, e.g. ``"dsc-it100"``.
        factory: builds a device from its context.
        schema: the device's settings; derived from ``settings`` when that is given.
        description: one line for ``ecrin plugins`` and the docs.
        category: ``panel``, ``camera``, ``bridge`` or ``other``: cameras are
            configured under ``cameras:``, everything else under ``devices:``.
        settings: the settings dataclass (see ``hub.typed_settings``): the schema is
            derived from it, and the device reads ``ctx.settings_as(settings)``.
        simulator: builds a simulated panel of this type on a pseudo-terminal (see
            ``hub.simulation``), for the demo and walk tests; None when there is none.
        messages: the device needs the hub's message session (``DeviceContext.messages``,
            the MQTT broker): a shop configuring one gets a session, with the embedded
            broker when no broker is configured.
        broker_simulator: plays cameras of this type on a broker, through a connection
            of their own (see ``hub.simulation``), for the demo; None when there is none.
        check: what one setting's own ``check`` cannot see: the settings against each
            other and against the rest of the entry (a Frigate camera's zone mapping
            must name zones the camera covers). The configuration loader calls it once
            the settings are valid, and reports each ``EntryProblem`` at its line.
    """

    name: str
    factory: DeviceFactory
    schema: Schema = field(default_factory=dict)
    description: str = ""
    category: str = "panel"
    settings: type[Any] | None = None
    simulator: SimulatorFactory | None = None
    messages: bool = False
    check: EntryCheck | None = None
    broker_simulator: BrokerSimulatorFactory | None = None

    def __post_init__(self) -> None:
        if self.settings is None:
            return
        if self.schema:
            raise TypeError(f"device type {self.name!r}: give a schema or settings, not both")
        object.__setattr__(self, "schema", settings_schema(self.settings))
