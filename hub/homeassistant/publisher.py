"""The task that keeps Home Assistant's view of the hub up to date over MQTT.

It publishes, retained, every discovery config of the plan (``Discovery``) and every
entity's state, then each state again when the state registry changes it. It reads the
registry's change feed, which is lossless, and keeps only the latest change of each
entity until it is published (a flood of zone openings costs one publish per entity,
and nothing queues without bound while the broker is slow).

Everything is published again when Home Assistant announces itself (``online`` on
``<prefix>/status``: it has just started and subscribes to nothing yet) and when the
session regains its broker (a broker restarted without persistence has forgotten the
retained messages).

What was published before is read back from the broker itself: the publisher
subscribes to every discovery config of its node, and one that the configuration no
longer has (a zone, a camera, a device removed) is removed, as Home Assistant
documents, by an empty retained config, and its state topics are emptied too. A file of
what was published would be a second truth, and wrong once the broker is replaced; the
broker's retained configs are exactly what Home Assistant will read. With discovery
off, the publisher only does that: it removes whatever it finds of its node, so turning
discovery off takes the entities out of Home Assistant.

Nothing here can stop or slow the hub: a publish that fails is logged and counted, and
the next reconnection publishes everything again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Final, Self

from hub.homeassistant.discovery import Discovery, Entity
from hub.messages import Message, MessageSession
from hub.state import ChangeFeed, Domain, StateRegistry

__all__ = ["QOS", "DiscoveryPublisher", "PublisherStats"]

log = logging.getLogger(__name__)

#: Configs and states are published at least once: a lost config is an entity missing.
QOS: Final = 1
_SHOWN: Final = 60  # characters of a bad payload shown in the log line


@dataclass(slots=True)
class PublisherStats:
    """What the publisher did, for metrics and tests.

    Attributes:
        configs: discovery configs published.
        states: state and attribute payloads published.
        republished: times everything was published (start, Home Assistant's
            announcement, reconnection).
        removed: configs removed because the configuration no longer has them.
        publish_errors: publishes the session refused (broker gone): retried in full
            on reconnection.
        bad_messages: messages on Home Assistant's status topic that meant nothing.
    """

    configs: int = 0
    states: int = 0
    republished: int = 0
    removed: int = 0
    publish_errors: int = 0
    bad_messages: int = 0

    def counters(self) -> dict[str, int]:
        """The counters by name."""
        return asdict(self)


class DiscoveryPublisher:
    """Publishes the hub's entities to Home Assistant while the block runs.

    Args:
        discovery: the plan (entities, topics, payloads).
        session: the hub's message session.
        registry: the state registry whose changes are published.
        enabled: publish (True), or only remove what an earlier run published (False:
            discovery is off).
    """

    def __init__(
        self,
        discovery: Discovery,
        session: MessageSession,
        registry: StateRegistry,
        *,
        enabled: bool = True,
    ) -> None:
        self.discovery = discovery
        self.session = session
        self.registry = registry
        self.enabled = enabled
        self.stats = PublisherStats()
        #: Set once subscribed, and everything published once (when enabled).
        self.started = asyncio.Event()
        self._feed: ChangeFeed | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._everything = False
        self._pending: dict[str, None] = {}  # registry ids, in order, each once
        self._removals: dict[str, None] = {}
        self._last: dict[str, bytes] = {}  # what each topic holds, as last published
        self._announced: set[str] = set()  # object ids whose config is out
        self._subscribed: list[tuple[str, Callable[[Message], None]]] = []
        self._remove_listener: Callable[[], None] | None = None
        self._closing = False

    # -- lifecycle -----------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        """Start listening to the registry now (nothing is missed from here), and start
        the publishing task; subscribing and publishing happen in it, so that a broker
        out of reach never holds the hub's start."""
        loop = asyncio.get_running_loop()
        if self.enabled:
            self._feed = self.registry.listen()
            self._remove_listener = self.session.add_connection_listener(self._connection)
            self._tasks.append(loop.create_task(self._pump(self._feed), name="ha-feed"))
            self._everything = True
            self._wake.set()
        self._tasks.append(loop.create_task(self._work(), name="ha-discovery"))
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
        if self._feed is not None:
            self._feed.close()
        # Told twice: a cancellation can be lost on Python 3.11 (``asyncio.wait_for``
        # inside a client library returns a publish that completed at the same moment),
        # and the worker then finds ``_closing`` when it wakes.
        self._closing = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for topic, handler in self._subscribed:
            try:
                await self.session.unsubscribe(topic, handler)
            except Exception as err:  # the session may be closing: nothing to undo then
                log.debug("Home Assistant discovery: unsubscribe %s: %s", topic, err)
        self._subscribed.clear()

    # -- what wakes the worker -----------------------------------------------------------
    def republish(self) -> None:
        """Publish every config and state again (soon, from the publishing task)."""
        self._everything = True
        self._wake.set()

    def _connection(self, connected: bool) -> None:
        if connected:
            self.republish()

    def _on_status(self, message: Message) -> None:
        word = message.payload.strip().decode("utf-8", "replace")
        if word == "online":
            # A retained "online" is an old announcement: the start or the reconnection
            # that delivered it already publishes everything.
            if not message.retain:
                log.info("Home Assistant announced itself: publishing every entity again")
                self.republish()
        elif word != "offline":
            self.stats.bad_messages += 1
            log.warning(
                "Home Assistant discovery: unexpected payload on %s: %r (expected online"
                " or offline); ignored",
                message.topic,
                message.payload[:_SHOWN],
            )

    def _on_config(self, message: Message) -> None:
        if not message.payload:
            return  # a removal, ours or another's
        if self.enabled and self.discovery.keeps(message.topic):
            return
        self._removals[message.topic] = None
        self._wake.set()

    async def _pump(self, feed: ChangeFeed) -> None:
        async for change in feed:
            if self.discovery.entity_for(change.entity_id) is not None:
                self._pending[change.entity_id] = None
                self._wake.set()

    # -- the publishing task -------------------------------------------------------------
    async def _subscribe(self, topic: str, handler: Callable[[Message], None]) -> None:
        try:
            await self.session.subscribe(topic, handler, qos=QOS)
        except Exception as err:
            log.error("Home Assistant discovery: cannot subscribe to %s: %s", topic, err)
        else:
            self._subscribed.append((topic, handler))

    async def _work(self) -> None:
        await self._subscribe(self.discovery.config_filter, self._on_config)
        if self.enabled:
            await self._subscribe(self.discovery.status_topic, self._on_status)
        else:
            self.started.set()
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._closing:
                return
            try:
                await self._catch_up()
            except Exception:  # a bug here must not end Home Assistant's updates for good
                log.exception("Home Assistant discovery: unexpected error; carrying on")
            self.started.set()

    async def _catch_up(self) -> None:
        """Publish what waits: removals, then everything, or each entity changed."""
        while self._removals:
            topic = next(iter(self._removals))
            del self._removals[topic]
            await self._remove(topic)
        if not self.session.connected:
            # Nothing would get through, and the reconnection publishes everything.
            self._everything = False
            self._pending.clear()
            return
        if self._everything:
            self._everything = False
            self._pending.clear()
            await self._publish_everything()
        while self._pending and not self._everything:
            source = next(iter(self._pending))
            del self._pending[source]
            entity = self.discovery.entity_for(source)
            if entity is not None:
                await self._publish_entity(entity, force=False)

    async def _publish(self, topic: str, payload: bytes, *, force: bool) -> bool:
        """Publish retained unless the topic holds it already (``force``: regardless)."""
        if not force and self._last.get(topic) == payload:
            return False
        try:
            await self.session.publish(topic, payload, qos=QOS, retain=True)
        except Exception as err:
            self.stats.publish_errors += 1
            self._last.pop(topic, None)
            log.warning(
                "Home Assistant discovery: publishing %s failed (%s); everything is"
                " published again once the broker is back",
                topic,
                err,
            )
            return False
        self._last[topic] = payload
        return True

    async def _announce(self, entity: Entity) -> None:
        self._announced.add(entity.object_id)
        topic = self.discovery.config_topic(entity)
        if await self._publish(topic, self.discovery.config(entity), force=True):
            self.stats.configs += 1

    async def _publish_entity(self, entity: Entity, *, force: bool) -> None:
        if entity.object_id not in self._announced:
            await self._announce(entity)
        for topic, payload in self.discovery.state(entity, self.registry.get(entity.source)):
            if await self._publish(topic, payload, force=force):
                self.stats.states += 1

    async def _publish_everything(self) -> None:
        entities = list(self.discovery.entities())
        for domain in (Domain.PARTITION, Domain.LINK):
            for state in self.registry.states(domain):
                entity = self.discovery.entity_for(state.entity_id)
                if entity is not None:
                    entities.append(entity)
        # Every config first: Home Assistant subscribes to a state topic only once it
        # has created the entity, and the retained state is waiting for it then.
        for entity in entities:
            await self._announce(entity)
        for entity in entities:
            await self._publish_entity(entity, force=True)
        self.stats.republished += 1
        log.info(
            "Home Assistant discovery: %d entities published under %s/",
            len(entities),
            self.discovery.prefix,
        )

    async def _remove(self, config_topic: str) -> None:
        topics = self.discovery.leftovers(config_topic, withdrawing=not self.enabled)
        for topic in topics:
            await self._publish(topic, b"", force=True)
        self._last.pop(config_topic, None)
        self.stats.removed += 1
        log.info(
            "Home Assistant discovery: removed %s (no longer in the configuration%s)",
            config_topic,
            "" if self.enabled else ": discovery is off",
        )
