"""The state registry: the current state of every entity, fed by the bus.

Modelled on Home Assistant's state machine (``core.py``) and entities
(``helpers/entity.py``), without the untyped ``hass.data``: one ``StateRegistry`` per
hub, handed to whoever needs it (the HTTP side, the escalation rules, ``ecrin
status``), that turns typed events into typed, frozen ``State`` values.

Why it is fed the way it is:

* **Never a missed transition.** The hub registers ``apply`` as a bus *observer*
  (``EventBus.observe``): it is called inside ``publish``, with no queue that could
  drop the oldest event when it falls behind. The price is that it runs on the
  producer's path, the hold-up's included, so ``apply`` does O(1) work per event: a
  dict look-up of the event's class, a few field reads, at most a handful of new
  frozen values, and an append per change listener. No I/O, no await, no wall clock.
* **Up to date before the rules look.** An observer sees each event before any
  subscriber is offered it, so when the escalation engine matches a burglary, every
  panel state published before it is here. Events published after it may be here
  too (the engine's queue can hold a few): ``armed(..., at=event.time)`` also counts
  as armed a partition disarmed since the burglary's time, from a short history of
  each partition's transitions, so a disarm published just after a burglary does not
  hide it. The doubt goes to the alarm, as it always did for a panel never heard of.
  Likewise each camera's outage is kept with the report that began it, so that the
  engine, judging a report later, asks whether *that* report made the camera stop
  covering (``outage_began``), not what the camera does now.
* **Restored from the journal** (``hub.state.restore``): the same ``apply`` replays
  the journal's rows into a registry of its own, in a thread, while the hub runs, and
  ``merge`` then fills in what the live registry has not heard of since; so a restored
  registry is the one that ran, and a hold-up at start-up waits for no restore.

Escalations are not bus events (a hold-up is silent: the engine publishes nothing);
the hub hands ``apply_escalation`` to the engine as a callback, and the engine's
``Escalation`` fits ``EscalationSnapshot`` without this package importing it.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final, Protocol

from hub.cameras import ONLINE, CameraStatus, covering
from hub.devices import ZoneMap
from hub.events import (
    CAMERA_STATES,
    LIFE_SAFETY_KINDS,
    AlarmKind,
    AlarmSignal,
    CameraAvailability,
    CameraDetection,
    CameraMotion,
    CameraRecording,
    DeviceFault,
    Event,
    LinkLost,
    LinkRestored,
    PanelState,
    RetentionChecked,
)
from hub.messages import BROKER_LINK
from hub.state.entities import (
    ARMED_STATES,
    UNKNOWN,
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
    retention_fault,
    zone_id,
)
from hub.state.feed import ChangeFeed, Listener

__all__ = ["ARMED_HISTORY", "EscalationSnapshot", "StateRegistry", "zone_state"]

#: How many armed/disarmed transitions each partition keeps for ``armed(at=...)``.
ARMED_HISTORY: Final = 8

#: Alarm kinds that put a zone (and its partition) in alarm until restored.
_ALARM_KINDS: Final = frozenset(
    {
        AlarmKind.HOLDUP,
        AlarmKind.DURESS,
        AlarmKind.PANIC,
        AlarmKind.BURGLARY,
        AlarmKind.TAMPER,
        AlarmKind.FIRE,
        AlarmKind.MEDICAL,
    }
)
_ARMING: Final = frozenset({AlarmKind.OPENING, AlarmKind.CLOSING})
#: The zone-activity shape: a plugin event with these fields (DSC's ``ZoneActivity``)
#: opens or closes a panel zone without the core importing the plugin.
_ZONE_ACTIVITY_FIELDS: Final = frozenset({"device", "panel_zone", "open"})


class EscalationSnapshot(Protocol):
    """What the registry reads of an escalation (the engine's ``Escalation`` fits)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def priority(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def tier(self) -> int: ...
    @property
    def zone(self) -> str | None: ...
    @property
    def device(self) -> str: ...
    @property
    def updated_at(self) -> datetime: ...


def zone_state(open_: bool | None, alarm: bool, trouble: bool) -> str:
    """The word for a zone: ``alarm``, ``trouble``, ``open``, ``closed`` or ``ok``
    (heard of, nothing wrong, open or closed not reported)."""
    if alarm:
        return "alarm"
    if trouble:
        return "trouble"
    if open_ is None:
        return "ok"
    return "open" if open_ else "closed"


def _camera_state(roles: Mapping[str, str]) -> str:
    """The camera's word from its roles' last states (role ``""``: the whole camera).

    The whole camera reported down (offline, disabled, unknown) is down, whatever its
    roles last said: their reports are stale, and a camera is never counted online by
    mistake. Reported online, it is online. Without a report of the whole camera, the
    roles decide: online when one is, else offline, unknown or disabled, in that order;
    unknown when nothing was reported.
    """
    whole = roles.get("")
    if whole is not None:
        return whole
    states = set(roles.values())
    for word in (ONLINE, "offline", UNKNOWN, "disabled"):
        if word in states:
            return word
    return UNKNOWN


def _recording(roles: Mapping[str, str], switch: bool | None) -> bool | None:
    """Whether the camera records: the NVR's switch (``CameraRecording``) and the
    ``record`` role's availability; off when either says so, None when neither spoke."""
    role = roles.get("record")
    if switch is False or role in ("offline", "disabled"):
        return False
    if switch is True or role == ONLINE:
        return True
    return None


_Handler = Callable[[Event], None]


class StateRegistry:
    """The current state of every entity, from typed events.

    Args:
        zone_maps: each device's zone map, to place the panel zones reported without a
            shop zone (zone activity) in their shop zone; empty: panel zones only.
        cameras: the configured cameras: each is ``unknown`` until it is heard from
            (never online by default), with no times.
    """

    def __init__(
        self, zone_maps: Mapping[str, ZoneMap] | None = None, cameras: Iterable[str] = ()
    ) -> None:
        self._zone_maps = dict(zone_maps or {})
        self._states: dict[str, State] = {}
        for camera in cameras:
            eid = camera_id(camera)
            self._states[eid] = State(eid, Domain.CAMERA, UNKNOWN, CameraAttributes(), None, None)
        self._partitions: dict[str, dict[int, str]] = {}
        self._armed: dict[str, deque[tuple[datetime, bool]]] = {}
        #: Each camera's recording switch as last reported (``CameraRecording``).
        self._switch: dict[str, bool] = {}
        #: The cameras in an outage (not covering since a report said so), with that
        #: report; heard in this run only (see ``outage_began``).
        self._outages: dict[str, Event] = {}
        self._listeners: list[Listener] = []
        self._handlers: dict[type[Event], tuple[_Handler, ...]] = {}
        #: Events applied (each event once, whatever it changed).
        self.applied = 0

    # -- read API ------------------------------------------------------------------------
    def get(self, entity_id: str) -> State | None:
        """The entity's state, or None when the hub has never heard of it."""
        return self._states.get(entity_id)

    def states(self, domain: Domain | None = None) -> list[State]:
        """Every state (of one domain when given), sorted by entity id."""
        found = self._states.values()
        if domain is not None:
            found = [s for s in found if s.domain is domain]  # type: ignore[assignment]
        return sorted(found, key=lambda s: s.entity_id)

    def __len__(self) -> int:
        return len(self._states)

    def __iter__(self) -> Iterator[State]:
        return iter(self.states())

    def armed(self, device: str, partition: int | None, at: datetime | None = None) -> bool | None:
        """Whether a panel partition is armed; None when the hub has heard nothing.

        Args:
            device: the configured device id.
            partition: the partition; None asks whether any partition is armed. A
                partition never reported takes the whole panel's state (a closing or
                opening without a partition number).
            at: the time of the alarm being judged. A partition disarmed now but armed
                at that time by its recent transitions counts as armed: the engine
                judges an alarm after the registry has seen it, and maybe a disarm
                published right after it. Armed now is armed, whatever ``at`` (a clock
                set back cannot hide an armed panel). None: as of now.
        """
        known = self._partitions.get(device)
        if not known:
            return None
        if partition is not None:
            eid = known.get(partition) or known.get(0)
            return None if eid is None else self._armed_at(eid, at)
        answers = [self._armed_at(eid, at) for eid in known.values()]
        heard = [a for a in answers if a is not None]
        return any(heard) if heard else None

    def _armed_at(self, eid: str, at: datetime | None) -> bool | None:
        """Armed now, or (when ``at`` is given and the partition is disarmed now)
        armed at ``at`` by the history: the doubt goes to the alarm."""
        history = self._armed.get(eid)
        if not history:
            return None
        current = history[-1][1]
        if at is None or current:
            return current
        for when, armed in reversed(history):
            if when <= at:
                return armed
        # Every transition kept is later than ``at``: nothing was known then (the
        # answer is now's), unless older transitions were forgotten (the doubt).
        return len(history) == history.maxlen

    def camera_status(self, camera: str) -> CameraStatus:
        """The camera's availability now (``hub.cameras.CameraView``): ``unknown``, not
        covering, for a camera never heard of."""
        state = self._states.get(camera_id(camera))
        attrs = state.attributes if state is not None else None
        if state is None or not isinstance(attrs, CameraAttributes):
            return CameraStatus(camera)
        return CameraStatus(
            camera, state.state, attrs.covering, attrs.recording, state.last_changed
        )

    def outage_began(self, event: Event) -> bool:
        """Whether ``event`` is the report that made its camera stop covering, in an
        outage that still lasts (``hub.cameras.CameraView``).

        An outage begins with a report that the camera, or one of its roles, is offline,
        disabled or unknown, or that its recording was switched off, when the camera
        does not cover after it and was not already in an outage; it ends when the
        camera covers again. Repeats of the report within the outage do not begin
        another. Outages are this run's: a restored state begins none, so a camera
        still down after a restart begins one at its first report.
        """
        camera = getattr(event, "camera", None)
        if not isinstance(camera, str):
            return False
        began = self._outages.get(camera_id(camera))
        return began is not None and began == event

    # -- change subscription --------------------------------------------------------------
    def listen(self) -> ChangeFeed:
        """Every change from this call on, in order, none dropped (``async for``).

        Read ``states()`` after calling it to have both a snapshot and every change
        after it. The feed's queue is unbounded, because a record must be complete:
        a listener keeps reading, or ``close``s the feed.
        """
        listener = Listener()
        self._listeners.append(listener)
        return ChangeFeed(listener, self._forget)

    def _forget(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    # -- restoring ------------------------------------------------------------------------
    def merge(self, restored: StateRegistry) -> int:
        """Take what ``restored`` (rebuilt from the journal's earlier rows) knows of the
        entities this registry has not heard of since; return how many it took.

        Every row of the journal is older than every event this registry has applied,
        so an entity heard of live keeps its live state; the others get their restored
        state (a change for the listeners), and a camera its recording switch. Each
        partition's armed history is joined, the restored transitions first. Camera
        outages are not taken: they are this run's (``outage_began``).
        """
        taken = 0
        for eid, state in restored._states.items():
            current = self._states.get(eid)
            if current is not None and current.last_updated is not None:
                continue
            if current is not None and state.last_updated is None:
                continue
            self._states[eid] = state
            taken += 1
            if eid in restored._switch:
                self._switch[eid] = restored._switch[eid]
            if self._listeners:
                change = StateChanged(eid, current, state)
                for listener in self._listeners:
                    listener.put(change)
        for device, partitions in restored._partitions.items():
            known = self._partitions.setdefault(device, {})
            for number, eid in partitions.items():
                known.setdefault(number, eid)
        for eid, old in restored._armed.items():
            live = self._armed.get(eid)
            joined: deque[tuple[datetime, bool]] = deque(old, maxlen=ARMED_HISTORY)
            if live:
                joined.extend(live)
            self._armed[eid] = joined
        return taken

    # -- feeding -------------------------------------------------------------------------
    def wants(self, cls: type[Event]) -> bool:
        """Whether events of ``cls`` can change a state (restore skips the others
        without decoding them)."""
        handlers = self._handlers.get(cls)
        if handlers is None:
            handlers = self._handlers[cls] = self._resolve(cls)
        return bool(handlers)

    def apply(self, event: Event) -> None:
        """Learn from one event (the bus observer; restore calls it for each row)."""
        self.applied += 1
        handlers = self._handlers.get(type(event))
        if handlers is None:
            handlers = self._handlers[type(event)] = self._resolve(type(event))
        for handler in handlers:
            handler(event)

    def _resolve(self, cls: type[Event]) -> tuple[_Handler, ...]:
        """The handlers of one event class, found once (subclasses included). Any event
        with a ``device`` field also says that device runs (``_heard``), except a
        ``DeviceFault``."""
        # Typed loosely: each handler takes its own event class, which ``cls`` is.
        by_class: tuple[tuple[type[Event], Callable[[Any], None]], ...] = (
            (PanelState, self._panel_state),
            (AlarmSignal, self._signal),
            (LinkLost, self._link_lost),
            (LinkRestored, self._link_restored),
            (CameraAvailability, self._camera),
            (CameraRecording, self._camera_recording),
            (CameraMotion, self._camera_motion),
            (CameraDetection, self._camera_detection),
            (RetentionChecked, self._retention_checked),
        )
        found = next((h for c, h in by_class if issubclass(cls, c)), None)
        handlers: list[_Handler] = [] if found is None else [found]
        if issubclass(cls, DeviceFault):
            handlers.append(self._device_fault)  # type: ignore[arg-type]
            return tuple(handlers)
        names = (
            {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
        )
        if not handlers and names >= _ZONE_ACTIVITY_FIELDS:
            handlers.append(self._zone_activity)
        if "device" in names:
            handlers.append(self._heard)
        return tuple(handlers)

    def apply_escalation(self, escalation: EscalationSnapshot) -> None:
        """Learn an escalation's new snapshot (the engine calls this at each change)."""
        attrs = EscalationAttributes(
            kind=str(escalation.kind),
            priority=str(escalation.priority),
            tier=escalation.tier,
            zone=escalation.zone,
            device=escalation.device,
        )
        self._set(
            escalation_id(escalation.id),
            Domain.ESCALATION,
            str(escalation.status),
            attrs,
            escalation.updated_at,
        )

    def _set(
        self,
        eid: str,
        domain: Domain,
        state: str,
        attributes: object,
        time: datetime,
    ) -> State | None:
        old = self._states.get(eid)
        if old is not None and old.state == state and old.attributes == attributes:
            return None
        changed = time if old is None or old.state != state else (old.last_changed or time)
        new = State(eid, domain, state, attributes, changed, time)  # type: ignore[arg-type]
        self._states[eid] = new
        if self._listeners:
            change = StateChanged(eid, old, new)
            for listener in self._listeners:
                listener.put(change)
        return new

    # -- partitions ------------------------------------------------------------------------
    def _partition(self, device: str, number: int) -> str:
        known = self._partitions.setdefault(device, {})
        eid = known.get(number)
        if eid is None:
            eid = known[number] = partition_id(device, number)
        return eid

    def _record_armed(self, eid: str, time: datetime, armed: bool) -> None:
        history = self._armed.get(eid)
        if history is None:
            history = self._armed[eid] = deque(maxlen=ARMED_HISTORY)
        if history and history[-1][1] == armed:
            return
        history.append((time, armed))

    def _panel_state(self, event: PanelState) -> None:
        eid = self._partition(event.device, event.partition)
        armed = event.state in ARMED_STATES
        attrs = PartitionAttributes(
            device=event.device,
            partition=event.partition,
            armed=armed,
            alarm=event.state == "triggered" or bool(event.alarm_sounding),
            ready=event.ready,
            ac_power=event.ac_power,
            battery_low=event.battery_low,
        )
        self._set(eid, Domain.PARTITION, event.state, attrs, event.time)
        self._record_armed(eid, event.time, armed)

    def _arming(self, event: AlarmSignal) -> None:
        """An opening (disarmed) or closing (armed); without a partition, the whole
        panel and every partition known of it."""
        armed = event.kind is AlarmKind.CLOSING
        device = event.device
        if event.partition is None:
            targets = [self._partition(device, 0)]
            targets += [e for n, e in self._partitions[device].items() if n != 0]
        else:
            targets = [self._partition(device, event.partition)]
        for eid in targets:
            old = self._states.get(eid)
            previous = old.attributes if old is not None else None
            number = int(eid.rsplit(":", 1)[1])
            if isinstance(previous, PartitionAttributes):
                attrs = dataclasses.replace(previous, armed=armed, alarm=previous.alarm and armed)
            else:
                attrs = PartitionAttributes(device=device, partition=number, armed=armed)
            if armed:
                word = old.state if old is not None and old.state in ARMED_STATES else "armed"
            else:
                word = "disarmed"
            self._set(eid, Domain.PARTITION, word, attrs, event.time)
            self._record_armed(eid, event.time, armed)

    def _partition_alarm(self, event: AlarmSignal) -> None:
        if event.partition is None:
            return
        eid = self._partitions.get(event.device, {}).get(event.partition)
        old = self._states.get(eid) if eid is not None else None
        if eid is None or old is None or not isinstance(old.attributes, PartitionAttributes):
            return
        if not old.attributes.alarm:
            attrs = dataclasses.replace(old.attributes, alarm=True)
            self._set(eid, Domain.PARTITION, old.state, attrs, event.time)

    # -- zones -----------------------------------------------------------------------------
    def _signal(self, event: AlarmSignal) -> None:
        kind = event.kind
        if kind in _ARMING:
            if not event.restore:
                self._arming(event)
            return
        if kind in _ALARM_KINDS:
            alarm: bool | None = not event.restore
            trouble: bool | None = None
            if alarm and kind not in LIFE_SAFETY_KINDS:
                # A hold-up marks no partition: only the zone says it, marked silent.
                self._partition_alarm(event)
        elif kind is AlarmKind.TROUBLE:
            alarm, trouble = None, not event.restore
        else:
            return
        silent = kind in LIFE_SAFETY_KINDS
        if event.zone is not None:
            self._zone(event.zone, event, alarm, trouble, silent)
        if event.panel_zone is not None:
            self._panel_zone(event.device, event.panel_zone, event, alarm, trouble, silent)

    def _zone(
        self,
        zone: str,
        event: AlarmSignal,
        alarm: bool | None,
        trouble: bool | None,
        silent: bool,
    ) -> None:
        eid = zone_id(zone)
        old = self._states.get(eid)
        prev = old.attributes if old is not None else None
        if not isinstance(prev, ZoneAttributes):
            prev = ZoneAttributes()
        # Built field by field, not with dataclasses.replace: this is on the hold-up's
        # path, and replace costs several times more.
        attrs = ZoneAttributes(
            prev.open,
            prev.alarm if alarm is None else alarm,
            (silent and alarm) if alarm is not None else prev.silent,
            prev.bypassed,
            prev.trouble if trouble is None else trouble,
            event.kind.value,
            event.device,
        )
        self._set(
            eid, Domain.ZONE, zone_state(attrs.open, attrs.alarm, attrs.trouble), attrs, event.time
        )

    def _panel_zone(
        self,
        device: str,
        number: int,
        event: AlarmSignal,
        alarm: bool | None,
        trouble: bool | None,
        silent: bool,
    ) -> None:
        eid = panel_zone_id(device, number)
        old = self._states.get(eid)
        prev = old.attributes if old is not None else None
        if not isinstance(prev, PanelZoneAttributes):
            prev = PanelZoneAttributes(device=device, number=number)
        attrs = PanelZoneAttributes(
            device,
            number,
            event.zone or prev.zone,
            prev.open,
            prev.alarm if alarm is None else alarm,
            (silent and alarm) if alarm is not None else prev.silent,
            prev.bypassed,
            prev.trouble if trouble is None else trouble,
            event.kind.value,
        )
        self._set(
            eid,
            Domain.PANEL_ZONE,
            zone_state(attrs.open, attrs.alarm, attrs.trouble),
            attrs,
            event.time,
        )

    def _zone_activity(self, event: Event) -> None:
        """A panel zone opened or closed. The most frequent event of a busy shop (a
        detector in a walkway reports every passer-by), so a report that changes
        nothing returns before building anything, and a change builds its two values
        directly (``dataclasses.replace`` costs several times more)."""
        device = str(getattr(event, "device", ""))
        number = getattr(event, "panel_zone", None)
        is_open = getattr(event, "open", None)
        if not isinstance(number, int) or not isinstance(is_open, bool):
            return
        eid = panel_zone_id(device, number)
        old = self._states.get(eid)
        prev = old.attributes if old is not None else None
        if not isinstance(prev, PanelZoneAttributes):
            zone_map = self._zone_maps.get(device)
            mapped = zone_map.zones.get(number) if zone_map is not None else None
            prev = PanelZoneAttributes(
                device=device, number=number, zone=mapped.zone if mapped else None
            )
        if prev.open is not is_open or old is None:
            attrs = PanelZoneAttributes(
                device=prev.device,
                number=prev.number,
                zone=prev.zone,
                open=is_open,
                alarm=prev.alarm,
                silent=prev.silent,
                bypassed=prev.bypassed,
                trouble=prev.trouble,
                kind=prev.kind,
            )
            state = zone_state(is_open, attrs.alarm, attrs.trouble)
            self._set(eid, Domain.PANEL_ZONE, state, attrs, event.time)
        if prev.zone is None:
            return
        zeid = zone_id(prev.zone)
        zold = self._states.get(zeid)
        zprev = zold.attributes if zold is not None else None
        if not isinstance(zprev, ZoneAttributes):
            zprev = ZoneAttributes(device=device)
        elif zprev.open is is_open and zprev.device == device:
            return
        zattrs = ZoneAttributes(
            open=is_open,
            alarm=zprev.alarm,
            silent=zprev.silent,
            bypassed=zprev.bypassed,
            trouble=zprev.trouble,
            kind=zprev.kind,
            device=device,
        )
        self._set(
            zeid,
            Domain.ZONE,
            zone_state(is_open, zattrs.alarm, zattrs.trouble),
            zattrs,
            event.time,
        )

    def _heard(self, event: Event) -> None:
        """A device said something: it runs (its fault, if any, is over). The hub's
        own link to its broker (``BROKER_LINK``) is a link, not a device: it has only
        its ``link:mqtt`` entity."""
        device = getattr(event, "device", None)
        if not isinstance(device, str) or device == BROKER_LINK:
            return
        eid = device_id(device)
        old = self._states.get(eid)
        if old is not None and old.state == "ok":
            return
        reason = old.attributes.reason if old is not None else ""  # type: ignore[union-attr]
        self._set(eid, Domain.DEVICE, "ok", DeviceAttributes(reason=reason), event.time)

    def _device_fault(self, event: DeviceFault) -> None:
        attrs = DeviceAttributes(reason=event.reason, retry_in=event.retry_in)
        self._set(device_id(event.device), Domain.DEVICE, "fault", attrs, event.time)

    def _link_lost(self, event: LinkLost) -> None:
        attrs = LinkAttributes(reason=event.reason)
        self._set(link_id(event.device), Domain.LINK, "down", attrs, event.time)

    def _link_restored(self, event: LinkRestored) -> None:
        eid = link_id(event.device)
        old = self._states.get(eid)
        prev = old.attributes if old is not None else None
        attrs = prev if isinstance(prev, LinkAttributes) else LinkAttributes()
        self._set(eid, Domain.LINK, "up", attrs, event.time)

    # -- cameras -----------------------------------------------------------------------------
    def _camera_now(self, eid: str) -> tuple[str, CameraAttributes]:
        old = self._states.get(eid)
        if old is None or not isinstance(old.attributes, CameraAttributes):
            return UNKNOWN, CameraAttributes()
        return old.state, old.attributes

    def _camera(self, event: CameraAvailability) -> None:
        eid = camera_id(event.camera)
        _, prev = self._camera_now(eid)
        roles = dict(prev.roles)
        # A word outside CAMERA_STATES (a plugin's mistake) is unknown, never online.
        roles[event.role] = event.state if event.state in CAMERA_STATES else UNKNOWN
        word = _camera_state(roles)
        recording = _recording(roles, self._switch.get(eid))
        attrs = CameraAttributes(
            covering(word, recording),
            recording,
            prev.motion,
            tuple(sorted(roles.items())),
            event.reason,
            prev.detection,
            prev.detection_zones,
            prev.detected_at,
            prev.retention_fault,
        )
        self._set(eid, Domain.CAMERA, word, attrs, event.time)
        self._outage(eid, attrs.covering, event, roles[event.role] != ONLINE)

    def _camera_recording(self, event: CameraRecording) -> None:
        eid = camera_id(event.camera)
        word, prev = self._camera_now(eid)
        self._switch[eid] = event.recording
        recording = _recording(dict(prev.roles), event.recording)
        attrs = CameraAttributes(
            covering(word, recording),
            recording,
            prev.motion,
            prev.roles,
            prev.reason,
            prev.detection,
            prev.detection_zones,
            prev.detected_at,
            prev.retention_fault,
        )
        self._set(eid, Domain.CAMERA, word, attrs, event.time)
        self._outage(eid, attrs.covering, event, not event.recording)

    def _outage(self, eid: str, covers: bool, event: Event, down: bool) -> None:
        """Begin or end the camera's outage (see ``outage_began``)."""
        if covers:
            self._outages.pop(eid, None)
        elif down and eid not in self._outages:
            self._outages[eid] = event

    def _camera_motion(self, event: CameraMotion) -> None:
        eid = camera_id(event.camera)
        word, prev = self._camera_now(eid)
        if prev.motion is event.active:
            return
        attrs = CameraAttributes(
            prev.covering,
            prev.recording,
            event.active,
            prev.roles,
            prev.reason,
            prev.detection,
            prev.detection_zones,
            prev.detected_at,
            prev.retention_fault,
        )
        self._set(eid, Domain.CAMERA, word, attrs, event.time)

    def _retention_checked(self, event: RetentionChecked) -> None:
        """The NVR's retention checked: a difference is the camera's technical fault,
        shown until a check finds them equal again."""
        eid = camera_id(event.camera)
        word, prev = self._camera_now(eid)
        fault = "" if event.matches else retention_fault(event)
        if prev.retention_fault == fault:
            return
        attrs = dataclasses.replace(prev, retention_fault=fault)
        self._set(eid, Domain.CAMERA, word, attrs, event.time)

    def _camera_detection(self, event: CameraDetection) -> None:
        eid = camera_id(event.camera)
        word, prev = self._camera_now(eid)
        attrs = CameraAttributes(
            prev.covering,
            prev.recording,
            prev.motion,
            prev.roles,
            prev.reason,
            event.label,
            tuple(event.zones),
            event.time,
            prev.retention_fault,
        )
        self._set(eid, Domain.CAMERA, word, attrs, event.time)
