"""A scripted day, from the journal to the report: camera transitions and signals are
journaled at pinned times, the coverage log is made from the journal by the hub's own
code (``rebuild``), and the report read from that log holds exactly the figures the
day gives, through the Python API and through ``ecrin report coverage``.

The day (Europe/Paris, 12 March 2024, UTC+1), from 06:00 to 23:00:

* the hub starts at 06:00, stops cleanly at 12:00, starts again at 13:00 and stops at
  23:00;
* ``cam-counter`` (the counter, high risk) goes offline 10:00-10:30 (its NVR's last
  will) and stops recording 14:00-15:00;
* ``cam-window`` (the window) films all day;
* the office has no camera;
* a hold-up at the counter at 09:15, a duress at 16:00, a burglary at the window at
  11:00.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.cli import main
from hub.coverage.report_source import ReportSource, coverage_path
from hub.coverage.store import rebuild
from hub.events import (
    AlarmKind,
    AlarmSignal,
    CameraAvailability,
    CameraRecording,
    Event,
    HubAlive,
    HubStarted,
    HubStopping,
)
from tests.coverage.scripted import at, shop_config, write_journal

HOUR = 3600.0


def _run(start: datetime, stop: datetime, *, cameras_from: datetime) -> list[Event]:
    """One run of the hub: its start, its cameras heard from, its clean stop."""
    events: list[Event] = [HubStarted(time=start, site="s"), HubAlive(time=start, started=start)]
    for camera in ("cam-counter", "cam-window"):
        events.append(CameraAvailability(time=cameras_from, camera=camera, state="online"))
        events.append(CameraRecording(time=cameras_from, camera=camera, recording=True))
    return events


def day() -> list[Event]:
    signal = AlarmSignal
    morning = _run(at(6), at(12), cameras_from=at(6))
    afternoon = _run(at(13), at(23), cameras_from=at(13))
    return [
        *morning,
        signal(time=at(9, 15), kind=AlarmKind.HOLDUP, device="panel", zone="counter"),
        CameraAvailability(
            time=at(10), camera="cam-counter", state="offline", reason="NVR last will"
        ),
        CameraAvailability(time=at(10, 30), camera="cam-counter", state="online"),
        signal(time=at(11), kind=AlarmKind.BURGLARY, device="panel", zone="window"),
        HubStopping(time=at(12), site="s"),
        *afternoon,
        CameraRecording(time=at(14), camera="cam-counter", recording=False),
        CameraRecording(time=at(15), camera="cam-counter", recording=True),
        signal(time=at(16), kind=AlarmKind.DURESS, device="panel", zone="counter"),
        HubAlive(time=at(22, 59), started=at(13)),
        HubStopping(time=at(23), site="s"),
    ]


def shop_file_text(journal: Path) -> str:
    """The shop's file as an installer writes it, its journal at ``journal``: the
    cameras' type comes from the cameras plugin."""
    return f"""\
site: {{name: Bijouterie, address: "12 rue Nationale, 37000 Tours", departement: "37",
        timezone: Europe/Paris}}
zones:
  - {{id: counter, name: Comptoir, risk: high}}
  - {{id: window, name: Vitrine rue, risk: medium}}
  - {{id: office, name: Bureau, risk: low}}
cameras:
  - {{id: cam-counter, type: mqtt-camera, zones: [counter], placement: indoor,
     settings: {{availability: {{topic: cams/counter/status}}}}}}
  - {{id: cam-window, type: mqtt-camera, zones: [window], placement: outdoor,
     settings: {{availability: {{topic: cams/window/status}}}}}}
journal: {{path: {journal}}}
"""


@pytest.fixture
async def shop(tmp_path: Path) -> ReportSource:
    config = shop_config(tmp_path)
    await write_journal(config.journal.path, day())
    cameras = {c.id: c.zones for c in config.cameras}
    rebuild(config.journal.path, coverage_path(config), cameras, [z.id for z in config.zones])
    return ReportSource.of(config)


def _zones(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    zones = document["zones"]
    listed = zones["list"] if isinstance(zones, dict) else zones
    return {z["id"]: z for z in listed}


def _gaps(zone: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(g["start"][11:16], g["end"][11:16], g["cause"]) for g in zone["gaps"]]


def test_every_figure_of_the_day_from_the_real_log(shop: ReportSource) -> None:
    body, media = shop.make("2024-03-12", "2024-03-12", "json")
    assert media == "application/json"
    report = json.loads(body)
    # The log holds 06:00-23:00 of the day's 24 hours; the rest is not recorded.
    assert report["period"]["seconds"] == 24 * HOUR
    assert report["period"]["not_recorded_seconds"] == 7 * HOUR
    zones = _zones(report)

    counter = zones["counter"]
    assert counter["risk"] == "high"
    assert counter["covered_seconds"] == 14.5 * HOUR  # 4 + 1.5 + 1 + 8
    assert counter["gap_seconds"] == 2.5 * HOUR
    assert counter["covered_percent"] == 85.29  # 14.5 / 17, rounded down
    assert _gaps(counter) == [
        ("10:00", "10:30", "camera offline (cam-counter)"),
        ("12:00", "13:00", "hub down"),
        ("14:00", "15:00", "not recording (cam-counter)"),
    ]
    assert counter["signals"]["holdup"] == 1
    assert counter["signals"]["duress"] == 1

    window = zones["window"]
    assert window["covered_seconds"] == 16 * HOUR
    assert _gaps(window) == [("12:00", "13:00", "hub down")]
    assert window["covered_percent"] == 94.11  # 16 / 17, rounded down
    assert window["signals"]["alarm"] == 1

    office = zones["office"]
    assert office["covered_seconds"] == 0
    assert office["gap_seconds"] == 17 * HOUR
    assert office["covered_percent"] == 0


def test_the_command_reads_the_same_log(shop: ReportSource, tmp_path: Path) -> None:
    config = shop.config
    config_file = tmp_path / "shop.yaml"
    config_file.write_text(shop_file_text(config.journal.path), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "report",
            "coverage",
            "-c",
            str(config_file),
            "--from",
            "2024-03-12",
            "--to",
            "2024-03-12",
            "--format",
            "json",
        ],
        out=out,
        err=err,
    )
    assert code == 0, err.getvalue()
    zones = _zones(json.loads(out.getvalue()))
    assert zones["counter"]["covered_seconds"] == 14.5 * HOUR
    assert _gaps(zones["counter"])[1] == ("12:00", "13:00", "hub down")


def test_an_hour_of_the_day_is_exact_to_the_second(shop: ReportSource) -> None:
    body, _ = shop.make("2024-03-12T10:15", "2024-03-12T10:45", "json")
    counter = _zones(json.loads(body))["counter"]
    assert counter["gap_seconds"] == 15 * 60.0
    assert counter["covered_seconds"] == 15 * 60.0
    assert counter["covered_percent"] == 50.0
    assert timedelta(seconds=counter["gap_seconds"]) == timedelta(minutes=15)
