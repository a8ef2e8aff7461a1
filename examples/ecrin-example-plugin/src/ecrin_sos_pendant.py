"""The SOS pendant: an example Écrin plugin for a message device.

A wireless panic pendant, worn by the jeweller, reaches the shop's MQTT broker through
a radio bridge that publishes one JSON object per happening on
``<prefix>/<pendant>`` (``prefix`` is a setting, ``pendants`` by default):

=============================================  ==========================================
Payload                                        Event
=============================================  ==========================================
``{"action": "sos"}``                          ``AlarmSignal`` holdup: the pendant's button
``{"action": "clear"}``                        the same, ``restore``
``{"tamper": true}``                           ``AlarmSignal`` tamper (the case opened)
``{"battery_low": true}``                      ``AlarmSignal`` trouble
``{"linkquality": 87}`` (anything else)        none: a status the hub has no use for
=============================================  ==========================================

A payload that is not a JSON object is counted and skipped, never raised. A retained
``sos`` (left on the broker by an earlier run) is **not** a new hold-up: a retained
message describes a past state, and escalating it again at every restart would call
the police for nothing; it is counted as stale.

The plugin is one module written against ``hub.sdk`` only: a pure decoder (message
in, events out), a settings dataclass, a ``MessageDevice`` subclass that names its
topic, and the ``register_device_types`` hook. The hub hands every message device the
shop's shared session (``DeviceContext.messages``); the device subscribes to its own
topic on enter and unsubscribes on exit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hub.sdk import (
    AlarmKind,
    AlarmSignal,
    DecodeStats,
    DeviceContext,
    DeviceType,
    Event,
    Message,
    MessageDevice,
    hookimpl,
    setting,
)

__all__ = [
    "PROTOCOL",
    "SosPendant",
    "SosPendantDecoder",
    "SosPendantSettings",
    "register_device_types",
]

#: The device type's name, and the protocol put on its events.
PROTOCOL = "sos-pendant"


class SosPendantDecoder:
    """A pendant's messages in, ``AlarmSignal`` out: pure, no I/O, never raising.

    Args:
        device: the configured device id, put on every event.
    """

    def __init__(self, device: str) -> None:
        self.device = device
        self.stats = DecodeStats()
        self.stale = 0

    def decode(self, message: Message) -> Sequence[Event]:
        """The events one message means (none for a status or a bad payload)."""
        self.stats.frames += 1
        try:
            data = json.loads(message.payload)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self.stats.reject(message.payload, "not a JSON object")
            return []
        events: list[Event] = []
        action = data.get("action")
        if action in ("sos", "clear"):
            if message.retain:
                self.stale += 1  # an old state kept by the broker, not a press now
            else:
                events.append(self._signal(AlarmKind.HOLDUP, restore=action == "clear"))
        if data.get("tamper") is True:
            events.append(self._signal(AlarmKind.TAMPER, restore=False))
        if data.get("battery_low") is True:
            events.append(self._signal(AlarmKind.TROUBLE, restore=False))
        self.stats.events += len(events)
        return events

    def _signal(self, kind: AlarmKind, *, restore: bool) -> AlarmSignal:
        return AlarmSignal(
            kind=kind, device=self.device, restore=restore, code=kind.value, protocol=PROTOCOL
        )


@dataclass(frozen=True, kw_only=True)
class SosPendantSettings:
    """The pendant's settings: where its bridge publishes."""

    prefix: str = setting("pendants", help="the bridge's topic prefix")
    name: str = setting("", help="the pendant's name at the bridge (default: the device id)")


class SosPendant(MessageDevice):
    """One pendant, on the shop's shared message session."""

    def __init__(self, ctx: DeviceContext) -> None:
        if ctx.messages is None:
            raise OSError("no message session: the pendant needs the shop's MQTT broker")
        settings = ctx.settings_as(SosPendantSettings)
        topic = f"{settings.prefix}/{settings.name or ctx.device_id}"
        super().__init__(ctx, ctx.messages, SosPendantDecoder(ctx.device_id), [topic])


@hookimpl
def register_device_types(register: Callable[[DeviceType], None]) -> None:
    """Declare ``sos-pendant``."""
    register(
        DeviceType(
            name=PROTOCOL,
            factory=SosPendant,
            settings=SosPendantSettings,
            description="wireless SOS pendant reported over MQTT by a radio bridge",
            category="panel",
        )
    )
