"""A scripted day of a small shop, for the report's tests: its configuration, the
intervals its coverage log holds, and the signals its journal holds, at pinned times.

The shop (Europe/Paris, 12 March 2024, UTC+1): two cameras and three zones.

* ``cam-counter`` films the counter (high risk); indoor, 30 days.
* ``cam-window`` films the shop window (medium risk); outdoor, views the public road,
  15 days.
* The office (low risk) has no camera.

The log runs from 06:00 to 23:00; the hub was down from 12:00 to 13:00. The counter's
camera went offline 10:00-10:30 and stopped recording 14:00-15:00. A camera removed
from the configuration (``cam-old``) left one interval behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.config.model import CameraConfig, Config, DeviceConfig, JournalConfig, Site, Zone
from hub.coverage.memory import IntervalList
from hub.coverage.model import Interval
from hub.devices import PanelZone, ZoneMap
from hub.escalation.calendar import HighStockPeriod
from hub.escalation.config import EscalationSettings, HighStockSettings, Tier
from hub.events import (
    AlarmKind,
    AlarmSignal,
    CameraAvailability,
    Event,
    LinkLost,
)
from hub.journal import Journal

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2024, 3, 12)
HOUR = 3600.0


def at(hh: int, mm: int = 0, ss: int = 0, day: date = DAY) -> datetime:
    """A time of the scripted day, site time, as aware UTC."""
    return datetime.combine(day, time(hh, mm, ss), PARIS).astimezone(UTC)


def shop_config(tmp_path: Path, *, extra_cameras: int = 0) -> Config:
    cameras = [
        CameraConfig(
            id="cam-counter",
            type="frigate",
            settings={},
            zones=("counter",),
            placement="indoor",
            retention_days=30,
        ),
        CameraConfig(
            id="cam-window",
            type="frigate",
            settings={},
            zones=("window",),
            placement="outdoor",
            views_public_road=True,
            retention_days=15,
        ),
    ]
    cameras += [
        CameraConfig(
            id=f"cam-extra-{i}", type="frigate", settings={}, zones=("office",), placement="indoor"
        )
        for i in range(extra_cameras)
    ]
    return Config(
        path=tmp_path / "shop.yaml",
        site=Site(
            name="Bijouterie <Lumière> & Fils",
            address="12 rue Nationale, 37000 Tours",
            departement="37",
            timezone="Europe/Paris",
        ),
        zones=(
            Zone("counter", "Comptoir", "high"),
            Zone("window", "Vitrine rue", "medium"),
            Zone("office", "Bureau", "low"),
        ),
        devices=(
            DeviceConfig(
                id="panel",
                type="contact-id",
                settings={},
                zone_map=ZoneMap({1: PanelZone("counter"), 2: PanelZone("window")}),
                line=1,
            ),
        ),
        cameras=tuple(cameras),
        sections={
            "escalation": EscalationSettings(
                ladder=(Tier((), 60.0),),
                outbox_path=tmp_path / "outbox.db",
                high_stock=HighStockSettings(
                    calendar_path=None,
                    periods=(HighStockPeriod(DAY, DAY, "Braderie"),),
                ),
            )
        },
        journal=JournalConfig(tmp_path / "journal.db"),
    )


def _run(subject: str, kind: str, rows: Sequence[tuple[int, int, str, str]]) -> list[Interval]:
    """Intervals from ``(start hour*60+min, end, state, cause)`` rows."""
    out = []
    for start, end, state, cause in rows:
        begin, finish = at(start // 60, start % 60), at(end // 60, end % 60)
        out.append(Interval(subject, kind, state, begin, finish, cause))  # type: ignore[arg-type]
    return out


def m(hh: int, mm: int = 0) -> int:
    return hh * 60 + mm


HUB_DOWN = "hub down"


def day_intervals() -> list[Interval]:
    """What the coverage log holds of the day."""
    return [
        *_run(
            "cam-counter",
            "availability",
            [
                (m(6), m(10), "online", ""),
                (m(10), m(10, 30), "offline", "NVR last will"),
                (m(10, 30), m(12), "online", ""),
                (m(12), m(13), "unknown", HUB_DOWN),
                (m(13), m(23), "online", ""),
            ],
        ),
        *_run(
            "cam-counter",
            "recording",
            [
                (m(6), m(12), "on", ""),
                (m(12), m(13), "unknown", HUB_DOWN),
                (m(13), m(14), "on", ""),
                (m(14), m(15), "off", ""),
                (m(15), m(23), "on", ""),
            ],
        ),
        *_run(
            "cam-window",
            "availability",
            [
                (m(6), m(12), "online", ""),
                (m(12), m(13), "unknown", HUB_DOWN),
                (m(13), m(23), "online", ""),
            ],
        ),
        *_run(
            "cam-window",
            "recording",
            [
                (m(6), m(12), "on", ""),
                (m(12), m(13), "unknown", HUB_DOWN),
                (m(13), m(23), "on", ""),
            ],
        ),
        *_run(
            "counter",
            "coverage",
            [
                (m(6), m(10), "covered", ""),
                (m(10), m(10, 30), "gap", "camera offline (cam-counter)"),
                (m(10, 30), m(12), "covered", ""),
                (m(12), m(13), "gap", HUB_DOWN),
                (m(13), m(14), "covered", ""),
                (m(14), m(15), "gap", "not recording (cam-counter)"),
                (m(15), m(23), "covered", ""),
            ],
        ),
        *_run(
            "window",
            "coverage",
            [
                (m(6), m(12), "covered", ""),
                (m(12), m(13), "gap", HUB_DOWN),
                (m(13), m(23), "covered", ""),
            ],
        ),
        *_run(
            "office",
            "coverage",
            [
                (m(6), m(12), "gap", "no camera films it"),
                (m(12), m(13), "gap", HUB_DOWN),
                (m(13), m(23), "gap", "no camera films it"),
            ],
        ),
        *_run("cam-old", "availability", [(m(6), m(23), "online", "")]),
    ]


def day_log() -> IntervalList:
    return IntervalList(day_intervals(), span=(at(6), at(23)))


def day_events() -> list[Event]:
    """What the journal holds around the day, in journal order."""
    signal = AlarmSignal
    return [
        signal(
            time=at(23, day=DAY - timedelta(days=2)),
            kind=AlarmKind.HOLDUP,
            device="panel",
            zone="counter",
        ),
        CameraAvailability(time=at(6), camera="cam-counter", state="online"),
        CameraAvailability(time=at(6), camera="cam-window", state="online"),
        CameraAvailability(time=at(6), camera="cam-window", state="online", role="record"),
        signal(time=at(9, 15), kind=AlarmKind.HOLDUP, device="panel", zone="counter"),
        signal(
            time=at(9, 15, 5), kind=AlarmKind.HOLDUP, device="panel", zone="counter", restore=True
        ),
        CameraAvailability(
            time=at(10), camera="cam-counter", state="offline", reason="NVR last will"
        ),
        CameraAvailability(time=at(10, 5), camera="cam-counter", state="offline"),
        CameraAvailability(time=at(10, 30), camera="cam-counter", state="online"),
        signal(time=at(11), kind=AlarmKind.BURGLARY, device="panel", zone="window"),
        CameraAvailability(time=at(13), camera="cam-window", state="disabled"),
        CameraAvailability(time=at(13, 1), camera="cam-window", state="online"),
        signal(time=at(16), kind=AlarmKind.DURESS, device="panel", zone="counter"),
        signal(time=at(17), kind=AlarmKind.TAMPER, device="panel", zone="office"),
        LinkLost(time=at(18), device="panel", reason="silence for 90 s"),
        signal(time=at(19), kind=AlarmKind.TEST, device="panel", zone="counter"),
        signal(time=at(19, 30), kind=AlarmKind.OPENING, device="panel", zone="counter"),
        signal(time=at(20), kind=AlarmKind.BURGLARY, device="panel", zone="attic"),
        signal(time=at(21), kind=AlarmKind.FIRE, device="panel", zone=None),
        LinkLost(time=at(22), device="mqtt", reason="broker gone"),
        signal(
            time=at(0, day=DAY + timedelta(days=1)),
            kind=AlarmKind.HOLDUP,
            device="panel",
            zone="counter",
        ),
    ]


async def write_journal(path: Path, events: Sequence[Event]) -> None:
    """Journal ``events`` with the journal's own writer."""
    async with Journal(path) as journal:
        await journal.append(list(events))
