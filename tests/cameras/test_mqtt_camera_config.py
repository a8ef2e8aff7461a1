"""mqtt-camera settings through the real configuration loader: a valid file reads into
rules, and every mistake inside the nested mappings is reported as FILE:LINE:COLUMN."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import pytest

from hub.config import Config, ConfigError, load_config
from hub.plugins import PluginManager
from plugins.cameras import mqtt_camera
from plugins.cameras.mqtt_camera import MqttCameraSettings, camera_rules

SITE = """\
site:
  name: Bijouterie Test
  address: 1 rue du Test, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {id: vitrine, name: Vitrine, risk: high}
  - {id: comptoir, name: Comptoir, risk: high}
"""  # 8 lines: the cameras start at line 9


@pytest.fixture
def ecrin_plugins() -> Sequence[ModuleType]:
    return [mqtt_camera]


def write(tmp_path: Path, cameras: str) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(SITE + textwrap.dedent(cameras).lstrip("\n"), encoding="utf-8")
    return path


def load(path: Path, plugin_manager: PluginManager) -> Config:
    return load_config(path, plugin_manager.device_types())


def issues(path: Path, plugin_manager: PluginManager) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path, plugin_manager)
    return [str(issue) for issue in caught.value.issues]


def test_the_documented_example_loads(tmp_path: Path, plugin_manager: PluginManager) -> None:
    path = write(
        tmp_path,
        """
        cameras:
          - id: cam-vitrine
            type: mqtt-camera
            zones: [vitrine]
            placement: indoor
            settings:
              availability: {topic: cams/vitrine/status, online: "online", offline: "offline"}
              recording: {topic: cams/vitrine/state, value: "$.recording", on: true, off: false}
              motion: {topic: cams/vitrine/motion, on: "ON", off: "OFF"}
        """,
    )
    (camera,) = load(path, plugin_manager).cameras
    rules = camera_rules(MqttCameraSettings(**camera.settings))
    assert [(r.what, r.topic, r.words) for r in rules] == [
        ("availability", "cams/vitrine/status", (("online", "online"), ("offline", "offline"))),
        ("recording", "cams/vitrine/state", (("on", True), ("off", False))),
        ("motion", "cams/vitrine/motion", (("on", "ON"), ("off", "OFF"))),
    ]


def test_every_mistake_is_reported_at_its_line_and_column(
    tmp_path: Path, plugin_manager: PluginManager
) -> None:
    path = write(
        tmp_path,
        """
        cameras:
          - id: cam-a
            type: mqtt-camera
            zones: [vitrine]
            placement: indoor
            settings:
              availability:
                topic: cams/+/status
                online: "up"
                offline: up
                colour: blue
              recording: {topic: cams/a/state, value: "$..recording", on: true, off: false}
              motion:
                value: "{{ value_json.motion | int }}"
          - id: cam-b
            type: mqtt-camera
            zones: [comptoir]
            placement: indoor
            settings:
              motion: {topic: cams/b/motion, on: ON, off: OFF}
        """,
    )
    assert issues(path, plugin_manager) == [
        f'{path}:16:16: cameras[0].settings.availability.topic: "cams/+/status" has a'
        " wildcard (+ or #): name the one topic the camera publishes on",
        f'{path}:18:18: cameras[0].settings.availability.offline: the same word as online ("up"):'
        " each state needs its own",
        f"{path}:19:9: cameras[0].settings.availability.colour: unknown key (known: topic,"
        " value, online, offline, disabled)",
        f'{path}:20:47: cameras[0].settings.recording.value: "$..recording" is not in the JSON'
        " path subset ($, then .key, ['key'] or [0]): unexpected \"..recordin\" at character 2",
        f"{path}:22:9: cameras[0].settings.motion.topic: required: the topic the camera"
        " publishes on",
        f"{path}:22:16: cameras[0].settings.motion.value: unknown filter 'int' (known: lower,"
        " upper, trim)",
        f"{path}:27:5: cameras[1].settings.availability: required setting is missing",
        f"{path}:28:42: cameras[1].settings.motion.on: got a boolean (true): without value, the"
        " payload is compared as text, so write the word in quotes (YAML reads an unquoted ON,"
        " OFF, yes, no, true or false as a boolean)",
        f"{path}:28:51: cameras[1].settings.motion.off: got a boolean (false): without value,"
        " the payload is compared as text, so write the word in quotes (YAML reads an unquoted"
        " ON, OFF, yes, no, true or false as a boolean)",
    ]
