"""The register of recordings computed from recording intervals (pure: pinned times,
a real in-memory reader, the shop's time zone)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.config import CameraConfig
from hub.coverage.model import Interval
from hub.coverage.register import (
    HANDED_OVER,
    SEALED_SCENE,
    HandOver,
    Hold,
    build_register,
    local_midnights,
)
from tests.coverage.register_support import Intervals, utc

PARIS = ZoneInfo("Europe/Paris")
VITRINE = CameraConfig("cam-vitrine", "sim-camera", {}, ("vitrine",), "indoor", retention_days=30)
COMPTOIR = CameraConfig(
    "cam-comptoir", "sim-camera", {}, ("comptoir",), "indoor", retention_days=15
)


def on(camera: str, start: object, end: object) -> Interval:
    return Interval(camera, "recording", "on", start, end)  # type: ignore[arg-type]


def build(intervals: list[Interval], start: object, end: object, **kw: object):  # type: ignore[no-untyped-def]
    span = (utc(2026, 3, 1), utc(2026, 4, 1))
    return build_register(
        Intervals(intervals, span),
        [VITRINE, COMPTOIR],
        PARIS,
        "Europe/Paris",
        start,  # type: ignore[arg-type]
        end,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_a_recording_is_cut_at_local_midnight_and_destroyed_its_retention_after_its_end() -> None:
    # 20:00 to 02:00 Paris time (UTC+1 in early March): two days in the register.
    register = build(
        [on("cam-vitrine", utc(2026, 3, 10, 19), utc(2026, 3, 11, 1))],
        utc(2026, 3, 1),
        utc(2026, 4, 1),
    )
    assert [(x.day, x.start, x.end, x.destruction) for x in register.lines] == [
        (date(2026, 3, 10), utc(2026, 3, 10, 19), utc(2026, 3, 10, 23), utc(2026, 4, 9, 23)),
        (date(2026, 3, 11), utc(2026, 3, 10, 23), utc(2026, 3, 11, 1), utc(2026, 4, 10, 1)),
    ]
    assert register.lines[0].destruction_text(PARIS) == "2026-04-10 01:00"
    assert not any(line.kept for line in register.lines)


def test_the_night_summer_time_begins_keeps_its_midnights() -> None:
    # 29 March 2026: Paris goes from UTC+1 to UTC+2; its midnights are 23:00 and 22:00 UTC.
    assert local_midnights(utc(2026, 3, 28, 12), utc(2026, 3, 30, 12), PARIS) == [
        utc(2026, 3, 28, 23),
        utc(2026, 3, 29, 22),
    ]
    register = build(
        [on("cam-comptoir", utc(2026, 3, 28, 12), utc(2026, 3, 30, 12))],
        utc(2026, 3, 1),
        utc(2026, 4, 1),
    )
    assert [(x.day, x.end - x.start) for x in register.lines] == [
        (date(2026, 3, 28), timedelta(hours=11)),
        (date(2026, 3, 29), timedelta(hours=23)),
        (date(2026, 3, 30), timedelta(hours=14)),
    ]


def test_only_on_stretches_of_configured_cameras_count_and_touching_ones_are_one() -> None:
    register = build(
        [
            on("cam-vitrine", utc(2026, 3, 10, 8), utc(2026, 3, 10, 9)),
            on("cam-vitrine", utc(2026, 3, 10, 9), utc(2026, 3, 10, 10)),
            Interval("cam-vitrine", "recording", "off", utc(2026, 3, 10, 10), utc(2026, 3, 10, 11)),
            Interval(
                "cam-vitrine", "recording", "unknown", utc(2026, 3, 10, 11), utc(2026, 3, 10, 12)
            ),
            on("cam-vitrine", utc(2026, 3, 10, 12), utc(2026, 3, 10, 13)),
            Interval("cam-vitrine", "availability", "online", utc(2026, 3, 10), utc(2026, 3, 11)),
            on("cam-gone", utc(2026, 3, 10, 8), utc(2026, 3, 10, 9)),
        ],
        utc(2026, 3, 1),
        utc(2026, 4, 1),
    )
    assert [(x.camera, x.start, x.end) for x in register.lines] == [
        ("cam-vitrine", utc(2026, 3, 10, 8), utc(2026, 3, 10, 10)),
        ("cam-vitrine", utc(2026, 3, 10, 12), utc(2026, 3, 10, 13)),
    ]
    assert register.cameras == (("cam-vitrine", 30), ("cam-comptoir", 15))


def test_a_sealed_scene_keeps_its_window_until_released() -> None:
    stretch = on("cam-comptoir", utc(2026, 3, 10, 9), utc(2026, 3, 10, 12))
    scene = Hold(
        "cam-comptoir", utc(2026, 3, 10, 10), utc(2026, 3, 10, 10, 40), SEALED_SCENE, "esc-1"
    )
    other_camera = Hold("cam-vitrine", utc(2026, 3, 10, 9), utc(2026, 3, 10, 12), SEALED_SCENE, "x")
    register = build([stretch], utc(2026, 3, 10), utc(2026, 3, 11), scenes=[scene, other_camera])
    assert [(x.start, x.end, x.destruction) for x in register.lines] == [
        (utc(2026, 3, 10, 9), utc(2026, 3, 10, 10), utc(2026, 3, 25, 10)),
        (utc(2026, 3, 10, 10), utc(2026, 3, 10, 10, 40), None),
        (utc(2026, 3, 10, 10, 40), utc(2026, 3, 10, 12), utc(2026, 3, 25, 12)),
    ]
    assert register.lines[1].destruction_text(PARIS) == "kept (sealed scene esc-1)"

    # Released on 1 April: destroyed then, the normal date being past.
    released = Hold(*[getattr(scene, f) for f in ("camera", "start", "end", "kind", "ref")],
                    released_at=utc(2026, 4, 1, 8))  # fmt: skip
    register = build([stretch], utc(2026, 3, 10), utc(2026, 3, 11), scenes=[released])
    line = register.lines[1]
    assert line.destruction == utc(2026, 4, 1, 8)
    assert line.destruction_text(PARIS) == "2026-04-01 10:00 (sealed scene esc-1 released)"
    # Released before the normal date: the retention decides.
    early = Hold(*[getattr(scene, f) for f in ("camera", "start", "end", "kind", "ref")],
                 released_at=utc(2026, 3, 11))  # fmt: skip
    register = build([stretch], utc(2026, 3, 10), utc(2026, 3, 11), scenes=[early])
    assert register.lines[1].destruction == utc(2026, 3, 25, 10, 40)


def test_a_handover_is_listed_on_its_lines_and_keeps_them() -> None:
    handover = HandOver(
        1,
        "cam-vitrine",
        utc(2026, 3, 10, 22),
        utc(2026, 3, 11, 2),
        "Parquet de Tours",
        "PV 2026/123",
        utc(2026, 3, 12, 9),
    )
    register = build(
        [on("cam-vitrine", utc(2026, 3, 10, 20), utc(2026, 3, 11, 3))],
        utc(2026, 3, 10),
        utc(2026, 3, 12),
        handovers=[handover],
    )
    assert [(x.start, x.end, x.kept, len(x.handovers)) for x in register.lines] == [
        (utc(2026, 3, 10, 20), utc(2026, 3, 10, 22), False, 0),
        (utc(2026, 3, 10, 22), utc(2026, 3, 10, 23), True, 1),  # cut at midnight, Paris
        (utc(2026, 3, 10, 23), utc(2026, 3, 11, 2), True, 1),
        (utc(2026, 3, 11, 2), utc(2026, 3, 11, 3), False, 0),
    ]
    assert register.lines[1].destruction_text(PARIS) == f"kept ({HANDED_OVER} PV 2026/123)"
    assert register.handovers == (handover,)
    # A period the hand-over's window does not reach does not list it.
    assert build([], utc(2026, 3, 20), utc(2026, 3, 21), handovers=[handover]).handovers == ()


def test_a_camera_still_recording_when_the_log_ends_is_marked_so() -> None:
    span_end = utc(2026, 4, 1)
    register = build(
        [on("cam-vitrine", utc(2026, 3, 31, 21), span_end)], utc(2026, 3, 31), utc(2026, 4, 2)
    )
    assert [x.ongoing for x in register.lines] == [False, True]  # cut at Paris midnight


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="after its start"):
        build([], utc(2026, 3, 2), utc(2026, 3, 1))
