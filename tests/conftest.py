"""Shared fixtures: an event recorder on a real bus, and helpers to wait without sleeping."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from hub.bus import EventBus
from hub.events import Event

E = TypeVar("E", bound=Event)


@contextmanager
def write_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Hold a database's write lock from another connection, as a stuck tool would: the
    hub's next commit to it waits (a real slow disk, made on demand)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")
        conn.close()


class EventRecorder:
    """Subscribes to every event and lets a test wait for one matching a condition."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    async def handle(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    def of_type(self, event_type: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, event_type)]

    async def wait_for(
        self,
        event_type: type[E],
        predicate: Callable[[E], bool] = lambda _e: True,
        timeout: float = 5.0,
        count: int = 1,
    ) -> list[E]:
        """Wait until ``count`` matching events arrived; fail the test on timeout."""
        async with asyncio.timeout(timeout):
            while True:
                found = [e for e in self.of_type(event_type) if predicate(e)]
                if len(found) >= count:
                    return found
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def bus() -> AsyncIterator[EventBus]:
    event_bus = EventBus()
    yield event_bus
    await event_bus.close()


@pytest.fixture
async def recorder(bus: EventBus) -> EventRecorder:
    rec = EventRecorder()
    bus.subscribe(Event, rec.handle, name="test-recorder")
    return rec
