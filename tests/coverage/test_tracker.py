"""The coverage log's derivation, pure: events in, closed intervals out, pinned times."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.coverage.model import CAUSE_HUB_DOWN, CAUSE_NO_CAMERA
from hub.coverage.tracker import CoverageTracker, Row, from_us, to_us
from hub.events import (
    CameraAvailability,
    CameraRecording,
    Event,
    HubAlive,
    HubStarted,
    HubStopping,
)

T0 = datetime(2026, 2, 14, 9, 0, tzinfo=UTC)
RUN1 = T0
RUN2 = T0 + timedelta(hours=5)
CAMERAS = {"cam-a": ("comptoir",), "cam-b": ("comptoir", "vitrine")}
ZONES = ("comptoir", "vitrine", "reserve")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def us(minutes: float) -> int:
    return to_us(at(minutes))


def online(camera: str, minutes: float, state: str = "online", reason: str = "") -> Event:
    return CameraAvailability(camera=camera, state=state, reason=reason, time=at(minutes))


def recording(camera: str, minutes: float, on: bool = True) -> Event:
    return CameraRecording(camera=camera, recording=on, time=at(minutes))


def alive(minutes: float, run: datetime = RUN1) -> Event:
    return HubAlive(started=run, time=at(minutes))


def feed(
    events: list[Event], tracker: CoverageTracker | None = None
) -> tuple[CoverageTracker, list[Row]]:
    tracker = tracker or CoverageTracker(CAMERAS, ZONES)
    rows: list[Row] = []
    for event in events:
        rows.extend(tracker.apply(event))
    return tracker, rows


def of(rows: list[Row], subject: str, kind: str) -> list[tuple[str, float, float, str]]:
    """(state, start, end in minutes from T0, cause) of one subject and kind."""
    return [
        (s, (a - to_us(T0)) / 60e6, (b - to_us(T0)) / 60e6, c)
        for subj, k, s, a, b, c in sorted(rows, key=lambda r: r[3])
        if subj == subject and k == kind
    ]


def everything(tracker: CoverageTracker, rows: list[Row]) -> list[Row]:
    return rows + tracker.open_rows()


def test_a_zone_is_covered_only_while_a_camera_filming_it_is_online_and_recording() -> None:
    tracker, rows = feed(
        [
            alive(0),
            HubStarted(site="s", time=at(0)),
            online("cam-a", 1),
            recording("cam-a", 2),
            online("cam-a", 10, "offline", "NVR last will"),
            online("cam-a", 12),
            alive(20),
        ]
    )
    rows = everything(tracker, rows)
    assert of(rows, "comptoir", "coverage") == [
        ("gap", 0, 1, "camera offline (cam-a, cam-b)"),
        ("gap", 1, 2, "camera offline (cam-b); not recording (cam-a)"),
        ("covered", 2, 10, ""),
        ("gap", 10, 12, "camera offline (cam-a, cam-b)"),
        ("covered", 12, 20, ""),
    ]
    assert of(rows, "cam-a", "availability") == [
        ("unknown", 0, 1, ""),
        ("online", 1, 10, ""),
        ("offline", 10, 12, "NVR last will"),
        ("online", 12, 20, ""),
    ]
    assert of(rows, "cam-a", "recording") == [("unknown", 0, 2, ""), ("on", 2, 20, "")]
    assert of(rows, "reserve", "coverage") == [("gap", 0, 20, CAUSE_NO_CAMERA)]


def test_one_camera_suffices_and_roles_and_unknown_cameras_are_not_read() -> None:
    tracker, rows = feed(
        [
            alive(0),
            online("cam-a", 1),
            recording("cam-a", 1),
            online("cam-b", 1),
            recording("cam-b", 1, on=False),
            CameraAvailability(camera="cam-a", state="offline", role="detect", time=at(3)),
            online("cam-z", 4, "offline"),
            recording("cam-z", 4, on=False),
            online("cam-a", 5, "bogus"),
            alive(6),
        ]
    )
    rows = everything(tracker, rows)
    assert of(rows, "comptoir", "coverage") == [
        ("gap", 0, 1, "camera offline (cam-a, cam-b)"),
        ("covered", 1, 6, ""),
    ]
    assert of(rows, "vitrine", "coverage") == [
        ("gap", 0, 1, "camera offline (cam-b)"),
        ("gap", 1, 6, "not recording (cam-b)"),
    ]
    assert {r[0] for r in rows} == {"cam-a", "cam-b", "comptoir", "vitrine", "reserve"}


def test_a_camera_the_hub_lost_sight_of_has_its_recording_unknown_too() -> None:
    tracker, rows = feed(
        [
            alive(0),
            online("cam-a", 1),
            recording("cam-a", 1),
            online("cam-a", 5, "unknown", "broker lost"),
            online("cam-a", 7),
            alive(9),
        ]
    )
    rows = everything(tracker, rows)
    assert of(rows, "cam-a", "recording") == [
        ("unknown", 0, 1, ""),
        ("on", 1, 5, ""),
        ("unknown", 5, 9, "broker lost"),
    ]
    assert of(rows, "comptoir", "coverage")[-1] == (
        "gap",
        7,
        9,
        "camera offline (cam-b); not recording (cam-a)",
    )


def test_a_clean_stop_closes_at_its_time_and_the_downtime_is_never_covered() -> None:
    tracker, rows = feed(
        [
            alive(0),
            online("cam-a", 1),
            recording("cam-a", 1),
            alive(30),
            HubStopping(site="s", time=at(40)),
            alive(41),  # a heartbeat of the stopped run, journaled late: not a new run
            alive(300, run=RUN2),
            online("cam-a", 301),
            alive(310, run=RUN2),
        ]
    )
    rows = everything(tracker, rows)
    assert of(rows, "comptoir", "coverage") == [
        ("gap", 0, 1, "camera offline (cam-a, cam-b)"),
        ("covered", 1, 40, ""),
        ("gap", 40, 300, CAUSE_HUB_DOWN),
        ("gap", 300, 301, "camera offline (cam-a, cam-b)"),
        # recording is unknown again after a restart until the camera says
        ("gap", 301, 310, "camera offline (cam-b); not recording (cam-a)"),
    ]
    assert of(rows, "cam-b", "availability") == [
        ("unknown", 0, 40, ""),
        ("unknown", 40, 300, CAUSE_HUB_DOWN),
        ("unknown", 300, 310, ""),
    ]


def test_a_crash_closes_at_the_last_heartbeat() -> None:
    tracker, rows = feed(
        [
            alive(0),
            HubStarted(site="s", time=at(0)),
            online("cam-a", 1),
            recording("cam-a", 1),
            alive(2),
            alive(3),  # the last sign of life, then the power is cut
            alive(60, run=RUN2),
            HubStarted(site="s", time=at(60)),
            alive(61, run=RUN2),
        ]
    )
    rows = everything(tracker, rows)
    assert of(rows, "comptoir", "coverage") == [
        ("gap", 0, 1, "camera offline (cam-a, cam-b)"),
        ("covered", 1, 3, ""),
        ("gap", 3, 60, CAUSE_HUB_DOWN),
        ("gap", 60, 61, "camera offline (cam-a, cam-b)"),
    ]
    assert tracker.began == us(0)
    assert tracker.last == us(61)


def test_a_crash_without_heartbeats_shows_as_a_second_hub_started() -> None:
    _tracker, rows = feed(
        [
            HubStarted(site="s", time=at(0)),
            online("cam-a", 1),
            recording("cam-a", 2),
            HubStarted(site="s", time=at(30)),
        ]
    )
    # the run closed at its last event (minute 2): the covered moment that began
    # there is zero long, and the time until the next run (minute 30) is hub down
    assert of(rows, "comptoir", "coverage") == [
        ("gap", 0, 1, "camera offline (cam-a, cam-b)"),
        ("gap", 1, 2, "camera offline (cam-b); not recording (cam-a)"),
        ("gap", 2, 30, CAUSE_HUB_DOWN),
    ]
    assert of(rows, "cam-a", "recording") == [
        ("unknown", 0, 2, ""),
        ("unknown", 2, 30, CAUSE_HUB_DOWN),
    ]


def test_a_clock_that_jumps_backwards_gives_no_negative_or_overlapping_interval() -> None:
    tracker, rows = feed(
        [
            alive(0),
            online("cam-a", 10),
            recording("cam-a", 10),
            online("cam-a", 4, "offline"),  # the clock went back six minutes
            online("cam-a", 12),
            alive(20),
        ]
    )
    rows = everything(tracker, rows)
    assert tracker.clock_backwards == 1
    # the offline event is applied at the last known time (10), so the online
    # moment it ends is zero long and not kept
    assert of(rows, "cam-a", "availability") == [
        ("unknown", 0, 10, ""),
        ("offline", 10, 12, ""),
        ("online", 12, 20, ""),
    ]
    assert all(r[4] > r[3] for r in rows)


def test_events_that_leave_the_hub_down_do_not_stretch_the_log_past_the_stop() -> None:
    tracker, rows = feed(
        [
            alive(0),
            online("cam-a", 1),
            HubStopping(site="s", time=at(5)),
            alive(6),  # a heartbeat of the stopped run, journaled late
            HubStopping(site="s", time=at(8)),  # a second stop
        ]
    )
    assert not tracker.up
    assert tracker.last == tracker.down_since == us(5)
    assert tracker.open_rows() == []
    assert of(rows, "cam-a", "availability") == [("unknown", 0, 1, ""), ("online", 1, 5, "")]
    assert of(rows, "vitrine", "coverage") == [("gap", 0, 5, "camera offline (cam-b)")]
    _, more = feed([alive(20, run=RUN2)], tracker)
    assert of(more, "vitrine", "coverage") == [("gap", 5, 20, CAUSE_HUB_DOWN)]


def test_a_run_with_no_length_and_clock_jumps_leaves_an_empty_log() -> None:
    # a run that begins at 8:57 and ends there (its heartbeat and its stop come with
    # older times), then a heartbeat of that run journaled after the stop: the log's
    # span is empty, so no subject has a row, and the late heartbeat does not open
    # a span that no row would tile
    tracker, rows = feed(
        [
            HubStarted(site="s", time=datetime(2026, 2, 14, 8, 57, tzinfo=UTC)),
            HubAlive(time=datetime(2026, 2, 14, 8, 54, tzinfo=UTC), started=RUN1),
            HubStopping(site="s", time=datetime(2026, 2, 14, 8, 51, tzinfo=UTC), reason=""),
            HubAlive(time=datetime(2026, 2, 14, 8, 58, tzinfo=UTC), started=RUN1),
        ]
    )
    assert rows == []
    assert tracker.open_rows() == []
    assert not tracker.up
    assert tracker.clock_backwards == 2
    assert tracker.began == tracker.last == tracker.down_since == us(-3)
    _, more = feed([alive(10, run=RUN2)], tracker)
    assert sorted(more) == sorted(
        [
            ("cam-a", "availability", "unknown", us(-3), us(10), CAUSE_HUB_DOWN),
            ("cam-a", "recording", "unknown", us(-3), us(10), CAUSE_HUB_DOWN),
            ("cam-b", "availability", "unknown", us(-3), us(10), CAUSE_HUB_DOWN),
            ("cam-b", "recording", "unknown", us(-3), us(10), CAUSE_HUB_DOWN),
            ("comptoir", "coverage", "gap", us(-3), us(10), CAUSE_HUB_DOWN),
            ("vitrine", "coverage", "gap", us(-3), us(10), CAUSE_HUB_DOWN),
            ("reserve", "coverage", "gap", us(-3), us(10), CAUSE_HUB_DOWN),
        ]
    )


def test_the_state_survives_a_round_trip() -> None:
    events = [alive(0), online("cam-a", 1), recording("cam-a", 1), alive(5)]
    whole, whole_rows = feed([*events, online("cam-b", 6), alive(9)])
    first, rows = feed(events)
    resumed = CoverageTracker(CAMERAS, ZONES, first.to_json())
    _, more = feed([online("cam-b", 6), alive(9)], resumed)
    assert rows + more == whole_rows
    assert resumed.to_json() == whole.to_json()


# -- the tiling property -------------------------------------------------------------------

_KINDS = ("availability", "recording", "coverage")


@st.composite
def journals(draw: st.DrawFn) -> list[Event]:
    events: list[Event] = []
    minute = 0.0
    runs = [RUN1, RUN2, RUN2 + timedelta(hours=1)]
    for _ in range(draw(st.integers(1, 60))):
        minute += draw(st.sampled_from([-3.0, 0.0, 0.5, 1.0, 7.0]))
        choice = draw(st.integers(0, 6))
        camera = draw(st.sampled_from(["cam-a", "cam-b", "cam-z"]))
        if choice <= 2:
            state = draw(st.sampled_from(["online", "offline", "disabled", "unknown"]))
            events.append(online(camera, minute, state))
        elif choice == 3:
            events.append(recording(camera, minute, draw(st.booleans())))
        elif choice == 4:
            events.append(alive(minute, draw(st.sampled_from(runs))))
        elif choice == 5:
            events.append(HubStarted(site="s", time=at(minute)))
        else:
            events.append(HubStopping(site="s", time=at(minute)))
    return events


@settings(max_examples=200, deadline=None)
@given(journals())
def test_every_subject_tiles_the_log_span_without_holes_or_overlaps(events: list[Event]) -> None:
    tracker, rows = feed(events)
    rows = everything(tracker, rows)
    if tracker.began is None:
        assert rows == []
        return
    assert tracker.last is not None
    assert tracker.up or tracker.last == tracker.down_since
    by: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        assert row[4] > row[3], row
        by[(row[0], row[1])].append(row)
    subjects = {("availability", c) for c in CAMERAS} | {("recording", c) for c in CAMERAS}
    subjects |= {("coverage", z) for z in ZONES}
    for kind, subject in subjects:
        mine = sorted(by.get((subject, kind), []), key=lambda r: r[3])
        if tracker.last == tracker.began:
            assert mine == []
            continue
        assert mine[0][3] == tracker.began, (subject, kind)
        for a, b in itertools.pairwise(mine):
            assert a[4] == b[3], (subject, kind, a, b)
        # the span ends at the last moment known alive, which is where the run ended
        # when the hub is down since (the time after a stop is not in the log yet)
        assert mine[-1][4] == tracker.last, (subject, kind)
    assert {r[0] for r in rows} <= set(CAMERAS) | set(ZONES)
    assert all(r[1] in _KINDS for r in rows)
    assert from_us(tracker.began) <= from_us(tracker.last)
