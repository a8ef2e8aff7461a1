"""An event recorder: what a device emitted, or what a bus delivered, in order.

A test hands ``recorder.emit`` to a device as its ``emit`` (the hub's is synchronous
and never blocks, and so is this one), or subscribes ``recorder.handle`` to a bus,
then waits for the events it expects with a timeout; it never sleeps a fixed time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from hub.events import Event

__all__ = ["EventRecorder", "wait_until"]

E = TypeVar("E", bound=Event)

#: How often ``wait_until`` looks again at a condition that no event announces.
_POLL = 0.01


class EventRecorder:
    """Collects events in the order they came, and lets a test wait for some.

    Attributes:
        events: every event recorded, in order.
    """

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def emit(self, event: Event) -> None:
        """Record an event (a device's ``ctx.emit``)."""
        self.events.append(event)
        self._changed.set()

    async def handle(self, event: Event) -> None:
        """Record an event (a bus subscriber: ``bus.subscribe(Event, rec.handle)``)."""
        self.emit(event)

    def of_type(
        self, event_type: type[E], predicate: Callable[[E], bool] = lambda _e: True
    ) -> list[E]:
        """The recorded events of a type (and matching ``predicate``), in order."""
        return [e for e in self.events if isinstance(e, event_type) and predicate(e)]

    async def wait_for(
        self,
        event_type: type[E],
        predicate: Callable[[E], bool] = lambda _e: True,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[E]:
        """Wait until ``count`` matching events were recorded; return them all.

        Raises:
            AssertionError: not within ``timeout`` seconds; the message lists what
                was recorded, so that a failing test says what came instead.
        """
        try:
            async with asyncio.timeout(timeout):
                while True:
                    found = self.of_type(event_type, predicate)
                    if len(found) >= count:
                        return found
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            seen = [type(e).__name__ for e in self.events]
            raise AssertionError(
                f"expected {count} {event_type.__name__} within {timeout} s; got {seen}"
            ) from None

    async def wait_until(self, condition: Callable[[], bool], *, timeout: float = 5.0) -> None:
        """Wait until ``condition()`` holds, looking again at every recorded event and
        every ``_POLL`` seconds (for counters that change without an event)."""
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                try:
                    async with asyncio.timeout(_POLL):
                        await self._changed.wait()
                except TimeoutError:
                    pass


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for a condition that no event announces (a row on disk, a counter).

    Raises:
        TimeoutError: it did not hold within ``timeout`` seconds.
    """
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(_POLL)
