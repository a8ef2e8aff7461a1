"""Message devices: devices that receive messages on topics rather than a byte stream.

Cameras (Frigate and others) and the hold-up bridge board speak MQTT: many devices
share one broker session (``DeviceContext.messages``, see ``hub.messages`` for
``Message``, ``MessageSession`` and the in-memory ``MemorySession``), each subscribes
to its own topics, and each message becomes events through a pure decoder:

* ``MessageDecoder``: a pure function of a message to events, counted like a stream
  decoder (``DecodeStats``), never raising on a bad payload;
* ``MessageDevice``: the base that subscribes on enter, feeds the decoder, emits, and
  unsubscribes on exit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Protocol, Self

from hub.decoding import DecodeStats
from hub.devices import DeviceContext
from hub.events import Event
from hub.messages import (
    ConnectionListener,
    MemorySession,
    Message,
    MessageHandler,
    MessageSession,
    topic_matches,
)

__all__ = [
    "ConnectionListener",
    "MemorySession",
    "Message",
    "MessageDecoder",
    "MessageDevice",
    "MessageHandler",
    "MessageSession",
    "topic_matches",
]


class MessageDecoder(Protocol):
    """A pure decoder of messages: a message in, events out, no I/O, never raising.

    A payload it cannot use is counted in ``stats`` (``stats.reject``) and skipped.
    """

    stats: DecodeStats

    def decode(self, message: Message) -> Sequence[Event]:
        """The events one message means (none for a message it ignores)."""
        ...


class MessageDevice:
    """A device fed by topics of a shared ``MessageSession`` through a message decoder.

    Args:
        ctx: what the hub gives the device.
        session: the shared session.
        decoder: turns each message into events.
        topics: the topic filters to subscribe to.
        qos: the quality of service to subscribe with: 1 for topics that carry a
            state, so that a change published while the hub was away is kept for it
            by the broker (a persistent session) and delivered at least once.
    """

    def __init__(
        self,
        ctx: DeviceContext,
        session: MessageSession,
        decoder: MessageDecoder,
        topics: Sequence[str],
        *,
        qos: int = 0,
    ) -> None:
        self.ctx = ctx
        self.session = session
        self.decoder = decoder
        self.topics = tuple(topics)
        self.qos = qos
        self._remove_listener: Callable[[], None] | None = None

    async def __aenter__(self) -> Self:
        """Listen to the session's connection, then subscribe to the device's topics."""
        self._remove_listener = self.session.add_connection_listener(self.connection_changed)
        for topic in self.topics:
            await self.session.subscribe(topic, self.handle, qos=self.qos)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        for topic in self.topics:
            await self.session.unsubscribe(topic, self.handle)

    async def run(self) -> None:
        """Messages arrive through the session: wait to be cancelled."""
        await asyncio.Event().wait()

    def connection_changed(self, connected: bool) -> None:
        """The session lost (False) or regained (True) its broker; override to report it.

        A device reporting a state should say it no longer knows it when the broker is
        lost (a camera becomes ``unknown``); the session resubscribes on its own, and
        retained messages bring the states back once it reconnects.
        """

    def handle(self, message: Message) -> None:
        """Decode one message and emit its events (runs on the loop)."""
        for event in self.decoder.decode(message):
            self.ctx.emit(event)
