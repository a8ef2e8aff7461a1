"""The demo shop's Frigate: what its rounds say, read by the real ``frigate`` devices
on an in-memory session; and, on a real Mosquitto, that it connects once the broker is
up and again after the broker restarted, saying its states each time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiomqtt

from hub.events import CameraAvailability, CameraDetection, CameraMotion
from hub.sdk import MemorySession
from hub.testing import EventRecorder, Mosquitto, wait_until
from plugins.cameras.frigate import TYPE, FrigateSimulator, frigate_demo
from plugins.cameras.frigate_demo import DemoNvr
from tests.homeassistant.support import running

BuildDevice = Any
Running = Any
#: A reconnection takes a retry (0.5 s), and at worst the client library's timeout (10
#: s) for an attempt made as the broker was stopping.
RECONNECT = 30.0


class Seen:
    """What another client of the broker sees of Frigate's topics."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.messages: set[str] = set()

    async def run(self) -> None:
        await self.client.subscribe("frigate/#")
        async for message in self.client.messages:
            self.messages.add(f"{message.topic.value} {message.payload!r}")


def availability(recorder: EventRecorder, camera: str) -> list[str]:
    return [
        e.state
        for e in recorder.of_type(CameraAvailability, lambda e: e.camera == camera and not e.role)
    ]


async def test_the_rounds_show_every_camera_and_one_outage_on_a_long_period(
    build_device: BuildDevice, running: Running, recorder: EventRecorder
) -> None:
    session = MemorySession()
    nvr = DemoNvr(FrigateSimulator(session, ["comptoir", "vitrine"]), 0.0, outage_every=6)
    devices = [
        build_device(TYPE, {"camera": name}, f"cam-{name}", messages=session, zones=(name,))
        for name in ("comptoir", "vitrine")
    ]
    async with running(devices[0]), running(devices[1]):
        await nvr.connected()
        for _ in range(2 * nvr.outage_every):
            await nvr.round()
    assert availability(recorder, "cam-comptoir") == ["online"]  # never down
    # The last camera drops off for OUTAGE_ROUNDS rounds, once per period.
    assert availability(recorder, "cam-vitrine") == ["online"] + ["offline", "online"] * 2
    assert nvr.down == set()
    # Motion and a person now and then, on the cameras that are up.
    people = recorder.of_type(CameraDetection, lambda e: e.phase == "new")
    assert {e.camera for e in people} == {"cam-comptoir", "cam-vitrine"}
    assert len(people) == 2 * nvr.outage_every
    assert all(e.label == "person" for e in people)
    assert recorder.of_type(CameraMotion, lambda e: e.active)


async def test_it_connects_once_the_broker_is_up_and_again_after_a_restart(
    tmp_path: Path,
) -> None:
    broker = Mosquitto(tmp_path / "broker")  # not started yet: the hub starts it later
    cameras = {"cam-comptoir": {"camera": "comptoir"}, "cam-vitrine": {}}
    try:
        async with frigate_demo(broker.host, broker.port, cameras, 0.05) as (nvr,):
            assert list(nvr.simulator.cameras) == ["comptoir", "cam-vitrine"]
            await wait_until(lambda: nvr.attempts >= 2, timeout=RECONNECT)  # while it is away
            assert nvr.connections == 0
            broker.start()
            for connections in (1, 2):
                async with broker.client() as client:
                    seen = Seen(client)
                    async with running(seen.run):
                        await wait_until(
                            lambda seen=seen: (
                                {
                                    "frigate/available b'online'",
                                    "frigate/comptoir/status/record b'online'",  # not retained
                                }
                                <= seen.messages
                            ),
                            timeout=RECONNECT,
                        )
                assert nvr.connections == connections
                broker.stop()  # forgets nothing (persistence), but the NVR is cut off
                broker.start()
    finally:
        broker.kill()
