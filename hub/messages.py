"""Messages and the session that carries them: what a message device is given.

Cameras (Frigate and others) and the hold-up bridge board speak MQTT: many devices
share one broker session, each subscribes to its own topics. This module is the seam
between the hub, which owns that session (``DeviceContext.messages``), and the devices:

* ``Message``: a topic, a payload and the two flags a device may care about;
* ``MessageSession``: what a device may do with the shared session (subscribe,
  unsubscribe, publish). The MQTT transport implements it; ``MemorySession``
  implements it in memory for tests and the demo.

The device side (``MessageDevice``, ``MessageDecoder``) is in ``hub.sdk.messages``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable

__all__ = [
    "BROKER_LINK",
    "ConnectionListener",
    "MemorySession",
    "Message",
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


#: The id the hub's own link to its broker is reported under (``LinkLost``,
#: ``LinkRestored``, the state entity ``link:mqtt``): reserved, no device may take it.
BROKER_LINK: Final = "mqtt"

MessageHandler = Callable[[Message], None]
#: Told ``True`` when the session (re)connects to its broker, ``False`` when it loses it.
ConnectionListener = Callable[[bool], None]


@runtime_checkable
class MessageSession(Protocol):
    """A session with a message broker, shared by every message device.

    Handlers run on the event loop and must not block (a device feeds its decoder and
    emits). A session resubscribes by itself after a reconnection.

    While the broker is out of reach, nothing arrives: a device that reports a state
    (a camera's availability) listens to the connection (``add_connection_listener``)
    so that what it last heard is not taken for the present.
    """

    @property
    def connected(self) -> bool:
        """Whether the session is connected to its broker now."""
        ...

    def add_connection_listener(self, listener: ConnectionListener) -> Callable[[], None]:
        """Call ``listener`` on every connection change; returns the function removing it."""
        ...

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
    connected: bool = True
    _listeners: list[ConnectionListener] = field(default_factory=list)
    _subscriptions: list[tuple[str, MessageHandler]] = field(default_factory=list)
    _retained: dict[str, Message] = field(default_factory=dict)

    def add_connection_listener(self, listener: ConnectionListener) -> Callable[[], None]:
        """Call ``listener`` on ``set_connected``; returns the function removing it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def set_connected(self, connected: bool) -> None:
        """Play a broker lost (False) or regained (True): tell the listeners."""
        if connected != self.connected:
            self.connected = connected
            for listener in list(self._listeners):
                listener(connected)

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
