"""Cameras on MQTT, end to end: ``ecrin run`` in a process of its own, a real Mosquitto
on a loopback port (or the hub's embedded broker), and a simulated Frigate publishing
Frigate's real topics and payloads through its own connection, with Frigate's last
will. What the tests read is what an installer reads: ``GET /api/v1/state``, ``ecrin
status``, and what a Home Assistant on the same broker receives.

The shop (``tests/e2e/camera_shop.py``): ``cam-comptoir`` and ``cam-vitrine`` behind the
Frigate, ``cam-reserve`` a Frigate camera the NVR never mentions, ``cam-porte`` an
``mqtt-camera`` whose JSON status the test publishes as the camera would.
"""

from __future__ import annotations

import json
from pathlib import Path

import aiomqtt

from hub.testing import wait_until
from hub.testing.mosquitto import free_port
from hub.testing.plugin import StartMosquitto
from tests.e2e.camera_shop import (
    PORTE_RECORD,
    PORTE_STATUS,
    QUICK,
    HubProcess,
    ecrin,
    frigate,
    frigate_online,
    write_camera_shop,
)
from tests.homeassistant.support import HomeAssistant, running

CAMERAS = ("cam-comptoir", "cam-vitrine", "cam-reserve", "cam-porte")


async def porte_says(client: aiomqtt.Client, state: str, recording: bool | None = None) -> None:
    """The door's camera publishes its status as its firmware does: retained, QoS 1."""
    await client.publish(PORTE_STATUS, json.dumps({"state": state}), qos=1, retain=True)
    if recording is not None:
        payload = json.dumps({"recording": recording})
        await client.publish(PORTE_RECORD, payload, qos=1, retain=True)


async def test_cameras_reach_the_state_as_frigate_and_the_camera_say(
    tmp_path: Path, mosquitto: StartMosquitto
) -> None:
    broker = mosquitto()
    shop = write_camera_shop(tmp_path, broker_port=broker.port)
    async with HubProcess(shop) as hub, broker.client() as porte:
        # Never heard from since the hub started: unknown, never online by default.
        states = await hub.states()
        assert {c: states[f"camera:{c}"]["state"] for c in CAMERAS} == dict.fromkeys(
            CAMERAS, "unknown"
        )
        async with frigate(broker.port) as (sim, _link):
            await frigate_online(sim)
            await porte_says(porte, "online", recording=True)
            await hub.wait_state("camera:cam-comptoir", "online", recording=True, covering=True)
            await hub.wait_state("camera:cam-vitrine", "online", recording=True, covering=True)
            await hub.wait_state("camera:cam-porte", "online", recording=True, covering=True)
            # A person at the till, a region of the counter's image mapped to the shop's
            # zone; motion while it is there.
            await sim.motion("comptoir", True)
            await sim.track("comptoir", "person", zones=["caisse"])
            await hub.wait_state(
                "camera:cam-comptoir",
                "online",
                motion=True,
                detection="person",
                detection_zones=["comptoir"],
            )
            # The counter's stream goes down at Frigate (both roles offline), the window's
            # camera is turned off at Frigate, the door's camera says it is offline.
            await sim.status("comptoir", "detect", "offline")
            await sim.status("comptoir", "record", "offline")
            await sim.set_enabled("vitrine", False)
            await porte_says(porte, "offline")
            comptoir = await hub.wait_state("camera:cam-comptoir", "offline", covering=False)
            await hub.wait_state("camera:cam-vitrine", "disabled", covering=False)
            await hub.wait_state("camera:cam-porte", "offline", covering=False)
            assert comptoir["attributes"]["recording"] is False  # its record role is down
            assert comptoir["attributes"]["reason"].startswith("no role online")
            # The camera the NVR never mentioned is still unknown.
            reserve = await hub.state("camera:cam-reserve")
            assert reserve is not None
            assert (reserve["state"], reserve["attributes"]["covering"]) == ("unknown", False)
    # Once the hub has stopped, `ecrin status` reads the same from the journal.
    done = await ecrin("status", "-c", str(shop.path), "--json")
    assert done.returncode == 0, done.stderr
    status = {e["entity_id"]: e["state"] for e in json.loads(done.stdout)["entities"]}
    assert [status[f"camera:{c}"] for c in CAMERAS] == ["offline", "disabled", "unknown", "offline"]


