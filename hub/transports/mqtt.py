"""The hub's MQTT session: one connection to the shop's broker, shared by every camera.

``MqttSession`` implements ``hub.messages.MessageSession`` over aiomqtt. The hub makes
one (``DeviceContext.messages``); each message device subscribes its own topics, and
the session keeps the connection whatever the broker does:

* **Reconnects by itself**, with exponential backoff and jitter (1 s to 60 s by
  default, ``hub.supervisor.Backoff``), and **resubscribes** every filter after each
  reconnection: each filter once on the wire, however many handlers share it, at the
  highest QoS any of them asked for.
* **A persistent session.** It speaks MQTT 3.1.1 with *clean session* off, under a
  client id stable across restarts, so the broker keeps the hub's subscriptions and
  queues the QoS 1 messages published while the hub is away (a camera that went
  offline while the hub restarted is told on return). MQTT 5's *clean start* off with
  a session expiry would do the same and bound how long the broker keeps the queue,
  but the embedded broker (amqtt) speaks only 3.1.1, as do some brokers still in the
  field: 3.1.1 works with all of them, and the broker's own limits bound the queue
  (docs/mqtt.md gives Mosquitto's).
* **Messages queued for the hub arrive before the devices subscribe.** The broker
  sends them right after the connection is accepted, while devices may still be
  starting; with ``hold_unmatched`` the session keeps the ones no handler wants yet and
  hands them to the handlers that subscribe before ``settle()`` (the hub calls it once
  every device was opened or failed to). After that, a message no handler wants is
  counted (``unmatched``) and logged: a subscription left on the broker by an earlier
  configuration, most often.
* **The hub's availability**: ``online`` (retained, QoS 1) on the availability topic
  at every connection, ``offline`` as the last will (retained, QoS 1: the broker
  publishes it when the hub vanishes) and on a clean stop.
* **TCP_NODELAY** on the socket: a camera's message is a few hundred bytes, and
  Nagle's algorithm held QoS 0 messages back (p99 9.2 ms with it, 0.7 ms without).
* **Dispatch on the loop**, with no queue or task per message: aiomqtt's queue is
  replaced by one that hands each message to every handler whose filter matches as it
  is read (``hub.messages.topic_matches``, the matches of each topic cached). A handler
  that raises is logged (rate-limited) and counted; the others still get the message.
* **Reading in chunks, and pausing while the hub is busy** (``busy``: its journal
  behind): ``hub.transports.mqtt_reading``. The broker queues meanwhile.
* **Never a crash, never a secret**: a refused login, a broker that is unreachable or
  disappears, a TLS certificate refused, each is one line (rate-limited, never the
  password) and a counter; the session retries until it is stopped. Publishing while
  disconnected neither raises nor waits: it is counted as dropped (a publisher that
  keeps a state publishes it again when a connection listener is told ``True``).

``counters`` gives a frozen snapshot of what happened (status, benchmarks).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self, cast

import aiomqtt
from aiomqtt.exceptions import MqttCodeError, MqttConnectError

from hub.config.model import MqttConfig
from hub.messages import ConnectionListener, Message, MessageHandler, topic_matches
from hub.supervisor import Backoff
from hub.transports.mqtt_reading import ChunkedSocket, read_in_chunks
from hub.transports.mqtt_tls import tls_context
from hub.transports.throttle import LogThrottle

__all__ = [
    "ANSWER_TIMEOUT",
    "DEFAULT_CLIENT_ID",
    "MqttCounters",
    "MqttSession",
    "StatusListener",
    "broker_url",
    "check_topic_filter",
]

log = logging.getLogger(__name__)

#: The client id when the configuration gives none (the hub gives one from the site).
DEFAULT_CLIENT_ID: Final = "ecrin"
#: Told ``(True, "")`` at each connection, ``(False, reason)`` at each loss and each
#: failed attempt (the hub turns them into ``LinkLost``/``LinkRestored``).
StatusListener = Callable[[bool, str], None]
#: Topics whose handlers are remembered; past it the cache starts again (a flood of
#: distinct topics costs a match per message, never memory).
_ROUTE_CACHE: Final = 4096
#: Unmatched messages held until ``settle()``, at most.
_HOLD_LIMIT: Final = 10_000
#: Seconds the broker has to answer (CONNACK, SUBACK, PUBACK) by default; a publish not
#: acknowledged by then counts as dropped. The clean stop's ``offline`` waits less.
ANSWER_TIMEOUT: Final = 10.0
_STOP_TIMEOUT: Final = 2.0
#: Calls awaiting the broker's answer before the client library warns of a backlog.
_PENDING_CALLS: Final = 10_000
_NODELAY: Final = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def broker_url(config: MqttConfig) -> str:
    """How to name the broker in a log line: ``mqtt://host:port`` (``mqtts`` with TLS)
    and the user, never the password."""
    scheme = "mqtts" if config.tls is not None else "mqtt"
    user = f"{config.username}@" if config.username else ""
    return f"{scheme}://{user}{config.host}:{config.port}"


def check_topic_filter(topic_filter: str) -> None:
    """Refuse a filter MQTT forbids (a code mistake, not a shop's).

    Raises:
        ValueError: empty, ``#`` not alone as the last level, ``+`` not a whole level.
    """
    if not topic_filter:
        raise ValueError("an MQTT topic filter cannot be empty")
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            raise ValueError(f"{topic_filter!r}: '#' must be a whole level, the last one")
        if "+" in level and level != "+":
            raise ValueError(f"{topic_filter!r}: '+' must be a whole level")


@dataclass(frozen=True, slots=True)
class MqttCounters:
    """What the session has done since it was made.

    Attributes:
        connects: connections accepted by the broker.
        connection_losses: connections lost (not the clean stop).
        failed_attempts: attempts that did not connect (unreachable, refused, TLS).
        refused: attempts the broker refused (bad credentials, not authorised...).
        received: messages received.
        unmatched: messages no handler wanted (after ``settle()``, or held past the
            limit).
        handler_errors: handler calls that raised.
        published: messages handed to the broker.
        publishes_dropped: publishes while disconnected, or lost with the connection.
        subscriptions_refused: filters the broker refused (its ACL).
        read_pauses: times reading paused because the hub was busy (its journal
            behind); the broker queued meanwhile.
        read_directly: messages (of ``received``) the session's reader parsed itself,
            the plain PUBLISH packets; the others went through paho and aiomqtt
            (``hub.transports.mqtt_reading``).
    """

    connects: int = 0
    connection_losses: int = 0
    failed_attempts: int = 0
    refused: int = 0
    received: int = 0
    unmatched: int = 0
    handler_errors: int = 0
    published: int = 0
    publishes_dropped: int = 0
    subscriptions_refused: int = 0
    read_pauses: int = 0
    read_directly: int = 0


@dataclass(slots=True)
class _Counts:
    """The live counters (``MqttCounters`` is their frozen snapshot)."""

    connects: int = 0
    connection_losses: int = 0
    failed_attempts: int = 0
    refused: int = 0
    received: int = 0
    unmatched: int = 0
    handler_errors: int = 0
    published: int = 0
    publishes_dropped: int = 0
    subscriptions_refused: int = 0
    read_pauses: int = 0
    read_directly: int = 0


class _Repeats(logging.Filter):
    """The client library's own warnings and errors (``failed to receive on socket``
    at every attempt a broker refuses) rate-limited like the session's lines: the
    session's line already says what is wrong."""

    def __init__(self) -> None:
        super().__init__()
        self._throttle = LogThrottle()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        return self._throttle.allow(str(record.msg)) is not None


