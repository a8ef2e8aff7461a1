"""Home Assistant discovery through a real Mosquitto broker, end to end.

The hub runs with a message session over aiomqtt; a second aiomqtt client plays Home
Assistant, subscribed to ``homeassistant/#`` and the hub's state topics. The broker and
the session here are kept small and local: the test kit's broker fixture and the hub's
MQTT session replace them once they exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from hub.app import Hub
from hub.events import AlarmKind, AlarmSignal
from hub.messages import Message, MessageHandler, topic_matches
from hub.supervisor import Backoff
from hub.testing import wait_until
from tests.homeassistant.support import load, plugin_manager, write_shop

MOSQUITTO = Path("/usr/sbin/mosquitto")
pytestmark = pytest.mark.skipif(not MOSQUITTO.exists(), reason="needs Mosquitto")

NODE = "homeassistant/{}/ecrin-tours/{}/config"
HOLDUP_CONFIG = NODE.format("binary_sensor", "holdup_comptoir")
LEFTOVER = NODE.format("binary_sensor", "holdup_reserve")
HOLDUP = "ecrin/entities/holdup_comptoir/state"
CAMERA = "ecrin/entities/camera_cam-comptoir/state"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def mosquitto(directory: Path) -> AsyncIterator[int]:
    """A Mosquitto on a free loopback port, listening when the block starts."""
    port = free_port()
    conf = directory / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    broker = await asyncio.create_subprocess_exec(
        str(MOSQUITTO), "-c", str(conf), stderr=asyncio.subprocess.DEVNULL
    )
    try:
        async with asyncio.timeout(10):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    await asyncio.sleep(0.02)  # not listening yet: look again
                else:
                    writer.close()
                    await writer.wait_closed()
                    break
        yield port
    finally:
        broker.terminate()
        await broker.wait()


def _payload(value: object) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return b"" if value is None else str(value).encode()


class AiomqttSession:
    """A ``MessageSession`` over one aiomqtt client: just enough for this test."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.connected = True
        self._handlers: list[tuple[str, MessageHandler]] = []

    def add_connection_listener(self, listener: Callable[[bool], None]) -> Callable[[], None]:
        return lambda: None

    async def subscribe(self, topic: str, handler: MessageHandler, *, qos: int = 0) -> None:
        self._handlers.append((topic, handler))
        await self.client.subscribe(topic, qos=qos)

    async def unsubscribe(self, topic: str, handler: MessageHandler) -> None:
        self._handlers.remove((topic, handler))

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False
    ) -> None:
        await self.client.publish(topic, payload, qos=qos, retain=retain)

    async def run(self) -> None:
        async for received in self.client.messages:
            message = Message(
                received.topic.value, _payload(received.payload), received.retain, received.qos
            )
            for topic, handler in list(self._handlers):
                if topic_matches(topic, message.topic):
                    handler(message)


class HomeAssistant:
    """What a Home Assistant subscribed to discovery and the hub's states receives."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.received: list[Message] = []

    async def run(self) -> None:
        await self.client.subscribe("homeassistant/#", qos=1)
        await self.client.subscribe("ecrin/#", qos=1)
        async for received in self.client.messages:
            self.received.append(
                Message(received.topic.value, _payload(received.payload), received.retain)
            )

    def got(self, topic: str, payload: bytes | None = None) -> list[Message]:
        return [m for m in self.received if m.topic == topic and payload in (None, m.payload)]


@contextlib.asynccontextmanager
async def running(*coroutines: Callable[[], Coroutine[Any, Any, None]]) -> AsyncIterator[None]:
    """Run each coroutine function in a task while the block runs."""
    tasks = [asyncio.ensure_future(c()) for c in coroutines]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_home_assistant_sees_the_hub_through_mosquitto(tmp_path: Path) -> None:
    path = write_shop(tmp_path, period=0.2, escalation=False)
    async with mosquitto(tmp_path) as port:
        async with aiomqtt.Client("127.0.0.1", port, identifier="home-assistant") as ha_client:
            ha = HomeAssistant(ha_client)
            # An entity of an earlier configuration, left retained on the broker.
            await ha_client.publish(LEFTOVER, b'{"name": "Hold-up Reserve"}', qos=1, retain=True)
            async with (
                running(ha.run),
                aiomqtt.Client("127.0.0.1", port, identifier="ecrin-tours") as hub_client,
            ):
                await wait_until(lambda: bool(ha.got(LEFTOVER)))
                session = AiomqttSession(hub_client)
                hub = Hub(
                    load(path),
                    plugin_manager(),
                    serve_http=False,
                    backoff=lambda: Backoff(initial=0.02, maximum=0.1),
                    messages=session,
                )
                async with running(session.run), hub:
                    await wait_until(lambda: bool(ha.got(HOLDUP_CONFIG)), timeout=10)
                    config = json.loads(ha.got(HOLDUP_CONFIG)[0].payload)
                    assert config["enabled_by_default"] is False
                    assert config["availability_topic"] == "ecrin/status"
                    await wait_until(lambda: bool(ha.got(LEFTOVER, b"")), timeout=10)  # removed
                    # The simulated camera comes online; a hold-up at the counter.
                    await wait_until(lambda: bool(ha.got(CAMERA, b"ON")), timeout=10)
                    hub.emit(AlarmSignal(kind=AlarmKind.HOLDUP, device="centrale", zone="comptoir"))
                    await wait_until(lambda: bool(ha.got(HOLDUP, b"ON")), timeout=10)
                    # Home Assistant restarts and announces itself: everything again.
                    await ha_client.publish("homeassistant/status", b"online", qos=1)
                    await wait_until(lambda: len(ha.got(HOLDUP_CONFIG)) == 2, timeout=10)
                    await wait_until(lambda: len(ha.got(HOLDUP, b"ON")) == 2, timeout=10)
        # What a Home Assistant starting now finds retained on the broker.
        async with aiomqtt.Client("127.0.0.1", port, identifier="ha-restarted") as later_client:
            later = HomeAssistant(later_client)
            async with running(later.run):
                await wait_until(lambda: bool(later.got(HOLDUP, b"ON")), timeout=10)
                await wait_until(lambda: bool(later.got(HOLDUP_CONFIG)), timeout=10)
                assert all(m.retain for m in later.received)
                assert not later.got(LEFTOVER)
