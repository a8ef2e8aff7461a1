"""The report's intervals as CSV: one row per interval, for a spreadsheet or an audit.

Each camera's availability and recording, and each zone's coverage, over the period,
as the report counted them: clipped to the period, overlaps resolved (the worse state),
and the stretches the log holds nothing for as ``not recorded``. So the rows of one
subject and kind tile the period, and the ``seconds`` of a zone's ``covered`` rows add
up to its covered time in the report.

Columns (``COLUMNS``): ``subject_type`` (``camera`` or ``zone``), ``subject`` (its id),
``kind`` (``availability``, ``recording``, ``coverage``), ``state``, ``cause``,
``start`` and ``end`` (ISO 8601, site time with offset), ``seconds``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Final

from hub.coverage.formatting import local_iso, seconds
from hub.coverage.model import AVAILABILITY, COVERAGE, RECORDING
from hub.coverage.report import CoverageReport
from hub.coverage.segments import Segment, from_us

__all__ = ["COLUMNS", "csv_rows", "render_csv"]

COLUMNS: Final = ("subject_type", "subject", "kind", "state", "cause", "start", "end", "seconds")


def csv_rows(report: CoverageReport) -> Iterator[list[str]]:
    """The rows, cameras first (in file order), then zones; each by kind and time."""
    tz = report.site.tzinfo

    def rows(
        kind_of: str, subject: str, kind: str, segments: Sequence[Segment]
    ) -> Iterator[list[str]]:
        for seg in segments:
            yield [
                kind_of,
                subject,
                kind,
                seg.state,
                seg.cause,
                local_iso(from_us(seg.start), tz),
                local_iso(from_us(seg.end), tz),
                f"{seconds(seg.length):.6f}".rstrip("0").rstrip("."),
            ]

    for camera in report.cameras:
        yield from rows("camera", camera.camera.id, AVAILABILITY, camera.availability)
        yield from rows("camera", camera.camera.id, RECORDING, camera.recording)
    for zone in report.zones:
        yield from rows("zone", zone.zone.id, COVERAGE, zone.segments)


def render_csv(report: CoverageReport) -> str:
    """The CSV text: a header row, then ``csv_rows`` (RFC 4180, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(csv_rows(report))
    return buffer.getvalue()
