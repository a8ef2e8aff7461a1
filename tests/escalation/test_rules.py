"""The rules: which signals escalate, with which priority, and which never do."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from hub.escalation.model import Priority
from hub.escalation.rules import BUILTIN_RULES, Match, Rule, match_event
from hub.events import (
    AlarmKind,
    AlarmSignal,
    CameraMotion,
    DeviceFault,
    Event,
    LinkLost,
    LinkRestored,
    PanelState,
)
from hub.state import StateRegistry

K = AlarmKind


@dataclass
class Context:
    """A rule context whose answers the test sets."""

    burglary_when_armed: bool = True
    panel: StateRegistry = field(default_factory=StateRegistry)
    holdup_devices: frozenset[str] = frozenset({"bridge"})

    def armed(self, device: str, partition: int | None) -> bool | None:
        return self.panel.armed(device, partition)

    def has_holdup_zones(self, device: str) -> bool:
        return device in self.holdup_devices


def signal(kind: AlarmKind, restore: bool = False, **kw: object) -> AlarmSignal:
    return AlarmSignal(
        kind=kind, device=str(kw.pop("device", "panel")), restore=restore, zone="comptoir", **kw
    )  # type: ignore[arg-type]


def armed_context(state: str | None) -> Context:
    ctx = Context()
    if state is not None:
        ctx.panel.apply(PanelState(device="panel", state=state))
    return ctx


RULES_TABLE: list[tuple[str, Event, Context, tuple[str, Priority] | None]] = [
    ("hold-up", signal(K.HOLDUP), Context(), ("holdup", Priority.LIFE_SAFETY)),
    ("duress", signal(K.DURESS), Context(), ("duress", Priority.LIFE_SAFETY)),
    ("panic", signal(K.PANIC), Context(), ("panic", Priority.LIFE_SAFETY)),
    (
        "hold-up while disarmed",
        signal(K.HOLDUP),
        armed_context("disarmed"),
        ("holdup", Priority.LIFE_SAFETY),
    ),
    ("hold-up restore", signal(K.HOLDUP, restore=True), Context(), None),
    ("duress restore", signal(K.DURESS, restore=True), Context(), None),
    (
        "burglary, armed away",
        signal(K.BURGLARY),
        armed_context("armed_away"),
        ("burglary", Priority.ALARM),
    ),
    (
        "burglary, entry delay",
        signal(K.BURGLARY),
        armed_context("pending"),
        ("burglary", Priority.ALARM),
    ),
    ("burglary, disarmed", signal(K.BURGLARY), armed_context("disarmed"), None),
    ("burglary, arming", signal(K.BURGLARY), armed_context("arming"), None),
    (
        "burglary, state unknown",
        signal(K.BURGLARY),
        armed_context(None),
        ("burglary", Priority.ALARM),
    ),
    ("burglary, not wanted", signal(K.BURGLARY), Context(burglary_when_armed=False), None),
    ("burglary restore", signal(K.BURGLARY, restore=True), armed_context("armed_away"), None),
    ("tamper", signal(K.TAMPER), armed_context("disarmed"), ("tamper", Priority.TECHNICAL)),
    ("tamper restore", signal(K.TAMPER, restore=True), Context(), None),
    (
        "link lost, hold-up device",
        LinkLost(device="bridge", reason="silence"),
        Context(),
        ("link_lost", Priority.TECHNICAL),
    ),
    ("link lost, other device", LinkLost(device="panel", reason="silence"), Context(), None),
    ("link restored", LinkRestored(device="bridge"), Context(), None),
    ("device fault", DeviceFault(device="bridge", reason="x"), Context(), None),
    ("fire", signal(K.FIRE), Context(), None),
    ("trouble", signal(K.TROUBLE), Context(), None),
    ("test", signal(K.TEST), Context(), None),
    ("opening", signal(K.OPENING), Context(), None),
    ("camera motion", CameraMotion(camera="cam", active=True), Context(), None),
]


@pytest.mark.parametrize(
    ("event", "ctx", "expected"),
    [pytest.param(e, c, x, id=name) for name, e, c, x in RULES_TABLE],
)
def test_rules_table(event: Event, ctx: Context, expected: tuple[str, Priority] | None) -> None:
    found = match_event(BUILTIN_RULES, event, ctx)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert (found[0].kind, found[0].priority) == expected


def test_match_carries_device_and_zone_and_silence() -> None:
    found = match_event(BUILTIN_RULES, signal(K.HOLDUP, device="bridge"), Context())
    assert found is not None
    match, rule = found
    assert (match.device, match.zone, rule.name) == ("bridge", "comptoir", "life-safety")
    assert match.silent
    assert match.preserves_scene
    assert not Match("panic", Priority.LIFE_SAFETY, "x").preserves_scene
    assert not Match("tamper", Priority.TECHNICAL, "x").silent


def test_a_broken_rule_is_reported_and_skipped() -> None:
    def broken(event: Event, ctx: object) -> Match | None:
        raise RuntimeError("bug")

    failures: list[str] = []
    rules = (Rule("broken", (AlarmSignal,), broken), *BUILTIN_RULES)
    found = match_event(rules, signal(K.HOLDUP), Context(), lambda r, e: failures.append(r.name))
    assert found is not None
    assert found[0].kind == "holdup"
    assert failures == ["broken"]
