"""Periods as a person types them: whole days of the site, ``--to`` included, or
instants; and every period that cannot be reported on refused with the reason."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from hub.coverage.period import MAX_DAYS, PeriodError, parse_period

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")


def test_dates_are_whole_days_of_the_site_and_to_is_included() -> None:
    period = parse_period("2024-03-01", "2024-03-31", PARIS)
    assert period.start == datetime(2024, 2, 29, 23, tzinfo=UTC)
    # 31 March 2024 is the change to summer time: the day ends at 22:00 UTC.
    assert period.end == datetime(2024, 3, 31, 22, tzinfo=UTC)
    assert period.seconds == (31 * 24 - 1) * 3600
    one = parse_period("2024-03-12", "2024-03-12", REUNION)
    assert (one.start, one.end) == (
        datetime(2024, 3, 11, 20, tzinfo=UTC),
        datetime(2024, 3, 12, 20, tzinfo=UTC),
    )


def test_times_are_instants_and_to_is_excluded() -> None:
    period = parse_period("2024-03-12T08:00", "2024-03-12T18:30:00+01:00", PARIS)
    assert period.start == datetime(2024, 3, 12, 7, tzinfo=UTC)
    assert period.end == datetime(2024, 3, 12, 17, 30, tzinfo=UTC)
    assert parse_period("2024-03-12 08:00Z", "20240313", PARIS).end == datetime(
        2024, 3, 13, 23, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("start", "end", "why"),
    [
        ("2024-03-31", "2024-03-01", "is not before --to"),
        ("2024-03-12T10:00", "2024-03-12T10:00", "is not before"),
        ("2024-03-12T10:00", "2024-03-12T09:00", "the period is empty"),
        ("2023-01-01", "2024-01-02", f"longer than {MAX_DAYS} days"),
        ("yesterday", "2024-03-01", "--from: 'yesterday' is not a date"),
        ("2024-02-30", "2024-03-01", "--from: '2024-02-30' is not a date"),
        ("2024-03-01", "9999-12-31", "--to: '9999-12-31' is not a date"),
        ("", "2024-03-01", "--from: empty"),
    ],
)
def test_bad_periods_are_refused_with_the_reason(start: str, end: str, why: str) -> None:
    with pytest.raises(PeriodError, match=why):
        parse_period(start, end, PARIS)


def test_the_names_in_messages_are_the_callers() -> None:
    with pytest.raises(PeriodError, match=r"^from 2024-03-02 is not before to 2024-03-01"):
        parse_period("2024-03-02", "2024-03-01", PARIS, names=("from", "to"))