_CLIENT_LOG: Final = logging.getLogger(f"{__name__}.client")
_CLIENT_LOG.addFilter(_Repeats())


class _Dispatching(asyncio.Queue[aiomqtt.Message]):
    """aiomqtt's incoming queue, replaced by a hand-off: aiomqtt puts each message here
    as paho reads it (on the loop), and it goes straight to the session's handlers.

    aiomqtt documents ``queue_type`` for choosing the order messages are taken in; the
    session uses it to take them with no queue at all, so no task or wait is spent per
    message, and a QoS 1 message is acknowledged after its handlers ran.
    """

    def __init__(self, deliver: Callable[[aiomqtt.Message], None], maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self._deliver = deliver

    def put_nowait(self, item: aiomqtt.Message) -> None:
        self._deliver(item)


class MqttSession:
    """The hub's session with its MQTT broker (a ``hub.messages.MessageSession``).

    Start it with ``async with`` (or ``start()``/``stop()``): it connects in a task of
    its own and never delays its caller, whether the broker is there or not.

    Args:
        config: the broker (``host`` must be set: the hub points it at its embedded
            broker when the shop has none), credentials, client id, TLS, keepalive
            and the availability topic.
        backoff: the reconnection policy's factory (tests shorten it).
        hold_unmatched: keep the messages no handler wants yet until ``settle()``
            (the hub does: see the module's docstring).
        timeout: seconds the broker has to answer a connection, a subscription or a
            QoS 1 publish (a TLS handshake the broker ends late, such as a refused
            client certificate, is only seen as a connection never answered).
        clock: a monotonic clock, for the rate-limited log lines.
        logger: where the session's lines go.
        busy: says when the hub cannot take more messages for now (its journal is
            behind): reading pauses until it can, and the broker queues meanwhile
            (``hub.transports.mqtt_reading``). None: never.
    """

    def __init__(
        self,
        config: MqttConfig,
        *,
        backoff: Callable[[], Backoff] = Backoff,
        hold_unmatched: bool = False,
        timeout: float = ANSWER_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
        busy: Callable[[], bool] | None = None,
    ) -> None:
        if config.host is None:
            raise ValueError("MqttSession needs a broker host (the embedded broker's, if none)")
        self.config = config
        self.client_id = config.client_id or DEFAULT_CLIENT_ID
        self.url = broker_url(config)
        self._backoff = backoff()
        self._timeout = timeout
        self._clock = clock
        self._log = logger or log
        self._throttle = LogThrottle(clock=clock)
        self._attempts = LogThrottle(clock=clock)  # failed attempts, until a connection
        self._counts = _Counts()
        # filter -> {handler: qos}; dicts keep the order handlers subscribed in
        self._subscriptions: dict[str, dict[MessageHandler, int]] = {}
        self._routes: dict[str, tuple[MessageHandler, ...]] = {}
        self._listeners: list[ConnectionListener] = []
        self._status_listeners: list[StatusListener] = []
        self._client: aiomqtt.Client | None = None  # set while a connection is up
        self._wire: dict[str, int] = {}  # filters subscribed on this connection, QoS
        self._connected = False
        self._pending: list[Message] = []  # read during the handshake
        self._holding = hold_unmatched
        self._held: list[Message] = []
        self._claimed: set[int] = set()  # positions in ``_held`` a handler was given
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._tls: ssl.SSLContext | None = None
        self._busy = busy
        #: Why the last attempt failed or the last connection ended ("" while none did).
        self.last_error = ""

    def __repr__(self) -> str:
        state = "connected" if self._connected else "disconnected"
        return f"<MqttSession {self.url} client_id={self.client_id!r} {state}>"

    # -- MessageSession ------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """Whether the session is connected, subscribed and announced now."""
        return self._connected

    def add_connection_listener(self, listener: ConnectionListener) -> Callable[[], None]:
        """Call ``listener(True)`` after every (re)connection, once every filter is
        subscribed again, and ``listener(False)`` at every loss; returns its remover."""
        self._listeners.append(listener)
        return functools.partial(self._remove, self._listeners, listener)

    def add_status_listener(self, listener: StatusListener) -> Callable[[], None]:
        """Call ``listener(True, "")`` at every connection and ``listener(False,
        reason)`` at every loss and every failed attempt (an unreachable broker at
        start is reported too); returns its remover."""
        self._status_listeners.append(listener)
        return functools.partial(self._remove, self._status_listeners, listener)

    @staticmethod
    def _remove(listeners: list[Any], listener: object) -> None:
        if listener in listeners:
            listeners.remove(listener)

    async def subscribe(self, topic: str, handler: MessageHandler, *, qos: int = 0) -> None:
        """Deliver every message matching the filter ``topic`` to ``handler``.

        While connected, the filter is sent to the broker at once, even when another
        handler has it already, so that this handler too gets the retained messages
        (the others get them again, marked retained: a state, told twice). Held
        messages that match are handed to it at once. While disconnected it is
        remembered and subscribed at the next connection.

        Raises:
            ValueError: a filter MQTT forbids, or a QoS other than 0, 1 or 2.
        """
        check_topic_filter(topic)
        if qos not in (0, 1, 2):
            raise ValueError(f"QoS must be 0, 1 or 2, not {qos!r}")
        handlers = self._subscriptions.setdefault(topic, {})
        handlers[handler] = max(qos, handlers.get(handler, 0))
        self._routes.clear()
        if self._held:
            self._replay_held(topic, handler)
        client = self._client
        if client is not None:
            await self._send_subscribe(client, [(topic, max(handlers.values()))])

    async def unsubscribe(self, topic: str, handler: MessageHandler) -> None:
        """Stop delivering ``topic`` to ``handler``; the broker is told when no handler
        is left on the filter. Unknown pairs are ignored."""
        handlers = self._subscriptions.get(topic)
        if handlers is None or handler not in handlers:
            return
        del handlers[handler]
        self._routes.clear()
        if handlers:
            return
        del self._subscriptions[topic]
        client = self._client
        if client is not None and self._wire.pop(topic, None) is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.unsubscribe(topic)

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False
    ) -> None:
        """Publish ``payload`` on ``topic``; QoS 1 and 2 wait for the broker's answer.

        While disconnected it returns at once, counted as dropped: nothing waits for a
        broker that is away.
        """
        client = self._client
        if client is None:
            self._counts.publishes_dropped += 1
            return
        try:
            await client.publish(topic, payload, qos=qos, retain=retain, timeout=self._timeout)
        except aiomqtt.MqttError:
            self._counts.publishes_dropped += 1
        else:
            self._counts.published += 1

    # -- what the hub and the benchmarks read -----------------------------------------------
    @property
    def counters(self) -> MqttCounters:
        """A frozen snapshot of the counters."""
        return MqttCounters(**dataclasses.asdict(self._counts))

    @property
    def filters(self) -> dict[str, int]:
        """Each subscribed filter and the QoS it is subscribed at."""
        return {topic: max(h.values()) for topic, h in self._subscriptions.items()}

    @property
    def nodelay(self) -> bool | None:
        """Whether TCP_NODELAY is set on the connected socket (None when there is none)."""
        sock = self._socket()
        if sock is None:
            return None
        return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    def _socket(self) -> socket.socket | None:
        """The connected socket (the test kit uses it to play a pulled cable)."""
        client = self._client
        if client is None:
            return None
        sock = client._client.socket()
        if isinstance(sock, ChunkedSocket):
            sock = sock.sock
        return sock if isinstance(sock, socket.socket) else None

    def settle(self) -> None:
        """Stop holding unmatched messages: those still held match no subscription,
        and are counted and logged as such; later ones are at once."""
        self._holding = False
        held, self._held = self._held, []
        claimed, self._claimed = self._claimed, set()
        for index, message in enumerate(held):
            if index not in claimed:
                self._unmatched(message)

    # -- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start connecting, in a task of its own; returns at once."""
        if self._task is not None:
            raise RuntimeError("the MQTT session is already started")
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name="mqtt-session")

    async def stop(self) -> None:
        """Publish ``offline`` on the availability topic (a clean stop sends no last
        will), disconnect cleanly, and end the task. Safe to call twice."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        client = self._client
        if client is not None and self._connected:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.publish(
                    self.config.availability_topic,
                    b"offline",
                    qos=1,
                    retain=True,
                    timeout=_STOP_TIMEOUT,
                )
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        self._set_disconnected()

    # -- the connection loop -----------------------------------------------------------------
    def _new_client(self) -> aiomqtt.Client:
        config = self.config
        queue_type = cast(
            "type[asyncio.Queue[aiomqtt.Message]]",
            functools.partial(_Dispatching, self._on_message),
        )
        client = aiomqtt.Client(
            cast(str, config.host),
            config.port,
            username=config.username,
            password=config.password,
            identifier=self.client_id,
            protocol=aiomqtt.ProtocolVersion.V311,
            clean_session=False,
            keepalive=config.keepalive,
            will=aiomqtt.Will(config.availability_topic, b"offline", qos=1, retain=True),
            tls_context=self._tls,
            socket_options=[_NODELAY],
            queue_type=queue_type,
            logger=_CLIENT_LOG,
            timeout=self._timeout,
        )
        # The client warns past 10 subscriptions or publishes awaiting the broker's
        # answer; a hub starting 100 cameras has hundreds at once, all expected.
        client.pending_calls_threshold = _PENDING_CALLS
        read_in_chunks(
            client, [_NODELAY], busy=self._busy, paused=self._paused, receive=self._on_publish
        )
        return client

    async def _run(self) -> None:
        """Connect, serve, and reconnect with backoff until cancelled."""
        while True:
            started = time.monotonic()
            try:
                if self.config.tls is not None and self._tls is None:
                    self._tls = await asyncio.to_thread(tls_context, self.config.tls)
                client = self._new_client()
                async with client:
                    await self._serve(client)
            except asyncio.CancelledError:
                raise
            except MqttConnectError as exc:
                self._attempt_failed(exc, refused=True)
            except (aiomqtt.MqttError, OSError) as exc:
                if self._client is not None:
                    self._lost(exc)
                else:
                    self._attempt_failed(exc, refused=False)
            except Exception as exc:
                # Whatever else aiomqtt or paho raise, the session goes on trying.
                if self._client is not None:
                    self._lost(exc)
                else:
                    self._attempt_failed(exc, refused=False, unexpected=True)
            self._set_disconnected()
            self._backoff.ran_for(time.monotonic() - started)
            await asyncio.sleep(self._backoff.next_delay())

    async def _serve(self, client: aiomqtt.Client) -> None:
        """One connection: resubscribe, announce the hub, tell the listeners, then hand
        messages to the handlers until the connection ends (``MqttError``)."""
        self._client = client
        self._wire = {}
        self._counts.connects += 1
        if self._subscriptions:
            await self._send_subscribe(client, list(self.filters.items()))
        await client.publish(
            self.config.availability_topic, b"online", qos=1, retain=True, timeout=self._timeout
        )
        self._throttle.forget("lost")
        self._attempts = LogThrottle(clock=self._clock)  # the next failure is news
        self.last_error = ""
        self._log.info("MQTT broker %s: connected as %s", self.url, self.client_id)
        # No await from here to the end of the flush: a message read meanwhile would
        # overtake the ones read during the handshake.
        self._connected = True
        for listener in list(self._listeners):
            self._call_listener(listener, True)
        for status in list(self._status_listeners):
            self._call_status(status, True, "")
        pending, self._pending = self._pending, []
        for item in pending:
            self._deliver(item)
        async for _ in client.messages:  # pragma: no cover - the queue hands off at once
            pass

    async def _send_subscribe(self, client: aiomqtt.Client, filters: list[tuple[str, int]]) -> None:
        """Subscribe ``filters`` in one SUBSCRIBE; a refused one is logged and counted.
        A connection lost meanwhile is left to the connection loop (it resubscribes)."""
        try:
            codes = await client.subscribe(filters, timeout=self._timeout)
        except aiomqtt.MqttError:
            return
        for (topic, qos), code in zip(filters, codes, strict=False):
            value = code if isinstance(code, int) else getattr(code, "value", 0x80)
            if int(value) >= 0x80:
                self._counts.subscriptions_refused += 1
                self._warn(("refused", topic), "the broker refused the subscription to %s", topic)
            else:
                self._wire[topic] = qos

    # -- failures --------------------------------------------------------------------------
    def _attempt_failed(self, exc: Exception, *, refused: bool, unexpected: bool = False) -> None:
        self._counts.failed_attempts += 1
        reason = _reason(exc)
        if refused:
            self._counts.refused += 1
            line = "MQTT broker %s refused the hub (client id %s): %s; retrying with backoff"
            args: tuple[object, ...] = (self.url, self.client_id, reason)
        elif unexpected:
            line = "MQTT broker %s: unexpected error: %s; retrying with backoff"
            args = (self.url, reason)
        else:
            line = "MQTT broker %s unreachable: %s; retrying with backoff"
            args = (self.url, reason)
        self.last_error = reason
        held = self._attempts.allow(reason)
        if held is not None:
            level = logging.ERROR if refused or unexpected else logging.WARNING
            self._log.log(level, line + self._attempts.suffix(held), *args)
        for status in list(self._status_listeners):
            self._call_status(status, False, reason)

    def _lost(self, exc: Exception) -> None:
        if self._stopping:
            return
        self._counts.connection_losses += 1
        reason = _reason(exc)
        self.last_error = reason
        self._warn("lost", "MQTT broker %s: connection lost: %s; reconnecting", self.url, reason)
        self._set_disconnected(reason)

    def _set_disconnected(self, reason: str = "") -> None:
        was_connected = self._connected
        self._client = None
        self._wire = {}
        self._connected = False
        self._pending = []
        if not was_connected or self._stopping:
            return
        for listener in list(self._listeners):
            self._call_listener(listener, False)
        for status in list(self._status_listeners):
            self._call_status(status, False, reason or self.last_error or "connection lost")

    def _warn(self, kind: object, line: str, *args: object) -> None:
        """Write ``line`` unless a line of ``kind`` was written within the window."""
        held = self._throttle.allow(kind)
        if held is not None:
            self._log.warning(line + self._throttle.suffix(held), *args)

    def _call_listener(self, listener: ConnectionListener, connected: bool) -> None:
        try:
            listener(connected)
        except Exception:
            self._counts.handler_errors += 1
            self._log.exception("MQTT connection listener %r failed", listener)

    def _call_status(self, listener: StatusListener, up: bool, reason: str) -> None:
        try:
            listener(up, reason)
        except Exception:
            self._log.exception("MQTT status listener %r failed", listener)

    # -- incoming messages -------------------------------------------------------------------
    def _paused(self) -> None:
        self._counts.read_pauses += 1

    def _on_message(self, item: aiomqtt.Message) -> None:
        """A message paho read and aiomqtt made (on the loop): see ``_receive``."""
        payload = item.payload
        self._receive(
            Message(
                item.topic.value,
                payload if isinstance(payload, bytes) else bytes(str(payload or ""), "utf-8"),
                retain=item.retain,
                qos=item.qos,
            )
        )

    def _on_publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        """A message the session's reader parsed itself (``mqtt_reading``)."""
        self._counts.read_directly += 1
        self._receive(Message(topic, payload, retain=retain, qos=qos))

    def _receive(self, message: Message) -> None:
        """Every message read: handed on at once once connected; during the handshake,
        kept for the end of it."""
        if self._connected:
            self._deliver(message)
        else:
            self._pending.append(message)

    def _deliver(self, message: Message) -> None:
        self._counts.received += 1
        handlers = self._handlers_of(message.topic)
        if not handlers:
            if self._holding and len(self._held) < _HOLD_LIMIT:
                self._held.append(message)
            else:
                self._unmatched(message)
            return
        for handler in handlers:
            try:
                handler(message)
            except Exception:
                self._counts.handler_errors += 1
                held = self._throttle.allow(("handler", handler))
                if held is not None:
                    self._log.exception(
                        "MQTT handler %r failed on a message on %s%s",
                        handler,
                        message.topic,
                        self._throttle.suffix(held),
                    )

    def _handlers_of(self, topic: str) -> tuple[MessageHandler, ...]:
        handlers = self._routes.get(topic)
        if handlers is None:
            found: list[MessageHandler] = []
            for topic_filter, subscribed in self._subscriptions.items():
                if topic_matches(topic_filter, topic):
                    found.extend(h for h in subscribed if h not in found)
            if len(self._routes) >= _ROUTE_CACHE:
                self._routes.clear()
            handlers = self._routes[topic] = tuple(found)
        return handlers

    def _replay_held(self, topic_filter: str, handler: MessageHandler) -> None:
        """Hand ``handler`` the held messages its new filter matches (and keep them:
        another filter may want them too)."""
        for index, message in enumerate(list(self._held)):
            if topic_matches(topic_filter, message.topic):
                self._claimed.add(index)
                try:
                    handler(message)
                except Exception:
                    self._counts.handler_errors += 1
                    self._log.exception("MQTT handler %r failed on a held message", handler)

    def _unmatched(self, message: Message) -> None:
        self._counts.unmatched += 1
        self._warn(
            ("unmatched", message.topic.split("/", 1)[0]),
            "MQTT message on %s matches no subscription of this hub (a subscription left"
            " on the broker by an earlier configuration?); ignored",
            message.topic,
        )


