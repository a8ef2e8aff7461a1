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
=====================================  ==============  ================================

Restores never open an escalation. Whether a panel is armed comes from the hub's state
registry (``hub.state``: panel states, openings and closings, kept across restarts),
as of the alarm's time. A burglary from a panel whose state the hub has not heard yet
counts as armed: panels report burglary alarms only for armed zones (or 24-hour ones),
so the doubt goes to the alarm.

Plugins add rules through the ``register_escalation_rules`` hook; the built-in ones
are registered by the essential ``escalation`` plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from hub.escalation.model import Priority
from hub.events import LIFE_SAFETY_KINDS, AlarmKind, AlarmSignal, Event, LinkLost
from hub.state import ARMED_STATES

__all__ = [
    "ARMED_STATES",
    "BUILTIN_RULES",
    "SCENE_KINDS",
    "Match",
    "Rule",
    "RuleContext",
    "match_event",
]

#: Kinds after which the scene is preserved (journal sealed, recordings kept).
SCENE_KINDS: Final = frozenset({AlarmKind.HOLDUP.value, AlarmKind.DURESS.value})

#: The ``kind`` of an escalation opened by a lost link.
LINK_LOST_KIND: Final = "link_lost"


@dataclass(frozen=True, slots=True)
class Match:
    """What a rule found: an incident to escalate.

    Attributes:
        kind: what happened (``holdup``, ``burglary``, ``link_lost``...).
        priority: see ``Priority``.
        device: the device that reported it.
        zone: the shop zone, when known.
    """

    kind: str
    priority: Priority
    device: str
    zone: str | None = None

    @property
    def silent(self) -> bool:
        """Nothing the hub drives in the shop may show it (hold-up, duress, panic)."""
        return self.priority is Priority.LIFE_SAFETY

    @property
    def preserves_scene(self) -> bool:
        """The journal is sealed and the recordings kept (hold-up, duress)."""
        return self.kind in SCENE_KINDS


class RuleContext(Protocol):
    """What a rule may ask the engine."""

    @property
    def burglary_when_armed(self) -> bool:
        """The configuration escalates burglary while armed."""
        ...

    def armed(self, device: str, partition: int | None) -> bool | None:
        """Whether the partition is armed (any partition when None); None if unknown."""
        ...

    def has_holdup_zones(self, device: str) -> bool:
        """Whether the device has panel zones wired to hold-up buttons."""
        ...


@dataclass(frozen=True, slots=True)
class Rule:
    """One escalation rule.

    Attributes:
        name: unique among the rules of a hub (for logs and duplicates).
        event_types: the event classes it looks at (the engine subscribes to them).
        match: returns a ``Match`` when the event calls for an escalation, else None.
            It must be quick and must not do I/O: it runs on the life-safety path.
    """

    name: str
    event_types: tuple[type[Event], ...]
    match: Callable[[Event, RuleContext], Match | None]


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


#: The rules every hub runs, in the order they are tried.
BUILTIN_RULES: Final = (
    Rule("life-safety", (AlarmSignal,), _life_safety),
    Rule("burglary-when-armed", (AlarmSignal,), _burglary),
    Rule("tamper", (AlarmSignal,), _tamper),
    Rule("holdup-link-lost", (LinkLost,), _holdup_link_lost),
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
