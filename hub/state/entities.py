"""The entities of the shop's state: their ids, their states and typed attributes.

A state is a frozen value, in Home Assistant's shape (``entity_id``, ``state``,
``attributes``, ``last_changed``, ``last_updated``), with one difference: the
attributes are a typed, frozen dataclass per domain instead of an open dict, so that a
consumer (the API, ``ecrin status``, the rules, the coverage log to come) reads fields
that mypy checks. Times are the events' times, never the wall clock: a state restored
from the journal, or built in a test, is the same whenever it is computed.

Entity ids are stable across restarts and configurations: they are made from the
configured ids (devices, shop zones, cameras) and the numbers the panels use.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypeAlias

from hub.events import RetentionChecked

__all__ = [
    "ARMED_STATES",
    "UNKNOWN",
    "Attributes",
    "CameraAttributes",
    "DeviceAttributes",
    "Domain",
    "EscalationAttributes",
    "LinkAttributes",
    "PanelZoneAttributes",
    "PartitionAttributes",
    "State",
    "StateChanged",
    "ZoneAttributes",
    "camera_id",
    "device_id",
    "escalation_id",
    "link_id",
    "panel_zone_id",
    "partition_id",
    "retention_fault",
    "zone_id",
]

#: The state of an entity the hub has an id for but has heard nothing about.
UNKNOWN: Final = "unknown"

#: Home Assistant panel states in which a burglary alarm is real (pending is the entry
#: delay, triggered is the alarm itself).
ARMED_STATES: Final = frozenset(
    {
        "armed_home",
        "armed_away",
        "armed_night",
        "armed_vacation",
        "armed_custom_bypass",
        "pending",
        "triggered",
    }
)


class Domain(enum.StrEnum):
    """What kind of thing an entity is; the prefix of its id."""

    PARTITION = "partition"
    ZONE = "zone"
    PANEL_ZONE = "panel_zone"
    DEVICE = "device"
    LINK = "link"
    CAMERA = "camera"
    ESCALATION = "escalation"


def partition_id(device: str, partition: int) -> str:
    """``partition:<device>:<n>``; n is 0 for a whole panel that gave no partition."""
    return f"partition:{device}:{partition}"


def zone_id(zone: str) -> str:
    """``zone:<shop zone>``: a zone of the shop's configuration, whatever device reports it."""
    return f"zone:{zone}"


def panel_zone_id(device: str, number: int) -> str:
    """``panel_zone:<device>:<n>``: a zone as the panel numbers it."""
    return f"panel_zone:{device}:{number}"


def device_id(device: str) -> str:
    """``device:<id>``: a configured device (is it running, or failing to open)."""
    return f"device:{device}"


def link_id(device: str) -> str:
    """``link:<device>``: a device's supervised link (up or down)."""
    return f"link:{device}"


def camera_id(camera: str) -> str:
    """``camera:<id>``: a configured camera."""
    return f"camera:{camera}"


def retention_fault(checked: RetentionChecked) -> str:
    """A retention difference in one line: ``NVR keeps 10 days, declared 30 (source)``."""
    return (
        f"NVR keeps {checked.actual_days:g} days, declared {checked.declared_days}"
        f" ({checked.source or 'its plugin'})"
    )


def escalation_id(escalation: str) -> str:
    """``escalation:<id>``: an escalation of the engine."""
    return f"escalation:{escalation}"


@dataclass(frozen=True, slots=True)
class PartitionAttributes:
    """A panel partition.

    Attributes:
        device: the configured device id.
        partition: the panel's partition number (0: the whole panel, no number given).
        armed: whether a burglary alarm is real now (see ``ARMED_STATES``).
        alarm: an alarm is going on in the partition (triggered, sounding, or an alarm
            signal of that partition since it was last disarmed).
        ready: the partition can be armed; None when the panel does not say.
        ac_power: mains present; None when unknown.
        battery_low: backup battery low; None when unknown.
    """

    device: str
    partition: int
    armed: bool
    alarm: bool = False
    ready: bool | None = None
    ac_power: bool | None = None
    battery_low: bool | None = None


@dataclass(frozen=True, slots=True)
class ZoneAttributes:
    """A shop zone (from the zone map of the devices that report it).

    Attributes:
        open: the detector is open (faulted); None when no event says.
        alarm: an alarm of the zone has not been restored.
        silent: that alarm is a hold-up, duress or panic: a consumer that shows
            anything in the shop (a screen, a home-automation panel) must not show it.
        bypassed: the zone is bypassed; None when no event says (none does yet).
        trouble: a trouble of the zone has not been restored.
        kind: the alarm kind of the last alarm or trouble (``holdup``, ``burglary``...).
        device: the device that reported last.
    """

    open: bool | None = None
    alarm: bool = False
    silent: bool = False
    bypassed: bool | None = None
    trouble: bool = False
    kind: str = ""
    device: str = ""


