"""Bad input on the real broker: malformed JSON on Frigate's ``events``, an unknown word
on a state topic, a retained message about a camera the shop no longer has, payloads
of the wrong type for an ``mqtt-camera``. The hub keeps running, says so in a few log
lines however many bad messages come, counts them, and never counts a camera online
because of them; the next good message is read as usual.

The first test runs ``ecrin run`` and reads its log as an installer would: the log
filter that limits repeated lines belongs to the process. The second runs the hub in
the test's process, because the counters it checks are the devices' own
(``counters()``), which only a test inside the process can read.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import aiomqtt

from hub.app import Hub
from hub.config import load_config
from hub.devices import DeviceContext, DeviceType
from hub.plugins import PluginManager
from hub.supervisor import Backoff
from hub.testing import wait_until
from hub.testing.plugin import StartMosquitto
from tests.e2e.camera_shop import (
    PORTE_RECORD,
    PORTE_STATUS,
    QUICK,
    HubProcess,
    frigate,
    frigate_online,
    write_camera_shop,
)

#: How many times each bad message is sent.
REPEATS = 40
NOT_JSON = b'{"type": "new", "after": {"id": "1607123955.475377-mxklsc", "camera": '
WRONG_WORD = b"MAYBE"
#: A tracked object of a camera the shop no longer has, left retained on the broker.
LEFTOVER = json.dumps(
    {
        "type": "end",
        "before": {"id": "1607123900.1-old", "camera": "entrepot", "label": "person"},
        "after": {"id": "1607123900.1-old", "camera": "entrepot", "label": "person"},
    }
).encode()
RECORDING_AS_TEXT = b'{"recording": "yes"}'  # the rule's words are booleans
STATUS_AS_NUMBER = b'{"state": 1}'  # the rule's words are strings


async def bad_input(client: aiomqtt.Client) -> None:
    """Every kind of bad message, ``REPEATS`` times each."""
    for _ in range(REPEATS):
        await client.publish("frigate/events", NOT_JSON, qos=1)
        await client.publish("frigate/comptoir/recordings/state", WRONG_WORD, qos=1)
        await client.publish(PORTE_RECORD, RECORDING_AS_TEXT, qos=1)
        await client.publish(PORTE_STATUS, STATUS_AS_NUMBER, qos=1)


def lines(log: str, pattern: str) -> list[str]:
    return [line for line in log.splitlines() if re.search(pattern, line)]


async def test_bad_messages_are_a_few_lines_and_never_a_camera_online(
    tmp_path: Path, mosquitto: StartMosquitto
) -> None:
    broker = mosquitto()
    async with broker.client() as earlier:  # left by an earlier configuration
        await earlier.publish("frigate/events", LEFTOVER, qos=1, retain=True)
    shop = write_camera_shop(tmp_path, broker_port=broker.port)
    async with HubProcess(shop) as hub, broker.client() as client:
        await bad_input(client)
        # A good message sent after them is read: everything before it was handled.
        await client.publish(PORTE_STATUS, b'{"state": "offline"}', qos=1)
        await hub.wait_state("camera:cam-porte", "offline")
        states = await hub.states()
        for camera in ("cam-comptoir", "cam-vitrine", "cam-reserve"):
            assert states[f"camera:{camera}"]["state"] == "unknown", states[f"camera:{camera}"]
        assert states["camera:cam-porte"]["attributes"]["recording"] is None
        assert not any(s["state"] == "online" for s in states.values() if s["domain"] == "camera")
        assert await hub.health() == (True, True)
        # The next good messages are read as usual.
        async with frigate(broker.port) as (sim, _link):
            await frigate_online(sim)
            await hub.wait_state("camera:cam-comptoir", "online", recording=True)
        await client.publish(PORTE_RECORD, b'{"recording": true}', qos=1)
        await hub.wait_state("camera:cam-porte", "offline", recording=True)
        log = hub.log()
    # 4 x 40 bad messages, and the leftover: one line each per camera and kind (the
    # repeats are counted, for the next line of the kind after the window).
    for camera in ("cam-comptoir", "cam-vitrine", "cam-reserve"):
        skipped = lines(log, rf"{camera}: skipped a Frigate message")
        assert len(skipped) == 1, skipped
        stale = lines(log, rf"{camera}: ignored a retained frigate/events of 'entrepot'")
        assert len(stale) == 1, stale
    assert "frigate/events: not JSON" in lines(log, "cam-vitrine: skipped")[0]
    recording = lines(log, r"cam-porte: bad recording payload on cams/porte/record")
    assert len(recording) == 1, recording
    assert "$.recording is a string" in recording[0]
    assert "expected a boolean" in recording[0]
    availability = lines(log, r"cam-porte: bad availability payload on cams/porte/status")
    assert len(availability) == 1, availability
    assert "Traceback" not in log


def capturing(catalogue: dict[str, DeviceType], built: dict[str, Any]) -> dict[str, DeviceType]:
    """The same device types, each device built kept in ``built`` by id."""

    def wrap(device_type: DeviceType) -> DeviceType:
        make = device_type.factory

        def factory(ctx: DeviceContext) -> Any:
            device = make(ctx)
            built[ctx.device_id] = device
            return device

        schema = {} if device_type.settings is not None else device_type.schema  # re-derived
        return dataclasses.replace(device_type, factory=factory, schema=schema)

    return {name: wrap(t) for name, t in catalogue.items()}


async def test_bad_messages_are_counted_by_kind(tmp_path: Path, mosquitto: StartMosquitto) -> None:
    broker = mosquitto()
    async with broker.client() as earlier:
        await earlier.publish("frigate/events", LEFTOVER, qos=1, retain=True)
    shop = write_camera_shop(tmp_path, broker_port=broker.port)
    manager = PluginManager()
    manager.load_entry_points()
    built: dict[str, Any] = {}
    catalogue = capturing(manager.device_types(), built)
    config = load_config(shop.path, catalogue, manager.config_sections())
    hub = Hub(config, manager, catalogue, serve_http=False, backoff=lambda: Backoff(0.05, 0.5))
    async with hub, broker.client() as client:
        await hub.wait_ready()
        session = hub.mqtt
        assert session is not None
        await wait_until(lambda: session.connected, QUICK)
        await bad_input(client)
        await client.publish(PORTE_STATUS, b'{"state": "offline"}', qos=1)
        porte = built["cam-porte"]
        await wait_until(lambda: porte.counters()["events"] == 1, QUICK)
        comptoir, vitrine = built["cam-comptoir"].counters(), built["cam-vitrine"].counters()
        assert session.counters.handler_errors == 0
    # Every Frigate camera reads the shared events topic: each rejects the malformed
    # ones and skips the leftover; only the counter's camera reads its own state topic.
    assert (comptoir["rejected"], comptoir["stale"], comptoir["events"]) == (2 * REPEATS, 1, 0)
    assert (vitrine["rejected"], vitrine["stale"], vitrine["events"]) == (REPEATS, 1, 0)
    counted = porte.counters()
    assert (counted["wrong_type"], counted["rejected"]) == (2 * REPEATS, 2 * REPEATS)
    assert hub.state.get("camera:cam-porte").state == "offline"  # type: ignore[union-attr]
    assert hub.state.get("camera:cam-comptoir").state == "unknown"  # type: ignore[union-attr]
