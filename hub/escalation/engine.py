"""The escalation engine: signals in, escalations walked up the ladder, webhooks out.

``EscalationEngine`` is an async context manager that implements
``EscalationService`` for the HTTP side. While it runs it:

* subscribes to the bus (hold-ups arrive in the life-safety lane, ahead of everything)
  and runs each event through the rules (``hub.escalation.rules``);
* opens an escalation for each new incident, or folds a repeat within the fold window
  into the open one;
* writes every change, with the deliveries it calls for, to the durable outbox
  *before* sending anything, then sends each delivery in its own task (signed
  webhooks, retried with backoff and jitter, at least once);
* walks the ladder on timers at the deadlines' wall-clock instants (no polling): an
  unacknowledged escalation adds the next tier's contacts; at the last tier it
  reminds every contact so far, ``reminders`` times, one deadline apart;
* shortens the deadlines during high-stock periods and tells the first tier when a
  period starts and ends;
* preserves the scene after a hold-up or duress: seals the journal segment, asks the
  cameras to keep their recordings, refuses evidence-destroying configuration until
  the scene is released;
* pushes every change to live listeners (``changes``), each with its own bounded
  queue.

A hold-up is silent: the engine publishes nothing on the bus and calls no hook that
could drive anything in the shop (only ``keep_recordings``, which must not).

On start it reads the outbox back: every delivery not yet made is resumed, every
open escalation gets its timer again from its stored deadline, and every life-safety
signal that reached the journal but not the outbox (the hub was killed in between) is
replayed. All state changes go through one lock, and the durable write happens inside
it, so the order on disk is the order of the changes.

This module is the engine core: its lifecycle, signals, the outbox write of each
change (``_apply``), the ladder's deadlines and the high-stock notices. Around it:

* ``hub.escalation.actions``: what referents and installers may see and do;
* ``hub.escalation.delivery``: the webhooks each change calls for, and their retries;
* ``hub.escalation.recovery``: the start-up repairs between journal and outbox;
* ``hub.escalation.stream``: each live listener's queue of changes;
* ``hub.escalation.records``: what the engine keeps about each escalation.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import dataclasses
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from hub.cameras import CameraStatus, CameraView
from hub.escalation.actions import ReferentActions
from hub.escalation.calendar import HighStockPeriod
from hub.escalation.clock import Clock, SystemClock, Timer
from hub.escalation.config import EscalationSettings
from hub.escalation.delivery import Deliveries, escalation_deliveries
from hub.escalation.model import (
    Contact,
    Escalation,
    EscalationChange,
    EscalationService,
    Status,
)
from hub.escalation.outbox import (
    FAILED,
    Delivery,
    Outbox,
    OutboxBatch,
    OutboxError,
    OutboxSnapshot,
    SceneRecord,
    StoredEscalation,
)
from hub.escalation.payload import encode, high_stock_payload
from hub.escalation.records import Record
from hub.escalation.recovery import REPLAY_WINDOW, replay, restore_journal, signal_digest
from hub.escalation.rules import BUILTIN_RULES, match_event
from hub.escalation.scene import EvidenceSettings, SceneGuard, SceneLocked
from hub.escalation.site import EscalationSite
from hub.escalation.stream import LISTENER_QUEUE, ChangeStream
from hub.escalation.webhooks import WebhookSender
from hub.events import AlarmSignal, Event, PanelState
from hub.journal import Journal, JournalError, UnverifiedSignalsHeld, canonical_payload
from hub.rules import Match, Priority, Rule
from hub.state import StateRegistry

if TYPE_CHECKING:
    from hub.bus import EventBus, Subscription

__all__ = ["LISTENER_QUEUE", "REPLAY_WINDOW", "EscalationEngine", "KeepRecordings", "as_service"]

#: Asks the cameras to keep a window of recordings (camera, start, end, incident): the
#: hub passes its plugins' ``keep_recordings`` hook. It must return quickly.
KeepRecordings = Callable[[str, datetime, datetime, str], None]

log = logging.getLogger(__name__)

#: Digests of escalated signals kept in memory before the ones older than the replay
#: window are forgotten (the outbox keeps them all).
SEEN_LIMIT: Final = 10_000
#: The webhooks that ask a contact to act: when all of a tier's fail for good, the
#: ladder climbs at once (acknowledged and resolved only inform).
CALLS_TO_ACT: Final = frozenset(
    {"escalation.created", "escalation.escalated", "escalation.repeated", "escalation.reminder"}
)
#: The bus queue of the engine's subscription: ordinary events (panel states, burglary)
#: must not be dropped under a burst; life-safety ones never are.
SUBSCRIPTION_QUEUE: Final = 100_000


def _new_id(now: datetime) -> str:
    return f"esc-{now.astimezone(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


class EscalationEngine:
    """Turns signals into escalations and brings them to the referents.

    It is handed what it needs, not the plugin manager nor the whole configuration:
    the hub (the composition root) slices them out of the loaded ``Config`` and asks
    its plugins for the rules and ``keep_recordings``.

    Args:
        settings: the ``escalation:`` section (``hub.escalation.config``).
        contacts: the ``contacts:`` section.
        site: the shop as escalations describe it (``EscalationSite.from_config``).
        bus: where signals come from (None: feed ``handle`` directly, as tests do).
        evidence: what the configuration keeps of the evidence (camera retention,
            the journal's path), checked against the last run's while a scene is
            preserved (``EvidenceSettings.of``).
        rules: the escalation rules, the plugins' included
            (``PluginManager.escalation_rules()``); None: the built-in ones. Given
            without the built-in ones (the essential plugin is missing), those run
            anyway, first, and an error is logged.
        keep_recordings: asks the cameras to keep an incident's recordings (None:
            nobody is asked).
        journal: the open evidence journal, to seal after a hold-up and to replay
            from on start (None: neither).
        clock: wall-clock time and timers (tests pass a ``ManualClock``).
        sender: the webhook sender (default: one built from the settings).
        state: the hub's state registry, fed by the bus: the rules ask it whether a
            partition is armed, and the engine tells it every escalation's changes.
            None: a registry of the engine's own, fed by the events it handles.
        cameras: what the engine reads of the cameras (the hub's registry, as a
            ``CameraView``): each escalation carries the availability of the cameras
            covering its zone, and the camera rule asks whether a report began an
            outage. None: ``state`` (or the engine's own registry) answers.
    """

    def __init__(
        self,
        settings: EscalationSettings,
        contacts: Sequence[Contact],
        site: EscalationSite,
        bus: EventBus | None = None,
        *,
        evidence: EvidenceSettings | None = None,
        rules: Sequence[Rule] | None = None,
        keep_recordings: KeepRecordings | None = None,
        journal: Journal | None = None,
        clock: Clock | None = None,
        sender: WebhookSender | None = None,
        state: StateRegistry | None = None,
        cameras: CameraView | None = None,
    ) -> None:
        self.settings = settings
        self.site = site
        self.evidence = evidence if evidence is not None else EvidenceSettings()
        self._contact_list = tuple(contacts)
        self._bus = bus
        self._journal = journal
        self._given_rules = tuple(rules) if rules is not None else None
        self._keep_recordings = keep_recordings
        self.clock: Clock = clock or SystemClock()
        self._sender = sender
        self._own_sender = sender is None
        self._contacts = {c.id: c for c in self._contact_list}
        self._tz = site.tzinfo
        self.calendar = self.settings.high_stock.calendar(self._tz)
        self._holdup_devices = site.holdup_devices
        self.outbox = Outbox(
            self.settings.outbox_path,
            journal_head=(lambda: journal.head) if journal is not None else None,
        )
        self.scene_guard = SceneGuard(self.preserved_scenes)
        # -- state registry (hub.state) --
        self._own_state = state is None
        self._state = state if state is not None else StateRegistry()
        self._cameras: CameraView = cameras if cameras is not None else self._state
        self._judging: datetime | None = None  # the time of the event being matched
        self._rules: tuple[Rule, ...] = BUILTIN_RULES
        self._watched: tuple[type[Event], ...] = (AlarmSignal, PanelState)
        self._records: dict[str, Record] = {}
        self._by_fold: dict[str, str] = {}
        self._scenes: dict[str, SceneRecord] = {}
        self._notices: set[str] = set()
        self._seen: dict[str, datetime] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self._subscription: Subscription[Event] | None = None
        self._high_stock_timer: Timer | None = None
        self._outbox_failing = False
        self._running = False
        self._replay_from: datetime | None = None
        self._deliveries = Deliveries(
            contacts=self._contacts,
            webhook=self.settings.webhook,
            clock=self.clock,
            outbox=self.outbox,
            durably=self._durably,
            failed=self._delivery_failed,
        )
        self._actions = ReferentActions(
            contacts=self._contacts,
            records=self._records,
            scene=self.scene,
            lock=self._lock,
            clock=self.clock,
            commit=self._apply,
            refresh=self._refresh,
        )

    # -- RuleContext ----------------------------------------------------------------------
    @property
    def burglary_when_armed(self) -> bool:
        """The configuration escalates burglary while armed."""
        return self.settings.burglary_when_armed

    def armed(self, device: str, partition: int | None) -> bool | None:
        """Whether the panel partition was armed when the event being matched
        happened, as far as the hub has heard (``StateRegistry.armed``)."""
        return self._state.armed(device, partition, at=self._judging)

    def has_holdup_zones(self, device: str) -> bool:
        """Whether the device has panel zones wired to hold-up buttons."""
        return device in self._holdup_devices

    def zone_armed(self, zone: str) -> bool | None:
        """Whether any partition of the panels reporting ``zone`` (of every panel when
        none maps it) was armed when the event being matched happened; None when none
        was heard of."""
        answers = [self.armed(device, None) for device in self.site.devices_of(zone)]
        heard = [a for a in answers if a is not None]
        return any(heard) if heard else None

    def zone_risk(self, zone: str) -> str | None:
        """The zone's configured risk; None for a zone not configured."""
        return self.site.zone_risks.get(zone)

    def camera_zones(self, camera: str) -> tuple[str, ...]:
        """The zones the camera covers."""
        return self.site.zones_of(camera)

    def camera(self, camera: str) -> CameraStatus:
        """The camera's availability now (``CameraView``)."""
        return self._cameras.camera_status(camera)

    def camera_outage_began(self, event: Event) -> bool:
        """Whether ``event`` began its camera's outage (``CameraView``)."""
        return self._cameras.outage_began(event)

    def holdup_open(self) -> bool:
        """Whether a hold-up, duress or panic escalation is not resolved."""
        return any(
            r.esc.priority is Priority.LIFE_SAFETY and r.esc.status is not Status.RESOLVED
            for r in self._records.values()
        )

    def _camera_states(self, cameras: Iterable[str]) -> tuple[CameraStatus, ...]:
        """The cameras' availability as of now (each change of an escalation carries it)."""
        return tuple(self._cameras.camera_status(camera) for camera in cameras)

    def _refresh(self, esc: Escalation) -> Escalation:
        """``esc`` with its cameras' availability as of now (``ReferentActions``)."""
        return dataclasses.replace(esc, camera_states=self._camera_states(esc.cameras))

    # -- lifecycle ----------------------------------------------------------------------
    async def __aenter__(self) -> EscalationEngine:
        try:
            await self._start()
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop()

    async def _open_outbox(self, now: datetime) -> OutboxSnapshot:
        """Open the outbox and read it back; an unusable one (a directory, a file from a
        newer hub, a dead disk) is logged and the engine runs without durability rather
        than leave hold-ups undelivered."""
        try:
            await self.outbox.open()
            return await self.outbox.load(now - REPLAY_WINDOW)
        except OutboxError as exc:
            self._outbox_failing = True
            log.critical(
                "escalation outbox unusable, escalating without durability"
                " (no resume after a crash, no scene guard): %s",
                exc,
            )
            await self.outbox.close()
            return OutboxSnapshot([], [], frozenset(), {}, {}, {})

    async def _start(self) -> None:
        now = self.clock.now()
        snapshot = await self._open_outbox(now)
        self._scenes = dict(snapshot.scenes)
        evidence = self.evidence
        stored = snapshot.meta.get("evidence")
        if stored is not None:
            try:
                previous = EvidenceSettings.from_json(stored)
            except ValueError:
                previous = None
            if previous is not None:
                reasons = self.scene_guard.check_config_change(previous, evidence)
                if reasons:
                    raise SceneLocked(reasons)
        created = snapshot.meta.get("created")
        outbox_born = datetime.fromisoformat(created) if created else now
        self._replay_from = max(now - REPLAY_WINDOW, outbox_born)
        await self._durably(
            self.outbox.commit(
                OutboxBatch(
                    meta={"evidence": evidence.to_json(), "evidence_sha256": evidence.fingerprint}
                )
            )
        )
        if self._journal is not None and snapshot.signal_payloads:
            # Before any timer or webhook resumes: nothing leaves the hub before the
            # journal holds the signal behind it.
            await restore_journal(self._journal, snapshot.signal_payloads)
        self._resolve_rules()
        if self._sender is None:
            hook = self.settings.webhook
            self._sender = WebhookSender(timeout=hook.timeout, concurrency=hook.concurrency)
        if self._own_sender:
            await self._sender.__aenter__()
        self._deliveries.sender = self._sender
        self._running = True
        for stored_esc in snapshot.escalations:
            record = Record.restore(stored_esc)
            self._records[record.esc.id] = record
            self._state.apply_escalation(record.esc)
            if record.esc.status is not Status.RESOLVED and record.fold_key:
                self._by_fold[record.fold_key] = record.esc.id
            self._arm(record)
        self._notices = set(snapshot.notices)
        self._seen = dict(snapshot.signals)
        for delivery in snapshot.pending:
            self._deliveries.pending[delivery.key] = delivery
            self._spawn(self._deliveries.run(delivery.key), f"delivery:{delivery.key}")
        if snapshot.pending:
            log.info("escalation: resuming %d undelivered webhooks", len(snapshot.pending))
        if self._bus is not None:
            watched = self._watched
            self._subscription = self._bus.subscribe(
                Event,
                self.handle,
                predicate=lambda e: isinstance(e, watched),
                name="escalation",
                maxsize=SUBSCRIPTION_QUEUE,
                before_journal=True,
            )
        await self._high_stock_tick()
        if self._journal is not None:
            # Before any device starts: what was lost goes out first.
            await self._replay(self._journal.path)

    def _resolve_rules(self) -> None:
        rules = list(self._given_rules or ())
        builtin = {r.name for r in BUILTIN_RULES}
        if not builtin <= {r.name for r in rules}:
            if self._given_rules is not None:
                log.error(
                    "the essential plugin 'escalation' is not loaded: the built-in escalation"
                    " rules run anyway"
                )
            rules = list(BUILTIN_RULES) + [r for r in rules if r.name not in builtin]
        self._rules = tuple(rules)
        # Panel states match no rule: the engine reads them only to feed its own registry
        # (the hub's is fed by the bus), and they would queue ahead of a hold-up.
        types: list[type[Event]] = [AlarmSignal, PanelState] if self._own_state else [AlarmSignal]
        for rule in self._rules:
            types.extend(t for t in rule.event_types if t not in types)
        self._watched = tuple(types)

    async def _stop(self) -> None:
        self._running = False
        if self._subscription is not None:
            self._subscription.cancel()
            await self._subscription.wait_cancelled()
            self._subscription = None
        if self._high_stock_timer is not None:
            self._high_stock_timer.cancel()
        for record in self._records.values():
            if record.timer is not None:
                record.timer.cancel()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._actions.close_listeners()
        if self._own_sender and self._sender is not None:
            await self._sender.__aexit__(None, None, None)
        if self._journal is not None:
            # The journal's head at a clean stop, anchored in the outbox (see
            # ``hub.journal.anchor``); nothing to do when the outbox is not open.
            with contextlib.suppress(OutboxError):
                await self.outbox.commit(OutboxBatch())
        await self.outbox.close()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        if not self._running:
            coro.close()
            return
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("escalation task %s failed", task.get_name(), exc_info=task.exception())

    # -- the durable write ----------------------------------------------------------------
    async def _durably(self, write: Awaitable[None]) -> None:
        """Await an outbox write; a failing disk is logged, never stops a delivery."""
        try:
            await write
        except OutboxError as exc:
            if not self._outbox_failing:
                self._outbox_failing = True
                log.critical(
                    "escalation outbox write failed, delivering anyway without durability: %s",
                    exc,
                )
            return
        if self._outbox_failing:
            self._outbox_failing = False
            log.warning("escalation outbox writes work again")

    async def _apply(
        self,
        records: Sequence[Record],
        deliveries: Sequence[Delivery],
        changes: Sequence[EscalationChange],
        *,
        signals: Iterable[tuple[str, str, datetime]] = (),
        scenes: Iterable[SceneRecord] = (),
        notices: Iterable[tuple[str, datetime]] = (),
        signal_payloads: dict[str, str] | None = None,
        cause: Event | None = None,
    ) -> None:
        """Write a change to the outbox, then make it current, arm its timers, start
        its deliveries and tell the listeners. Called with the lock held.

        The first attempt of each new delivery due now is recorded in the same
        transaction as the change: the POST follows the one ``fsync``, and the outbox
        still holds the attempt before it is made.

        ``cause``: the signal behind the change. The engine receives life-safety
        signals while the journal is still writing them (``before_journal``); their
        outbox write runs alongside the journal's, and nothing goes further (no
        webhook, no listener) until the bus says the journal holds the signal.
        """
        scene_list = list(scenes)
        started = self._deliveries.first_attempts(deliveries, self.clock.now())
        batch = OutboxBatch(
            escalations=[StoredEscalation(r.esc, r.state()) for r in records],
            deliveries=list(deliveries),
            started=started,
            signals=list(signals),
            signal_payloads=signal_payloads or {},
            notices=list(notices),
            scenes=scene_list,
        )
        await self._durably(self.outbox.commit(batch))
        if cause is not None and self._bus is not None:
            await self._bus.journaled(cause)
        for record in records:
            old = self._records.get(record.esc.id)
            if old is not None and old is not record and old.timer is not None:
                old.timer.cancel()
            self._records[record.esc.id] = record
            if record.esc.status is Status.RESOLVED:
                if self._by_fold.get(record.fold_key) == record.esc.id:
                    del self._by_fold[record.fold_key]
            else:
                self._by_fold[record.fold_key] = record.esc.id
            self._arm(record)
        for digest, _esc, at in batch.signals:
            self._seen[digest] = at
        if len(self._seen) > SEEN_LIMIT:
            horizon = self.clock.now() - REPLAY_WINDOW
            self._seen = {d: at for d, at in self._seen.items() if at >= horizon}
        for key, _at in batch.notices:
            self._notices.add(key)
        for scene in scene_list:
            self._scenes[scene.escalation_id] = scene
        for delivery in self._deliveries.admit(deliveries):
            self._spawn(
                self._deliveries.run(delivery.key, recorded=delivery.key in started),
                f"delivery:{delivery.key}",
            )
        for change in changes:
            self._actions.emit(change)
            self._state.apply_escalation(change.escalation)

    def _arm(self, record: Record) -> None:
        if record.timer is not None:
            record.timer.cancel()
            record.timer = None
        esc = record.esc
        if esc.status is Status.OPEN and esc.deadline is not None and self._running:
            esc_id = esc.id
            record.timer = self.clock.call_at(
                esc.deadline,
                lambda: self._spawn(self._on_deadline(esc_id), f"deadline:{esc_id}"),
            )

    def _delivery_failed(self, delivery: Delivery, reason: str) -> None:
        """Tell the listeners of a failed attempt (``Deliveries`` logged it), and climb
        the ladder at once when no contact of the escalation's tier can be pushed to any
        more: a hold-up must not wait for a deadline that nobody was told of."""
        record = self._records.get(delivery.escalation_id or "")
        if record is None:
            return
        self._actions.emit(
            EscalationChange("delivery_failed", record.esc, contact=delivery.contact, reason=reason)
        )
        if delivery.status != FAILED or delivery.event not in CALLS_TO_ACT:
            return
        record.unreachable.add(delivery.contact)
        esc = record.esc
        if esc.status is not Status.OPEN or esc.tier + 1 >= len(self.settings.ladder):
            return
        pushed = [
            c
            for c in self.settings.ladder[esc.tier].contacts
            if (contact := self._contacts.get(c)) is not None and contact.webhook_url
        ]
        if pushed and record.unreachable.issuperset(pushed):
            log.error(
                "escalation %s: every webhook of tier %d failed for good (%s):"
                " climbing to tier %d now",
                esc.id,
                esc.tier,
                ", ".join(pushed),
                esc.tier + 1,
            )
            self._spawn(self._on_deadline(esc.id, unreachable=esc.tier), f"climb:{esc.id}")

    # -- signals ---------------------------------------------------------------------------
    async def handle(self, event: Event) -> None:
        """Take one bus event (the bus calls this; tests may too)."""
        if self._own_state:
            self._state.apply(event)
        match = self._match(event)
        if match is None:
            return
        await self._signal(event, match, canonical_payload(event))

    def _match(self, event: Event) -> Match | None:
        self._judging = event.time
        try:
            found = match_event(self._rules, event, self, self._rule_failed)
        finally:
            self._judging = None
        return None if found is None else found[0]

    @staticmethod
    def _rule_failed(rule: Rule, exc: Exception) -> None:
        log.error("escalation rule %s failed: %s: %s", rule.name, type(exc).__name__, exc)

    @staticmethod
    def _fold_key(match: Match) -> str:
        where = f"zone:{match.zone}" if match.zone else f"device:{match.device}"
        return f"{match.kind}|{where}"

    def _deadline(self, now: datetime, tier: int, factor: float, reminders: int) -> datetime | None:
        last = len(self.settings.ladder) - 1
        if tier >= last and reminders >= self.settings.reminders:
            return None
        seconds = self.settings.ladder[min(tier, last)].ack_deadline * factor
        return now + timedelta(seconds=seconds)

    async def _signal(self, event: Event, match: Match, payload: str) -> None:
        """Open an escalation for ``event``, or fold it into the open one.

        ``payload``: the event's journal text; its digest identifies the signal, and it
        is kept in the outbox with the escalation (see ``recovery.restore_journal``).
        """
        digest = signal_digest(payload)
        async with self._lock:
            if digest in self._seen or not self._running:
                return
            now = self.clock.now()
            fold_key = self._fold_key(match)
            open_id = self._by_fold.get(fold_key)
            record = self._records.get(open_id) if open_id is not None else None
            window = self.settings.fold_window
            if (
                record is not None
                and record.esc.status is not Status.RESOLVED
                # A last signal "in the future" (the clock was set back) folds nothing:
                # a hold-up that cannot be placed in time opens its own escalation.
                and 0 <= (now - record.last_signal_at).total_seconds() < window
            ):
                await self._fold(record, now, digest, event, payload)
            else:
                await self._open(event, match, fold_key, now, digest, payload)

    async def _fold(
        self, record: Record, now: datetime, digest: str, event: Event, payload: str
    ) -> None:
        esc = dataclasses.replace(
            record.esc,
            signals=record.esc.signals + 1,
            updated_at=now,
            revision=record.esc.revision + 1,
            camera_states=self._camera_states(record.esc.cameras),
        )
        folded = dataclasses.replace(record, esc=esc, last_signal_at=now, timer=record.timer)
        record.timer = None
        deliveries = escalation_deliveries(esc, "repeated", esc.addressed_to, self._contacts, now)
        await self._apply(
            [folded],
            deliveries,
            [EscalationChange("repeated", esc)],
            signals=[(digest, esc.id, now)],
            signal_payloads={digest: payload},
            cause=event,
        )

    async def _open(
        self, event: Event, match: Match, fold_key: str, now: datetime, digest: str, payload: str
    ) -> None:
        site = self.site
        active = self.calendar.active(now)
        factor = self.settings.high_stock.deadline_factor if active else 1.0
        cameras = site.cameras_of(match.zone)
        esc = Escalation(
            id=_new_id(now),
            kind=match.kind,
            priority=match.priority,
            status=Status.OPEN,
            site=site.name,
            address=site.address,
            departement=site.departement,
            zone=match.zone,
            zone_name=site.zone_names.get(match.zone, "") if match.zone else "",
            device=match.device,
            cameras=cameras,
            instructions=self.settings.instructions,
            tier=0,
            addressed_to=self.settings.ladder[0].contacts,
            signals=1,
            high_stock=active[0].name if active else None,
            created_at=now,
            updated_at=now,
            deadline=self._deadline(now, 0, factor, 0),
            scene_sealed=match.preserves_scene,
            revision=1,
            signalled_at=event.time,
            camera_states=self._camera_states(cameras),
        )
        record = Record(esc, fold_key, now, factor)
        scenes: list[SceneRecord] = []
        if match.preserves_scene:
            scene = self.settings.scene
            scenes.append(
                SceneRecord(
                    esc.id,
                    now - timedelta(seconds=scene.before),
                    now + timedelta(seconds=scene.after),
                    cameras,
                )
            )
        deliveries = escalation_deliveries(esc, "created", esc.addressed_to, self._contacts, now)
        await self._apply(
            [record],
            deliveries,
            [EscalationChange("created", esc)],
            signals=[(digest, esc.id, now)],
            signal_payloads={digest: payload},
            scenes=scenes,
            cause=event,
        )
        log.info(
            "escalation %s opened: %s (%s) zone %s, addressed to %s",
            esc.id,
            esc.kind,
            esc.priority.value,
            esc.zone or "-",
            ", ".join(esc.addressed_to),
        )
        if scenes:
            self._spawn(self._preserve(scenes[0]), f"scene:{esc.id}")

    async def _preserve(self, scene: SceneRecord) -> None:
        """Seal the journal segment and ask the cameras to keep the window. Runs in its
        own task: the deliveries are already on their way."""
        seal: dict[str, Any] | None = None
        if self._journal is not None:
            try:
                sealed = await self._journal.seal(scene.escalation_id, since=scene.window_start)
            except JournalError as exc:
                log.error(
                    "escalation %s: the journal could not be sealed: %s", scene.escalation_id, exc
                )
            else:
                seal = sealed.to_dict()
        if self._keep_recordings is not None:
            for camera in scene.cameras:
                self._keep_recordings(
                    camera, scene.window_start, scene.window_end, scene.escalation_id
                )
        async with self._lock:
            current = self._scenes.get(scene.escalation_id, scene)
            updated = dataclasses.replace(current, seal=seal)
            await self._durably(self.outbox.commit(OutboxBatch(scenes=[updated])))
            self._scenes[scene.escalation_id] = updated

    async def _replay(self, journal_path: Path) -> None:
        """Escalate the life-safety signals that reached the journal but not the outbox
        (those after a break in its chain are held: see ``recovery.replay``)."""
        since = self._replay_from
        if since is None:
            return
        await replay(
            journal_path,
            since,
            seen=lambda digest: digest in self._seen,
            match=self._match,
            signal=self._signal,
            hold=self._hold,
        )

    async def _hold(self, held: UnverifiedSignalsHeld) -> None:
        """Journal and publish the signals replay held back (a fault to look into)."""
        if self._journal is not None:
            try:
                await self._journal.append([held])
            except JournalError as exc:
                log.error("escalation: the signals held could not be journaled: %s", exc)
        if self._bus is not None:
            self._bus.publish(held)

    # -- the ladder ---------------------------------------------------------------------------
    async def _on_deadline(self, esc_id: str, unreachable: int | None = None) -> None:
        """Climb a tier, or remind the last one, once the deadline has passed.

        Args:
            esc_id: the escalation.
            unreachable: the tier none of whose contacts can be pushed to: climb from
                it now, whatever the deadline (nothing, if the escalation has moved on).
        """
        async with self._lock:
            record = self._records.get(esc_id)
            if record is None or not self._running:
                return
            esc = record.esc
            now = self.clock.now()
            if esc.status is not Status.OPEN or esc.deadline is None:
                return
            if unreachable is not None:
                if esc.tier != unreachable:
                    return  # acknowledged, or climbed meanwhile
            elif now < esc.deadline:
                self._arm(record)  # fired early: not yet
                return
            ladder = self.settings.ladder
            if esc.tier + 1 < len(ladder):
                tier = esc.tier + 1
                added = tuple(c for c in ladder[tier].contacts if c not in esc.addressed_to)
                new = dataclasses.replace(
                    esc,
                    tier=tier,
                    addressed_to=esc.addressed_to + added,
                    updated_at=now,
                    revision=esc.revision + 1,
                    deadline=self._deadline(now, tier, record.factor, record.reminders),
                    camera_states=self._camera_states(esc.cameras),
                )
                updated = dataclasses.replace(record, esc=new, timer=None)
                deliveries = escalation_deliveries(new, "escalated", added, self._contacts, now)
                what = "escalated"
                log.warning(
                    "escalation %s not acknowledged in time: tier %d added (%s)",
                    esc.id,
                    tier,
                    ", ".join(added),
                )
            else:
                reminders = record.reminders + 1
                new = dataclasses.replace(
                    esc,
                    updated_at=now,
                    revision=esc.revision + 1,
                    deadline=self._deadline(now, esc.tier, record.factor, reminders),
                    camera_states=self._camera_states(esc.cameras),
                )
                updated = dataclasses.replace(record, esc=new, reminders=reminders, timer=None)
                deliveries = escalation_deliveries(
                    new, "reminder", new.addressed_to, self._contacts, now
                )
                what = "reminded"
                log.warning("escalation %s still not acknowledged: reminder %d", esc.id, reminders)
            await self._apply([updated], deliveries, [EscalationChange(what, new)])

    # -- high-stock periods ----------------------------------------------------------------
    def high_stock_periods(self) -> list[HighStockPeriod]:
        """The high-stock periods in force now (deadlines are shortened)."""
        return self.calendar.active(self.clock.now())

    def _notice(
        self, period: HighStockPeriod, event: str, now: datetime
    ) -> tuple[str, list[Delivery]]:
        key = f"high-stock:{period.key}:{event}"
        body = encode(high_stock_payload(period, event, self._tz))
        deliveries = [
            Delivery(
                key=f"{key}:{contact_id}",
                escalation_id=None,
                contact=contact_id,
                event=f"high_stock_period.{event}",
                body=body,
                next_at=now,
                created_at=now,
            )
            for contact_id in self.settings.referents
            if (contact := self._contacts.get(contact_id)) is not None and contact.webhook_url
        ]
        return key, deliveries

    async def _high_stock_tick(self) -> None:
        """Tell the referents of periods that started or ended, then wait for the next
        boundary. A period that started while the hub was off is announced on start; one
        that also ended meanwhile is not (there is nothing left to plan)."""
        async with self._lock:
            if not self._running:
                return
            now = self.clock.now()
            notices: list[tuple[str, datetime]] = []
            deliveries: list[Delivery] = []
            for period in self.calendar.active(now):
                key, queued = self._notice(period, "started", now)
                if key not in self._notices:
                    notices.append((key, now))
                    deliveries += queued
                    log.info("high-stock period %s started", period.name)
            for period in self.calendar.overlapping(now - timedelta(days=400), now):
                if period.ends_at(self._tz) > now:
                    continue
                started = f"high-stock:{period.key}:started"
                key, queued = self._notice(period, "ended", now)
                if started in self._notices and key not in self._notices:
                    notices.append((key, now))
                    deliveries += queued
                    log.info("high-stock period %s ended", period.name)
            if notices:
                await self._apply([], deliveries, [], notices=notices)
            boundary = self.calendar.next_boundary(now)
            if self._high_stock_timer is not None:
                self._high_stock_timer.cancel()
            if boundary is not None:
                self._high_stock_timer = self.clock.call_at(
                    boundary, lambda: self._spawn(self._high_stock_tick(), "high-stock")
                )

    # -- EscalationService -------------------------------------------------------------
    def contacts(self) -> Sequence[Contact]:
        """Every configured contact."""
        return self._contact_list

    def list(
        self, as_contact: Contact, *, status: Status | None = None, limit: int = 100
    ) -> Sequence[Escalation]:
        """Escalations visible to ``as_contact``, newest first."""
        return self._actions.list(as_contact, status=status, limit=limit)

    def get(self, as_contact: Contact, escalation_id: str) -> Escalation:
        """One escalation visible to ``as_contact``."""
        return self._actions.get(as_contact, escalation_id)

    async def acknowledge(self, as_contact: Contact, escalation_id: str) -> Escalation:
        """Take the escalation: the ladder stops (a referent it was addressed to)."""
        return await self._actions.acknowledge(as_contact, escalation_id)

    async def resolve(self, as_contact: Contact, escalation_id: str) -> Escalation:
        """Close the escalation. Idempotent once resolved."""
        return await self._actions.resolve(as_contact, escalation_id)

    async def release_scene(self, as_contact: Contact, escalation_id: str) -> Escalation:
        """Release a preserved scene (a referent it was addressed to, or an installer)."""
        return await self._actions.release_scene(as_contact, escalation_id)

    def changes(self, as_contact: Contact) -> ChangeStream:
        """Live changes visible to ``as_contact``; listening starts at this call."""
        return self._actions.changes(as_contact)

    # -- scene guard -------------------------------------------------------------------------
    def preserved_scenes(self) -> builtins.list[str]:
        """The escalation ids whose scene is preserved (not released yet)."""
        return sorted(k for k, s in self._scenes.items() if not s.released)

    def check_config_change(self, new: EvidenceSettings) -> builtins.list[str]:
        """Why a configuration with the evidence settings ``new`` may not replace the
        running one now (empty: it may)."""
        return self.scene_guard.check_config_change(self.evidence, new)

    def scene(self, escalation_id: str) -> SceneRecord | None:
        """The preserved scene of an escalation (window, cameras, journal seal)."""
        return self._scenes.get(escalation_id)

    @property
    def pending_deliveries(self) -> int:
        """Deliveries not yet delivered (for status and metrics)."""
        return self._deliveries.waiting()


def as_service(engine: EscalationEngine) -> EscalationService:
    """The engine as the HTTP side sees it (and mypy checks that it fits)."""
    return engine
