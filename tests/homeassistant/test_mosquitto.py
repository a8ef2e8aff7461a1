"""Home Assistant discovery through a real Mosquitto broker, end to end.

The hub makes its own MQTT session (``MqttSession``, as ``ecrin run`` does) to the test
kit's Mosquitto, which asks every client for its password: the hub logs in with the
shop's ``mqtt.password`` (a ``!secret``). A plain aiomqtt client with a user of its own
plays Home Assistant, subscribed to ``homeassistant/#`` and the hub's topics.
"""

from __future__ import annotations

import json
from pathlib import Path

from hub.app import Hub
from hub.events import AlarmKind, AlarmSignal
from hub.supervisor import Backoff
from hub.testing import wait_until
from hub.testing.plugin import StartMosquitto
from hub.transports.mqtt import MqttSession
from tests.homeassistant.support import (
    BROKER_PASSWORD,
    SENSITIVE,
    HomeAssistant,
    load,
    plugin_manager,
    running,
    write_shop,
)

NODE = "homeassistant/{}/ecrin-tours/{}/config"
HOLDUP_CONFIG = NODE.format("binary_sensor", "holdup_comptoir")
LEFTOVER = NODE.format("binary_sensor", "holdup_reserve")
HOLDUP = "ecrin/entities/holdup_comptoir/state"
CAMERA = "ecrin/entities/camera_cam-comptoir/state"
HA_USER, HA_PASSWORD = "home-assistant", "ha-Secret-31415"


def fast() -> Backoff:
    return Backoff(initial=0.02, maximum=0.1)


def on_broker(path: Path, port: int) -> Path:
    """The shop's ``mqtt:`` section pointed at the broker's port."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  host: 127.0.0.1\n", f"  host: 127.0.0.1\n  port: {port}\n"))
    return path


async def test_home_assistant_sees_the_hub_through_mosquitto(
    tmp_path: Path, mosquitto: StartMosquitto
) -> None:
    broker = mosquitto(users={HA_USER: HA_PASSWORD, "ecrin": BROKER_PASSWORD}, persistence=False)
    path = on_broker(write_shop(tmp_path, period=0.2, escalation=False), broker.port)
    async with broker.client(identifier="home-assistant") as ha_client:
        ha = HomeAssistant(ha_client)
        # An entity of an earlier configuration, left retained on the broker.
        await ha_client.publish(LEFTOVER, b'{"name": "Hold-up Reserve"}', qos=1, retain=True)
        async with running(ha.run):
            await wait_until(lambda: bool(ha.got(LEFTOVER)))
            hub = Hub(load(path), plugin_manager(), serve_http=False, backoff=fast)
            async with hub:
                assert isinstance(hub.mqtt, MqttSession)  # the hub's own, logged in
                await wait_until(lambda: bool(ha.got(HOLDUP_CONFIG)), timeout=10)
                config = json.loads(ha.got(HOLDUP_CONFIG)[0].payload)
                assert config["enabled_by_default"] is False
                assert config["availability_topic"] == "ecrin/status"
                await wait_until(lambda: ha.last("ecrin/status") == b"online", timeout=10)
                await wait_until(lambda: bool(ha.got(LEFTOVER, b"")), timeout=10)  # removed
                # The simulated camera comes online; a hold-up at the counter.
                await wait_until(lambda: bool(ha.got(CAMERA, b"ON")), timeout=10)
                hub.emit(AlarmSignal(kind=AlarmKind.HOLDUP, device="centrale", zone="comptoir"))
                await wait_until(lambda: bool(ha.got(HOLDUP, b"ON")), timeout=10)
                # Home Assistant restarts and announces itself: everything again.
                configs, holdups = len(ha.got(HOLDUP_CONFIG)), len(ha.got(HOLDUP, b"ON"))
                await ha_client.publish("homeassistant/status", b"online", qos=1)
                await wait_until(lambda: len(ha.got(HOLDUP_CONFIG)) > configs, timeout=10)
                await wait_until(lambda: len(ha.got(HOLDUP, b"ON")) > holdups, timeout=10)
            # A clean stop says so on the hub's availability topic.
            await wait_until(lambda: ha.last("ecrin/status") == b"offline", timeout=10)
    # Nothing sensitive went over the broker, the hub's own password included.
    for message in ha.received:
        text = (message.topic + " " + message.payload.decode()).lower()
        for value in SENSITIVE:
            assert value.lower() not in text, (value, message)
    # What a Home Assistant starting now finds retained on the broker.
    async with broker.client(identifier="ha-restarted") as later_client:
        later = HomeAssistant(later_client)
        async with running(later.run):
            await wait_until(lambda: bool(later.got(HOLDUP, b"ON")), timeout=10)
            await wait_until(lambda: bool(later.got(HOLDUP_CONFIG)), timeout=10)
            assert all(m.retain for m in later.received)
            assert not later.got(LEFTOVER)
