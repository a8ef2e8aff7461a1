"""Cameras in escalations, end to end: ``ecrin run`` with a DSC panel on a
pseudo-terminal, Frigate cameras on a real Mosquitto, the referent's webhook receiver
and Frigate's export API on loopback.

* a hold-up at the counter: the signed webhook says whether the counter's camera
  films it (``camera_states``), and the hold-up's window of recordings is exported at
  Frigate (``keep_recordings``, through Frigate's HTTP API);
* the counter's camera lost while the shop is armed: a ``camera_lost`` technical
  escalation reaches the referent; a camera lost while disarmed escalates nothing.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

from hub.escalation.webhooks import verify_signature
from hub.testing.plugin import StartMosquitto
from hub.transports.pty import PtyCable
from plugins.panels.simulators import It100Simulator
from tests.cameras.frigate_server import frigate_api
from tests.e2e.camera_shop import QUICK, HubProcess, frigate, frigate_online, write_camera_shop
from tests.escalation.conftest import SECRET_37, Receiver, Request

#: The shop's default ``scene.before``: recordings kept from this long before a hold-up.
SCENE_BEFORE = timedelta(seconds=600)


def created(kind: str) -> object:
    def matches(request: Request) -> bool:
        return request.event == "escalation.created" and request.data["kind"] == kind

    return matches


async def test_a_holdup_tells_the_referent_the_camera_films_and_frigate_keeps_the_window(
    tmp_path: Path, mosquitto: StartMosquitto, pty_cable: PtyCable
) -> None:
    broker = mosquitto()
    receiver = await Receiver(SECRET_37).start()
    try:
        async with frigate_api() as api:
            # Frigate keeps 10 days where the shop declares 30 (the default).
            api.config = {"cameras": {"comptoir": {"record": {"retain": {"days": 10}}}}}
            shop = write_camera_shop(
                tmp_path,
                broker_port=broker.port,
                panel=pty_cable.path,
                webhook=receiver.url,
                frigate_api=api.url,
            )
            async with (
                It100Simulator(pty_cable) as panel,
                HubProcess(shop) as hub,
                frigate(broker.port) as (sim, _link),
            ):
                await frigate_online(sim)
                await hub.wait_state("camera:cam-comptoir", "online", covering=True)
                # The hub checked it at the camera's start: a technical fault shown.
                await hub.wait_state(
                    "camera:cam-comptoir",
                    "online",
                    retention_fault="NVR keeps 10 days, declared 30 (Frigate GET /api/config)",
                )
                await panel.zone_alarm(zone=5)  # the hold-up button under the counter
                (request,) = await receiver.wait_for(created("holdup"), timeout=QUICK)
                await api.wait(1, timeout=QUICK)
    finally:
        await receiver.stop()
    assert verify_signature(SECRET_37, request.signature, request.body, time.time())
    data = request.data
    assert (data["zone"]["id"], data["cameras"]) == ("comptoir", ["cam-comptoir"])
    (camera,) = data["camera_states"]
    assert (camera["id"], camera["state"], camera["covering"], camera["recording"]) == (
        "cam-comptoir",
        "online",
        True,
        True,
    )
    # Frigate is asked to export the window from scene.before ahead of the signal: at
    # once what it has written (settle: 0), named after the escalation.
    export = api.requests[0]
    signalled = datetime.fromisoformat(data["time"])  # the signal's time
    assert export.camera == "comptoir"
    assert export.start == int((signalled - SCENE_BEFORE).timestamp())
    assert export.start < export.end <= time.time() + 1
    assert export.body["name"] == f"{data['id']} (1/2)"


async def test_a_camera_lost_while_armed_is_a_technical_escalation(
    tmp_path: Path, mosquitto: StartMosquitto, pty_cable: PtyCable
) -> None:
    broker = mosquitto()
    receiver = await Receiver(SECRET_37).start()
    try:
        shop = write_camera_shop(
            tmp_path, broker_port=broker.port, panel=pty_cable.path, webhook=receiver.url
        )
        async with (
            It100Simulator(pty_cable) as panel,
            HubProcess(shop) as hub,
            frigate(broker.port) as (sim, _link),
        ):
            await frigate_online(sim)
            await hub.wait_state("camera:cam-comptoir", "online", covering=True)
            await hub.wait_state("camera:cam-vitrine", "online", covering=True)
            # Disarmed, the window's camera drops off: its state says so, nothing more.
            await sim.report_status("vitrine", "offline")
            await hub.wait_state("camera:cam-vitrine", "offline")
            # Armed, the counter's camera drops off: nobody watches the counter.
            await panel.armed(partition=1, mode=0)
            await hub.wait_state("partition:centrale:1", "armed_away")
            await sim.report_status("comptoir", "offline")
            (request,) = await receiver.wait_for(created("camera_lost"), timeout=QUICK)
    finally:
        await receiver.stop()
    assert request.verified
    data = request.data
    assert (data["priority"], data["zone"]["id"], data["cameras"]) == (
        "technical",
        "comptoir",
        ["cam-comptoir"],
    )
    (camera,) = data["camera_states"]
    assert (camera["id"], camera["state"], camera["covering"]) == ("cam-comptoir", "offline", False)
    assert [r.data["kind"] for r in receiver.requests] == ["camera_lost"]
