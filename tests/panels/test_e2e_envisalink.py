"""A DSC panel behind an Envisalink, end to end over real loopback TCP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hub.events import AlarmKind, AlarmSignal, LinkLost, LinkRestored, PanelState
from hub.testing import EventRecorder
from plugins.panels.devices import LoginRefused
from plugins.panels.simulators import EnvisalinkSimulator, TcpPanelPort


@pytest.fixture
async def envisalink() -> AsyncIterator[EnvisalinkSimulator]:
    port = TcpPanelPort()
    await port.start()
    async with EnvisalinkSimulator(port, password="secret") as sim:
        yield sim
    await port.close()


def settings(sim: EnvisalinkSimulator, **extra: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": sim.port.port,
        "password": "secret",
        "reconnect_max": 0.2,
        **extra,
    }


async def test_logs_in_then_asks_status_and_decodes_a_panic(
    envisalink: EnvisalinkSimulator, build_device: Any, running: Any, recorder: EventRecorder
) -> None:
    device = build_device("envisalink", settings(envisalink, poll_interval=0.05))
    async with running(device):
        await envisalink.wait_command("000")  # polling has started
        assert device.logged_in
        await recorder.wait_for(PanelState)  # the status report's partition state
        await envisalink.panic_key()
        (panic,) = await recorder.wait_for(AlarmSignal)
    assert (panic.kind, panic.code, panic.protocol) == (AlarmKind.PANIC, "625", "dsc-it100")
    assert envisalink.logins == ["secret"]
    # Nothing is sent before the login: the password first, then the status request.
    assert [f.command for f in envisalink.commands[:2]] == ["005", "001"]


async def test_a_wrong_password_stops_the_device_with_a_clear_error(
    envisalink: EnvisalinkSimulator, build_device: Any
) -> None:
    device = build_device("envisalink", {**settings(envisalink), "password": "wrong"})
    async with device:
        with pytest.raises(LoginRefused, match=r"TCP 127.0.0.1:\d+: login refused"):
            await asyncio.wait_for(device.run(), 5)
    assert envisalink.logins == ["wrong"]


async def test_a_dropped_session_is_reconnected_and_logged_in_again(
    envisalink: EnvisalinkSimulator, build_device: Any, running: Any, recorder: EventRecorder
) -> None:
    device = build_device("envisalink", settings(envisalink, poll_interval=0.0))
    async with running(device):
        await envisalink.wait_command("001")
        envisalink.unplug()
        (lost,) = await recorder.wait_for(LinkLost)
        assert "closed by the peer" in lost.reason
        envisalink.replug()
        await recorder.wait_for(LinkRestored)
        await envisalink.wait_command("001", count=2)  # logged in again, status again
        await envisalink.zone_alarm(zone=8)
        (alarm,) = await recorder.wait_for(AlarmSignal)
    assert alarm.panel_zone == 8
    assert envisalink.logins == ["secret", "secret"]
    assert device.reconnects == 1


async def test_an_envisalink_that_is_not_there_is_a_clear_oserror(build_device: Any) -> None:
    port = TcpPanelPort()
    await port.start()
    free = port.port
    await port.close()
    device = build_device("envisalink", {"host": "127.0.0.1", "port": free, "password": "secret"})
    with pytest.raises(OSError, match=rf"TCP 127.0.0.1:{free}: cannot connect"):
        async with device:
            pass
