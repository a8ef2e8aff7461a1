"""Home Assistant discovery payloads for the hub's entities: pure, no I/O.

What Home Assistant is shown, and in which words, is decided here, so that it can be
checked exhaustively without a broker: the entities (``Entity``), their discovery
topics and configs, their state payloads from the state registry's ``State`` values,
and which retained configs found on the broker still belong to the configuration.

The discovery topics are the per-entity ones,
``<prefix>/<component>/<node_id>/<object_id>/config``, which every Home Assistant
release understands (the device-based form needs 2025.2). Only long-standing config
keys are used, for the same reason: an older release refuses a config with a key it
does not know, and a shop's Home Assistant is often years old.

Four kinds of entities, and nothing else (see docs/home-assistant.md):

* ``holdup``: a ``binary_sensor`` per shop zone, ``ON`` while a hold-up, duress or
  panic alarm of the zone is not restored. A hold-up is silent: the entity is
  published disabled (``enabled_by_default: false``), so a shop turns it on
  deliberately, and carries nothing but ON and OFF.
* ``partition``: a ``sensor`` per panel partition heard of, whose state is the
  panel's word (Home Assistant's alarm-panel words). Not an ``alarm_control_panel``:
  that component requires a command topic, and the hub takes no command from MQTT.
* ``link``: a ``binary_sensor`` (``connectivity``) per supervised link heard of.
* ``camera``: a ``binary_sensor`` per camera, ``ON`` while it covers its zones as the
  state registry judges it (online, and its recording not known to be off: see
  ``hub.cameras``), with its availability word, its recording flag and its zones as
  attributes.

Nothing else of the registry is published: not the shop's zones (a zone in alarm may
be a silent hold-up), not the escalations (their ids, tiers and contacts are the
referents' business), and no reason text (it may name hosts or ports).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from hub.config import Config, MqttConfig
from hub.homeassistant.config import HomeAssistantSettings
from hub.state import (
    CameraAttributes,
    PartitionAttributes,
    State,
    ZoneAttributes,
    camera_id,
    link_id,
    partition_id,
    zone_id,
)

__all__ = [
    "AVAILABLE",
    "MODEL",
    "NOT_AVAILABLE",
    "Discovery",
    "Entity",
    "Kind",
]

MODEL: Final = "Écrin"
#: The payloads of the hub's availability topic (its MQTT session's birth and last will).
AVAILABLE: Final = "online"
NOT_AVAILABLE: Final = "offline"
ON: Final = "ON"
OFF: Final = "OFF"

_NOT_ID: Final = re.compile(r"[^a-zA-Z0-9_-]")


class Kind(enum.StrEnum):
    """What an entity shows; the first word of its object id."""

    HOLDUP = "holdup"
    PARTITION = "partition"
    LINK = "link"
    CAMERA = "camera"


_COMPONENT: Final = {
    Kind.HOLDUP: "binary_sensor",
    Kind.PARTITION: "sensor",
    Kind.LINK: "binary_sensor",
    Kind.CAMERA: "binary_sensor",
}


def _object_id(*parts: str) -> str:
    # Configured ids are already plain (the loader checks them); this only makes sure.
    return _NOT_ID.sub("_", "_".join(parts))


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity shown to Home Assistant.

    Attributes:
        kind: what it shows.
        object_id: the last level of its discovery topic, unique within the hub's node.
        source: the state registry's entity it mirrors (``zone:counter``...).
        name: its name in Home Assistant (after the device's, the shop's name).
        owner: the configured zone, device or camera it belongs to.
    """

    kind: Kind
    object_id: str
    source: str
    name: str
    owner: str

    @property
    def component(self) -> str:
        """Home Assistant's component (``binary_sensor``, ``sensor``)."""
        return _COMPONENT[self.kind]