@dataclass(frozen=True, slots=True)
class PanelZoneAttributes:
    """A zone as a panel numbers it; the same fields as a shop zone, plus where it is.

    Attributes:
        device: the configured device id.
        number: the panel's zone number.
        zone: the shop zone it maps to, when mapped.
        open, alarm, silent, bypassed, trouble, kind: see ``ZoneAttributes``.
    """

    device: str
    number: int
    zone: str | None = None
    open: bool | None = None
    alarm: bool = False
    silent: bool = False
    bypassed: bool | None = None
    trouble: bool = False
    kind: str = ""


@dataclass(frozen=True, slots=True)
class DeviceAttributes:
    """A configured device: ``ok`` once heard from, ``fault`` while it cannot run.

    Attributes:
        reason: the last fault's reason ("" when none).
        retry_in: seconds to the next attempt, as the last fault said.
    """

    reason: str = ""
    retry_in: float = 0.0


@dataclass(frozen=True, slots=True)
class LinkAttributes:
    """A device's supervised link: ``up`` or ``down`` (since ``last_changed``).

    Attributes:
        reason: why it went down last ("" when it never did).
    """

    reason: str = ""


@dataclass(frozen=True, slots=True)
class CameraAttributes:
    """A camera: ``online``, ``offline``, ``disabled`` or ``unknown`` (never heard of).

    The state word says whether the camera answers; ``covering`` whether it films and
    keeps what it films, which is what escalations and the coverage log count (see
    docs/state.md for how the roles and the whole camera combine).

    Attributes:
        covering: the camera is online and its recording is not known to be off
            (``hub.cameras.covering``); False for a camera never heard of.
        recording: whether it records: False when the NVR's recording is switched off
            (``CameraRecording``) or the ``record`` role is offline or disabled; True
            when one of them says it records and neither says otherwise; None when
            neither was ever reported.
        motion: motion is going on (``CameraMotion``); None when never reported.
        roles: the last state of the camera as a whole (role ``""``) and of each role
            reported (``detect``, ``record``, ``audio``), as sorted (role, state) pairs.
        reason: why the last availability report was made, when the hub decided it
            (``NVR last will``, ``broker lost``); "" when the camera's own message said.
        detection: the label of the last object detected (``person``...); "" when none.
        detection_zones: the shop zones of that detection.
        detected_at: when it was last reported (new, updated or ended); None when none.
        retention_fault: how the NVR's actual retention differs from the declared
            ``retention_days``, as its plugin last read it (``RetentionChecked``); ""
            when they match or no plugin can tell. A technical fault: the register's
            destruction dates would be wrong.
    """

    covering: bool = False
    recording: bool | None = None
    motion: bool | None = None
    roles: tuple[tuple[str, str], ...] = ()
    reason: str = ""
    detection: str = ""
    detection_zones: tuple[str, ...] = ()
    detected_at: datetime | None = None
    retention_fault: str = ""


@dataclass(frozen=True, slots=True)
class EscalationAttributes:
    """An escalation: ``open``, ``acknowledged`` or ``resolved``.

    Attributes:
        kind: what opened it (``holdup``, ``burglary``, ``link_lost``...).
        priority: ``life-safety``, ``alarm`` or ``technical``.
        tier: the highest tier of the ladder reached (0-based).
        zone: the shop zone, when known.
        device: the device that reported it.
    """

    kind: str
    priority: str
    tier: int
    zone: str | None = None
    device: str = ""


#: Every attribute type, one per domain.
Attributes: TypeAlias = (
    PartitionAttributes
    | ZoneAttributes
    | PanelZoneAttributes
    | DeviceAttributes
    | LinkAttributes
    | CameraAttributes
    | EscalationAttributes
)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class State:
    """The state of one entity at one moment (a new value at every change).

    Attributes:
        entity_id: the stable unique id (``partition:panel:1``, ``zone:counter``...).
        domain: the kind of entity (the id's prefix).
        state: the domain's word for it (see docs/state.md).
        attributes: the domain's typed details.
        last_changed: when ``state`` last took its value (event time); None for an
            entity configured but never heard of.
        last_updated: when ``state`` or an attribute last changed (event time); None
            likewise.
    """

    entity_id: str
    domain: Domain
    state: str
    attributes: Attributes
    last_changed: datetime | None
    last_updated: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``GET /api/v1/state``, ``ecrin status --json``)."""
        attributes = {
            f.name: _plain(getattr(self.attributes, f.name))
            for f in dataclasses.fields(self.attributes)
        }
        return {
            "entity_id": self.entity_id,
            "domain": self.domain.value,
            "state": self.state,
            "attributes": attributes,
            "last_changed": _time(self.last_changed),
            "last_updated": _time(self.last_updated),
        }


@dataclass(frozen=True, slots=True)
class StateChanged:
    """One entity's state changed (``old`` is None the first time it is heard of).

    Attributes:
        entity_id: the entity.
        old: its state before, or None.
        new: its state now.
    """

    entity_id: str
    old: State | None
    new: State
