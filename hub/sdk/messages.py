"""Message devices: devices that receive messages on topics rather than a byte stream.

Cameras (Frigate and others) and the hold-up bridge board speak MQTT: many devices
share one broker session, each subscribes to its own topics, and each message becomes
events through a pure decoder. This module defines that seam, small on purpose:

* ``Message``: a topic, a payload and the two flags a device may care about;
* ``MessageSession``: what a device may do with the shared session (subscribe,
  unsubscribe, publish). The MQTT transport implements it over aiomqtt;
  ``MemorySession`` implements it in memory for tests and the demo;
* ``MessageDecoder``: a pure function of a message to events, counted like a stream
  decoder (``DecodeStats``), never raising on a bad payload;
* ``MessageDevice``: the base that subscribes on enter, feeds the decoder, emits, and
  unsubscribes on exit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from hub.decoding import DecodeStats
from hub.devices import DeviceContext
from hub.events import Event

__all__ = [
    "MemorySession",
    "Message",
    "MessageDecoder",
    "MessageDevice",
    "MessageHandler",
    "MessageSession",
    "topic_matches",
]


@dataclass(frozen=True, slots=True)
class Message:
    """One message received on (or published to) a topic.

    Attributes:
        topic: the topic it was published on (never a filter).
        payload: the raw bytes; decoding them is the decoder's job.
        retain: the broker kept it as the topic's last value (a retained message
            arrives on subscription and describes a state, not a new happening).
        qos: the quality of service it was delivered with (0, 1 or 2).
    """

    topic: str
    payload: bytes = b""
    retain: bool = False
    qos: int = 0


MessageHandler = Callable[[Message], None]


@runtime_checkable
class MessageSession(Protocol):
    """A session with a message broker, shared by every message device.

    Handlers run on the event loop and must not block (a device feeds its decoder and
    emits). A session resubscribes by itself after a reconnection.
    """

    async def subscribe(self, topic: str, handler: MessageHandler, *, qos: int = 0) -> None:
        """Deliver every message whose topic matches the filter ``topic`` to ``handler``."""
        ...

    async def unsubscribe(self, topic: str, handler: MessageHandler) -> None:
        """Stop delivering ``topic`` to ``handler``; unknown pairs are ignored."""
        ...

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False
    ) -> None:
        """Publish ``payload`` on ``topic``."""
        ...


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether ``topic`` matches an MQTT filter (``+`` one level, ``#`` the rest)."""
    want = topic_filter.split("/")
    have = topic.split("/")
    for i, level in enumerate(want):
        if level == "#":
            return True
        if i >= len(have) or (level not in ("+", have[i])):
            return False
    return len(want) == len(have)


@dataclass
class MemorySession:
    """A ``MessageSession`` in memory: a broker of one process, for tests and the demo.

    It keeps retained messages and delivers them on subscription, as a broker does, and
    records what was published (``published``) so that a test can assert on it.
    """

    published: list[Message] = field(default_factory=list)
    _subscriptions: list[tuple[str, MessageHandler]] = field(default_factory=list)
    _retained: dict[str, Message] = field(default_factory=dict)

    async def subscribe(self, topic: str, handler: MessageHandler, *, qos: int = 0) -> None:
        """Deliver matching messages to ``handler``, the retained ones at once."""
        self._subscriptions.append((topic, handler))
        for message in list(self._retained.values()):
            if topic_matches(topic, message.topic):
                handler(message)

    async def unsubscribe(self, topic: str, handler: MessageHandler) -> None:
        """Stop delivering ``topic`` to ``handler``."""
        self._subscriptions = [
            (t, h) for t, h in self._subscriptions if not (t == topic and h == handler)
        ]

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False
    ) -> None:
        """Deliver to every matching subscription; keep it when ``retain``."""
        message = Message(topic, bytes(payload), retain=False, qos=qos)
        self.published.append(message)
        if retain:
            if payload:
                self._retained[topic] = Message(topic, bytes(payload), retain=True, qos=qos)
            else:
                self._retained.pop(topic, None)  # an empty retained message clears it
        for topic_filter, handler in list(self._subscriptions):
            if topic_matches(topic_filter, topic):
                handler(message)


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
    """

    def __init__(
        self,
        ctx: DeviceContext,
        session: MessageSession,
        decoder: MessageDecoder,
        topics: Sequence[str],
    ) -> None:
        self.ctx = ctx
        self.session = session
        self.decoder = decoder
        self.topics = tuple(topics)

    async def __aenter__(self) -> Self:
        """Subscribe to the device's topics."""
        for topic in self.topics:
            await self.session.subscribe(topic, self.handle)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for topic in self.topics:
            await self.session.unsubscribe(topic, self.handle)

    async def run(self) -> None:
        """Messages arrive through the session: wait to be cancelled."""
        await asyncio.Event().wait()

    def handle(self, message: Message) -> None:
        """Decode one message and emit its events (runs on the loop)."""
        for event in self.decoder.decode(message):
            self.ctx.emit(event)