def _json(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class Discovery:
    """The discovery plan of one hub: its entities, topics and payloads.

    Args:
        prefix: Home Assistant's discovery prefix.
        node_id: the hub's node id (``[a-zA-Z0-9_-]``).
        base_topic: the prefix of the hub's own topics; states go under
            ``<base_topic>/entities/``.
        availability_topic: the hub's availability topic (``online``/``offline``, its
            session's last will), every entity's availability.
        site: the shop's name: the Home Assistant device's name.
        version: the hub's version, shown as the device's software version.
        zones: the shop's zones, as (id, name) pairs.
        devices: the configured devices (partitions and links belong to them).
        cameras: the configured cameras and the shop zones each covers.
    """

    def __init__(
        self,
        *,
        prefix: str,
        node_id: str,
        base_topic: str,
        availability_topic: str,
        site: str,
        version: str,
        zones: Sequence[tuple[str, str]] = (),
        devices: Iterable[str] = (),
        cameras: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.prefix = prefix
        self.node_id = node_id
        self.base_topic = base_topic
        self.availability_topic = availability_topic
        self.site = site
        self.version = version
        self.devices = tuple(devices)
        self.cameras = {c: tuple(z) for c, z in (cameras or {}).items()}
        static = [
            Entity(Kind.HOLDUP, _object_id("holdup", z), zone_id(z), f"Hold-up {name}", z)
            for z, name in zones
        ] + [
            Entity(Kind.CAMERA, _object_id("camera", c), camera_id(c), f"{c} coverage", c)
            for c in self.cameras
        ]
        self._static: dict[str, Entity] = {e.source: e for e in static}

    @classmethod
    def from_config(
        cls, config: Config, settings: HomeAssistantSettings, version: str
    ) -> Discovery:
        """The plan for a loaded configuration (the hub's topics from ``mqtt:``)."""
        mqtt = config.mqtt if config.mqtt is not None else MqttConfig()
        return cls(
            prefix=settings.prefix,
            node_id=settings.node_id_for(config),
            base_topic=mqtt.base_topic,
            availability_topic=mqtt.availability_topic,
            site=config.site.name,
            version=version,
            zones=[(z.id, z.name) for z in config.zones],
            devices=[d.id for d in config.devices],
            cameras={c.id: c.zones for c in config.cameras},
        )

    # -- entities ------------------------------------------------------------------------
    def entities(self) -> tuple[Entity, ...]:
        """The entities the configuration names (hold-up per zone, coverage per camera);
        partitions and links come as the registry hears of them (``entity_for``)."""
        return tuple(self._static.values())

    def entity_for(self, source: str) -> Entity | None:
        """The entity that shows a registry entity, or None when none does."""
        entity = self._static.get(source)
        if entity is not None:
            return entity
        domain, _, rest = source.partition(":")
        if domain == "partition":
            device, _, number = rest.rpartition(":")
            if device in self.devices and number.isdigit():
                name = f"{device} partition {number}" if number != "0" else f"{device} panel"
                oid = _object_id("partition", device, number)
                return Entity(Kind.PARTITION, oid, partition_id(device, int(number)), name, device)
        elif domain == "link" and (rest in self.devices or rest in self.cameras):
            return Entity(Kind.LINK, _object_id("link", rest), link_id(rest), f"{rest} link", rest)
        return None

    # -- topics --------------------------------------------------------------------------
    @property
    def status_topic(self) -> str:
        """Where Home Assistant announces itself (``online`` after it starts)."""
        return f"{self.prefix}/status"

    @property
    def config_filter(self) -> str:
        """Every discovery config of this hub's node, whatever component and object."""
        return f"{self.prefix}/+/{self.node_id}/+/config"

    def config_topic(self, entity: Entity) -> str:
        """``<prefix>/<component>/<node_id>/<object_id>/config``."""
        return f"{self.prefix}/{entity.component}/{self.node_id}/{entity.object_id}/config"

    def _topics_of(self, object_id: str) -> tuple[str, str]:
        root = f"{self.base_topic}/entities/{object_id}"
        return f"{root}/state", f"{root}/attributes"

    def state_topic(self, entity: Entity) -> str:
        """Where the entity's state is published, retained."""
        return self._topics_of(entity.object_id)[0]

    def attributes_topic(self, entity: Entity) -> str:
        """Where the entity's attributes (a JSON object) are published, retained."""
        return self._topics_of(entity.object_id)[1]

    def _parse(self, topic: str) -> tuple[str, str] | None:
        """(component, object_id) of a config topic of this node, or None."""
        head = f"{self.prefix}/"
        if not topic.startswith(head):
            return None
        parts = topic[len(head) :].split("/")
        if len(parts) != 4 or parts[1] != self.node_id or parts[3] != "config":
            return None
        return parts[0], parts[2]

    def keeps(self, topic: str) -> bool:
        """Whether a discovery config found on this node belongs to the configuration:
        a configured entity's, or a partition's or link's of a configured device (heard
        of before, and shown again when the registry hears of it). Any other config of
        the node is a leftover of an earlier configuration, to be removed."""
        parsed = self._parse(topic)
        if parsed is None:
            return False
        component, object_id = parsed
        for entity in self._static.values():
            if entity.object_id == object_id:
                return entity.component == component
        kind, _, rest = object_id.partition("_")
        if kind == Kind.PARTITION and component == _COMPONENT[Kind.PARTITION]:
            device, _, number = rest.rpartition("_")
            if not number.isdigit():
                return False
            return self.entity_for(partition_id(device, int(number))) is not None
        if kind == Kind.LINK and component == _COMPONENT[Kind.LINK]:
            return self.entity_for(link_id(rest)) is not None
        return False

    def leftovers(self, topic: str, *, withdrawing: bool = False) -> tuple[str, ...]:
        """The retained topics to empty to remove a config of this node: the config
        itself, and its state and attributes unless a kept entity uses them (none is
        kept when ``withdrawing``: discovery is off)."""
        parsed = self._parse(topic)
        if parsed is None:
            return ()
        _, object_id = parsed
        in_use = not withdrawing and (
            any(e.object_id == object_id for e in self._static.values())
            or any(
                self.keeps(f"{self.prefix}/{component}/{self.node_id}/{object_id}/config")
                for component in set(_COMPONENT.values())
            )
        )
        return (topic,) if in_use else (topic, *self._topics_of(object_id))

    # -- payloads ------------------------------------------------------------------------
    def config(self, entity: Entity) -> bytes:
        """The discovery config (JSON) of an entity."""
        data: dict[str, Any] = {
            "name": entity.name,
            "unique_id": f"{self.node_id}_{entity.object_id}",
            "state_topic": self.state_topic(entity),
            "availability_topic": self.availability_topic,
            "payload_available": AVAILABLE,
            "payload_not_available": NOT_AVAILABLE,
            "device": {
                "identifiers": [self.node_id],
                "name": self.site,
                "model": MODEL,
                "sw_version": self.version,
            },
        }
        if entity.component == "binary_sensor":
            data["payload_on"] = ON
            data["payload_off"] = OFF
        if entity.kind is Kind.HOLDUP:
            data["device_class"] = "safety"
            # Silent: a shop turns it on in Home Assistant deliberately, knowing where
            # it must never be shown.
            data["enabled_by_default"] = False
        elif entity.kind is Kind.PARTITION:
            data["icon"] = "mdi:shield-home"
            data["json_attributes_topic"] = self.attributes_topic(entity)
        elif entity.kind is Kind.LINK:
            data["device_class"] = "connectivity"
        elif entity.kind is Kind.CAMERA:
            data["icon"] = "mdi:cctv"
            data["json_attributes_topic"] = self.attributes_topic(entity)
        return _json(data)

    def state(self, entity: Entity, state: State | None) -> tuple[tuple[str, bytes], ...]:
        """The (topic, payload) pairs that show ``state`` (None: never heard of).

        A zone never heard of has no hold-up (OFF), a camera never heard of does not
        cover (OFF, availability ``unknown``); a partition or link never heard of is
        not shown at all.
        """
        if entity.kind is Kind.HOLDUP:
            attrs = state.attributes if state is not None else None
            holdup = isinstance(attrs, ZoneAttributes) and attrs.alarm and attrs.silent
            return ((self.state_topic(entity), (ON if holdup else OFF).encode()),)
        if entity.kind is Kind.CAMERA:
            word = state.state if state is not None else "unknown"
            cam = state.attributes if state is not None else None
            recording = cam.recording if isinstance(cam, CameraAttributes) else None
            # The registry's own judgement (``hub.cameras.covering``), the one the
            # escalations and the coverage log count.
            covering = isinstance(cam, CameraAttributes) and cam.covering
            attributes: dict[str, Any] = {
                "availability": word,
                "recording": recording,
                "zones": list(self.cameras.get(entity.owner, ())),
            }
            return (
                (self.state_topic(entity), (ON if covering else OFF).encode()),
                (self.attributes_topic(entity), _json(attributes)),
            )
        if state is None:
            return ()
        if entity.kind is Kind.LINK:
            return ((self.state_topic(entity), (ON if state.state == "up" else OFF).encode()),)
        part = state.attributes
        details: dict[str, Any] = (
            {
                "device": part.device,
                "partition": part.partition,
                "armed": part.armed,
                "alarm": part.alarm,
                "ready": part.ready,
                "ac_power": part.ac_power,
                "battery_low": part.battery_low,
            }
            if isinstance(part, PartitionAttributes)
            else {}
        )
        return (
            (self.state_topic(entity), state.state.encode()),
            (self.attributes_topic(entity), _json(details)),
        )
