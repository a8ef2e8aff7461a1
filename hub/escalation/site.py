"""The shop as the escalation engine sees it: what an escalation says of where it is.

The engine is handed this view, not the whole configuration: the site's name,
address, département and time zone (sent with every escalation), the zones' names
and risks, the cameras covering each zone (whose recordings are kept after a hold-up,
and whose outage in a high-risk zone escalates while it is armed), the devices wired
to hold-up buttons (whose lost link escalates) and the devices that report each zone
(whose partitions say whether it is armed). The composition root builds it once from
the loaded configuration (``from_config``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from zoneinfo import ZoneInfo

from hub.config import Config

__all__ = ["EscalationSite"]


@dataclass(frozen=True, slots=True)
class EscalationSite:
    """The shop, for escalations.

    Attributes:
        name: the shop's name, as the referents know it.
        address: its street address.
        departement: the French département code.
        timezone: an IANA time zone name (validated by the configuration's loader).
        zone_names: each zone's display name, by zone id.
        cameras: the ids of the cameras covering each zone, by zone id.
        holdup_devices: the devices with panel zones wired to hold-up buttons.
        zone_risks: each zone's risk (``low``, ``medium``, ``high``), by zone id.
        zone_devices: the devices whose zone map places a panel zone (or its default
            zone) in each zone, by zone id: their partitions say whether it is armed.
        devices: every configured device but the cameras, in file order: whether the
            shop is armed where a zone no device maps is asked of all of them.
    """

    name: str
    address: str
    departement: str
    timezone: str
    zone_names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    cameras: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    holdup_devices: frozenset[str] = frozenset()
    zone_risks: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    zone_devices: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    devices: tuple[str, ...] = ()

    @property
    def tzinfo(self) -> ZoneInfo:
        """The shop's time zone."""
        return ZoneInfo(self.timezone)

    def cameras_of(self, zone: str | None) -> tuple[str, ...]:
        """The cameras covering ``zone`` (none for an unknown zone, or none given)."""
        return self.cameras.get(zone, ()) if zone else ()

    def zones_of(self, camera: str) -> tuple[str, ...]:
        """The zones ``camera`` covers, in the order of the zones' configuration."""
        return tuple(zone for zone, ids in self.cameras.items() if camera in ids)

    def devices_of(self, zone: str) -> tuple[str, ...]:
        """The devices whose partitions say whether ``zone`` is armed: those that map a
        panel zone to it, or every device when none does."""
        return self.zone_devices.get(zone) or self.devices

    @classmethod
    def from_config(cls, config: Config) -> EscalationSite:
        """The view of a loaded configuration."""
        cameras: dict[str, list[str]] = {z.id: [] for z in config.zones}
        for camera in config.cameras:
            for zone in camera.zones:
                cameras.setdefault(zone, []).append(camera.id)
        zone_devices: dict[str, list[str]] = {}
        for device in config.devices:
            mapped = {z.zone for z in device.zone_map.zones.values() if z.zone is not None}
            if device.zone_map.default_zone is not None:
                mapped.add(device.zone_map.default_zone)
            for zone in mapped:
                zone_devices.setdefault(zone, []).append(device.id)
        return cls(
            name=config.site.name,
            address=config.site.address,
            departement=config.site.departement,
            timezone=config.site.timezone,
            zone_names=MappingProxyType({z.id: z.name for z in config.zones}),
            cameras=MappingProxyType({zone: tuple(ids) for zone, ids in cameras.items() if ids}),
            holdup_devices=frozenset(
                d.id for d in config.devices if any(z.holdup for z in d.zone_map.zones.values())
            ),
            zone_risks=MappingProxyType({z.id: z.risk for z in config.zones}),
            zone_devices=MappingProxyType({z: tuple(ids) for z, ids in zone_devices.items()}),
            devices=tuple(d.id for d in config.devices),
        )
