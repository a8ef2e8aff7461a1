"""What happened in each shop zone: the alarms, hold-ups, duress and technical faults
the journal recorded, for the risk exposure of the zone.

The convention asks the prefecture to judge a camera request on the risk of the zone
it films; the hub's evidence of that risk is what the journal holds. Each signal falls
into one category:

==================  =============================================================
category            journal events
==================  =============================================================
``holdup``          ``AlarmSignal`` of kind ``holdup``
``duress``          ``AlarmSignal`` of kind ``duress`` (a code keyed under threat)
``alarm``           ``AlarmSignal`` of kind ``burglary``, ``panic``, ``fire``,
                    ``medical``
``technical_fault`` ``AlarmSignal`` of kind ``tamper`` or ``trouble``; ``LinkLost``
                    of a device, in every zone its panel zones map to (or, for a
                    camera, every zone it films); a camera **lost**: its
                    availability went from ``online`` to ``offline`` or
                    ``unknown``, in every zone it films
==================  =============================================================

Restores are not counted (they end a condition already counted), nor are tests,
openings, closings and signals of kind ``other``, which say nothing of the risk. A
camera switched off at the NVR (``disabled``) or that stopped recording is a gap of
coverage, not a fault: someone chose it. A signal with no zone is counted apart, as
"outside any zone"; one naming a zone the configuration does not have is left out of
every zone and counted, so that nothing is silently lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

from hub.config import Config
from hub.events import AlarmKind, AlarmSignal, CameraAvailability, Event, LinkLost, event_from_dict
from hub.journal import iter_payloads

__all__ = [
    "CAMERA_LOST",
    "CATEGORIES",
    "LINK_LOST",
    "Category",
    "ZoneSignal",
    "read_zone_signals",
    "zone_signals",
]

Category = Literal["holdup", "duress", "alarm", "technical_fault"]
#: The categories, in the order the report lists them.
CATEGORIES: Final[tuple[Category, ...]] = ("holdup", "duress", "alarm", "technical_fault")

#: The ``kind`` of a technical fault that is a device's lost link, or a camera lost.
LINK_LOST: Final = "link lost"
CAMERA_LOST: Final = "camera lost"

_BY_KIND: Final[Mapping[AlarmKind, Category]] = {
    AlarmKind.HOLDUP: "holdup",
    AlarmKind.DURESS: "duress",
    AlarmKind.BURGLARY: "alarm",
    AlarmKind.PANIC: "alarm",
    AlarmKind.FIRE: "alarm",
    AlarmKind.MEDICAL: "alarm",
    AlarmKind.TAMPER: "technical_fault",
    AlarmKind.TROUBLE: "technical_fault",
}
#: The journal rows worth decoding; every other type is skipped unread.
_TYPES: Final = frozenset({"AlarmSignal", "LinkLost", "CameraAvailability"})
_LOST: Final = frozenset({"offline", "unknown"})


@dataclass(frozen=True, slots=True)
class ZoneSignal:
    """One signal counted against a zone (or against none).

    Attributes:
        time: when it happened (aware UTC, the event's time).
        zone: the shop zone id, or None when the signal named no zone.
        category: ``holdup``, ``duress``, ``alarm`` or ``technical_fault``.
        kind: the alarm kind (``burglary``, ``tamper``...), ``link lost`` or
            ``camera lost``.
        device: the device or camera that reported it.
    """

    time: datetime
    zone: str | None
    category: Category
    kind: str
    device: str


def _device_zones(config: Config) -> dict[str, tuple[str, ...]]:
    """The zones each device's and camera's link serves."""
    zones: dict[str, tuple[str, ...]] = {}
    for device in config.devices:
        found = {pz.zone for pz in device.zone_map.zones.values() if pz.zone}
        if device.zone_map.default_zone:
            found.add(device.zone_map.default_zone)
        zones[device.id] = tuple(sorted(found))
    for camera in config.cameras:
        zones[camera.id] = tuple(camera.zones)
    return zones


def zone_signals(
    events: Iterable[Event], config: Config, start: datetime, end: datetime
) -> Iterator[ZoneSignal]:
    """The signals of ``events`` (in journal order) that happened in ``[start, end)``.

    Every event is looked at, those before ``start`` too: whether a camera was online
    before it went offline is known only from what came before.
    """
    zones = _device_zones(config)
    camera_state: dict[str, str] = {}
    for event in events:
        if isinstance(event, CameraAvailability):
            if event.role:
                continue
            before = camera_state.get(event.camera)
            camera_state[event.camera] = event.state
            if not (before == "online" and event.state in _LOST):
                continue
            where: tuple[str | None, ...] = zones.get(event.camera) or (None,)
            if start <= event.time < end:
                for zone in where:
                    yield ZoneSignal(event.time, zone, "technical_fault", CAMERA_LOST, event.camera)
        elif not start <= event.time < end:
            continue
        elif isinstance(event, AlarmSignal):
            category = _BY_KIND.get(event.kind)
            if category is not None and not event.restore:
                yield ZoneSignal(event.time, event.zone, category, event.kind.value, event.device)
        elif isinstance(event, LinkLost):
            for zone in zones.get(event.device) or (None,):
                yield ZoneSignal(event.time, zone, "technical_fault", LINK_LOST, event.device)


def _journal_events(path: Path) -> Iterator[Event]:
    for _seq, type_, payload in iter_payloads(path, types=_TYPES):
        if type_ not in _TYPES:
            continue
        try:
            yield event_from_dict(json.loads(payload))
        except ValueError:
            continue  # a row this hub cannot read: ``ecrin journal verify`` says more


def read_zone_signals(
    journal: Path, config: Config, start: datetime, end: datetime
) -> list[ZoneSignal]:
    """The signals the journal holds for ``[start, end)``, by time.

    Raises:
        JournalError: the journal is missing, unreadable or not a journal.
    """
    found = list(zone_signals(_journal_events(journal), config, start, end))
    found.sort(key=lambda s: s.time)
    return found
