"""The escalation rule contract: what a plugin implements to make a signal escalate.

A rule looks at one bus event, and at what the hub knows (is the panel armed, is the
device wired to hold-up buttons, which zones a camera covers and how exposed they are,
did this report begin a camera's outage, is a hold-up open: the ``RuleContext``), and
says whether it calls for an escalation (a ``Match``) and how urgent it is (a
``Priority``). The contract lives in the core so that the hookspecs, the plugin
manager and any plugin can speak it without importing the escalation feature; the
built-in rules and the engine that runs them are the feature's
(``hub.escalation.rules``, ``hub.escalation.engine``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from hub.cameras import CameraStatus
from hub.events import AlarmKind, Event

__all__ = ["SCENE_KINDS", "Match", "Priority", "Rule", "RuleContext"]

#: Kinds after which the scene is preserved (journal sealed, recordings kept).
SCENE_KINDS: Final = frozenset({AlarmKind.HOLDUP.value, AlarmKind.DURESS.value})


class Priority(enum.StrEnum):
    """How urgent an escalation is; life-safety goes first everywhere."""

    LIFE_SAFETY = "life-safety"  # hold-up, duress, panic
    ALARM = "alarm"  # burglary while armed
    TECHNICAL = "technical"  # link lost on a hold-up device, tamper, camera lost


@dataclass(frozen=True, slots=True)
class Match:
    """What a rule found: an incident to escalate.

    Attributes:
        kind: what happened (``holdup``, ``burglary``, ``link_lost``, ``camera_lost``...).
        priority: see ``Priority``.
        device: the device that reported it (the camera, for a camera's outage).
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

    def zone_armed(self, zone: str) -> bool | None:
        """Whether the shop is armed where ``zone`` is, when the event being judged
        happened: any partition of the panels whose zone maps place a panel zone in
        it, or of any panel when none does; None when none of them was heard of."""
        ...

    def zone_risk(self, zone: str) -> str | None:
        """The zone's configured risk (``low``, ``medium``, ``high``); None when the
        zone is not configured."""
        ...

    def camera_zones(self, camera: str) -> tuple[str, ...]:
        """The shop zones the camera covers, in the configuration's order."""
        ...

    def camera(self, camera: str) -> CameraStatus:
        """The camera's availability now (``unknown`` when never heard of)."""
        ...

    def camera_outage_began(self, event: Event) -> bool:
        """Whether ``event`` is the report that made its camera stop covering, in an
        outage that still lasts (not a repeat within it; see docs/state.md)."""
        ...

    def holdup_open(self) -> bool:
        """Whether a hold-up, duress or panic escalation is open (not resolved)."""
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