async def test_the_nvrs_last_will_puts_its_cameras_offline_at_once(
    tmp_path: Path, mosquitto: StartMosquitto
) -> None:
    """Frigate's connection cut without a goodbye: the broker publishes its last will
    as soon as the connection drops, not after a keepalive (the NVR's is 30 s, the
    broker would wait 45 s: far beyond the wait below), and the hub puts every camera
    of that NVR offline with the reason. Frigate back: online again."""
    broker = mosquitto()
    shop = write_camera_shop(tmp_path, broker_port=broker.port)
    async with HubProcess(shop) as hub, broker.client() as porte:
        await porte_says(porte, "online")
        async with frigate(broker.port) as (sim, link):
            await frigate_online(sim)
            await hub.wait_state("camera:cam-comptoir", "online")
            await hub.wait_state("camera:cam-vitrine", "online")
            link.sever()
            comptoir = await hub.wait_state(
                "camera:cam-comptoir", "offline", reason="NVR last will", covering=False
            )
            await hub.wait_state("camera:cam-vitrine", "offline", reason="NVR last will")
        # Every role Frigate had reported went with it.
        assert dict(comptoir["attributes"]["roles"]) == {
            "": "offline",
            "detect": "offline",
            "record": "offline",
        }
        # The other camera has nothing to do with that NVR.
        porte_state = await hub.state("camera:cam-porte")
        assert porte_state is not None
        assert porte_state["state"] == "online"
        # Frigate reconnects, with a fresh client, and says its states again.
        async with frigate(broker.port) as (sim, _link):
            await frigate_online(sim)
            await hub.wait_state("camera:cam-comptoir", "online", reason="")
            await hub.wait_state("camera:cam-vitrine", "online", reason="")


async def test_a_frigate_camera_comes_online_through_the_embedded_broker(
    tmp_path: Path,
) -> None:
    """No ``mqtt.host``: the hub runs its own broker on the port the configuration
    gives, and Frigate connects to it as it would to Mosquitto."""
    port = free_port()
    shop = write_camera_shop(tmp_path, embedded_port=port)
    async with HubProcess(shop) as hub, frigate(port) as (sim, _link):
        assert await hub.health() == (True, True)  # on its own broker
        await frigate_online(sim)
        await hub.wait_state("camera:cam-comptoir", "online", recording=True, covering=True)
        await sim.set_recording("comptoir", False)
        await hub.wait_state("camera:cam-comptoir", "online", recording=False, covering=False)


async def test_home_assistant_sees_the_cameras_and_the_hubs_last_will(
    tmp_path: Path, mosquitto: StartMosquitto
) -> None:
    broker = mosquitto()
    shop = write_camera_shop(tmp_path, broker_port=broker.port, home_assistant=True)
    config = "homeassistant/binary_sensor/ecrin-e2e/camera_cam-comptoir/config"
    state = "ecrin/entities/camera_cam-comptoir/state"
    attributes = "ecrin/entities/camera_cam-comptoir/attributes"
    async with broker.client(identifier="home-assistant") as client:
        ha = HomeAssistant(client)
        async with running(ha.run), HubProcess(shop) as hub:
            await wait_until(lambda: bool(ha.got(config)), timeout=QUICK)
            discovered = json.loads(ha.got(config)[-1].payload)
            assert discovered["availability_topic"] == "ecrin/status"
            assert discovered["state_topic"] == state
            await wait_until(lambda: ha.last("ecrin/status") == b"online", timeout=QUICK)
            # Not heard of yet: not covering.
            await wait_until(lambda: ha.last(state) == b"OFF", timeout=QUICK)
            async with frigate(broker.port) as (sim, _link):
                await frigate_online(sim)
                await wait_until(lambda: ha.last(state) == b"ON", timeout=QUICK)
                await sim.set_recording("comptoir", False)
                await wait_until(lambda: ha.last(state) == b"OFF", timeout=QUICK)

            def shown() -> tuple[object, object]:
                values = json.loads(ha.last(attributes) or b"{}")
                return values.get("availability"), values.get("recording")

            await wait_until(lambda: shown() == ("online", False), timeout=QUICK)
            # The hub dies: the broker says so for it, through its last will.
            hub.kill()
            await wait_until(lambda: ha.last("ecrin/status") == b"offline", timeout=QUICK)
