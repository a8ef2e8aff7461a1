"""``GET /api/v1/reports/coverage`` over real HTTP: the report in each format, and a
4xx with the reason for every bad parameter (the OpenAPI checker validates each body)."""

from __future__ import annotations

import pytest

from tests.http.conftest import REPORT_FORMATS, Client, CoverageLog

R = "/api/v1/reports/coverage"
DAY = "from=2024-03-12&to=2024-03-12"


async def test_the_json_report_holds_the_figures(client: Client) -> None:
    reply = await client.get(f"{R}?{DAY}", who="installer")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert reply.headers["Cache-Control"] == "no-store"
    report = reply.body
    counter = next(z for z in report["zones"] if z["id"] == "counter")
    assert counter["covered_seconds"] == 9.5 * 3600
    assert counter["gap_seconds"] == 0.5 * 3600
    assert counter["not_recorded_seconds"] == 14 * 3600
    assert counter["covered_percent"] == 95.0
    assert counter["signals"]["holdup"] == 1
    assert counter["gaps"][0]["cause"] == "not recording (cam-counter)"
    assert report["cameras"]["list"][0]["filming_seconds"] == 9.5 * 3600


@pytest.mark.parametrize(("fmt", "media_type", "start"), REPORT_FORMATS)
async def test_each_format_with_its_media_type(
    client: Client, fmt: str, media_type: str, start: bytes
) -> None:
    reply = await client.get(f"{R}?{DAY}&format={fmt}", who="installer")
    assert reply.status == 200
    assert reply.headers["Content-Type"].split(";")[0] == media_type
    assert reply.raw.startswith(start)
    if fmt != "html":
        assert reply.headers["Content-Disposition"] == (
            f'attachment; filename="coverage-2024-03-12-2024-03-12.{fmt}"'
        )


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("to=2024-03-12", "query parameter 'from' is required"),
        ("from=2024-03-12&to=", "query parameter 'to' is required"),
        (f"{DAY}&format=docx", "'format' must be one of html, pdf, csv, json"),
        ("from=2024-03-13&to=2024-03-12", "from 2024-03-13 is not before to 2024-03-12"),
        ("from=2020-01-01&to=2024-03-12", "longer than 366 days"),
        ("from=soon&to=2024-03-12", "from: 'soon' is not a date"),
        (f"{DAY}&from=2024-03-11", "given twice"),
    ],
)
async def test_bad_parameters_get_a_400_with_the_reason(
    client: Client, query: str, reason: str
) -> None:
    reply = await client.get(f"{R}?{query}", who="installer")
    assert reply.status == 400
    assert reply.body["error"] == "invalid_query"
    assert reason in reply.body["reason"]


async def test_no_log_yet_is_a_503_naming_no_file(
    client: Client, coverage_log: CoverageLog
) -> None:
    coverage_log.reader = None
    reply = await client.get(f"{R}?{DAY}", who="installer")
    assert reply.status == 503
    assert reply.body["error"] == "unavailable"
    assert "coverage log" in reply.body["reason"]
    assert "/" not in reply.body["reason"]


async def test_installers_only(client: Client) -> None:
    assert (await client.get(f"{R}?{DAY}", who="referent")).status == 403
    assert (await client.get(f"{R}?{DAY}", who="owner")).status == 403
