"""The rules: which signals escalate, with which priority, and which never do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from hub.cameras import CameraStatus
from hub.escalation.model import Priority
from hub.escalation.rules import BUILTIN_RULES, Match, Rule, match_event
from hub.events import (
    AlarmKind,
    AlarmSignal,
    CameraAvailability,
    CameraMotion,
    CameraRecording,
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
    """A rule context whose answers the test sets; the panel's and the cameras' come
    from a real state registry fed the test's events."""

    burglary_when_armed: bool = True
    panel: StateRegistry = field(default_factory=StateRegistry)
    holdup_devices: frozenset[str] = frozenset({"bridge"})
    risks: dict[str, str] = field(default_factory=lambda: {"comptoir": "high", "rue": "low"})
    cameras: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {"cam": ("rue", "comptoir"), "cam-rue": ("rue",)}
    )
    holdup: bool = False

    def armed(self, device: str, partition: int | None) -> bool | None:
        return self.panel.armed(device, partition)

    def has_holdup_zones(self, device: str) -> bool:
        return device in self.holdup_devices

    def zone_armed(self, zone: str) -> bool | None:
        return self.panel.armed("panel", None)

    def zone_risk(self, zone: str) -> str | None:
        return self.risks.get(zone)

    def camera_zones(self, camera: str) -> tuple[str, ...]:
        return self.cameras.get(camera, ())

    def camera(self, camera: str) -> CameraStatus:
        return self.panel.camera_status(camera)

    def camera_outage_began(self, event: Event) -> bool:
        return self.panel.outage_began(event)

    def holdup_open(self) -> bool:
        return self.holdup


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


# -- a camera that stops covering --------------------------------------------------------------
T0 = datetime(2026, 3, 10, 22, 0, tzinfo=UTC)


def cam(state: str, t: float, camera: str = "cam", role: str = "") -> CameraAvailability:
    return CameraAvailability(time=T0 + timedelta(seconds=t), camera=camera, state=state, role=role)


def rec_off(t: float, camera: str = "cam") -> CameraRecording:
    return CameraRecording(time=T0 + timedelta(seconds=t), camera=camera, recording=False)


def judged(
    panel: str | None, before: list[Event], event: Event, *, holdup: bool = False
) -> Match | None:
    """Feed the registry as the bus does (every event, the judged one included, before
    the engine sees it), then run the rules on ``event``."""
    ctx = Context(holdup=holdup)
    if panel is not None:
        ctx.panel.apply(PanelState(time=T0, device="panel", state=panel))
    for earlier in [*before, event]:
        ctx.panel.apply(earlier)
    found = match_event(BUILTIN_RULES, event, ctx)
    return None if found is None else found[0]


UP = [cam("online", 1)]
#: In the table's last column: the rule escalates nothing.
NOTHING = False
CAMERA_TABLE: list[tuple[str, str | None, list[Event], Event, bool, str | bool | None]] = [
    # name, panel state, reports before, report judged, hold-up open, zone escalated
    ("offline, armed, high risk", "armed_away", UP, cam("offline", 2), False, "comptoir"),
    ("unknown, armed, high risk", "armed_away", UP, cam("unknown", 2), False, "comptoir"),
    ("never heard, then offline", "armed_away", [], cam("offline", 2), False, "comptoir"),
    ("record role offline", "armed_away", UP, cam("offline", 2, role="record"), False, "comptoir"),
    ("detect role off: covers", "armed_away", UP, cam("offline", 2, role="detect"), False, NOTHING),
    ("offline, disarmed", "disarmed", UP, cam("offline", 2), False, NOTHING),
    ("offline, panel never heard", None, UP, cam("offline", 2), False, NOTHING),
    ("disabled on purpose, armed", "armed_away", UP, cam("disabled", 2), False, NOTHING),
    ("recording off, armed", "armed_away", UP, rec_off(2), False, NOTHING),
    ("back online", "armed_away", [*UP, cam("offline", 2)], cam("online", 3), False, NOTHING),
    ("repeat in the outage", "armed_away", [*UP, cam("offline", 2)], cam("offline", 3), False,
     NOTHING),
    ("offline again after a return", "armed_away", [*UP, cam("offline", 2), cam("online", 3)],
     cam("offline", 4), False, "comptoir"),
    ("offline, low risk", "armed_away", [cam("online", 1, "cam-rue")],
     cam("offline", 2, "cam-rue"), False, NOTHING),
    ("disabled during a hold-up", "disarmed", UP, cam("disabled", 2), True, "comptoir"),
    ("recording off during a hold-up", "disarmed", UP, rec_off(2), True, "comptoir"),
    ("low risk during a hold-up", "disarmed", [cam("online", 1, "cam-rue")],
     cam("offline", 2, "cam-rue"), True, "rue"),
    ("camera of no zone during a hold-up", "disarmed", [cam("online", 1, "cam-x")],
     cam("offline", 2, "cam-x"), True, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("panel", "before", "event", "holdup", "zone"),
    [pytest.param(p, b, e, h, z, id=name) for name, p, b, e, h, z in CAMERA_TABLE],
)
def test_a_camera_that_stops_covering(
    panel: str | None, before: list[Event], event: Event, holdup: bool, zone: str | bool | None
) -> None:
    found = judged(panel, before, event, holdup=holdup)
    if zone is NOTHING:
        assert found is None
        return
    assert found is not None
    assert (found.kind, found.priority, found.device, found.zone) == (
        "camera_lost",
        Priority.TECHNICAL,
        getattr(event, "camera", ""),
        zone,
    )
    assert not found.silent
    assert not found.preserves_scene


def test_a_blip_over_before_it_is_judged_escalates_nothing() -> None:
    # The registry is fed ahead of the engine: when the camera is back by the time
    # the engine judges the loss, the loss is no longer an outage.
    ctx = Context()
    ctx.panel.apply(PanelState(time=T0, device="panel", state="armed_away"))
    down, up = cam("offline", 2), cam("online", 3)
    for event in (cam("online", 1), down, up):
        ctx.panel.apply(event)
    assert match_event(BUILTIN_RULES, down, ctx) is None
