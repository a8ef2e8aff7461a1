"""The hub's MQTT session against a real Mosquitto on a free loopback port: subscribing,
dispatching, the persistent session, reconnection, the last will, refusals, and the
socket's TCP_NODELAY."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiomqtt
import pytest

from hub.messages import Message, MessageSession
from hub.supervisor import Backoff
from hub.testing import Mosquitto, sever, wait_until
from hub.testing.plugin import ConnectSession, StartMosquitto
from hub.transports.mqtt import MqttSession, check_topic_filter

QUICK = 10.0  # seconds any wait below may take at most: a condition, never a delay


def fast() -> Backoff:
    return Backoff(initial=0.05, maximum=0.5)


class Inbox:
    """A handler that keeps what it gets."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def __call__(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def payloads(self) -> list[bytes]:
        return [m.payload for m in self.messages]

    async def wait_for(self, payload: bytes) -> Message:
        await wait_until(lambda: payload in self.payloads, timeout=QUICK)
        return next(m for m in self.messages if m.payload == payload)


async def publish(broker: Mosquitto, topic: str, payload: bytes, **kwargs: object) -> None:
    """Publish from another client than the hub's, as a camera does."""
    async with broker.client() as client:
        await client.publish(topic, payload, **kwargs)  # type: ignore[arg-type]


async def first_message(client: aiomqtt.Client, topic: str) -> aiomqtt.Message:
    await client.subscribe(topic, qos=1)
    async with asyncio.timeout(QUICK):
        async for message in client.messages:
            return message
    raise AssertionError("unreachable")


def test_the_session_is_a_message_session(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path)  # not started: building a session needs no broker
    session = MqttSession(broker.mqtt_config(password="s3cr3t-pa55", username="hub"))
    assert isinstance(session, MessageSession)
    assert "s3cr3t" not in repr(session)
    assert session.connected is False
    assert session.nodelay is None


# -- subscribing and dispatching -----------------------------------------------------------


async def test_subscribe_and_receive(
    mosquitto: StartMosquitto, mqtt_session: ConnectSession
) -> None:
    broker = mosquitto()
    inbox = Inbox()
    async with mqtt_session(broker) as session:
        await session.subscribe("frigate/available", inbox, qos=1)
        await publish(broker, "frigate/available", b"online", qos=1, retain=True)
        message = await inbox.wait_for(b"online")
    assert message == Message("frigate/available", b"online", retain=False, qos=1)
    assert session.counters.received == 1
    # A retained message is delivered on subscription, marked retained.
    late = Inbox()
    async with mqtt_session(broker, client_id="other") as session:
        await session.subscribe("frigate/available", late, qos=1)
        assert (await late.wait_for(b"online")).retain is True


async def test_several_handlers_on_one_filter_and_wildcards(
    mosquitto: StartMosquitto, mqtt_session: ConnectSession
) -> None:
    broker = mosquitto()
    first, second, motion, everything, detect = Inbox(), Inbox(), Inbox(), Inbox(), Inbox()
    subscriptions = [
        ("frigate/cam1/motion", first),
        ("frigate/cam1/motion", second),
        ("frigate/+/motion", motion),
        ("frigate/#", everything),
        ("frigate/+/detect/state", detect),
    ]
    async with mqtt_session(broker, subscribe=subscriptions) as session:
        await publish(broker, "frigate/cam1/motion", b"ON", qos=1)
        await publish(broker, "frigate/cam2/motion", b"OFF", qos=1)
        await everything.wait_for(b"OFF")
        await motion.wait_for(b"OFF")
    assert first.payloads == second.payloads == [b"ON"]
    assert motion.payloads == [b"ON", b"OFF"]
    assert everything.payloads == [b"ON", b"OFF"]
    assert detect.messages == []
    assert session.counters.handler_errors == 0
    # Each filter once on the wire, however many handlers share it.
    assert sorted(broker.subscriptions("ecrin-test")) == sorted(
        [
            (1, "frigate/cam1/motion"),
            (1, "frigate/+/motion"),
            (1, "frigate/#"),
            (1, "frigate/+/detect/state"),
        ]
    )


async def test_a_late_handler_gets_the_retained_state_too(
    mosquitto: StartMosquitto, mqtt_session: ConnectSession
) -> None:
    """Two cameras of one NVR share its availability topic: the second to subscribe
    must learn the NVR's state as the first did."""
    broker = mosquitto()
    await publish(broker, "frigate/available", b"online", qos=1, retain=True)
    first, second = Inbox(), Inbox()
    async with mqtt_session(broker) as session:
        await session.subscribe("frigate/available", first)
        await first.wait_for(b"online")
        await session.subscribe("frigate/available", second)
        assert (await second.wait_for(b"online")).retain is True


