"""High-stock periods: rules evaluated per year, in the site's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.escalation.calendar import (
    DateRule,
    HighStockCalendar,
    HighStockPeriod,
    PeriodRule,
    easter_sunday,
)
from hub.escalation.config import DEFAULT_CALENDAR, read_calendar

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")
RULES, ISSUES = read_calendar(DEFAULT_CALENDAR, str(DEFAULT_CALENDAR))
CALENDAR = HighStockCalendar(RULES, (), PARIS)


def periods(year: int) -> dict[str, tuple[date, date]]:
    return {p.name: (p.start, p.end) for p in CALENDAR.in_year(year)}


def test_shipped_calendar_is_valid() -> None:
    assert ISSUES == []
    assert [r.name for r in RULES] == ["Saint-Valentin", "Fête des mères", "Noël"]


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2012, date(2012, 4, 8)),
        (2023, date(2023, 4, 9)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
        (2285, date(2285, 3, 22)),
    ],
)
def test_easter(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


@pytest.mark.parametrize(
    ("year", "mothers_day"),
    [
        (2024, date(2024, 5, 26)),
        (2026, date(2026, 5, 31)),
        (2027, date(2027, 5, 30)),
        # Pentecost falls on the last Sunday of May: the first Sunday of June instead.
        (2009, date(2009, 6, 7)),
        (2012, date(2012, 6, 3)),
        (2020, date(2020, 6, 7)),
        (2023, date(2023, 6, 4)),
    ],
)
def test_fete_des_meres_and_the_ten_days_before(year: int, mothers_day: date) -> None:
    assert periods(year)["Fête des mères"] == (mothers_day - timedelta(days=10), mothers_day)


@pytest.mark.parametrize("year", [2026, 2027, 2028])
def test_fixed_periods(year: int) -> None:
    found = periods(year)
    assert found["Saint-Valentin"] == (date(year, 2, 1), date(year, 2, 14))
    assert found["Noël"] == (date(year, 12, 1), date(year, 12, 31))


@given(st.integers(min_value=1951, max_value=2400))
def test_fete_des_meres_rule_for_any_year(year: int) -> None:
    day = periods(year)["Fête des mères"][1]
    assert day.weekday() == 6
    last_may_sunday = max(
        date(year, 5, d) for d in range(25, 32) if date(year, 5, d).weekday() == 6
    )
    pentecost = easter_sunday(year) + timedelta(days=49)
    if last_may_sunday == pentecost:
        assert day == last_may_sunday + timedelta(days=7)
    else:
        assert day == last_may_sunday


def test_periods_run_midnight_to_midnight_in_the_site_time_zone() -> None:
    noel = HighStockPeriod(date(2026, 12, 1), date(2026, 12, 31), "Noël")
    assert noel.starts_at(PARIS) == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert noel.ends_at(PARIS) == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert noel.starts_at(REUNION) == datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    calendar = HighStockCalendar(RULES, (), REUNION)
    # 21:30 UTC on 30 November is already 1 December in La Réunion, not yet in Paris.
    moment = datetime(2026, 11, 30, 21, 30, tzinfo=UTC)
    assert [p.name for p in calendar.active(moment)] == ["Noël"]
    assert CALENDAR.active(moment) == []


def test_active_and_next_boundary_with_a_shop_period() -> None:
    braderie = HighStockPeriod(date(2026, 9, 5), date(2026, 9, 6), "Braderie")
    calendar = HighStockCalendar(RULES, [braderie], PARIS)
    inside = datetime(2026, 9, 5, 12, 0, tzinfo=PARIS)
    assert calendar.active(inside) == [braderie]
    assert calendar.next_boundary(inside) == datetime(2026, 9, 7, 0, 0, tzinfo=PARIS)
    after = datetime(2026, 9, 7, 0, 0, tzinfo=PARIS)
    assert calendar.active(after) == []
    assert calendar.next_boundary(after) == datetime(2026, 12, 1, 0, 0, tzinfo=PARIS)


def test_a_period_that_runs_into_the_next_year() -> None:
    rule = PeriodRule("Fêtes", DateRule(month=12, day=20), DateRule(month=1, day=5))
    calendar = HighStockCalendar([rule], (), PARIS)
    assert [p.name for p in calendar.active(datetime(2027, 1, 3, tzinfo=PARIS))] == ["Fêtes"]
    assert calendar.in_year(2026) == [
        HighStockPeriod(date(2026, 12, 20), date(2027, 1, 5), "Fêtes")
    ]


def test_calendar_file_errors_are_reported_with_the_calendar_file(tmp_path: Path) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text(
        "periods:\n"
        "  - name: A\n"
        "    start: {month: 2, day: 30}\n"
        "    end: {month: 2, day: 14}\n"
        "  - name: B\n"
        "    date: {month: 5, weekday: dimanche, nth: -1}\n"
        "  - name: C\n"
        "    start: {month: 13, day: 1}\n"
        "  - {name: D, start: {easter: 1, month: 4, day: 1}, end: {easter: 2}}\n"
        "  - {name: E, date: {month: 5, weekday: sunday, nth: 0}, days_before: 200}\n",
        encoding="utf-8",
    )
    rules, issues = read_calendar(path, "cal.yaml")
    assert rules == ()
    assert [str(i) for i in issues] == [
        "cal.yaml:3:28: periods[0].start.day: month 2 has no day 30 every year",
        "cal.yaml:6:31: periods[1].date.weekday: 'dimanche' is not one of: monday, tuesday,"
        " wednesday, thursday, friday, saturday, sunday",
        "cal.yaml:7:5: periods[2].end: required key is missing",
        "cal.yaml:8:20: periods[2].start.month: 13 is not between 1 and 12",
        "cal.yaml:9:22: periods[3].start: give exactly one of: month and day; month, weekday"
        " and nth; easter",
        "cal.yaml:10:54: periods[4].date.nth: 0 is not a position: use 1 or -1",
        "cal.yaml:10:71: periods[4].days_before: 200 is above the maximum 90",
    ]


YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-400, 400) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "start",
                    "end",
                    "date",
                    "month",
                    "day",
                    "weekday",
                    "nth",
                    "easter",
                    "offset",
                    "unless",
                    "then",
                    "days_before",
                    "days_after",
                    "periods",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@given(
    st.one_of(YAML_VALUES, st.fixed_dictionaries({"periods": st.lists(YAML_VALUES, max_size=3)}))
)
def test_any_calendar_document_is_read_or_reported_never_raises(document: object) -> None:
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cal.yaml"
        path.write_text(json.dumps(document), encoding="utf-8")  # JSON is YAML
        rules, issues = read_calendar(path, "cal.yaml")
    if issues:
        assert all(i.file == "cal.yaml" and i.line >= 1 for i in issues)
    for rule in rules:
        for year in (2024, 2025):
            period = rule.in_year(year)
            assert period.start <= period.end
