"""A ``frigate`` camera in a shop file: read by the real configuration loader, every
mistake reported as FILE:LINE:COLUMN: key.path: reason, all at once."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import plugins.cameras.frigate
from hub.config import ConfigError, load_config
from hub.escalation.config import CONFIG_SECTIONS
from hub.plugins import PluginManager

SHOP = """\
site:
  name: Bijouterie Test
  address: 1 rue du Test, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {id: vitrine, name: Vitrine, risk: high}
  - {id: comptoir, name: Comptoir, risk: high}
  - {id: coffre, name: Coffre, risk: high}
cameras:
  - id: cam-comptoir
    type: frigate
    zones: [comptoir, vitrine]
    placement: indoor
"""  # 14 lines: the settings written after it start at line 15


def catalogue() -> dict[str, object]:
    manager = PluginManager()
    manager.register(plugins.cameras.frigate, "frigate")
    return dict(manager.device_types())


def write(tmp_path: Path, settings: str) -> Path:
    """The shop file with the camera's ``settings:`` block (written flush left)."""
    path = tmp_path / "shop.yaml"
    block = textwrap.indent(textwrap.dedent(settings).lstrip("\n"), "    ")
    path.write_text(SHOP + block, encoding="utf-8")
    return path


def issues(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, catalogue(), CONFIG_SECTIONS)  # type: ignore[arg-type]
    return [str(issue) for issue in caught.value.issues]


def test_a_frigate_camera_is_read_with_its_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        settings:
          camera: comptoir_1
          zones: {caisse: comptoir, presentoir: vitrine}
          api: http://nvr.local:5000
        """,
    )
    config = load_config(path, catalogue(), CONFIG_SECTIONS)  # type: ignore[arg-type]
    (camera,) = config.cameras
    assert camera.type == "frigate"
    assert camera.zones == ("comptoir", "vitrine")
    assert camera.settings["camera"] == "comptoir_1"
    assert camera.settings["zones"] == {"caisse": "comptoir", "presentoir": "vitrine"}
    assert camera.settings["prefix"] == "frigate"
    assert camera.settings["status_topics"] == "auto"
    assert camera.settings["settle"] == 60.0


def test_a_camera_with_no_settings_is_valid(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""), catalogue(), CONFIG_SECTIONS)  # type: ignore[arg-type]
    assert config.cameras[0].settings["camera"] == ""


def test_every_mistake_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
            settings:
              camera: "comptoir/1"
              prefix: "frigate/#"
              zones:
                caisse: comptoir
                porte: coffre
                presentoir: 3
              status_topics: sometimes
              detections: all
              api: ftp://nvr.local
              api_timeout: 0
              setle: 30
        """,
    )
    assert issues(path) == [
        f"{path}:16:15: cameras[0].settings.camera:"
        " a Frigate camera name has only letters, digits, '_' and '-'",
        f"{path}:17:15: cameras[0].settings.prefix:"
        " the topic prefix cannot hold the wildcards + or #",
        f"{path}:19:9: cameras[0].settings.zones:"
        " Frigate zone 'presentoir': map it to a shop zone id, got 3",
        f"{path}:22:22: cameras[0].settings.status_topics:"
        " 'sometimes' is not one of: auto, yes, no",
        f"{path}:23:19: cameras[0].settings.detections: 'all' is not one of: events, reviews, both",
        f"{path}:24:12: cameras[0].settings.api:"
        " Frigate's address is an http:// or https:// URL, e.g. http://nvr.local:5000",
        f"{path}:25:20: cameras[0].settings.api_timeout: 0 is below the minimum 1.0",
        f"{path}:26:7: cameras[0].settings.setle: unknown setting (known: api, api_timeout,"
        " camera, detections, prefix, retry_max, settle, status_topics, zones)",
    ]


def test_a_zone_the_camera_does_not_cover_is_refused_at_its_entry(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
            settings:
              zones:
                caisse: comptoir
                porte: coffre
                vitrine_rue: entree
        """,
    )
    assert issues(path) == [
        f"{path}:18:16: cameras[0].settings.zones.porte:"
        " shop zone 'coffre' is not one of the camera's zones (comptoir, vitrine)",
        f"{path}:19:22: cameras[0].settings.zones.vitrine_rue:"
        " shop zone 'entree' is not one of the camera's zones (comptoir, vitrine)",
    ]


@pytest.mark.parametrize(
    ("api", "reason"),
    [
        ("http://admin:secret@nvr.local:5000", "no credentials in the address"),
        ("http://nvr.local:99999", "not a URL"),
        ("http://nvr.local:5000/?token=1", "no query nor fragment"),
        ("nvr.local:5000", "an http:// or https:// URL"),
    ],
)
def test_a_bad_api_address(tmp_path: Path, api: str, reason: str) -> None:
    path = write(tmp_path, f"settings:\n  api: {api!r}\n")
    (line,) = issues(path)
    assert line.startswith(f"{path}:16:12: cameras[0].settings.api: ")
    assert reason in line
    assert "secret" not in line
