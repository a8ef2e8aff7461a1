"""The report of a scripted day: every figure checked, in the model and in each format.

The day is ``tests.coverage.scripted``: its log held in an ``IntervalList``, its signals
in a real journal written with the journal's own writer. The period asked for is two
whole days (11 and 12 March, site time), of which the log holds 06:00-23:00 of the
second: the rest is not recorded, neither covered nor a gap.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from hub.coverage.formats import render
from hub.coverage.period import parse_period
from hub.coverage.render_csv import COLUMNS
from hub.coverage.render_json import report_document, report_schema
from hub.coverage.report import CoverageReport, assemble_report, build_report
from hub.coverage.segments import to_us
from tests.coverage.scripted import PARIS, at, day_events, day_log, shop_config, write_journal

H = 3600.0
US = 1_000_000
MADE = datetime(2024, 3, 14, 9, 0, tzinfo=UTC)


@pytest.fixture
async def report(tmp_path: Path) -> CoverageReport:
    config = shop_config(tmp_path)
    await write_journal(config.journal.path, day_events())
    period = parse_period("2024-03-11", "2024-03-12", PARIS)
    return assemble_report(config, day_log(), period, MADE)


def test_the_period_and_the_part_not_recorded(report: CoverageReport) -> None:
    assert report.period.start == datetime(2024, 3, 10, 23, tzinfo=UTC)  # 11 March, 00:00
    assert report.period.end == datetime(2024, 3, 12, 23, tzinfo=UTC)
    assert report.not_recorded_us == int((24 + 6 + 1) * H * US)
    assert report.log_span == (at(6), at(23))


def test_the_cameras_as_the_authorisation_file_lists_them(report: CoverageReport) -> None:
    assert (len(report.cameras), report.indoor, report.outdoor) == (2, 1, 1)
    assert [c.camera.id for c in report.public_road] == ["cam-window"]
    assert report.detailed_list_mandatory is False
    counter, window = report.cameras
    assert counter.zone_names == ("Comptoir",)
    assert window.zone_names == ("Vitrine rue",)
    assert (counter.camera.retention_days, window.camera.retention_days) == (30, 15)
    # Online 06-10, 10:30-12, 13-23; filming that minus 14-15 (not recording).
    assert counter.online_us == int(15.5 * H * US)
    assert counter.filming_us == int(14.5 * H * US)
    assert counter.not_recorded_us == int(31 * H * US)
    assert counter.filming_percent == 85.29  # 14.5 / 17, rounded down
    assert window.online_us == window.filming_us == int(16 * H * US)
    assert window.filming_percent == 94.11  # 16 / 17, rounded down


def test_every_zone_figure(report: CoverageReport) -> None:
    counter, window, office = report.zones
    assert counter.zone.risk == "high"
    assert counter.cameras == ("cam-counter",)
    assert counter.figures.covered_us == int(14.5 * H * US)
    assert counter.figures.gap_us == int(2.5 * H * US)
    assert counter.figures.not_recorded_us == int(31 * H * US)
    assert counter.figures.percent == 85.29
    assert [(g.start, g.end, g.cause) for g in counter.gaps] == [
        (at(10), at(10, 30), "camera offline (cam-counter)"),
        (at(12), at(13), "hub down"),
        (at(14), at(15), "not recording (cam-counter)"),
    ]
    assert counter.gap_by_cause == (
        ("hub down", int(H * US)),
        ("not recording", int(H * US)),
        ("camera offline", int(0.5 * H * US)),
    )
    assert (window.figures.covered_us, window.figures.gap_us) == (int(16 * H * US), int(H * US))
    assert window.figures.percent == 94.11
    assert office.cameras == ()
    assert (office.figures.covered_us, office.figures.gap_us) == (0, int(17 * H * US))
    assert office.figures.percent == 0.0
    assert office.gap_by_cause == (
        ("no camera films it", int(16 * H * US)),
        ("hub down", int(H * US)),
    )
    for zone in report.zones:
        f = zone.figures
        assert f.covered_us + f.gap_us + f.not_recorded_us == to_us(report.period.end) - to_us(
            report.period.start
        )


def test_every_signal_counted_where_it_happened(report: CoverageReport) -> None:
    counter, window, office = report.zones
    assert dict(counter.counts) == {"holdup": 1, "duress": 1, "alarm": 0, "technical_fault": 2}
    assert [(s.time, s.kind) for s in counter.signals] == [
        (at(9, 15), "holdup"),
        (at(10), "camera lost"),
        (at(16), "duress"),
        (at(18), "link lost"),
    ]
    assert [(s.time, s.kind) for s in counter.alarms] == [(at(9, 15), "holdup"), (at(16), "duress")]
    assert [(f.kind, f.device, f.count, f.first, f.last) for f in counter.faults] == [
        ("camera lost", "cam-counter", 1, at(10), at(10)),
        ("link lost", "panel", 1, at(18), at(18)),
    ]
    assert dict(window.counts) == {"holdup": 0, "duress": 0, "alarm": 1, "technical_fault": 1}
    assert dict(office.counts) == {"holdup": 0, "duress": 0, "alarm": 0, "technical_fault": 1}
    assert report.outside_zones == {"holdup": 0, "duress": 0, "alarm": 1, "technical_fault": 1}
    assert (report.ignored.signals, report.ignored.zones) == (1, ("attic",))
    assert (report.ignored.intervals, report.ignored.subjects) == (1, ("cam-old",))


def test_high_stock_coverage(report: CoverageReport) -> None:
    assert [w.name for w in report.high_stock] == ["Braderie"]
    (during,) = report.zones[0].high_stock
    assert (during.start, during.end) == (at(0), datetime(2024, 3, 12, 23, tzinfo=UTC))
    assert during.figures.covered_us == int(14.5 * H * US)
    assert during.figures.not_recorded_us == int(7 * H * US)
    assert during.figures.percent == 85.29


def test_the_json_follows_its_schema_and_holds_the_figures(report: CoverageReport) -> None:
    document = json.loads(render(report, "json"))
    schema = report_schema()
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert [e.message for e in validator.iter_errors(document)] == []
    assert document == report_document(report) | {}  # one document, however rendered
    assert document["site"]["departement"] == "37"
    assert document["period"]["start"] == "2024-03-11T00:00:00+01:00"
    assert document["period"]["not_recorded_seconds"] == 31 * H
    assert document["cameras"]["public_road"] == 1
    counter = document["zones"][0]
    assert counter["covered_seconds"] == 14.5 * H
    assert counter["gap_seconds"] == 2.5 * H
    assert counter["covered_percent"] == 85.29
    assert counter["gaps"][1] == {
        "start": "2024-03-12T12:00:00+01:00",
        "end": "2024-03-12T13:00:00+01:00",
        "seconds": H,
        "cause": "hub down",
    }
    assert counter["signals"] == {"holdup": 1, "duress": 1, "alarm": 0, "technical_fault": 2}
    assert [e["kind"] for e in counter["events"]] == ["holdup", "duress"]
    assert counter["faults"][0] == {
        "kind": "camera lost",
        "device": "cam-counter",
        "count": 1,
        "first": "2024-03-12T10:00:00+01:00",
        "last": "2024-03-12T10:00:00+01:00",
    }
    assert len(document["notes"]) == 3  # not recorded, cam-old left out, attic left out


def test_a_document_that_breaks_the_schema_is_caught(report: CoverageReport) -> None:
    document = report_document(report)
    document["zones"][0]["covered_percent"] = 101
    document["cameras"]["list"][0]["retention_days"] = 45
    del document["site"]["address"]
    validator = Draft202012Validator(report_schema())
    assert len(list(validator.iter_errors(document))) == 3


def test_the_csv_has_one_row_per_interval_adding_up(report: CoverageReport) -> None:
    rows = list(csv.DictReader(io.StringIO(render(report, "csv").decode())))
    assert tuple(rows[0]) == COLUMNS
    counter = [r for r in rows if r["subject"] == "counter"]
    # not recorded (day 1 and 00-06), 7 intervals, not recorded (23-24)
    assert [r["state"] for r in counter] == ["not recorded"] + ["covered", "gap"] * 3 + [
        "covered",
        "not recorded",
    ]
    assert sum(float(r["seconds"]) for r in counter if r["state"] == "covered") == 14.5 * H
    assert sum(float(r["seconds"]) for r in counter) == 48 * H
    assert counter[2]["cause"] == "camera offline (cam-counter)"
    assert counter[2]["start"] == "2024-03-12T10:00:00+01:00"
    cameras = {(r["subject"], r["kind"]) for r in rows if r["subject_type"] == "camera"}
    assert cameras == {
        ("cam-counter", "availability"),
        ("cam-counter", "recording"),
        ("cam-window", "availability"),
        ("cam-window", "recording"),
    }
    assert not any(r["subject"] == "cam-old" for r in rows)


def test_the_html_is_self_contained_and_shows_the_figures(report: CoverageReport) -> None:
    page = render(report, "html").decode()
    assert "Bijouterie &lt;Lumière&gt; &amp; Fils" in page  # escaped
    assert "<Lumière>" not in page
    assert "12 rue Nationale, 37000 Tours" in page
    for figure in ("85.29 %", "94.11 %", "0.00 %", "14 h 30 min", "2 h 30 min", "31 h 00 min"):
        assert figure in page, figure
    assert "camera offline (cam-counter)" in page
    assert "2024-03-12 09:15:00" in page  # the hold-up, site time
    assert "Braderie" in page
    assert "<svg" in page
    assert "<script" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    assert "detailed list of cameras is mandatory" not in page


def test_from_eight_cameras_the_report_says_the_detailed_list_is_mandatory(
    tmp_path: Path,
) -> None:
    config = shop_config(tmp_path, extra_cameras=6)
    period = parse_period("2024-03-12", "2024-03-12", PARIS)
    report = build_report(config, day_log(), period, [], [], MADE)
    assert report.detailed_list_mandatory
    assert "detailed list of cameras is mandatory" in render(report, "html").decode()
    assert json.loads(render(report, "json"))["cameras"]["detailed_list_mandatory"] is True


def test_the_pdf_is_the_page_printed(report: CoverageReport) -> None:
    pdf = render(report, "pdf")
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    weasyprint = pytest.importorskip("weasyprint")
    pages = weasyprint.HTML(string=render(report, "html").decode()).render().pages
    assert len(pages) >= 2  # the whole page laid out: system, coverage, timeline, exposure


def test_a_period_before_the_log_began_is_not_recorded_never_a_figure(tmp_path: Path) -> None:
    config = shop_config(tmp_path)
    period = parse_period("2024-03-01", "2024-03-07", PARIS)
    report = build_report(config, day_log(), period, [], [], MADE)
    for zone in report.zones:
        assert zone.figures.covered_us == zone.figures.gap_us == 0
        assert zone.figures.percent is None
        assert zone.gaps == ()
    assert report.cameras[0].filming_percent is None
    assert report.not_recorded_us == to_us(period.end) - to_us(period.start)
    assert "no data" in render(report, "html").decode()
    document = json.loads(render(report, "json"))
    assert {z["covered_percent"] for z in document["zones"]} == {None}
    assert "outside the coverage log" in document["notes"][0]
