"""Live changes for one listener: what the HTTP side streams to a client (SSE).

Each listener gets its own bounded queue, so a slow client loses its oldest changes
instead of holding up the engine or the other listeners. The engine decides which
changes a listener may see (``hub.escalation.actions.visible``) and offers only those;
this module only queues and hands them out.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Final

from hub.escalation.model import Contact, EscalationChange

__all__ = ["LISTENER_QUEUE", "ChangeStream"]

#: Changes a live listener may have waiting before the oldest are dropped.
LISTENER_QUEUE: Final = 256


class ChangeStream:
    """One live listener: a bounded queue of the changes its contact may see.

    Args:
        contact: whom the changes are for.
        maxsize: changes kept waiting before the oldest are dropped.
        on_close: called when the stream is closed (the engine forgets the listener).
    """

    def __init__(
        self, contact: Contact, maxsize: int, on_close: Callable[[ChangeStream], None]
    ) -> None:
        self.contact = contact
        self.maxsize = maxsize
        self.dropped = 0
        self._on_close = on_close
        self._queue: deque[EscalationChange] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False

    def offer(self, change: EscalationChange) -> None:
        if self._closed:
            return
        if len(self._queue) >= self.maxsize:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(change)
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def close(self) -> None:
        self._closed = True
        self._on_close(self)
        self._wake()

    def __aiter__(self) -> ChangeStream:
        return self

    async def __anext__(self) -> EscalationChange:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self._queue.popleft()

    async def aclose(self) -> None:
        """Stop listening (the HTTP side calls it when the client goes away)."""
        self.close()
