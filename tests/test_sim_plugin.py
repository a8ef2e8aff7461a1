"""The sim plugin's devices, with the test kit: the panel's hold-ups, and the camera as
a message device on an in-memory session."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import pytest

import plugins.sim
from hub.sdk import AlarmKind, AlarmSignal, CameraAvailability, CameraMotion, Message, PanelState
from hub.testing import EventRecorder
from plugins.sim import SimCamera, SimCameraDecoder


@pytest.fixture
def ecrin_plugins() -> Sequence[ModuleType]:
    return [plugins.sim]


async def test_the_camera_cycles_through_its_messages(
    build_device: Callable[..., Any], running: Callable[[Any], Any], recorder: EventRecorder
) -> None:
    camera = build_device("sim-camera", {"period": 0.06}, "cam-1")
    assert isinstance(camera, SimCamera)
    async with running(camera):
        await recorder.wait_for(CameraAvailability, lambda e: e.state == "offline")
    seen = [
        e.state if isinstance(e, CameraAvailability) else e.active
        for e in recorder.events
        if isinstance(e, CameraAvailability | CameraMotion)
    ]
    assert seen[:4] == ["online", True, False, "offline"]
    assert all(getattr(e, "camera", None) == "cam-1" for e in recorder.events)
    assert camera.decoder.stats.rejected == 0


def test_the_camera_decoder_skips_what_it_does_not_know() -> None:
    decoder = SimCameraDecoder()
    assert decoder.decode(Message("sim/cam/motion", b"maybe")) == []
    assert decoder.decode(Message("other/cam/motion", b"ON")) == []
    (event,) = decoder.decode(Message("sim/cam/motion", b"ON"))
    assert event == CameraMotion(camera="cam", active=True, time=event.time)
    assert (decoder.stats.frames, decoder.stats.rejected, decoder.stats.events) == (3, 2, 1)


async def test_the_panel_reports_a_silent_holdup(
    build_device: Callable[..., Any], running: Callable[[Any], Any], recorder: EventRecorder
) -> None:
    async with running(build_device("sim-panel", {"interval": 0.05, "holdup_zone": 5})):
        (signal,) = await recorder.wait_for(AlarmSignal, lambda s: s.restore)
    assert recorder.of_type(PanelState)[0].state == "disarmed"
    assert (signal.kind, signal.panel_zone) == (AlarmKind.HOLDUP, 5)