async def test_unsubscribe(mosquitto: StartMosquitto, mqtt_session: ConnectSession) -> None:
    broker = mosquitto()
    kept, dropped = Inbox(), Inbox()
    async with mqtt_session(broker) as session:
        await session.subscribe("cam/+", kept)
        await session.subscribe("cam/+", dropped)
        await session.unsubscribe("cam/+", dropped)
        await session.unsubscribe("cam/+", Inbox())  # unknown: ignored
        await publish(broker, "cam/a", b"1", qos=1)
        await kept.wait_for(b"1")
        assert dropped.messages == []
        await session.unsubscribe("cam/+", kept)
        assert session.filters == {}
        await publish(broker, "cam/a", b"2", qos=1)
        await wait_until(lambda: broker.unsubscriptions("ecrin-test") == ["cam/+"], QUICK)
    assert kept.payloads == [b"1"]


async def test_many_subscriptions_at_once_are_no_warning(
    mosquitto: StartMosquitto, mqtt_session: ConnectSession, caplog: pytest.LogCaptureFixture
) -> None:
    # A hub starting 100 cameras subscribes hundreds of filters at once: the client
    # library's warning of "pending publish calls" would be a false alarm.
    broker = mosquitto()
    inbox = Inbox()
    async with mqtt_session(broker) as session:
        await wait_until(lambda: session.connected, timeout=QUICK)
        with caplog.at_level(logging.WARNING):
            await asyncio.gather(
                *(session.subscribe(f"frigate/cam-{n}/motion", inbox, qos=1) for n in range(50))
            )
    assert len(session.filters) == 50
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize(
    "bad", ["", "a/#/b", "a#", "a/b+", "+a/b"], ids=["empty", "hash", "hash2", "plus", "plus2"]
)
def test_filters_mqtt_forbids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"filter|level"):
        check_topic_filter(bad)


async def test_a_handler_that_raises_is_counted_and_the_others_still_get_the_message(
    mosquitto: StartMosquitto, mqtt_session: ConnectSession, caplog: pytest.LogCaptureFixture
) -> None:
    broker = mosquitto()
    inbox = Inbox()

    def broken(message: Message) -> None:
        raise RuntimeError("a bug in a plugin")

    async with mqtt_session(broker, subscribe=[("cam/#", broken), ("cam/#", inbox)]) as session:
        with caplog.at_level(logging.WARNING, logger="hub.transports.mqtt"):
            for n in range(5):
                await publish(broker, "cam/a", str(n).encode(), qos=1)
            await inbox.wait_for(b"4")
        assert session.connected
        assert session.counters.handler_errors == 5
    failures = [r for r in caplog.records if "failed on a message" in r.getMessage()]
    assert len(failures) == 1  # rate-limited: one line, however many times it raised
    assert failures[0].exc_info is not None


async def test_publishing_while_disconnected_neither_raises_nor_waits(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path)  # never started: nothing to connect to
    session = MqttSession(broker.mqtt_config(), backoff=fast)
    async with session:
        async with asyncio.timeout(QUICK):
            await session.publish("ecrin/x", b"1", qos=1)
    assert session.counters.publishes_dropped == 1
    assert session.counters.published == 0