def _reason(exc: BaseException) -> str:
    """One line saying why, in words an installer can act on (never a password: the
    client library's messages carry none)."""
    cause = exc.__cause__
    if isinstance(exc, aiomqtt.MqttError) and isinstance(cause, Exception):
        return _reason(cause)  # "disconnected during message iteration": say why
    text = str(exc) or type(exc).__name__
    if isinstance(exc, MqttCodeError) and exc.rc is not None:
        code = exc.rc if isinstance(exc.rc, int) else exc.rc.value
        words = _REFUSALS.get(_MQTT5_REFUSALS.get(code, code))
        if isinstance(exc, MqttConnectError) and words is not None:
            return words
    if "CERTIFICATE_VERIFY_FAILED" in text or "Hostname mismatch" in text:
        return f"the broker's TLS certificate was refused ({text}): check mqtt.tls"
    return text


_CREDENTIALS: Final = "(check mqtt.username and the secret of mqtt.password)"
#: CONNACK refusals of MQTT 3.1.1.
_REFUSALS: Final[dict[int, str]] = {
    1: "the broker does not speak MQTT 3.1.1",
    2: "the broker refused the client id",
    3: "the broker is unavailable",
    4: f"bad user name or password {_CREDENTIALS}",
    5: "not authorised: a wrong user name or password, or a user or client id the broker"
    f" refuses {_CREDENTIALS}",
}
#: The MQTT 5 refusals a broker may send instead, as the 3.1.1 code they mean.
_MQTT5_REFUSALS: Final = {0x84: 1, 0x85: 2, 0x88: 3, 0x86: 4, 0x87: 5}
