"""The validated configuration of one shop, as frozen, typed values.

The loader builds these only from a file with no problem at all, so the rest of the
hub can trust every field: zones referenced by devices exist, ids are unique, settings
match their device type's schema, retention is within the law.

Values read through ``!secret`` are ``SecretStr``: they compare and print as the
secret (the hub needs it to log in to a broker), but their ``repr`` hides it, so a
config object in a log line or a traceback never shows one.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from hub.config.issues import ConfigIssue
from hub.devices import ZoneMap

__all__ = [
    "CameraConfig",
    "Config",
    "DeviceConfig",
    "EmbeddedBroker",
    "HttpConfig",
    "JournalConfig",
    "MqttConfig",
    "MqttTls",
    "Placement",
    "PluginsConfig",
    "Risk",
    "SecretStr",
    "Site",
    "Zone",
    "default_client_id",
    "is_loopback",
]

T = TypeVar("T")

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
class MqttTls:
    """TLS to the broker.

    Attributes:
        ca: the CA bundle to check the broker's certificate with; None: the system's.
        certfile: the hub's client certificate, when the broker asks for one.
        keyfile: its private key (kept 0600 by whoever installs it).
        check_hostname: check that the certificate names the broker's host.
    """

    ca: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    check_hostname: bool = True


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (``localhost``,
    127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class EmbeddedBroker:
    """The broker the hub starts itself when the shop configures none (``mqtt.host``
    absent): on loopback by default, for the demo and a small shop."""

    host: str = "127.0.0.1"
    port: int = 1883


def default_client_id(site_name: str) -> str:
    """The hub's MQTT client id when the configuration gives none: ``ecrin-`` and the
    shop's name in plain lowercase letters, digits and dashes ("Bijouterie Müller &
    Fils" gives ``ecrin-bijouterie-muller-fils``), at most 64 characters.

    It must be the same at every start: the broker keeps the hub's persistent session
    (its subscriptions, the messages queued while it was away) under this id.
    """
    plain = unicodedata.normalize("NFKD", site_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:58].rstrip("-")
    return f"ecrin-{slug}" if slug else "ecrin"


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """The MQTT broker the cameras (and Home Assistant) speak through.

    Attributes:
        host: the broker; None: the hub starts its embedded broker (``embedded``).
        port: the broker's port.
        username: the hub's user name on the broker.
        password: its password (``!secret``); hidden from ``repr``.
        client_id: the hub's client id; stable across restarts, because the broker
            keeps the hub's persistent session under it.
        tls: TLS settings; None: plain TCP.
        keepalive: seconds between the client's pings.
        base_topic: the prefix of the hub's own topics (``<base_topic>/status``).
        embedded: where the embedded broker listens, when ``host`` is None.
    """

    host: str | None = None
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_id: str | None = None
    tls: MqttTls | None = None
    keepalive: int = 30
    base_topic: str = "ecrin"
    embedded: EmbeddedBroker = field(default_factory=EmbeddedBroker)

    @property
    def availability_topic(self) -> str:
        """The hub's availability topic: ``online`` (retained) while the hub is
        connected, ``offline`` when it leaves or its last will fires."""
        return f"{self.base_topic}/status"

    def describe(self) -> str:
        """Which broker, in one line for the logs and ``ecrin check-config``: its
        address, user, TLS and client id, never the password."""
        if self.host is None:
            where = f"the embedded broker on {self.embedded.host}:{self.embedded.port}"
        else:
            scheme = "mqtts" if self.tls is not None else "mqtt"
            where = f"{scheme}://{self.host}:{self.port}"
        parts = [where]
        if self.username:
            parts.append(f"user {self.username}")
        if self.client_id:
            parts.append(f"client id {self.client_id}")
        return ", ".join(parts)


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
        sections: the values of the top-level sections plugins contribute
            (``hub.config.contributed``), by key: the escalation's ``contacts`` and
            ``escalation``... Read one with ``section``.
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
    sections: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    http: HttpConfig = field(default_factory=HttpConfig)
    mqtt: MqttConfig | None = None
    plugins: PluginsConfig = field(default_factory=PluginsConfig)
    journal: JournalConfig = field(default_factory=lambda: JournalConfig(Path("ecrin-journal.db")))
    secret_values: frozenset[str] = field(default=frozenset(), repr=False)
    warnings: tuple[ConfigIssue, ...] = field(default=(), repr=False, compare=False)

    def message_broker(self, device_types: Mapping[str, Any]) -> MqttConfig | None:
        """The broker the hub uses: the ``mqtt:`` section; without one, the embedded
        broker when a configured device or camera's type needs messages
        (``DeviceType.messages``); None when nothing needs a broker.

        Args:
            device_types: the catalogue of device types, by name.
        """
        if self.mqtt is not None:
            return self.mqtt
        types = {d.type for d in self.devices} | {c.type for c in self.cameras}
        if any(getattr(device_types.get(name), "messages", False) for name in types):
            return MqttConfig(client_id=default_client_id(self.site.name))
        return None

    def zone(self, zone_id: str) -> Zone | None:
        """The zone with that id, or None."""
        return next((z for z in self.zones if z.id == zone_id), None)

    def section(self, key: str, kind: type[T]) -> T | None:
        """The value of a contributed section, typed.

        Args:
            key: the top-level key (``escalation``).
            kind: the type its reader returns (``EscalationSettings``).

        Returns:
            The value; None when the section is absent from the file (or its reader
            returned None for "not configured"), or when no loaded plugin contributes
            it.

        Raises:
            TypeError: the value is not a ``kind``: the caller and the section's
                reader disagree, a programming error to fix rather than to hide.
        """
        value = self.sections.get(key)
        if value is None:
            return None
        if not isinstance(value, kind):
            raise TypeError(
                f"config section {key!r} holds a {type(value).__name__}, not a {kind.__name__}"
            )
        return value

    @property
    def device_ids(self) -> tuple[str, ...]:
        """The ids of every device and camera, in file order (for ``HubInfo``)."""
        return tuple(d.id for d in self.devices) + tuple(c.id for c in self.cameras)
