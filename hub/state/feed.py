"""The change feed of the state registry: every ``StateChanged``, in order, none lost.

A consumer whose record must be complete (the coverage log, Home Assistant discovery)
reads one. The registry appends each change to every feed's queue, inside its
``apply`` (so on the bus's publish path: one append, no await); the queue is unbounded,
because dropping a camera's transition would make a record wrong. A reader keeps
reading, or closes its feed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from hub.state.entities import StateChanged

__all__ = ["ChangeFeed", "Listener"]


class Listener:
    """One change subscription: an unbounded queue (lossless) and a waiter. The
    registry ``put``s; the feed reads."""

    __slots__ = ("closed", "queue", "waiter")

    def __init__(self) -> None:
        self.queue: deque[StateChanged] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.closed = False

    def put(self, change: StateChanged) -> None:
        """Queue one change and wake the reader (O(1), no await)."""
        self.queue.append(change)
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)


class ChangeFeed:
    """The changes of one listener, from when ``StateRegistry.listen`` was called."""

    def __init__(self, listener: Listener, forget: Callable[[Listener], None]) -> None:
        self._listener = listener
        self._forget = forget

    def __aiter__(self) -> ChangeFeed:
        return self

    async def __anext__(self) -> StateChanged:
        listener = self._listener
        while not listener.queue:
            if listener.closed:
                raise StopAsyncIteration
            listener.waiter = asyncio.get_running_loop().create_future()
            await listener.waiter
        return listener.queue.popleft()

    def pending(self) -> int:
        """Changes waiting to be read."""
        return len(self._listener.queue)

    def close(self) -> None:
        """Stop listening; a reader waiting now ends its iteration."""
        listener = self._listener
        listener.closed = True
        self._forget(listener)
        waiter = listener.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
