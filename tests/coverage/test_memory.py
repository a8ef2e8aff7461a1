"""``IntervalList`` keeps the reader's contract: overlapping intervals, clipped to the
period, sorted by subject, kind and start, filtered by kind and subject; and it refuses
what a log never holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.coverage.memory import IntervalList
from hub.coverage.model import CoverageReader, Interval

T0 = datetime(2024, 3, 12, 8, tzinfo=UTC)


def t(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def iv(subject: str, kind: str, state: str, a: int, b: int) -> Interval:
    return Interval(subject, kind, state, t(a), t(b))  # type: ignore[arg-type]


LOG = [
    iv("zone-b", "coverage", "covered", 0, 30),
    iv("cam-1", "recording", "on", 0, 60),
    iv("cam-1", "availability", "offline", 20, 60),
    iv("cam-1", "availability", "online", 0, 20),
    iv("zone-a", "coverage", "gap", 10, 50),
]


def test_it_is_a_coverage_reader() -> None:
    reader: CoverageReader = IntervalList(LOG)
    assert reader.span() == (t(0), t(60))
    assert IntervalList([]).span() is None
    assert IntervalList(LOG, span=(t(-5), t(90))).span() == (t(-5), t(90))


def test_sorted_by_subject_kind_and_start() -> None:
    got = IntervalList(LOG).intervals(t(0), t(60))
    assert [(i.subject, i.kind, i.start) for i in got] == [
        ("cam-1", "availability", t(0)),
        ("cam-1", "availability", t(20)),
        ("cam-1", "recording", t(0)),
        ("zone-a", "coverage", t(10)),
        ("zone-b", "coverage", t(0)),
    ]


def test_clipped_to_the_period_and_only_what_overlaps_it() -> None:
    got = IntervalList(LOG).intervals(t(25), t(40))
    assert [(i.subject, i.state, i.start, i.end) for i in got] == [
        ("cam-1", "offline", t(25), t(40)),
        ("cam-1", "on", t(25), t(40)),
        ("zone-a", "gap", t(25), t(40)),
        ("zone-b", "covered", t(25), t(30)),
    ]
    # An interval ending where the period starts does not overlap it.
    assert IntervalList(LOG).intervals(t(30), t(31), subject="zone-b") == []
    assert IntervalList(LOG).intervals(t(60), t(90)) == []


def test_filters_by_kind_and_subject() -> None:
    reader = IntervalList(LOG)
    assert {i.subject for i in reader.intervals(t(0), t(60), kind="coverage")} == {
        "zone-a",
        "zone-b",
    }
    got = reader.intervals(t(0), t(60), kind="availability", subject="cam-1")
    assert [i.state for i in got] == ["online", "offline"]
    assert reader.intervals(t(0), t(60), subject="cam-9") == []


@pytest.mark.parametrize(
    ("interval", "why"),
    [
        (iv("cam-1", "availability", "online", 10, 10), "at or before"),
        (iv("cam-1", "availability", "covered", 0, 10), "not a availability state"),
        (iv("cam-1", "motion", "on", 0, 10), "unknown kind"),
        (Interval("cam-1", "recording", "on", datetime(2024, 3, 12), t(5)), "aware"),
    ],
)
def test_what_a_log_never_holds_is_refused(interval: Interval, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        IntervalList([interval])
