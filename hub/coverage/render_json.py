"""The report as JSON, following the schema shipped beside it (``report.schema.json``).

Times are ISO 8601 in the site's zone with their offset; lengths are seconds (exact to
the microsecond); percentages are of the time the log holds, rounded down to 0.01, and
``null`` where it holds nothing. docs/coverage.md describes every field.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Final

from hub.coverage.exposure import CoverageFigures, ZoneExposure
from hub.coverage.formatting import local_iso, seconds
from hub.coverage.report import CameraSummary, CoverageReport

__all__ = ["FORMAT", "VERSION", "render_json", "report_document", "report_schema"]

#: What the document is, and the version of its schema.
FORMAT: Final = "ecrin-coverage-report"
VERSION: Final = 1


def report_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``report_document``'s output."""
    text = resources.files("hub.coverage").joinpath("report.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _figures(figures: CoverageFigures) -> dict[str, Any]:
    return {
        "covered_seconds": seconds(figures.covered_us),
        "gap_seconds": seconds(figures.gap_us),
        "not_recorded_seconds": seconds(figures.not_recorded_us),
        "covered_percent": figures.percent,
    }


def _camera(camera: CameraSummary) -> dict[str, Any]:
    return {
        "id": camera.camera.id,
        "zones": [
            {"id": z, "name": n}
            for z, n in zip(camera.camera.zones, camera.zone_names, strict=True)
        ],
        "placement": camera.camera.placement,
        "views_public_road": camera.camera.views_public_road,
        "retention_days": camera.camera.retention_days,
        "online_seconds": seconds(camera.online_us),
        "filming_seconds": seconds(camera.filming_us),
        "not_recorded_seconds": seconds(camera.not_recorded_us),
        "filming_percent": camera.filming_percent,
    }


def _zone(zone: ZoneExposure, report: CoverageReport) -> dict[str, Any]:
    tz = report.site.tzinfo
    return {
        "id": zone.zone.id,
        "name": zone.zone.name,
        "risk": zone.zone.risk,
        "cameras": list(zone.cameras),
        **_figures(zone.figures),
        "gaps": [
            {
                "start": local_iso(g.start, tz),
                "end": local_iso(g.end, tz),
                "seconds": g.seconds,
                "cause": g.cause,
            }
            for g in zone.gaps
        ],
        "gap_seconds_by_cause": [
            {"cause": cause, "seconds": seconds(us)} for cause, us in zone.gap_by_cause
        ],
        "signals": dict(zone.counts),
        "events": [
            {
                "time": local_iso(s.time, tz),
                "category": s.category,
                "kind": s.kind,
                "device": s.device,
            }
            for s in zone.alarms
        ],
        "faults": [
            {
                "kind": f.kind,
                "device": f.device,
                "count": f.count,
                "first": local_iso(f.first, tz),
                "last": local_iso(f.last, tz),
            }
            for f in zone.faults
        ],
        "high_stock": [
            {
                "name": h.window.name,
                "start": local_iso(h.start, tz),
                "end": local_iso(h.end, tz),
                **_figures(h.figures),
            }
            for h in zone.high_stock
        ],
    }


def report_document(report: CoverageReport) -> dict[str, Any]:
    """The report as a JSON-able dict (see ``report_schema``)."""
    tz = report.site.tzinfo
    span = report.log_span
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": local_iso(report.generated_at, tz),
        "site": {
            "name": report.site.name,
            "address": report.site.address,
            "departement": report.site.departement,
            "timezone": report.site.timezone,
        },
        "period": {
            "start": local_iso(report.period.start, tz),
            "end": local_iso(report.period.end, tz),
            "seconds": report.period.seconds,
            "not_recorded_seconds": seconds(report.not_recorded_us),
        },
        "log": None
        if span is None
        else {"start": local_iso(span[0], tz), "end": local_iso(span[1], tz)},
        "cameras": {
            "total": len(report.cameras),
            "indoor": report.indoor,
            "outdoor": report.outdoor,
            "public_road": len(report.public_road),
            "detailed_list_mandatory": report.detailed_list_mandatory,
            "list": [_camera(c) for c in report.cameras],
        },
        "zones": [_zone(z, report) for z in report.zones],
        "high_stock_periods": [
            {
                "name": w.name,
                "first_day": w.first_day.isoformat(),
                "last_day": w.last_day.isoformat(),
            }
            for w in report.high_stock
        ],
        "outside_zones": dict(report.outside_zones),
        "ignored": {
            "intervals": report.ignored.intervals,
            "subjects": list(report.ignored.subjects),
            "signals": report.ignored.signals,
            "zones": list(report.ignored.zones),
        },
        "overlaps": report.overlaps,
        "notes": report.notes(),
    }


def render_json(report: CoverageReport) -> str:
    """The report as one JSON document (UTF-8 text, names in their own letters)."""
    return json.dumps(report_document(report), ensure_ascii=False, indent=1) + "\n"
