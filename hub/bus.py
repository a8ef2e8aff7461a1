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
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._bus = bus
        self.event_type = event_type
        self._handler = handler
        self.predicate = predicate
        self.name = name
        self.maxsize = maxsize
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

    def subscribe(
        self,
        event_type: type[E],
        handler: Handler[E],
        *,
        predicate: Predicate[E] | None = None,
        name: str | None = None,
        maxsize: int = DEFAULT_QUEUE_SIZE,
    ) -> Subscription[E]:
        """Deliver every published ``event_type`` (subclasses too) to ``handler``.

        Args:
            event_type: the class to receive; ``Event`` receives everything.
            handler: an async function called once per event, in publish order
                (life-safety events first).
            predicate: an optional filter, called in ``publish``; keep it cheap.
            name: a name for logs and counters; defaults to the handler's name.
            maxsize: bound of the ordinary queue before the oldest event is dropped.
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
        )
        self._subs.append(sub)
        self._by_type.clear()
        sub._start()
        return sub

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
        because of a subscriber (a failing predicate counts as a failure)."""
        if self._closed:
            raise RuntimeError("the bus is closed")
        self.published += 1
        life_safety = event.life_safety
        for sub in self._matching(type(event)):
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
        subs = list(self._subs)
        for sub in subs:
            sub.cancel()
        for sub in subs:
            await sub.wait_cancelled()
