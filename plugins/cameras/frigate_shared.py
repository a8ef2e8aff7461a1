"""Frigate's shared topics, read once for all the cameras of a session.

Frigate publishes the tracked objects and review items of all its cameras on two
topics, ``<prefix>/events`` and ``<prefix>/reviews``, each message naming its camera
(``after.camera``). If each camera's device subscribed its own handler, every such
message would go through every camera's decoder, to be dropped by all but one: with
100 cameras, 100 handler calls for each detection, which made that fan-out most of
the hub's work on a busy NVR (``python -m bench mqtt``, docs/benchmarks.md).

``SharedTopic`` holds one subscription of one such topic on one session and hands
each message to the devices of the camera it names, read from the JSON that their
decoder then reads without parsing again (``camera_named``). A message that names no
camera a device watches, cannot be read, or was retained (Frigate never retains
these: a leftover) goes to every camera's device, as when each subscribed: each one
counts it as it always did (another camera's, rejected with the reason, stale).

A device joins with ``join``, which also hands it what the session gives a new
subscription (the retained messages, and the messages the broker queued for the hub
before the devices subscribed): the device subscribes a catch-up handler of its own
for the time of the subscription, and is put in the routing table only once it is
unsubscribed, so that no message reaches it twice nor is missed in between.
"""

from __future__ import annotations

from hub.sdk import Message, MessageHandler, MessageSession
from plugins.cameras.frigate_decoder import camera_named

__all__ = ["SharedTopic", "join", "leave"]

#: The shared topics in use, by session and topic.
_TOPICS: dict[tuple[int, str], SharedTopic] = {}


class SharedTopic:
    """One shared Frigate topic on one session, routed by camera name.

    Args:
        session: the hub's message session.
        topic: ``<prefix>/events`` or ``<prefix>/reviews``.
        qos: the QoS of the subscription.
    """

    def __init__(self, session: MessageSession, topic: str, qos: int) -> None:
        self.session = session
        self.topic = topic
        self.qos = qos
        self._by_name: dict[str, tuple[MessageHandler, ...]] = {}
        self._everyone: tuple[MessageHandler, ...] = ()
        self._subscribed = False

    def __repr__(self) -> str:
        return f"<SharedTopic {self.topic} cameras={len(self._everyone)}>"

    @property
    def handlers(self) -> tuple[MessageHandler, ...]:
        """Every device's handler on the topic (joined, not leaving)."""
        return self._everyone

    def dispatch(self, message: Message) -> None:
        """Hand one message to the devices of the camera it names, or to every device.

        A handler that raises does not keep the message from the others; the first
        error is raised again afterwards, for the session to log and count.
        """
        name = None if message.retain else camera_named(message.payload)
        handlers = self._by_name.get(name, self._everyone) if name is not None else self._everyone
        failed: Exception | None = None
        for handler in handlers:
            try:
                handler(message)
            except Exception as exc:
                failed = failed or exc
        if failed is not None:
            raise failed

    async def add(self, name: str, handler: MessageHandler) -> None:
        """Start handing ``handler`` the messages of camera ``name`` (and those of no
        camera), after what the session gives a new subscription."""
        catch_up = _CatchUp(name, handler)
        await self.session.subscribe(self.topic, catch_up, qos=self.qos)
        if not self._subscribed:
            self._subscribed = True
            await self.session.subscribe(self.topic, self.dispatch, qos=self.qos)
        await self.session.unsubscribe(self.topic, catch_up)
        self._by_name[name] = (*self._by_name.get(name, ()), handler)
        self._everyone = (*self._everyone, handler)

    async def remove(self, name: str, handler: MessageHandler) -> bool:
        """Stop handing ``handler`` anything; True when no device is left (the topic
        is then unsubscribed)."""
        left = tuple(h for h in self._by_name.get(name, ()) if h != handler)
        if left:
            self._by_name[name] = left
        else:
            self._by_name.pop(name, None)
        self._everyone = tuple(h for h in self._everyone if h != handler)
        if self._everyone:
            return False
        if self._subscribed:
            self._subscribed = False
            await self.session.unsubscribe(self.topic, self.dispatch)
        return True


class _CatchUp:
    """A device's own handler while it joins: the messages of its camera, of no camera
    the router knows, and everything retained. Meanwhile the router does not route
    to the device yet, so each message reaches it once."""

    def __init__(self, name: str, handler: MessageHandler) -> None:
        self.name = name
        self.handler = handler

    def __call__(self, message: Message) -> None:
        name = None if message.retain else camera_named(message.payload)
        if name is None or name == self.name:
            self.handler(message)


async def join(
    session: MessageSession, topic: str, name: str, handler: MessageHandler, qos: int
) -> None:
    """Route the messages of camera ``name`` on the shared ``topic`` to ``handler``."""
    key = (id(session), topic)
    shared = _TOPICS.get(key)
    if shared is None or shared.session is not session:  # a session gone, its id reused
        shared = _TOPICS[key] = SharedTopic(session, topic, qos)
    await shared.add(name, handler)


async def leave(session: MessageSession, topic: str, name: str, handler: MessageHandler) -> None:
    """Undo ``join``; the topic is unsubscribed with its last device."""
    key = (id(session), topic)
    shared = _TOPICS.get(key)
    if shared is None or shared.session is not session:
        return
    if await shared.remove(name, handler) and _TOPICS.get(key) is shared:
        del _TOPICS[key]
