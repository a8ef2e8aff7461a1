"""The shop as the escalation engine sees it: what an escalation says of where it is.

The engine is handed this view, not the whole configuration: the site's name,
address, département and time zone (sent with every escalation), the zones' names,
the cameras covering each zone (whose recordings are kept after a hold-up) and the
devices wired to hold-up buttons (whose lost link escalates). The composition root
builds it once from the loaded configuration (``from_config``).
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
    """

    name: str
    address: str
    departement: str
    timezone: str
    zone_names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    cameras: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    holdup_devices: frozenset[str] = frozenset()

    @property
    def tzinfo(self) -> ZoneInfo:
        """The shop's time zone."""
        return ZoneInfo(self.timezone)

    def cameras_of(self, zone: str | None) -> tuple[str, ...]:
        """The cameras covering ``zone`` (none for an unknown zone, or none given)."""
        return self.cameras.get(zone, ()) if zone else ()

    @classmethod
    def from_config(cls, config: Config) -> EscalationSite:
        """The view of a loaded configuration."""
        cameras: dict[str, list[str]] = {}
        for camera in config.cameras:
            for zone in camera.zones:
                cameras.setdefault(zone, []).append(camera.id)
        return cls(
            name=config.site.name,
            address=config.site.address,
            departement=config.site.departement,
            timezone=config.site.timezone,
            zone_names=MappingProxyType({z.id: z.name for z in config.zones}),
            cameras=MappingProxyType({zone: tuple(ids) for zone, ids in cameras.items()}),
            holdup_devices=frozenset(
                d.id for d in config.devices if any(z.holdup for z in d.zone_map.zones.values())
            ),
        )
