"""Shared fixtures: a real bus, and a database's write lock held from outside.

The event recorder, the pty cable and the device fixtures come from the test kit
(``hub.testing``, loaded through the ``pytest11`` entry point), as a plugin author's
tests get them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hub.bus import EventBus


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


@pytest.fixture
async def bus() -> AsyncIterator[EventBus]:
    event_bus = EventBus()
    yield event_bus
    await event_bus.close()
