"""The demo's cameras: read from the demo's shop file, played by the simulator their
type declares in the catalogue (``DeviceType.broker_simulator``), and shown on the
terminal as the panel's events are."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.console import describe_event
from hub.devices import DeviceType
from hub.events import CameraAvailability, CameraDetection, CameraRecording
from hub.plugins import PluginManager
from plugins.sim import SimCamera
from plugins.sim.demo import DEMO_BROKER, DEMO_CONFIG, DemoCameras, copy_private, demo_cameras

T0 = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)


def test_the_demo_shop_has_two_frigate_cameras_on_its_embedded_broker() -> None:
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    assert DEMO_BROKER in text  # the line the demo moves to a free port
    cameras = DemoCameras.read(text)
    assert (cameras.host, cameras.port) == ("127.0.0.1", 18830)
    assert cameras.by_type == {
        "frigate": {"cam-comptoir": {"camera": "comptoir"}, "cam-vitrine": {"camera": "vitrine"}}
    }
    manager = PluginManager()
    manager.load_entry_points()
    assert manager.device_types()["frigate"].broker_simulator is not None


def test_a_shop_file_with_a_broker_host_and_secrets_is_read_too() -> None:
    text = """\
mqtt: {host: 0.0.0.0, port: 1884, password: !secret mqtt}
cameras:
  - {id: cam-a, type: frigate, settings: {camera: a, prefix: nvr2}}
  - {id: cam-b, type: sim-camera}
  - not a camera
"""
    cameras = DemoCameras.read(text)
    assert (cameras.host, cameras.port) == ("127.0.0.1", 1884)  # listening everywhere
    assert cameras.by_type == {
        "frigate": {"cam-a": {"camera": "a", "prefix": "nvr2"}},
        "sim-camera": {"cam-b": {}},
    }
    assert DemoCameras.read("cameras: [").by_type == {}  # the hub says what is wrong


async def test_each_camera_type_is_played_by_the_simulator_it_declares() -> None:
    calls: list[tuple[str, int, Mapping[str, Any], float]] = []
    running: list[bool] = []

    @contextlib.asynccontextmanager
    async def nvr(
        host: str, port: int, cameras: Mapping[str, Mapping[str, Any]], interval: float
    ) -> AsyncIterator[None]:
        calls.append((host, port, cameras, interval))
        running.append(True)
        try:
            yield
        finally:
            running.append(False)

    catalogue = {
        "nvr": DeviceType("nvr", SimCamera, category="camera", broker_simulator=nvr),
        "sim-camera": DeviceType("sim-camera", SimCamera, category="camera"),
    }
    cameras = DemoCameras(
        "127.0.0.1",
        18831,
        {"nvr": {"cam-1": {"camera": "one"}}, "sim-camera": {"cam-2": {}}, "gone": {"c": {}}},
    )
    async with demo_cameras(cameras, catalogue, interval=2.0) as played:
        assert played == ["nvr"]
        assert running == [True]
    assert running == [True, False]
    assert calls == [("127.0.0.1", 18831, {"cam-1": {"camera": "one"}}, 2.0)]


def test_camera_events_read_as_the_panels_do_on_the_terminal() -> None:
    lines = [
        describe_event(CameraRecording(time=T0, camera="cam-comptoir", recording=True)),
        describe_event(
            CameraAvailability(
                time=T0, camera="cam-vitrine", state="offline", reason="NVR last will"
            )
        ),
        describe_event(
            CameraDetection(
                time=T0,
                camera="cam-comptoir",
                detection="1.0-abc",
                label="person",
                phase="new",
                zones=("comptoir",),
            )
        ),
    ]
    shown = [line.split("  ", 1)[1] for line in lines]  # after the local time
    assert shown == [
        "RECORDING on     cam-comptoir",
        "CAMERA offline   cam-vitrine: NVR last will",
        "DETECTION new    person on cam-comptoir in comptoir",
    ]


def test_the_demo_copies_the_secrets_file_readable_by_its_account_only(tmp_path: Path) -> None:
    """``ecrin demo --keep DIR`` copies ``secrets.yaml`` beside the shop file: 0600,
    whatever the umask, and tightened over an earlier, wider copy."""
    source = tmp_path / "secrets.yaml"
    source.write_text("mqtt_password: hunter2\n", encoding="utf-8")
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "secrets.yaml").write_text("old\n", encoding="utf-8")
    (kept / "secrets.yaml").chmod(0o644)
    old = os.umask(0)
    try:
        copy_private(source, kept / "secrets.yaml")
    finally:
        os.umask(old)
    assert (kept / "secrets.yaml").read_text(encoding="utf-8") == "mqtt_password: hunter2\n"
    assert stat.S_IMODE((kept / "secrets.yaml").stat().st_mode) == 0o600
