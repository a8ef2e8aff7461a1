"""An event sink for device contexts: ``emit`` appends, tests wait for what they expect."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from hub.events import Event

E = TypeVar("E", bound=Event)


class EventSink:
    """Collects what a device emits, in order, and lets a test wait for it.

    ``emit`` is synchronous and never blocks, like the hub's; the order of ``events`` is
    the order the device emitted them in.
    """

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def emit(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    def of_type(
        self, event_type: type[E], predicate: Callable[[E], bool] = lambda _e: True
    ) -> list[E]:
        return [e for e in self.events if isinstance(e, event_type) and predicate(e)]

    async def wait_for(
        self,
        event_type: type[E],
        predicate: Callable[[E], bool] = lambda _e: True,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[E]:
        """Wait until ``count`` matching events were emitted; fail the test on timeout."""
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
        """Wait until ``condition()`` holds, re-checking on every emitted event and
        every loop turn (for counters that change without an event)."""
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                try:
                    async with asyncio.timeout(0.01):
                        await self._changed.wait()
                except TimeoutError:
                    pass
