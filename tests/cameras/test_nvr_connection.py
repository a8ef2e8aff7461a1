"""A simulated NVR's own connection, on a real Mosquitto: its last will is published
when it is cut, not when it says goodbye; a connection that is gone says so."""

from __future__ import annotations

from pathlib import Path

import aiomqtt
import pytest

from hub.testing import Mosquitto, wait_until
from hub.testing.plugin import StartMosquitto
from plugins.cameras.frigate import FrigateSimulator, NvrConnection, frigate_will
from tests.homeassistant.support import running


class Watcher:
    """Another client of the broker, recording what is said on ``frigate/available``."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.available: list[bytes] = []

    async def run(self) -> None:
        await self.client.subscribe("frigate/available", qos=1)
        async for message in self.client.messages:
            self.available.append(bytes(message.payload))  # type: ignore[arg-type]


async def test_a_cut_connection_leaves_frigates_last_will(mosquitto: StartMosquitto) -> None:
    broker = mosquitto()
    async with broker.client() as client:
        watcher = Watcher(client)
        async with running(watcher.run):
            async with NvrConnection(broker.host, broker.port, will=frigate_will()) as link:
                sim = FrigateSimulator(link, ["comptoir"])
                await sim.start()
                await wait_until(lambda: watcher.available == [b"online"])
                link.sever()
                assert not link.connected
                with pytest.raises(aiomqtt.MqttError):
                    await sim.motion("comptoir", True)
            await wait_until(lambda: watcher.available == [b"online", b"offline"])


async def test_a_goodbye_leaves_no_will(mosquitto: StartMosquitto) -> None:
    broker = mosquitto()
    async with NvrConnection(broker.host, broker.port, will=frigate_will()) as link:
        await FrigateSimulator(link, ["comptoir"]).start()
    async with broker.client() as client:  # after the goodbye: what is retained
        watcher = Watcher(client)
        async with running(watcher.run):
            await wait_until(lambda: bool(watcher.available))
    assert watcher.available == [b"online"]


async def test_a_broker_that_is_not_there_is_an_error(tmp_path: Path) -> None:
    absent = Mosquitto(tmp_path / "absent")  # its port: nothing listens there
    with pytest.raises(aiomqtt.MqttError):
        async with NvrConnection(absent.host, absent.port):
            pass
