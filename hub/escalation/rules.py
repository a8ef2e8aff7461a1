"""Which signals become escalations, and how urgent each is.

A rule looks at one bus event (and at what the hub knows: is the panel armed, is the
device wired to hold-up buttons) and says whether it calls for an escalation. The
built-in rules follow the field:

=====================================  ==============  ================================
Signal                                 Priority        Why
=====================================  ==============  ================================
hold-up, duress, panic (not restores)  life-safety     someone is in danger now
burglary while the panel is armed      alarm           an intrusion, nobody in danger
tamper                                 technical       someone may be defeating it
link lost on a hold-up device          technical       hold-up buttons no longer heard
camera lost in a high-risk zone while  technical       nothing films where it matters
armed, or any camera during a hold-up                  (the evidence of a hold-up)
=====================================  ==============  ================================

Restores never open an escalation. Whether a panel is armed comes from the hub's state
registry (``hub.state``: panel states, openings and closings, kept across restarts),
as of the alarm's time. A burglary from a panel whose state the hub has not heard yet
counts as armed: panels report burglary alarms only for armed zones (or 24-hour ones),
so the doubt goes to the alarm.

The contract (``Rule``, ``Match``, ``Priority``, ``RuleContext``) is the core's
(``hub.rules``), re-exported here; this module holds the built-in rules and the
function that tries them. Plugins add rules through the ``register_escalation_rules``
hook; the built-in ones are registered by the essential ``escalation`` plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from hub.events import (
    LIFE_SAFETY_KINDS,
    AlarmKind,
    AlarmSignal,
    CameraAvailability,
    CameraRecording,
    Event,
    LinkLost,
)
from hub.rules import SCENE_KINDS, Match, Priority, Rule, RuleContext
from hub.state import ARMED_STATES

__all__ = [
    "ARMED_STATES",
    "BUILTIN_RULES",
    "CAMERA_LOST_KIND",
    "LINK_LOST_KIND",
    "SCENE_KINDS",
    "Match",
    "Rule",
    "RuleContext",
    "match_event",
]


#: The ``kind`` of an escalation opened by a lost link.
LINK_LOST_KIND: Final = "link_lost"
#: The ``kind`` of an escalation opened by a camera that stopped covering its zones.
CAMERA_LOST_KIND: Final = "camera_lost"
#: The zone risk at which a camera's outage escalates while the shop is armed there.
HIGH_RISK: Final = "high"


def _life_safety(event: Event, ctx: RuleContext) -> Match | None:
    if not isinstance(event, AlarmSignal) or event.restore:
        return None
    if event.kind not in LIFE_SAFETY_KINDS:
        return None
    return Match(event.kind.value, Priority.LIFE_SAFETY, event.device, event.zone)


def _burglary(event: Event, ctx: RuleContext) -> Match | None:
    if not isinstance(event, AlarmSignal) or event.restore or event.kind is not AlarmKind.BURGLARY:
        return None
    if not ctx.burglary_when_armed or ctx.armed(event.device, event.partition) is False:
        return None
    return Match(event.kind.value, Priority.ALARM, event.device, event.zone)


def _tamper(event: Event, ctx: RuleContext) -> Match | None:
    if not isinstance(event, AlarmSignal) or event.restore or event.kind is not AlarmKind.TAMPER:
        return None
    return Match(event.kind.value, Priority.TECHNICAL, event.device, event.zone)


def _holdup_link_lost(event: Event, ctx: RuleContext) -> Match | None:
    if not isinstance(event, LinkLost) or not ctx.has_holdup_zones(event.device):
        return None
    return Match(LINK_LOST_KIND, Priority.TECHNICAL, event.device, None)


def _camera_lost(event: Event, ctx: RuleContext) -> Match | None:
    """A camera stopped covering its zones (the report that began its outage).

    Lost from view (``offline``, or ``unknown``: its NVR or the broker is gone) in a
    high-risk zone where the shop is armed, or turned off on purpose (``disabled``,
    recording switched off) or lost in any zone while a hold-up is open: the first
    is a fault nobody in the shop will see until morning, the second may be the
    assailants at work, and either way the evidence is no longer kept. Disarmed with
    no hold-up open, the state shows it and nothing escalates.
    """
    if not isinstance(event, (CameraAvailability, CameraRecording)):
        return None
    if not ctx.camera_outage_began(event):
        return None
    camera = event.camera
    zones = ctx.camera_zones(camera)
    high = tuple(z for z in zones if ctx.zone_risk(z) == HIGH_RISK)
    if ctx.holdup_open():
        where = (high or zones or (None,))[0]
        return Match(CAMERA_LOST_KIND, Priority.TECHNICAL, camera, where)
    on_purpose = isinstance(event, CameraRecording) or event.state == "disabled"
    if on_purpose:
        return None
    armed = next((z for z in high if ctx.zone_armed(z)), None)
    if armed is None:
        return None
    return Match(CAMERA_LOST_KIND, Priority.TECHNICAL, camera, armed)


#: The rules every hub runs, in the order they are tried.
BUILTIN_RULES: Final = (
    Rule("life-safety", (AlarmSignal,), _life_safety),
    Rule("burglary-when-armed", (AlarmSignal,), _burglary),
    Rule("tamper", (AlarmSignal,), _tamper),
    Rule("holdup-link-lost", (LinkLost,), _holdup_link_lost),
    Rule("camera-lost", (CameraAvailability, CameraRecording), _camera_lost),
)


def match_event(
    rules: tuple[Rule, ...],
    event: Event,
    ctx: RuleContext,
    on_error: Callable[[Rule, Exception], None] | None = None,
) -> tuple[Match, Rule] | None:
    """The first rule that matches ``event``, and its match.

    A rule that raises is reported to ``on_error`` and skipped, so one broken rule
    never hides a hold-up from the others. The built-in rules come first, so a
    plugin's rule can add escalations but never take one away.
    """
    for rule in rules:
        if not isinstance(event, rule.event_types):
            continue
        try:
            found = rule.match(event, ctx)
        except Exception as exc:
            if on_error is not None:
                on_error(rule, exc)
            continue
        if found is not None:
            return found, rule
    return None
