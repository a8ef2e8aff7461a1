"""Segments tile the period exactly: what the log does not hold is ``not recorded``,
and intervals that overlap (a clock that jumped backwards) never count a moment twice
nor turn a gap into coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.coverage.exposure import coverage_figures, percent_down
from hub.coverage.model import Interval
from hub.coverage.segments import COVERAGE_RANK, NOT_RECORDED, Segment, flatten, to_us

T0 = datetime(2024, 3, 12, 8, tzinfo=UTC)
MIN = 60_000_000


def t(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def zone(state: str, a: int, b: int, cause: str = "") -> Interval:
    return Interval("counter", "coverage", state, t(a), t(b), cause)


def shape(segments: tuple[Segment, ...]) -> list[tuple[int, int, str, str]]:
    start = to_us(T0)
    return [((s.start - start) // MIN, (s.end - start) // MIN, s.state, s.cause) for s in segments]


def test_before_and_after_the_log_is_not_recorded() -> None:
    flat = flatten([zone("covered", 10, 50)], to_us(t(0)), to_us(t(60)), COVERAGE_RANK)
    assert shape(flat.segments) == [
        (0, 10, NOT_RECORDED, ""),
        (10, 50, "covered", ""),
        (50, 60, NOT_RECORDED, ""),
    ]
    figures = coverage_figures(flat.segments, to_us(t(0)), to_us(t(60)))
    assert (figures.covered_us, figures.gap_us, figures.not_recorded_us) == (40 * MIN, 0, 20 * MIN)
    assert figures.percent == 100.0  # of the time the log holds: never diluted by the rest
    assert flat.overlaps == 0


def test_a_clock_that_jumped_back_never_counts_a_moment_twice() -> None:
    # 10:00-10:40 covered, then the clock jumps back 20 minutes: the log's next
    # intervals start at 10:20, over time it already holds.
    log = [
        zone("covered", 0, 40),
        zone("gap", 20, 30, "camera offline (cam-1)"),
        zone("covered", 30, 60),
    ]
    flat = flatten(log, to_us(t(0)), to_us(t(60)), COVERAGE_RANK)
    assert flat.overlaps == 2
    assert shape(flat.segments) == [
        (0, 20, "covered", ""),
        (20, 30, "gap", "camera offline (cam-1)"),
        (30, 60, "covered", ""),
    ]
    figures = coverage_figures(flat.segments, to_us(t(0)), to_us(t(60)))
    assert figures.covered_us + figures.gap_us + figures.not_recorded_us == 60 * MIN
    assert figures.percent == 83.33  # 50 of 60 minutes, rounded down, never above 100


def test_overlapping_gaps_keep_every_cause_once() -> None:
    log = [
        zone("gap", 0, 30, "hub down"),
        zone("gap", 10, 40, "hub down; not recording (cam-2)"),
    ]
    flat = flatten(log, to_us(t(0)), to_us(t(40)), COVERAGE_RANK)
    assert shape(flat.segments) == [
        (0, 10, "gap", "hub down"),
        (10, 40, "gap", "hub down; not recording (cam-2)"),
    ]


def test_percentages_round_down() -> None:
    assert percent_down(99_999, 100_000) == 99.99
    assert percent_down(2, 3) == 66.66
    assert percent_down(5, 5) == 100.0
    assert percent_down(0, 0) is None
