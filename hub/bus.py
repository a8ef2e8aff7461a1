"""The event bus: typed publish/subscribe with a life-safety lane.

Why it looks like this:

* ``publish`` is synchronous and never awaits a subscriber. It only appends to each
  matching subscriber's queues and wakes its task, so a slow or crashing subscriber can
  never delay the producer or another subscriber.
* Each subscriber owns two queues. The life-safety queue (hold-up, duress, panic) is
  unbounded and always drained first: such an event overtakes every ordinary event
  already waiting and is never dropped. The ordinary queue is bounded; when it is full
  the oldest ordinary event is dropped and counted (``drop oldest``), because the
  newest state is the one worth having.
* A subscriber whose handler raises is logged, counted and kept alive.
* Events are published once the journal holds them (``hub.recorder``). A subscriber
  on the life-safety path can ask for hold-ups sooner: with ``before_journal=True``,
  a life-safety event reaches it as soon as its journal append has *started*
  (``announce``), so that the subscriber's own durable write runs while the journal's
  ``fsync`` does, rather than after it. Such a subscriber must ``await
  bus.journaled(event)`` before anything leaves the hub because of the event; the
  escalation engine does, before its webhooks. Every other subscriber keeps the plain
  rule: nothing reaches it before it is evidence.
* An observer (``observe``) is a plain function called inside ``publish``, before any
  subscriber is offered the event: it can never fall behind, so it never misses an
  event, and whatever it keeps is up to date before a subscriber handles a later one.
  Only O(1) bookkeeping belongs there (the state registry, ``hub.state``): it runs on
  the producer's path, the hold-up's included. One that raises is logged and counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hub.events import Event

__all__ = ["EventBus", "SubscriberStats", "Subscription"]

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[E], Awaitable[None]]
Predicate = Callable[[E], bool]

DEFAULT_QUEUE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class SubscriberStats:
    """A snapshot of one subscriber's counters (for metrics and ``ecrin status``)."""

    name: str
    event_type: str
    delivered: int
    dropped: int
    failed: int
    queue_depth: int
    life_safety_depth: int


