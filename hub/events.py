"""Canonical events carried by the bus.

Every part of the hub speaks in these types: decoders produce them, the journal records
them, the escalation engine and the coverage log consume them. They are frozen and
slotted so that a subscriber can never change what another one sees, and so that the
millions of them a busy shop produces stay cheap.

Events serialise to plain JSON-able dicts (``to_dict``/``event_from_dict``) because the
journal must be able to store and re-read them without pickling code.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

__all__ = [
    "CAMERA_STATES",
    "LIFE_SAFETY_KINDS",
    "AlarmKind",
    "AlarmSignal",
    "CameraAvailability",
    "CameraDetection",
    "CameraMotion",
    "CameraRecording",
    "DeviceFault",
    "Event",
    "HubStarted",
    "HubStopping",
    "LinkLost",
    "LinkRestored",
    "PanelState",
    "RecordingsHandedOver",
    "RetentionChecked",
    "event_from_dict",
    "event_types",
    "utcnow",
]


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC (naive datetimes are a bug here)."""
    return datetime.now(UTC)


class AlarmKind(enum.StrEnum):
    """What an alarm signal means, independent of the protocol that carried it."""

    HOLDUP = "holdup"
    DURESS = "duress"
    PANIC = "panic"
    BURGLARY = "burglary"
    TAMPER = "tamper"
    FIRE = "fire"
    MEDICAL = "medical"
    TROUBLE = "trouble"
    TEST = "test"
    OPENING = "opening"
    CLOSING = "closing"
    OTHER = "other"


#: Kinds that endanger people: they take the bus's life-safety lane and are never dropped.
LIFE_SAFETY_KINDS: frozenset[AlarmKind] = frozenset(
    {AlarmKind.HOLDUP, AlarmKind.DURESS, AlarmKind.PANIC}
)

_REGISTRY: dict[str, type[Event]] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every bus event.

    Attributes:
        time: when the event happened (the device's time if it gave one, else receipt).
    """

    time: datetime = field(default_factory=utcnow)

    #: Class-level default; subclasses override ``life_safety`` when it depends on data.
    LIFE_SAFETY: ClassVar[bool] = False

    def __init_subclass__(cls) -> None:
        # No zero-argument super() here: slotted dataclasses are rebuilt as new classes,
        # which breaks its hidden cell. The rebuilt class registers last, so it wins.
        _REGISTRY[cls.__name__] = cls

    @property
    def life_safety(self) -> bool:
        """True when the event must be delivered first and never dropped."""
        return self.LIFE_SAFETY

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict with a ``type`` key, readable by ``event_from_dict``.

        Every event is journaled, so this runs thousands of times a second on the loop:
        the field names are looked up once per class, and plain values are copied
        without going through ``_encode``.
        """
        cls = type(self)
        names = _FIELD_NAMES.get(cls)
        if names is None:
            names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
        out: dict[str, Any] = {"type": cls.__name__}
        for name in names:
            value = getattr(self, name)
            out[name] = value if type(value) in _PLAIN else _encode(value)
        return out


#: Field names of each event class, in declaration order (filled by ``to_dict``).
_FIELD_NAMES: dict[type[Event], tuple[str, ...]] = {}
#: Types that ``to_dict`` copies as they are (exact types: an enum that is also a str
#: or an int still goes through ``_encode``).
_PLAIN: frozenset[type] = frozenset({str, int, float, bool, type(None)})


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (frozenset, tuple, list)):
        return [_encode(v) for v in value]
    return value


def event_types() -> Mapping[str, type[Event]]:
    """Every event class known to the process, by class name."""
    return dict(_REGISTRY)


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """Rebuild an event from ``Event.to_dict`` output.

    Raises:
        ValueError: the type is unknown or a field does not fit.
    """
    name = data.get("type")
    cls = _REGISTRY.get(str(name))
    if cls is None:
        raise ValueError(f"unknown event type {name!r}")
    kwargs: dict[str, Any] = {}
    hints = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in data.items():
        if key == "type":
            continue
        if key not in hints:
            raise ValueError(f"{name}: unknown field {key!r}")
        kwargs[key] = _decode(str(hints[key].type), value)
    return cls(**kwargs)


def _decode(type_text: str, value: Any) -> Any:
    if value is None:
        return None
    if "datetime" in type_text:
        return datetime.fromisoformat(value)
    if "bytes" in type_text:
        return bytes.fromhex(value)
    if "AlarmKind" in type_text:
        return AlarmKind(value)
    if "frozenset" in type_text:
        return frozenset(value)
    if type_text.startswith("tuple"):
        return tuple(value)
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmSignal(Event):
    """An alarm, trouble or status signal from a panel, a bridge or any device.

    Attributes:
        kind: what the signal means (see ``AlarmKind``).
        restore: True when the condition ended (zone restored, hold-up reset).
        device: the configured id of the device that reported it.
        zone: the shop zone (site zone id) it maps to, or None when unmapped.
        panel_zone: the zone number on the panel, when the protocol gives one.
        user: the user number on the panel (openings, closings, duress codes).
        partition: the panel partition or area, when given.
        code: the protocol's own code, e.g. Contact ID ``"122"`` or SIA ``"HA"``.
        protocol: the protocol name, e.g. ``"contact-id"``.
        raw: the bytes of the frame, kept as evidence.
    """

    kind: AlarmKind
    device: str
    restore: bool = False
    zone: str | None = None
    panel_zone: int | None = None
    user: int | None = None
    partition: int | None = None
    code: str = ""
    protocol: str = ""
    raw: bytes = b""

    @property
    def life_safety(self) -> bool:
        """Hold-up, duress and panic (alarm and restore, to keep their order)."""
        return self.kind in LIFE_SAFETY_KINDS


