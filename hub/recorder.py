"""The recorder: puts every event in the journal, then on the bus.

Devices call ``emit``, which only queues the event and never blocks. One writer task
takes everything queued as a batch (life-safety events first), appends it to the
journal in the journal's own thread, and only then publishes each event on the bus. So
nothing acts on an event before it is evidence.

One subscriber may start earlier: the escalation engine subscribes ``before_journal``,
and the recorder announces each life-safety event to it (``EventBus.announce``) as
soon as the event's append has started. The engine writes its outbox while the
journal writes the event, two ``fsync`` side by side instead of one after the other,
and waits for the journal (``EventBus.journaled``) before any webhook leaves: nothing
leaves the hub before the journal holds the event, and a hold-up reaches the referent
one disk flush sooner.

Each append is one ``fsync``, and the journal takes one append at a time: a hold-up
that arrives while an append is on its way waits for it. Under a stream of ordinary
events (zone chatter, camera motion, thousands a second) back-to-back appends would
keep the journal, and the disk, busy all the time, and every hold-up would wait behind
one. So after each append the journal is left idle for ``ordinary_gap`` seconds, while
ordinary events gather into the next batch. A life-safety event never waits for the
gap: it is appended at once, alone (the ordinary events gathered so far keep waiting
for the gap, which starts again after it, leaving the disk to the escalation's own
write). An ordinary event that arrives when the journal has been idle longer than the
gap is appended at once too: the gap delays ordinary events only under sustained
load, by at most the gap. Each event's journal text (``canonical_payload``) is made
as it arrives, a few microseconds at a time on the loop, so that the writer thread
never holds the interpreter for a whole batch while a hold-up waits to be read.

A hold-up must never wait behind a broken disk, so the rule bends in two places:

* When an append fails (disk full, I/O error, a lock), the events are published
  anyway, ``journal_failures`` is counted, one line is logged for the whole burst of
  failures, and the events are kept in memory and retried with the next batch (or
  every ``retry_interval`` seconds when nothing new comes). The retry buffer is
  bounded: past ``max_pending``, the oldest ordinary events are dropped and counted in
  ``dropped``; life-safety events are never dropped.
* When an append is merely slow (a dying SD card can stall ``fsync`` for seconds), the
  batch is published once ``publish_deadline`` has passed, counted in ``late``, and
  whatever arrives while the journal is still busy is published at once and journaled
  after. A life-safety event therefore waits for the journal at most about twice the
  deadline.

Events that waited for a retry are journaled after events that came later; their
``time`` still says when they happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType

from hub.bus import EventBus
from hub.events import Event
from hub.journal import Journal, canonical_payload

__all__ = ["Recorder", "RecorderStats"]

log = logging.getLogger(__name__)

_NO_TICKET = 1 << 62  # larger than any ticket a process will ever issue

#: An event waiting for the writer: its ticket, itself, and its journal payload.
_Queued = tuple[int, Event, str | None]


@dataclass(frozen=True, slots=True)
class RecorderStats:
    """A snapshot of the recorder's counters (for metrics and ``ecrin status``).

    Attributes:
        recorded: events written to the journal.
        batches: journal appends attempted.
        journal_failures: journal appends that failed.
        pending: events published but not journaled yet (waiting for a retry).
        dropped: ordinary events published but never journaled (retry buffer full).
        late: events published before their journal write finished (slow journal).
        queued: events emitted but not yet taken by the writer.
    """

    recorded: int
    batches: int
    journal_failures: int
    pending: int
    dropped: int
    late: int
    queued: int


@dataclass(slots=True)
class _Append:
    """One append in flight: the events retried from the buffer (already published),
    the fresh batch (published when the append ends or its deadline passes), and the
    life-safety events that joined its transaction (``Journal.append(join=...)``)."""

    task: asyncio.Task[list[int]]
    retried: list[Event]
    fresh: list[Event]
    published: bool = False
    #: Filled by the journal's writer thread, just before the commit.
    joined: list[Event] = field(default_factory=list)
    #: How many of ``joined`` are published already (the deadline passed).
    joined_published: int = 0


@dataclass(slots=True)
class _Waiter:
    target: int
    future: asyncio.Future[None] = field(repr=False)


class Recorder:
    """Journal first, then publish; never block the producer.

    Use it as ``async with Recorder(journal, bus) as recorder:``. Leaving the block
    journals and publishes everything emitted before returning.

    Args:
        journal: an open journal, or None to run without one (events are published
            straight away; the hub does this when the journal cannot be opened).
        bus: where events go once journaled.
        batch_size: the most events per append (life-safety ones are never held back
            by it).
        max_pending: the bound of the retry buffer for ordinary events.
        publish_deadline: seconds an append may take before its batch is published
            without waiting for it.
        retry_interval: seconds between retries while the journal keeps failing and
            nothing new arrives.
        ordinary_gap: seconds the journal is left idle after an append before ordinary
            events alone start the next one (0: back to back).
    """

    def __init__(
        self,
        journal: Journal | None,
        bus: EventBus,
        *,
        batch_size: int = 500,
        max_pending: int = 10_000,
        publish_deadline: float = 0.5,
        retry_interval: float = 1.0,
        ordinary_gap: float = 0.05,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._journal = journal
        self._bus = bus
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.publish_deadline = publish_deadline
        self.retry_interval = retry_interval
        self.ordinary_gap = ordinary_gap
        #: Loop time before which ordinary events alone do not start an append.
        self._quiet_until = 0.0
        self.recorded = 0
        self.batches = 0
        self.journal_failures = 0
        self.dropped = 0
        self.late = 0
        # Queues of (ticket, event, payload); tickets number emits so ``flush`` knows
        # its target, and the payload is the journal's text, made as the event arrives.
        self._life: deque[_Queued] = deque()
        self._ordinary: deque[_Queued] = deque()
        self._tickets = 0
        self._taken_min = _NO_TICKET  # lowest ticket taken by the writer, unpublished
        # Published but not journaled yet, waiting for a retry.
        self._retry_life: deque[Event] = deque()
        self._retry_ordinary: deque[Event] = deque()
        self._inflight: _Append | None = None
        self._failing = False
        self._slow = False
        self._drop_logged = False
        self._retry_due = False
        self._final_retry_done = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._closed = False
        self._waiters: list[_Waiter] = []

    # -- producer side ------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        """Queue ``event`` for the journal and the bus; never blocks.

        Call it from the loop's thread. Events emitted before the recorder starts wait
        for it; after it has stopped, this raises ``RuntimeError``.
        """
        if self._closed:
            raise RuntimeError("the recorder is closed")
        task = self._task
        if task is not None and task.done():
            # The writer died (a bug): deliver directly rather than hold a hold-up back.
            self._publish([event])
            return
        self._tickets += 1
        payload: str | None = None
        if self._journal is not None:
            try:
                payload = canonical_payload(event)
            except Exception:  # a plugin's odd event: the writer tries again, and reports
                payload = None
        if not event.life_safety:
            ordinary = self._ordinary
            ordinary.append((self._tickets, event, payload))
            if len(ordinary) > 1 and self._inflight is None and not self._ordinary_due():
                # Inside the gap, behind an event that already woke the writer: it sleeps
                # until the gap ends (its timer is set), and waking it now for each
                # event of a busy stream would cost a turn of the loop each, for nothing.
                return
            self._wake.set()
            return
        self._life.append((self._tickets, event, payload))
        self._wake.set()  # first: the writer's turn comes before the announced subscriber's
        if self._journal is not None:
            # The before-journal subscribers (the escalation engine) start now, while the
            # journal writes it, and wait for the publish that follows the append.
            with contextlib.suppress(RuntimeError):  # a closed bus: the publish reports it
                self._bus.announce(event)

    # -- counters -----------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Events published but not journaled yet (held for a retry)."""
        n = len(self._retry_life) + len(self._retry_ordinary)
        job = self._inflight
        if job is not None:
            n += len(job.retried) + (len(job.fresh) if job.published else 0)
        return n

    @property
    def backlog(self) -> int:
        """Events waiting for the journal before they are published: queued, or in the
        append under way. A producer that can be made to wait (a broker queues for the
        hub) slows down on it, so that a flood never reaches the retry buffer's bound.

        Events already published and held for a retry (a failing or stalled journal)
        are not counted: the hub runs on without its journal rather than stop hearing
        its devices, and a stalled append stops counting at its ``publish_deadline``.
        """
        n = len(self._life) + len(self._ordinary)
        job = self._inflight
        if job is not None and not job.published:
            n += len(job.fresh)
        return n

    def stats(self) -> RecorderStats:
        """The counters as they are now."""
        return RecorderStats(
            recorded=self.recorded,
            batches=self.batches,
            journal_failures=self.journal_failures,
            pending=self.pending,
            dropped=self.dropped,
            late=self.late,
            queued=len(self._life) + len(self._ordinary),
        )

    # -- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> Recorder:
        if self._task is not None or self._closed:
            raise RuntimeError("a recorder runs once")
        self._task = asyncio.get_running_loop().create_task(self._run(), name="recorder")
        self._task.add_done_callback(self._writer_done)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        self._wake.set()
        task = self._task
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        self._closed = True
        self._release_waiters()
        if self.pending:
            log.error("journal: %d events were delivered but could not be journaled", self.pending)

    def _writer_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None and not self._closing:
            log.critical(
                "the recorder stopped: events are now published without the journal",
                exc_info=task.exception(),
            )
            # Deliver what was queued; from now on emit publishes directly.
            job = self._inflight
            if job is not None:
                self._publish_joined(job)
                if not job.published:
                    job.published = True
                    self._publish(job.fresh)
            self._publish([e for _t, e, _p in (*self._drain_life(), *self._ordinary)])
            self._ordinary.clear()
        self._release_waiters()

    async def flush(self) -> None:
        """Wait until every event emitted so far is published and journaled.

        When the journal is failing, it returns once those events are published and
        held for a retry (see ``pending``) rather than wait for the disk to recover.

        Raises:
            RuntimeError: the recorder is not running.
        """
        task = self._task
        if task is None or task.done():
            raise RuntimeError("the recorder is not running")
        target = self._tickets
        if self._flushed(target):
            return
        waiter = _Waiter(target, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        self._wake.set()  # a flush does not wait for the ordinary gap
        await waiter.future

    def _flushed(self, target: int) -> bool:
        first_unpublished = min(
            self._life[0][0] if self._life else _NO_TICKET,
            self._ordinary[0][0] if self._ordinary else _NO_TICKET,
            self._taken_min,
        )
        if first_unpublished <= target or self._inflight is not None:
            return False
        has_retry = bool(self._retry_life or self._retry_ordinary)
        return not has_retry or self._failing or self._journal is None

    def _check_waiters(self) -> None:
        if not self._waiters:
            return
        still: list[_Waiter] = []
        for waiter in self._waiters:
            if self._flushed(waiter.target):
                if not waiter.future.done():
                    waiter.future.set_result(None)
            else:
                still.append(waiter)
        self._waiters = still

    def _release_waiters(self) -> None:
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.set_result(None)
        self._waiters.clear()

    # -- the writer ---------------------------------------------------------------------------
    def _has_retry(self) -> bool:
        return bool(self._retry_life or self._retry_ordinary)

    def _ordinary_due(self) -> bool:
        """Whether the queued ordinary events may start an append now."""
        return (
            len(self._ordinary) >= self.batch_size
            or bool(self._waiters)
            or self._journal is None
            or asyncio.get_running_loop().time() >= self._quiet_until
        )

    def _has_work(self) -> bool:
        if self._life or self._closing or (self._ordinary and self._ordinary_due()):
            return True
        job = self._inflight
        if job is not None:
            return job.task.done()
        if self._has_retry():
            return not self._failing or self._retry_due
        return False

    async def _wait_for_work(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._has_work():
            self._wake.clear()
            delay: float | None = None
            retry = False
            if self._has_retry() and self._inflight is None and self._failing:
                delay, retry = self.retry_interval, True
            if self._ordinary and self._inflight is None:
                gap = max(0.0, self._quiet_until - loop.time())
                if delay is None or gap < delay:
                    delay, retry = gap, False
            try:
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                if retry:
                    self._retry_due = True

    def _take_batch(self) -> tuple[list[Event], list[str | None]]:
        """Every queued life-safety event, then ordinary ones up to ``batch_size``.

        Ordinary events still inside the gap stay queued when life-safety events go:
        the hold-up's append then carries one row, not the gap's worth of chatter.
        """
        taken = self._drain_life()
        ordinary = self._ordinary
        if taken and not (self._closing or self._inflight is not None or self._ordinary_due()):
            ordinary = deque()
        while ordinary and len(taken) < self.batch_size:
            taken.append(ordinary.popleft())
        if taken:
            self._taken_min = min(t for t, _e, _p in taken)
        return [e for _t, e, _p in taken], [p for _t, _e, p in taken]

    def _drain_life(self) -> list[_Queued]:
        """Take every queued life-safety event. Safe against the journal's writer
        thread doing the same (``_join``): each ``popleft`` is atomic, so an event is
        taken once, by one of them."""
        life = self._life
        taken: list[_Queued] = []
        while True:
            try:
                taken.append(life.popleft())
            except IndexError:
                return taken

    def _join(self) -> list[tuple[Event, str | None]]:
        """Called by the journal's writer thread just before it commits the append in
        flight: the life-safety events queued meanwhile join that commit instead of
        waiting for it to end and then making their own."""
        job = self._inflight
        if job is None or self._closing or job.published:
            return []
        ready: list[_Queued] = []
        left: list[_Queued] = []  # no journal text: left for the next append, which makes it
        for item in self._drain_life():
            (ready if item[2] is not None else left).append(item)
        self._life.extendleft(reversed(left))
        job.joined.extend(e for _t, e, _p in ready)
        return [(e, p) for _t, e, p in ready]

    def _publish_joined(self, job: _Append) -> int:
        """Publish the joined events not published yet; return how many."""
        joined = job.joined[job.joined_published :]
        job.joined_published += len(joined)
        if joined:
            self._publish(joined)
        return len(joined)

    def _take_retry(self, batch: list[Event]) -> list[Event]:
        if not self._has_retry():
            return []
        allowed = bool(batch) or not self._failing or self._retry_due
        if not allowed and self._closing and not self._final_retry_done:
            allowed = True
            self._final_retry_done = True
        if not allowed:
            return []
        self._retry_due = False
        out: list[Event] = []
        for source in (self._retry_life, self._retry_ordinary):
            while source and len(out) < self.batch_size:
                out.append(source.popleft())
        return out

    def _hold(self, events: list[Event]) -> None:
        """Keep published events for a later journal attempt, within the bound."""
        for event in events:
            (self._retry_life if event.life_safety else self._retry_ordinary).append(event)
        self._trim_retry()

    def _restore(self, events: list[Event]) -> None:
        """Put events taken for a failed retry back in front of the buffer."""
        self._retry_life.extendleft(reversed([e for e in events if e.life_safety]))
        self._retry_ordinary.extendleft(reversed([e for e in events if not e.life_safety]))
        self._trim_retry()

    def _trim_retry(self) -> None:
        room = max(self.max_pending - len(self._retry_life), 0)
        excess = len(self._retry_ordinary) - room
        if excess <= 0:
            return
        if not self._drop_logged:
            self._drop_logged = True
            log.error(
                "journal: retry buffer full (%d events); dropping the oldest ordinary"
                " events from the journal (they were delivered)",
                self.max_pending,
            )
        for _ in range(excess):
            self._retry_ordinary.popleft()
        self.dropped += excess

    def _publish(self, events: list[Event]) -> None:
        self._taken_min = _NO_TICKET
        publish = self._bus.publish
        for i, event in enumerate(events):
            try:
                publish(event)
            except Exception as exc:
                log.error(
                    "the bus refused %d events (%s); they are journaled but not delivered",
                    len(events) - i,
                    exc,
                )
                return

    async def _run(self) -> None:
        while True:
            await self._wait_for_work()
            job = self._inflight
            if job is not None and job.task.done():
                self._inflight = None
                self._settle(job)
                job = None
            batch, payloads = self._take_batch()
            if job is not None:
                # The journal is still on an earlier batch past its deadline: deliver
                # now, journal later.
                if batch:
                    self._publish(batch)
                    self._hold(batch)
                    self.late += len(batch)
                else:  # only closing wakes us here with nothing new
                    await asyncio.wait({job.task})
                self._check_waiters()
                continue
            if self._journal is None:
                if batch:
                    self._publish(batch)
                    self._check_waiters()
                    continue
                if self._closing:
                    return
                continue
            retry = self._take_retry(batch)
            if not batch and not retry:
                self._check_waiters()
                if self._closing:
                    return
                continue
            await self._append(self._journal, retry, batch, payloads)
            self._check_waiters()

    async def _append(
        self,
        journal: Journal,
        retry: list[Event],
        batch: list[Event],
        payloads: list[str | None],
    ) -> None:
        task = asyncio.get_running_loop().create_task(
            journal.append([*retry, *batch], [None] * len(retry) + payloads, join=self._join)
        )
        task.add_done_callback(lambda _t: self._wake.set())
        job = _Append(task, retry, batch)
        # Set before the task's first step, so before the writer thread can call _join.
        self._inflight = job
        self.batches += 1
        await asyncio.wait({task}, timeout=self.publish_deadline)
        if task.done():
            self._inflight = None
            self._settle(job)
            return
        if not self._slow:
            self._slow = True
            log.warning(
                "journal: an append is taking over %g s; events are delivered first"
                " and journaled when it finishes",
                self.publish_deadline,
            )
        self.late += self._publish_joined(job) + len(batch)
        self._publish(batch)
        job.published = True

    def _settle(self, job: _Append) -> None:
        """Account for a finished append and deliver its fresh batch if still due."""
        self._quiet_until = asyncio.get_running_loop().time() + self.ordinary_gap
        exc = job.task.exception() if not job.task.cancelled() else asyncio.CancelledError()
        if exc is None:
            self.recorded += len(job.retried) + len(job.fresh) + len(job.joined)
            self._slow = False
            self._drop_logged = False
            if self._failing:
                self._failing = False
                log.warning("journal: appends work again after %d failures", self.journal_failures)
        else:
            self.journal_failures += 1
            if not self._failing:
                self._failing = True
                log.error(
                    "journal: append failed, events are delivered anyway and kept for a retry: %s",
                    exc,
                )
            self._restore(job.retried)
            self._hold(job.joined)
            self._hold(job.fresh)
        self._publish_joined(job)
        if not job.published:
            job.published = True
            self._publish(job.fresh)
