"""The broker the hub starts itself (amqtt): a camera's client publishes, the hub's
session receives; credentials off loopback."""

from __future__ import annotations

import logging

import aiomqtt
import pytest

from hub.config.model import MqttConfig
from hub.messages import Message
from hub.supervisor import Backoff
from hub.testing import wait_until
from hub.testing.mosquitto import free_port
from hub.transports.embedded_broker import EmbeddedBrokerServer
from hub.transports.mqtt import MqttSession

QUICK = 10.0


def fast() -> Backoff:
    return Backoff(initial=0.05, maximum=0.5)


async def test_a_plain_client_publishes_and_the_session_receives() -> None:
    received: list[Message] = []
    async with EmbeddedBrokerServer("127.0.0.1", 0) as broker:
        assert broker.port > 0
        config = MqttConfig(host="127.0.0.1", port=broker.port, client_id="ecrin-shop")
        session = MqttSession(config, backoff=fast)
        await session.subscribe("frigate/+/motion", received.append, qos=1)
        async with session:
            await wait_until(lambda: session.connected, timeout=QUICK)
            async with aiomqtt.Client("127.0.0.1", broker.port) as camera:
                await camera.publish("frigate/vitrine/motion", b"ON", qos=1)
                await camera.subscribe("ecrin/status", qos=1)
                async for status in camera.messages:
                    assert (status.payload, status.retain) == (b"online", True)
                    break
            await wait_until(lambda: len(received) == 1, timeout=QUICK)
    assert received == [Message("frigate/vitrine/motion", b"ON", retain=False, qos=1)]


async def test_its_port_is_released_when_it_stops() -> None:
    port = free_port()
    async with EmbeddedBrokerServer("127.0.0.1", port):
        pass
    async with EmbeddedBrokerServer("127.0.0.1", port) as again:  # free again
        assert again.port == port


async def test_a_taken_port_is_an_os_error_naming_it() -> None:
    async with EmbeddedBrokerServer("127.0.0.1", 0) as first:
        with pytest.raises(OSError, match=f"127.0.0.1:{first.port}"):
            async with EmbeddedBrokerServer("127.0.0.1", first.port):
                pass


def test_off_loopback_it_needs_credentials() -> None:
    with pytest.raises(ValueError, match="open to the network"):
        EmbeddedBrokerServer("0.0.0.0", 1883)
    server = EmbeddedBrokerServer("0.0.0.0", 1883, username="ecrin", password="long-pa55word")
    assert "long-pa55word" not in repr(server)


async def test_with_credentials_only_the_hubs_are_accepted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        async with EmbeddedBrokerServer(
            "127.0.0.1", 0, username="ecrin", password="long-pa55word"
        ) as broker:
            good = MqttConfig(
                host="127.0.0.1", port=broker.port, username="ecrin", password="long-pa55word"
            )
            async with MqttSession(good, backoff=fast) as session:
                await wait_until(lambda: session.connected, timeout=QUICK)
            bad = MqttConfig(host="127.0.0.1", port=broker.port, username="ecrin", password="guess")
            async with MqttSession(bad, backoff=fast) as session:
                await wait_until(lambda: session.counters.refused >= 2, timeout=QUICK)
            anonymous = MqttConfig(host="127.0.0.1", port=broker.port, client_id="anon")
            async with MqttSession(anonymous, backoff=fast) as session:
                await wait_until(lambda: session.counters.refused >= 1, timeout=QUICK)
    assert "long-pa55word" not in caplog.text
    # amqtt's own lines are kept to warnings (one per connection would drown the hub's)
    amqtt = [r for r in caplog.records if r.name.startswith(("amqtt", "transitions"))]
    assert all(r.levelno >= logging.WARNING for r in amqtt)
