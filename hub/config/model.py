"""The validated configuration of one shop, as frozen, typed values.

The loader builds these only from a file with no problem at all, so the rest of the
hub can trust every field: zones referenced by devices exist, ids are unique, settings
match their device type's schema, retention is within the law.

Values read through ``!secret`` are ``SecretStr``: they compare and print as the
secret (the hub needs it to log in to a broker), but their ``repr`` hides it, so a
config object in a log line or a traceback never shows one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from hub.config.escalation import EscalationSettings
from hub.config.issues import ConfigIssue
from hub.devices import ZoneMap
from hub.escalation.model import Contact

__all__ = [
    "CameraConfig",
    "Config",
    "DeviceConfig",
    "HttpConfig",
    "JournalConfig",
    "MqttConfig",
    "Placement",
    "PluginsConfig",
    "Risk",
    "SecretStr",
    "Site",
    "Zone",
]

Risk = Literal["low", "medium", "high"]
Placement = Literal["indoor", "outdoor"]


class SecretStr(str):
    """A value from ``secrets.yaml``: the string itself everywhere but in ``repr``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<secret>'"


@dataclass(frozen=True, slots=True)
class Site:
    """The shop.

    Attributes:
        name: the shop's name, as the referents know it.
        address: its street address, sent with every escalation.
        departement: the French département code ("37", "2A", "974"); it decides which
            departmental referent is responsible.
        timezone: an IANA time zone name ("Europe/Paris", "Indian/Reunion").
    """

    name: str
    address: str
    departement: str
    timezone: str

    @property
    def tzinfo(self) -> ZoneInfo:
        """The shop's time zone (validated by the loader, so this cannot fail)."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class Zone:
    """A place on the shop's floor plan.

    Attributes:
        id: the zone id used everywhere else in the file.
        name: how people call it ("Vitrine rue").
        risk: how exposed it is; it weighs the zone in the coverage report.
    """

    id: str
    name: str
    risk: Risk


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """A configured device other than a camera (panel, bridge, ...).

    Attributes:
        id: unique among devices and cameras.
        type: the device type name, provided by a plugin.
        settings: validated against the type's schema, with defaults filled in.
        zone_map: panel zone numbers to shop zones, and the default zone.
        line: where the device is defined, for messages at run time.
    """

    id: str
    type: str
    settings: Mapping[str, Any]
    zone_map: ZoneMap
    line: int


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """A configured camera.

    Attributes:
        id: unique among devices and cameras.
        type: the device type name (its category is ``camera``).
        settings: validated against the type's schema, with defaults filled in.
        zones: the shop zones it covers.
        placement: ``indoor`` or ``outdoor``, as the authorisation request counts them.
        views_public_road: whether it films the public road (declared separately).
        retention_days: how long its recordings are kept, 1 to 31 (CSI L252-5).
        line: where the camera is defined.
    """

    id: str
    type: str
    settings: Mapping[str, Any]
    zones: tuple[str, ...]
    placement: Placement
    views_public_road: bool = False
    retention_days: int = 30
    line: int = 0


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """The hub's HTTP server (referent API and page, installer API, health), and the
    limits that keep a flood of clients from starving the hold-up path (see
    docs/security.md)."""

    host: str = "127.0.0.1"
    port: int = 8765
    max_connections: int = 256
    max_connections_per_address: int = 32
    fd_reserve: int = 128
    header_timeout: int = 10
    body_timeout: int = 10
    keepalive_timeout: int = 15


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """The MQTT broker the cameras (and Home Assistant) speak through."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_id: str | None = None
    tls: bool = False


@dataclass(frozen=True, slots=True)
class PluginsConfig:
    """Which installed plugins not to load (entry-point names)."""

    disable: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JournalConfig:
    """Where the evidence journal lives (an absolute path once loaded)."""

    path: Path


@dataclass(frozen=True, slots=True)
class Config:
    """One shop's configuration.

    Attributes:
        path: the file it was read from.
        site: the shop.
        zones: the shop's zones, in file order.
        devices: panels, bridges and other non-camera devices.
        cameras: the cameras.
        contacts: the people and services escalations can be addressed to.
        escalation: the ladder, high-stock periods, outbox and delivery settings;
            None when the shop configures no escalation.
        http: the HTTP server.
        mqtt: the MQTT broker, or None when the shop has none.
        plugins: plugins to leave out.
        journal: the evidence journal.
        secret_values: every value read through ``!secret``, so logging can redact
            them; hidden from ``repr``.
        warnings: what ``check-config`` and ``ecrin run`` report without refusing the
            configuration (a secret written inline, a secrets file others can read).
    """

    path: Path
    site: Site
    zones: tuple[Zone, ...]
    devices: tuple[DeviceConfig, ...] = ()
    cameras: tuple[CameraConfig, ...] = ()
    contacts: tuple[Contact, ...] = ()
    escalation: EscalationSettings | None = None
    http: HttpConfig = field(default_factory=HttpConfig)
    mqtt: MqttConfig | None = None
    plugins: PluginsConfig = field(default_factory=PluginsConfig)
    journal: JournalConfig = field(default_factory=lambda: JournalConfig(Path("ecrin-journal.db")))
    secret_values: frozenset[str] = field(default=frozenset(), repr=False)
    warnings: tuple[ConfigIssue, ...] = field(default=(), repr=False, compare=False)

    def zone(self, zone_id: str) -> Zone | None:
        """The zone with that id, or None."""
        return next((z for z in self.zones if z.id == zone_id), None)

    def contact(self, contact_id: str) -> Contact | None:
        """The contact with that id, or None."""
        return next((c for c in self.contacts if c.id == contact_id), None)

    @property
    def device_ids(self) -> tuple[str, ...]:
        """The ids of every device and camera, in file order (for ``HubInfo``)."""
        return tuple(d.id for d in self.devices) + tuple(c.id for c in self.cameras)
