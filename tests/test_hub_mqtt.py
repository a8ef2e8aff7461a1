"""The hub and its broker: the session made and handed to devices, the embedded broker
started and stopped with the hub, the broker's link as LinkLost/LinkRestored, and
readiness while the broker is away."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Sequence
from pathlib import Path

import aiomqtt
import pytest

from hub.app import Hub
from hub.config import Config, load_config
from hub.devices import DeviceContext, DeviceType
from hub.events import CameraAvailability, Event, LinkLost, LinkRestored
from hub.journal import tail
from hub.messages import BROKER_LINK, MemorySession, Message
from hub.plugins import PluginManager
from hub.sdk import DecodeStats, MessageDevice
from hub.supervisor import Backoff
from hub.testing import EventRecorder, Mosquitto, wait_until
from hub.testing.mosquitto import free_port
from hub.testing.plugin import StartMosquitto
from hub.transports.mqtt import MqttSession

QUICK = 10.0


class CameraDecoder:
    """``cams/<id>/available``: ``online`` or ``offline``."""

    def __init__(self, camera: str) -> None:
        self.camera = camera
        self.stats = DecodeStats()

    def decode(self, message: Message) -> Sequence[Event]:
        state = message.payload.decode()
        if state not in ("online", "offline"):
            self.stats.reject(message.payload, "not online or offline")
            return []
        return [CameraAvailability(camera=self.camera, state=state)]


class ShopCamera(MessageDevice):
    """A camera on the hub's broker, as the camera plugins make them."""

    seen: dict[str, DeviceContext] = {}

    def __init__(self, ctx: DeviceContext) -> None:
        if ctx.messages is None:
            raise OSError("no message session")
        ShopCamera.seen[ctx.device_id] = ctx
        topic = f"cams/{ctx.device_id}/available"
        super().__init__(ctx, ctx.messages, CameraDecoder(ctx.device_id), [topic])

    def connection_changed(self, connected: bool) -> None:
        if not connected:
            self.ctx.emit(
                CameraAvailability(camera=self.ctx.device_id, state="unknown", reason="broker")
            )


class Bridge(MessageDevice):
    """A hold-up bridge board on the broker (devices:, with hold-up zones)."""

    def __init__(self, ctx: DeviceContext) -> None:
        assert ctx.messages is not None
        super().__init__(ctx, ctx.messages, CameraDecoder(ctx.device_id), ["bridge/#"])


CATALOGUE = {
    "test-camera": DeviceType("test-camera", ShopCamera, category="camera", messages=True),
    "test-bridge": DeviceType("test-bridge", Bridge, category="bridge", messages=True),
}

SHOP = """\
site:
  name: Bijouterie Test
  address: 3 rue Nationale, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {id: vitrine, name: Vitrine, risk: high}
cameras:
  - {id: cam, type: test-camera, zones: [vitrine], placement: indoor}
journal:
  path: journal.db
"""


def fast() -> Backoff:
    return Backoff(initial=0.05, maximum=0.5)


def shop(tmp_path: Path, extra: str = "") -> Config:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP + textwrap.dedent(extra))
    return load_config(path, CATALOGUE)


def hub_of(config: Config, **kwargs: object) -> Hub:
    return Hub(config, PluginManager(), CATALOGUE, backoff=fast, **kwargs)  # type: ignore[arg-type]


def observe(hub: Hub) -> EventRecorder:
    """Every event the hub publishes from now on, as the state registry sees them."""
    recorder = EventRecorder()
    hub.bus.observe(recorder.emit)
    return recorder


async def publish(port: int, topic: str, payload: bytes) -> None:
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.publish(topic, payload, qos=1, retain=True)


async def test_without_a_broker_host_the_hub_runs_its_embedded_broker(tmp_path: Path) -> None:
    port = free_port()
    config = shop(tmp_path, f"mqtt:\n  embedded: {{port: {port}}}\n")
    async with hub_of(config) as hub:
        assert hub.embedded_broker is not None
        assert hub.embedded_broker.port == port
        assert isinstance(hub.mqtt, MqttSession)
        assert hub.messages is hub.mqtt
        await wait_until(lambda: hub.mqtt is not None and hub.mqtt.connected, QUICK)
        assert (await hub.wait_ready()).broker is True
        assert ShopCamera.seen["cam"].messages is hub.mqtt  # the device was handed it
        await publish(port, "cams/cam/available", b"online")
        await wait_until(lambda: _state(hub, "camera:cam") == "online", QUICK)
    with pytest.raises(OSError):  # stopped with the hub: the port is closed
        await asyncio.open_connection("127.0.0.1", port)


async def test_a_message_device_type_alone_brings_the_broker(tmp_path: Path) -> None:
    """No mqtt: section, a camera that needs messages: the embedded broker, on its
    default address (127.0.0.1:1883), which the configuration reports."""
    config = shop(tmp_path)
    assert config.mqtt is None
    broker = config.message_broker(CATALOGUE)
    assert broker is not None
    assert broker.host is None
    assert (broker.embedded.host, broker.embedded.port) == ("127.0.0.1", 1883)
    assert broker.client_id == "ecrin-bijouterie-test"
    assert hub_of(config).broker == broker


