"""The shop's state now: a registry of entities with stable ids, fed by the bus.

Partitions (armed, in alarm), zones (open, alarm, trouble), devices and their links (up
or down, since when), cameras (online, covering their zones, recording) and escalations
(open, tier), each a frozen ``State`` with typed attributes, in Home Assistant's shape.
It answers ``GET /api/v1/state``, ``ecrin status``, the escalation rules' "is this
partition armed?" and "did this report make a camera stop covering?" (as a
``hub.cameras.CameraView``), and feeds the coverage log and Home Assistant discovery to
come through a lossless change feed (``StateRegistry.listen``). See docs/state.md.

This is core: it imports no feature (escalation, HTTP) and no plugin. Its modules:

* ``entities``: ids, ``State``, the attribute types, ``StateChanged``;
* ``feed``: ``ChangeFeed``, the lossless change subscription;
* ``registry``: ``StateRegistry``, what turns events into states;
* ``restore``: the registry rebuilt from the journal;
* ``commands``: ``ecrin status``.
"""

from hub.state.commands import status_main
from hub.state.entities import (
    ARMED_STATES,
    UNKNOWN,
    Attributes,
    CameraAttributes,
    DeviceAttributes,
    Domain,
    EscalationAttributes,
    LinkAttributes,
    PanelZoneAttributes,
    PartitionAttributes,
    State,
    StateChanged,
    ZoneAttributes,
    camera_id,
    device_id,
    escalation_id,
    link_id,
    panel_zone_id,
    partition_id,
    zone_id,
)
from hub.state.feed import ChangeFeed
from hub.state.registry import ARMED_HISTORY, EscalationSnapshot, StateRegistry
from hub.state.restore import RestoreResult, restore_from_journal

__all__ = [
    "ARMED_HISTORY",
    "ARMED_STATES",
    "UNKNOWN",
    "Attributes",
    "CameraAttributes",
    "ChangeFeed",
    "DeviceAttributes",
    "Domain",
    "EscalationAttributes",
    "EscalationSnapshot",
    "LinkAttributes",
    "PanelZoneAttributes",
    "PartitionAttributes",
    "RestoreResult",
    "State",
    "StateChanged",
    "StateRegistry",
    "ZoneAttributes",
    "camera_id",
    "device_id",
    "escalation_id",
    "link_id",
    "panel_zone_id",
    "partition_id",
    "restore_from_journal",
    "status_main",
    "zone_id",
]