@dataclass(frozen=True, slots=True, kw_only=True)
class PanelState(Event):
    """The state of an alarm panel partition, in Home Assistant's vocabulary.

    Attributes:
        device: the configured device id.
        partition: partition number (1 when the panel has only one).
        state: one of ``disarmed, armed_home, armed_away, armed_night, armed_vacation,
            armed_custom_bypass, pending, arming, disarming, triggered``.
        ready: the partition can be armed.
        ac_power: mains present; None when the protocol does not say.
        battery_low: backup battery low; None when unknown.
        fire: a fire condition is shown.
        alarm_sounding: the panel is sounding an alarm.
        text: the keypad text, when the protocol has one.
    """

    device: str
    state: str
    partition: int = 1
    ready: bool | None = None
    ac_power: bool | None = None
    battery_low: bool | None = None
    fire: bool | None = None
    alarm_sounding: bool | None = None
    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkLost(Event):
    """A device's link went down or silent past its supervision interval.

    Attributes:
        device: the configured device id.
        reason: one line saying why (port vanished, silence for N s, broker gone).
    """

    device: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkRestored(Event):
    """A device's link is back after a ``LinkLost``."""

    device: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceFault(Event):
    """A device could not be opened or crashed; the hub will retry it.

    Attributes:
        device: the configured device id.
        reason: one line naming the cause.
        retry_in: seconds until the next attempt.
    """

    device: str
    reason: str
    retry_in: float = 0.0


#: The words of a camera's availability. ``unknown``: nothing heard since the hub
#: started, or the way to the camera (the broker, the NVR) is lost: never ``online`` by
#: default, never silently stale.
CAMERA_STATES: frozenset[str] = frozenset({"online", "offline", "disabled", "unknown"})


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraAvailability(Event):
    """A camera (or one of its roles: detect, record, audio) changed availability.

    Attributes:
        camera: the configured camera id.
        state: one of ``CAMERA_STATES``: ``online``, ``offline``, ``disabled`` (turned
            off on purpose, at the NVR) or ``unknown`` (the hub cannot tell: the broker
            or the NVR is gone from view).
        role: ``detect``, ``record``, ``audio`` or ``""`` for the camera as a whole.
        reason: one line saying why, when the hub decided it (``NVR last will``,
            ``broker lost``); empty when the camera's own message said so.
    """

    camera: str
    state: str
    role: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraRecording(Event):
    """A camera's recording was turned on or off (Frigate's ``recordings/state``).

    A camera can be online and not recording: for the authorisation request and for
    the scene of a hold-up, only a recording camera covers its zones.
    """

    camera: str
    recording: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraMotion(Event):
    """Motion started (``active=True``) or stopped on a camera."""

    camera: str
    active: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraDetection(Event):
    """An object detection (Frigate's ``events``/``reviews``) began, changed or ended.

    Attributes:
        camera: the configured camera id.
        detection: the NVR's id of the detection, to tie its phases together.
        label: what was detected (``person``, ``car``...).
        phase: ``new``, ``update`` or ``end``.
        zones: the shop zones it is in: the camera's zone mapping applied to the NVR's
            zones, or the camera's own zones when the NVR names none.
        camera_zones: the zones of the camera image the NVR named, as it named them.
        score: the detector's confidence (0-1), when given.
    """

    camera: str
    detection: str
    label: str
    phase: str
    zones: tuple[str, ...] = ()
    camera_zones: tuple[str, ...] = ()
    score: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HubStarted(Event):
    """The hub finished starting; every configured device has been launched."""

    site: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HubStopping(Event):
    """The hub is stopping (signal or shutdown); no more device events follow."""

    site: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionChecked(Event):
    """A camera plugin read how long the NVR actually keeps a camera's recordings.

    The shop declares each camera's retention (``retention_days``, at most 31 days: CSI
    L252-5) in its authorisation request and its register; the NVR is what deletes.
    A difference is a technical fault: recordings destroyed before the date the
    register gives, or kept past the legal month. Journaled at each check, so the
    register's destruction dates can be shown to rest on a checked retention.

    Attributes:
        camera: the configured camera id.
        declared_days: the configuration's ``retention_days``.
        actual_days: the longest the NVR keeps any of its recordings, in days
            (fractions as the NVR gives them; 0: it keeps none).
        source: where it was read (``Frigate GET /api/config``), without credentials.
    """

    camera: str
    declared_days: int
    actual_days: float
    source: str = ""

    @property
    def matches(self) -> bool:
        """The NVR keeps the recordings exactly as long as declared."""
        return self.actual_days == self.declared_days


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingsHandedOver(Event):
    """A window of a camera's recordings was handed over (to the prosecutor, the
    police): the register of recordings (CSI) records it, and the recordings are kept.

    No personal data: whom they were handed to stays in the register's own file; the
    journal keeps what, when, and the reference of the request.

    Attributes:
        camera: the configured camera id.
        start: the start of the window handed over (UTC).
        end: its end (UTC).
        reference: the requisition's or procedure's reference.
    """

    camera: str
    start: datetime
    end: datetime
    reference: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HubAlive(Event):
    """The hub was alive at ``time``: the heartbeat the coverage log closes on.

    Journaled every ``coverage.heartbeat_seconds`` while the coverage log runs (and
    once as it starts), so that a hub that stopped without a word (power cut, crash)
    leaves in the journal the last moment it was known to be alive, and a log rebuilt
    from the journal closes what was open at the same moment as the live one did.

    Attributes:
        started: when this run of the hub began: a heartbeat with another ``started``
            than the one before it belongs to a new run, so the run before it ended
            without ``HubStopping``.
    """

    started: datetime