async def test_the_broker_link_is_reported_lost_and_restored(
    tmp_path: Path, mosquitto: StartMosquitto
) -> None:
    broker = mosquitto(persistence=False)
    config = shop(tmp_path, f"mqtt: {{host: 127.0.0.1, port: {broker.port}}}\n")
    async with hub_of(config) as hub:
        assert hub.embedded_broker is None
        session = hub.mqtt
        assert session is not None
        await hub.wait_ready()
        await wait_until(lambda: session.connected, QUICK)
        assert hub.readiness().document()[1]["status"] == "ok"
        await publish(broker.port, "cams/cam/available", b"online")
        await wait_until(lambda: _state(hub, "camera:cam") == "online", QUICK)
        events = observe(hub)
        broker.stop()
        (lost,) = await events.wait_for(LinkLost, timeout=QUICK)
        assert lost.device == BROKER_LINK
        assert lost.reason.startswith("MQTT broker: ")
        assert _state(hub, "link:mqtt") == "down"
        assert _state(hub, "camera:cam") == "unknown"  # never online by mistake
        status, body = hub.readiness().document()
        assert (status, body["status"], body["broker"]) == (200, "degraded", {"connected": False})
        broker.start()
        await events.wait_for(LinkRestored, timeout=QUICK)
        assert _state(hub, "link:mqtt") == "up"
        assert hub.state.get(f"device:{BROKER_LINK}") is None  # a link, not a device
        # resubscribed after the broker forgot everything: the camera is heard again
        await publish(broker.port, "cams/cam/available", b"online")
        await wait_until(lambda: _state(hub, "camera:cam") == "online", QUICK)
        assert len(events.of_type(LinkLost)) == 1
    journaled = [row.type for row in tail(tmp_path / "journal.db", 200)]
    assert [t for t in journaled if t.startswith("Link")] == ["LinkLost", "LinkRestored"]


async def test_what_was_queued_for_the_hub_reaches_its_devices_and_the_rest_is_counted(
    tmp_path: Path, mosquitto: StartMosquitto
) -> None:
    """While the hub was stopped, its camera went online, and a topic of an earlier
    configuration got a message. At start, the camera is told (whenever it subscribes),
    and the stale message is counted unmatched once every device has started."""
    broker = mosquitto()
    config = shop(tmp_path, f"mqtt: {{host: 127.0.0.1, port: {broker.port}}}\n")
    earlier = MqttSession(broker.mqtt_config(client_id="ecrin-bijouterie-test"))
    for topic in ("cams/#", "old/#"):
        await earlier.subscribe(topic, lambda _m: None, qos=1)
    async with earlier:
        await wait_until(lambda: earlier.connected, QUICK)
    async with broker.client() as camera:
        await camera.publish("cams/cam/available", b"online", qos=1)  # not retained
        await camera.publish("old/thing", b"stale", qos=1)
    async with hub_of(config) as hub:
        await hub.wait_ready()
        session = hub.mqtt
        assert session is not None
        await wait_until(lambda: _state(hub, "camera:cam") == "online", QUICK)
        await wait_until(lambda: session.counters.unmatched == 1, QUICK)


async def test_an_unreachable_broker_delays_nothing_and_is_one_link_lost(tmp_path: Path) -> None:
    absent = Mosquitto(tmp_path / "absent")  # a port nothing listens on
    config = shop(tmp_path, f"mqtt: {{host: 127.0.0.1, port: {absent.port}}}\n")
    async with asyncio.timeout(QUICK), hub_of(config) as hub:
        readiness = await hub.wait_ready()
        assert readiness.running == readiness.configured == 1  # the camera runs, unknown
        session = hub.mqtt
        assert session is not None
        await wait_until(lambda: session.counters.failed_attempts >= 3, QUICK)
        await wait_until(lambda: _state(hub, "link:mqtt") == "down", QUICK)
        assert _state(hub, "camera:cam") == "unknown"
        assert hub.readiness().document()[1]["status"] == "degraded"
    journaled = [row.type for row in tail(tmp_path / "journal.db", 200)]
    assert journaled.count("LinkLost") == 1


async def test_a_session_given_to_the_hub_wins_and_is_listened_to(tmp_path: Path) -> None:
    session = MemorySession()
    config = shop(tmp_path, "mqtt: {host: 127.0.0.1, port: 1}\n")
    async with hub_of(config, messages=session) as hub:
        assert hub.mqtt is None
        assert hub.embedded_broker is None
        await hub.wait_ready()
        assert ShopCamera.seen["cam"].messages is session
        events = observe(hub)
        session.set_connected(False)
        session.set_connected(True)
        await events.wait_for(LinkRestored, timeout=QUICK)
    assert [type(e) for e in events.of_type(Event, _is_link)] == [LinkLost, LinkRestored]


async def test_a_taken_embedded_port_leaves_the_cameras_unknown(tmp_path: Path) -> None:
    blocker = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = blocker.sockets[0].getsockname()[1]
    try:
        config = shop(tmp_path, f"mqtt:\n  embedded: {{port: {port}}}\n")
        async with hub_of(config) as hub:
            await hub.wait_ready()
            assert hub.embedded_broker is None
            assert hub.mqtt is not None
            assert not hub.mqtt.connected
            await wait_until(lambda: _state(hub, "link:mqtt") == "down", QUICK)
            assert _state(hub, "camera:cam") == "unknown"
    finally:
        blocker.close()
        await blocker.wait_closed()


def test_the_broker_link_escalates_when_it_carries_holdup_buttons(tmp_path: Path) -> None:
    bridge = """\
    devices:
      - id: bridge
        type: test-bridge
        zones: {1: {zone: vitrine, type: holdup}}
    """
    assert BROKER_LINK in hub_of(shop(tmp_path, bridge))._escalation_site().holdup_devices
    # cameras alone: the broker's loss is the cameras' unknown, judged by their rules
    assert BROKER_LINK not in hub_of(shop(tmp_path))._escalation_site().holdup_devices


def _state(hub: Hub, entity: str) -> str | None:
    state = hub.state.get(entity)
    return state.state if state is not None else None


def _is_link(event: Event) -> bool:
    return isinstance(event, LinkLost | LinkRestored)