async def test_a_message_no_handler_wants_is_counted_once_settled(
    mosquitto: StartMosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    """A subscription left on the broker by an earlier configuration keeps bringing
    messages nobody wants: counted and logged, never handed to a wrong handler."""
    broker = mosquitto()
    old = MqttSession(broker.mqtt_config(client_id="hub"), backoff=fast)
    await old.subscribe("old/#", Inbox(), qos=1)
    async with old:
        await wait_until(lambda: old.connected, timeout=QUICK)
    session = MqttSession(broker.mqtt_config(client_id="hub"), backoff=fast)
    session.settle()  # nothing is held: what no handler wants is unmatched at once
    inbox = Inbox()
    await session.subscribe("new/#", inbox, qos=1)
    with caplog.at_level(logging.WARNING, logger="hub.transports.mqtt"):
        async with session:
            await wait_until(lambda: session.connected, timeout=QUICK)
            await publish(broker, "old/a", b"stale", qos=1)
            await publish(broker, "old/b", b"stale", qos=1)
            await publish(broker, "new/a", b"fresh", qos=1)
            await inbox.wait_for(b"fresh")
            await wait_until(lambda: session.counters.unmatched == 2, timeout=QUICK)
    assert inbox.payloads == [b"fresh"]
    lines = [r for r in caplog.records if "matches no subscription" in r.getMessage()]
    assert len(lines) == 1


# -- the persistent session ------------------------------------------------------------------


async def test_qos1_messages_published_while_the_hub_was_away_are_delivered(
    mosquitto: StartMosquitto,
) -> None:
    """The hub stops (or restarts); a camera goes offline meanwhile; the broker queued
    it for the hub's persistent session, through a broker restart too, and the hub
    gets it on return, even though its device subscribes after the connection."""
    broker = mosquitto()
    before = MqttSession(broker.mqtt_config(client_id="ecrin-shop"), backoff=fast)
    await before.subscribe("cams/+/available", Inbox(), qos=1)
    async with before:
        await wait_until(lambda: before.connected, timeout=QUICK)
    await publish(broker, "cams/vitrine/available", b"offline", qos=1)
    broker.stop()  # the broker saves the queue with the session...
    broker.start()  # ...and has it again
    after = MqttSession(
        broker.mqtt_config(client_id="ecrin-shop"), backoff=fast, hold_unmatched=True
    )
    inbox = Inbox()
    async with after:
        await wait_until(lambda: after.connected, timeout=QUICK)
        await wait_until(lambda: after.counters.received == 1, timeout=QUICK)
        await after.subscribe("cams/+/available", inbox, qos=1)  # the device, late
        message = await inbox.wait_for(b"offline")
        after.settle()
    assert (message.topic, message.retain, message.qos) == ("cams/vitrine/available", False, 1)
    assert after.counters.unmatched == 0


async def test_without_settling_a_held_message_is_not_counted_unmatched(
    mosquitto: StartMosquitto,
) -> None:
    broker = mosquitto()
    session = MqttSession(broker.mqtt_config(client_id="hub"), backoff=fast)
    await session.subscribe("cams/#", Inbox(), qos=1)
    async with session:
        await wait_until(lambda: session.connected, timeout=QUICK)
    await publish(broker, "cams/a", b"queued", qos=1)
    held = MqttSession(broker.mqtt_config(client_id="hub"), backoff=fast, hold_unmatched=True)
    async with held:
        await wait_until(lambda: held.counters.received == 1, timeout=QUICK)
        assert held.counters.unmatched == 0
        held.settle()
        assert held.counters.unmatched == 1


# -- reconnection -----------------------------------------------------------------------------


async def test_broker_restart_reconnects_resubscribes_and_tells_the_listeners(
    mosquitto: StartMosquitto, mqtt_session: ConnectSession
) -> None:
    broker = mosquitto(persistence=False)  # the broker forgets: only a resubscription helps
    inbox, told, status = Inbox(), [], []
    async with mqtt_session(broker, subscribe=[("cams/#", inbox)]) as session:
        session.add_connection_listener(told.append)
        remove = session.add_status_listener(lambda up, reason: status.append((up, reason)))
        broker.stop()
        await wait_until(lambda: told == [False], timeout=QUICK)
        assert not session.connected
        broker.start()
        await wait_until(lambda: told == [False, True], timeout=QUICK)
        await publish(broker, "cams/vitrine/available", b"online", qos=1)
        await inbox.wait_for(b"online")
        remove()
    assert status[0][0] is False
    assert status[0][1]
    assert status[-1] == (True, "")
    assert session.counters.connects == 2
    assert session.counters.connection_losses == 1
    assert broker.subscriptions("ecrin-test") == [(1, "cams/#"), (1, "cams/#")]


async def test_a_broker_unreachable_at_start_is_retried_until_it_comes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = Mosquitto(tmp_path)  # its port is chosen, nothing listens there yet
    status: list[tuple[bool, str]] = []
    session = MqttSession(broker.mqtt_config(), backoff=fast)
    session.add_status_listener(lambda up, reason: status.append((up, reason)))
    inbox = Inbox()
    await session.subscribe("cams/#", inbox, qos=1)
    try:
        with caplog.at_level(logging.WARNING, logger="hub.transports.mqtt"):
            async with session:
                await wait_until(lambda: session.counters.failed_attempts >= 3, timeout=QUICK)
                broker.start()
                await wait_until(lambda: session.connected, timeout=QUICK)
                await publish(broker, "cams/a", b"online", qos=1)
                await inbox.wait_for(b"online")
    finally:
        broker.kill()
    assert status[0][0] is False
    assert "refused" in status[0][1].lower()
    assert status[-1] == (True, "")
    unreachable = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(unreachable) == 1  # one line, not one per attempt


async def test_bad_credentials_one_line_a_counter_no_crash_no_password(
    mosquitto: StartMosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    broker = mosquitto(users={"ecrin": "right-pa55word"})
    config = broker.mqtt_config(username="ecrin", password="wr0ng-pa55word-xyz")
    session = MqttSession(config, backoff=fast)
    with caplog.at_level(logging.DEBUG):
        async with session:
            await wait_until(lambda: session.counters.refused >= 3, timeout=QUICK)
            assert not session.connected
            assert session._task is not None
            assert not session._task.done()
    refused = [r for r in caplog.records if "refused the hub" in r.getMessage()]
    assert len(refused) == 1
    line = refused[0].getMessage()
    assert refused[0].levelno == logging.ERROR
    assert f"127.0.0.1:{broker.port}" in line
    assert "user name or password" in line  # Mosquitto answers "not authorised"
    assert all("wr0ng" not in r.getMessage() for r in caplog.records)
    assert "wr0ng" not in caplog.text
    assert session.counters.connects == 0
    assert "user name or password" in session.last_error


async def test_the_right_credentials_connect(
    mosquitto: StartMosquitto, mqtt_session: ConnectSession
) -> None:
    broker = mosquitto(users={"ecrin": "right-pa55word"})
    async with mqtt_session(broker, username="ecrin", password="right-pa55word") as session:
        assert session.counters.refused == 0
    assert (broker.directory / "passwords").stat().st_mode & 0o777 == 0o600


# -- the hub's availability ---------------------------------------------------------------------


async def test_online_at_each_connection_offline_on_a_clean_stop(
    mosquitto: StartMosquitto, mqtt_session: ConnectSession
) -> None:
    broker = mosquitto()
    async with mqtt_session(broker, base_topic="shop/hub"), broker.client() as watcher:
        message = await first_message(watcher, "shop/hub/status")
        assert (message.payload, message.retain) == (b"online", True)
    async with broker.client() as late:
        message = await first_message(late, "shop/hub/status")
    assert (message.payload, message.retain) == (b"offline", True)


async def test_the_last_will_says_offline_when_the_hub_vanishes(
    mosquitto: StartMosquitto,
) -> None:
    broker = mosquitto()
    # A long backoff, so that the hub stays away while the will is looked at.
    session = MqttSession(broker.mqtt_config(client_id="hub"), backoff=lambda: Backoff(60, 60))
    async with session:
        await wait_until(lambda: session.connected, timeout=QUICK)
        sever(session)  # no DISCONNECT: to the broker, the hub vanished
        await wait_until(lambda: not session.connected, timeout=QUICK)
        async with broker.client() as watcher:
            message = await first_message(watcher, "ecrin/status")
        assert (message.payload, message.retain, message.qos) == (b"offline", True, 1)
        assert session.counters.connection_losses == 1


async def test_after_a_cut_connection_the_hub_is_back_online(
    mosquitto: StartMosquitto, mqtt_session: ConnectSession
) -> None:
    broker = mosquitto()
    async with mqtt_session(broker) as session, broker.client() as watcher:
        await watcher.subscribe("ecrin/status", qos=1)
        seen: list[bytes] = []

        async def watch() -> None:
            async for message in watcher.messages:
                seen.append(bytes(message.payload))  # type: ignore[arg-type]

        task = asyncio.create_task(watch())
        try:
            await wait_until(lambda: seen == [b"online"], timeout=QUICK)
            sever(session)
            await wait_until(lambda: seen == [b"online", b"offline", b"online"], timeout=QUICK)
        finally:
            task.cancel()
        assert session.connected


# -- the socket ------------------------------------------------------------------------------------


async def test_tcp_nodelay_is_set_on_the_connected_socket(
    mosquitto: StartMosquitto, mqtt_session: ConnectSession
) -> None:
    broker = mosquitto()
    async with mqtt_session(broker) as session:
        assert session.nodelay is True
        sever(session)
        await wait_until(lambda: session.counters.connects == 2 and session.connected, QUICK)
        assert session.nodelay is True  # on every new socket