class Subscription(Generic[E]):
    """One subscriber: its filter, its two queues, its task and its counters.

    Created by ``EventBus.subscribe``; call ``cancel`` (or close the bus) to stop it.
    """

    __slots__ = (
        "_bus",
        "_handler",
        "_life",
        "_ordinary",
        "_task",
        "_waiter",
        "before_journal",
        "delivered",
        "dropped",
        "event_type",
        "failed",
        "maxsize",
        "name",
        "predicate",
    )

    def __init__(
        self,
        bus: EventBus,
        event_type: type[E],
        handler: Handler[E],
        predicate: Predicate[E] | None,
        name: str,
        maxsize: int,
        before_journal: bool = False,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._bus = bus
        self.event_type = event_type
        self._handler = handler
        self.predicate = predicate
        self.name = name
        self.maxsize = maxsize
        self.before_journal = before_journal
        self._life: deque[E] = deque()
        self._ordinary: deque[E] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0
        self.dropped = 0
        self.failed = 0

    # -- producer side (called by EventBus.publish, on the loop) ---------------------
    def _offer(self, event: E, life_safety: bool) -> None:
        if life_safety:
            self._life.append(event)
        else:
            ordinary = self._ordinary
            if len(ordinary) >= self.maxsize:
                ordinary.popleft()
                self.dropped += 1
            ordinary.append(event)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # -- consumer side ----------------------------------------------------------------
    def _start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"bus-subscriber:{self.name}"
        )

    async def _run(self) -> None:
        life = self._life
        ordinary = self._ordinary
        handler = self._handler
        loop = asyncio.get_running_loop()
        while True:
            if life:
                event = life.popleft()
            elif ordinary:
                event = ordinary.popleft()
            else:
                self._waiter = loop.create_future()
                await self._waiter
                continue
            try:
                await handler(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failed += 1
                log.exception(
                    "subscriber %s failed on %s; it keeps running",
                    self.name,
                    type(event).__name__,
                )
            else:
                self.delivered += 1

    def stats(self) -> SubscriberStats:
        """Return the counters as they are now."""
        return SubscriberStats(
            name=self.name,
            event_type=self.event_type.__name__,
            delivered=self.delivered,
            dropped=self.dropped,
            failed=self.failed,
            queue_depth=len(self._ordinary),
            life_safety_depth=len(self._life),
        )

    @property
    def idle(self) -> bool:
        """True when both queues are empty and the handler is not running."""
        return not self._life and not self._ordinary and self._waiter is not None

    def cancel(self) -> None:
        """Stop delivering to this subscriber; queued events are discarded."""
        self._bus._remove(self)
        if self._task is not None:
            self._task.cancel()

    async def wait_cancelled(self) -> None:
        """Wait until the subscriber's task has finished after ``cancel``."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)


class EventBus:
    """Typed publish/subscribe with per-subscriber queues and a life-safety lane.

    Use it from one asyncio loop. ``subscribe`` needs a running loop (it starts the
    subscriber's task); ``publish`` is synchronous and cheap.
    """

    def __init__(self) -> None:
        self._subs: list[Subscription[Any]] = []
        self._by_type: dict[type[Event], tuple[Subscription[Any], ...]] = {}
        self._closed = False
        self.published = 0
        # Life-safety events announced to ``before_journal`` subscribers and not
        # published yet, by id (the event is kept so that an id is never mistaken).
        self._announced: dict[int, tuple[Event, asyncio.Future[None]]] = {}
        self._observers: tuple[Callable[[Event], None], ...] = ()
        #: Exceptions raised by observers (each is logged too).
        self.observer_failures = 0

    def subscribe(
        self,
        event_type: type[E],
        handler: Handler[E],
        *,
        predicate: Predicate[E] | None = None,
        name: str | None = None,
        maxsize: int = DEFAULT_QUEUE_SIZE,
        before_journal: bool = False,
    ) -> Subscription[E]:
        """Deliver every published ``event_type`` (subclasses too) to ``handler``.

        Args:
            event_type: the class to receive; ``Event`` receives everything.
            handler: an async function called once per event, in publish order
                (life-safety events first).
            predicate: an optional filter, called in ``publish``; keep it cheap.
            name: a name for logs and counters; defaults to the handler's name.
            maxsize: bound of the ordinary queue before the oldest event is dropped.
            before_journal: receive life-safety events when their journal append
                starts (``announce``) instead of when it ends; the handler must then
                ``await bus.journaled(event)`` before acting outside the hub.
        """
        if self._closed:
            raise RuntimeError("the bus is closed")
        sub: Subscription[E] = Subscription(
            self,
            event_type,
            handler,
            predicate,
            name or str(getattr(handler, "__qualname__", repr(handler))),
            maxsize,
            before_journal,
        )
        self._subs.append(sub)
        self._by_type.clear()
        sub._start()
        return sub

    def observe(self, observer: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``observer`` with every published event, inside ``publish``.

        An observer is never queued, so it never misses an event, and it has seen each
        event before any subscriber is offered it. It must be quick (O(1), no I/O, no
        await): it runs on the producer's path. It is not given announced events
        (``announce``), only published ones.

        Returns:
            A function that stops the observation.
        """
        self._observers = (*self._observers, observer)

        def stop() -> None:
            self._observers = tuple(o for o in self._observers if o is not observer)

        return stop

    def _remove(self, sub: Subscription[Any]) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
            self._by_type.clear()

    def _matching(self, cls: type[Event]) -> tuple[Subscription[Any], ...]:
        subs = self._by_type.get(cls)
        if subs is None:
            subs = tuple(s for s in self._subs if issubclass(cls, s.event_type))
            self._by_type[cls] = subs
        return subs

    def publish(self, event: Event) -> None:
        """Queue ``event`` for every matching subscriber; never blocks, never raises
        because of a subscriber (a failing predicate counts as a failure).

        An event announced before skips the subscribers that already have it, and
        releases whoever waits in ``journaled``.
        """
        if self._closed:
            raise RuntimeError("the bus is closed")
        self.published += 1
        for observer in self._observers:
            try:
                observer(event)
            except Exception:
                self.observer_failures += 1
                log.exception("bus observer %r failed on %s", observer, type(event).__name__)
        announced = self._announced.pop(id(event), None) if self._announced else None
        if announced is not None and announced[0] is event:
            if not announced[1].done():
                announced[1].set_result(None)
            self._deliver(event, skip_before_journal=True)
        else:
            self._deliver(event)

    def announce(self, event: Event) -> None:
        """Hand a life-safety event whose journal append has started to the
        ``before_journal`` subscribers; ``publish`` must follow once the append ends
        (written, failed, or past the recorder's deadline). Ordinary events are only
        ever published."""
        if self._closed:
            raise RuntimeError("the bus is closed")
        if not event.life_safety or not any(s.before_journal for s in self._subs):
            return
        future = asyncio.get_running_loop().create_future()
        self._announced[id(event)] = (event, future)
        self._deliver(event, only_before_journal=True)

    async def journaled(self, event: Event) -> None:
        """Return once ``event`` is published (so journaled, or given up on by the
        recorder); at once for an event that was never announced."""
        announced = self._announced.get(id(event))
        if announced is None or announced[0] is not event:
            return
        await asyncio.shield(announced[1])

    def _deliver(
        self, event: Event, *, skip_before_journal: bool = False, only_before_journal: bool = False
    ) -> None:
        life_safety = event.life_safety
        for sub in self._matching(type(event)):
            if sub.before_journal:
                if skip_before_journal:
                    continue
            elif only_before_journal:
                continue
            predicate = sub.predicate
            if predicate is not None:
                try:
                    if not predicate(event):
                        continue
                except Exception:
                    sub.failed += 1
                    log.exception("predicate of subscriber %s failed", sub.name)
                    continue
            sub._offer(event, life_safety)

    def subscribers(self) -> Iterator[Subscription[Any]]:
        """Iterate over the live subscriptions."""
        return iter(tuple(self._subs))

    def stats(self) -> list[SubscriberStats]:
        """Counters of every subscriber."""
        return [s.stats() for s in self._subs]

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until every subscriber has handled everything queued so far.

        Raises:
            TimeoutError: a subscriber is still busy after ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while not all(s.idle for s in self._subs):
                await asyncio.sleep(0.001)

    async def close(self) -> None:
        """Cancel every subscriber's task and refuse further publishing."""
        self._closed = True
        for _event, future in self._announced.values():
            if not future.done():
                future.set_result(None)
        self._announced.clear()
        subs = list(self._subs)
        for sub in subs:
            sub.cancel()
        for sub in subs:
            await sub.wait_cancelled()
