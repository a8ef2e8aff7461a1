"""Écrin's core: the event bus, events, plugins, configuration, journal and lifecycle.

The names a plugin author needs are re-exported here; everything else is imported from
its own module (``hub.journal``, ``hub.config``...).
"""

from hub.bus import EventBus, SubscriberStats, Subscription
from hub.devices import Device, DeviceContext, DeviceType, PanelZone, ZoneMap
from hub.events import (
    LIFE_SAFETY_KINDS,
    AlarmKind,
    AlarmSignal,
    CameraAvailability,
    CameraMotion,
    DeviceFault,
    Event,
    HubAlive,
    HubStarted,
    HubStopping,
    LinkLost,
    LinkRestored,
    PanelState,
)
from hub.hookspecs import HubInfo, hookimpl, hookspec
from hub.schema import Setting

__all__ = [
    "LIFE_SAFETY_KINDS",
    "AlarmKind",
    "AlarmSignal",
    "CameraAvailability",
    "CameraMotion",
    "Device",
    "DeviceContext",
    "DeviceFault",
    "DeviceType",
    "Event",
    "EventBus",
    "HubAlive",
    "HubInfo",
    "HubStarted",
    "HubStopping",
    "LinkLost",
    "LinkRestored",
    "PanelState",
    "PanelZone",
    "Setting",
    "SubscriberStats",
    "Subscription",
    "ZoneMap",
    "hookimpl",
    "hookspec",
]
__version__ = "0.1.0"
