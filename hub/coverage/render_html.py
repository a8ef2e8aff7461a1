"""The report as one self-contained HTML page (and the source of the PDF).

Self-contained: the style sheet and the timeline are inline, nothing is fetched, no
script runs, so the page reads the same offline, in a mail attachment, and in
WeasyPrint. Every text from the configuration is escaped. The order follows the
authorisation file: the site, the system (cameras, placements, public road,
retention), then the coverage of each zone, the timeline and each zone's risk
exposure.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Final

from hub.coverage.exposure import CoverageFigures, ZoneExposure
from hub.coverage.formatting import duration_text, local_text, percent_text
from hub.coverage.report import DETAILED_LIST_FROM, CoverageReport
from hub.coverage.segments import to_us
from hub.coverage.signals import CATEGORIES
from hub.coverage.timeline import LANE_COLOURS, MARK_COLOURS, timeline_svg

__all__ = ["CATEGORY_NAMES", "render_html"]

#: How each signal category is written in the report.
CATEGORY_NAMES: Final = {
    "holdup": "hold-ups",
    "duress": "duress",
    "alarm": "alarms",
    "technical_fault": "technical faults",
}

_STYLE: Final = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: sans-serif; font-size: 10pt; color: #212121; margin: 1.5em; }
h1 { font-size: 16pt; margin-bottom: 0.2em; }
h2 { font-size: 13pt; border-bottom: 1px solid #9e9e9e; margin-top: 1.4em; }
h3 { font-size: 11pt; margin-bottom: 0.3em; }
table { border-collapse: collapse; margin: 0.4em 0 0.8em; }
th, td { border: 1px solid #bdbdbd; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #eeeeee; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { border-left: 4px solid #f9a825; background: #fff8e1; padding: 4px 8px; margin: 4px 0; }
.legend span { display: inline-block; margin-right: 1em; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 3px; }
.zone { page-break-inside: avoid; }
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _table(head: Iterable[str], rows: Iterable[Iterable[str]], numeric: Iterable[int] = ()) -> str:
    right = set(numeric)
    out = ["<table><tr>", *(f"<th>{_e(h)}</th>" for h in head), "</tr>"]
    for row in rows:
        out.append("<tr>")
        for i, cell in enumerate(row):
            out.append(f'<td class="n">{cell}</td>' if i in right else f"<td>{cell}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _figures(figures: CoverageFigures) -> list[str]:
    return [
        duration_text(figures.covered_us),
        duration_text(figures.gap_us),
        duration_text(figures.not_recorded_us),
        percent_text(figures.percent),
    ]


def _system(report: CoverageReport) -> list[str]:
    out = ["<h2>The video-surveillance system</h2>"]
    out.append(
        _table(
            ["cameras", "indoor", "outdoor", "viewing the public road"],
            [
                [
                    str(len(report.cameras)),
                    str(report.indoor),
                    str(report.outdoor),
                    str(len(report.public_road)),
                ]
            ],
            numeric=range(4),
        )
    )
    if report.detailed_list_mandatory:
        out.append(
            f'<p class="note">{len(report.cameras)} cameras: from {DETAILED_LIST_FROM} cameras,'
            " the detailed list of cameras is mandatory in the authorisation file. It is"
            " the table below.</p>"
        )
    out.append("<h3>Cameras, the places they film, and the retention of their recordings</h3>")
    out.append(
        _table(
            [
                "camera",
                "places filmed",
                "placement",
                "public road",
                "retention",
                "filming",
                "filming %",
            ],
            [
                [
                    _e(c.camera.id),
                    _e(", ".join(c.zone_names)),
                    _e(c.camera.placement),
                    "yes" if c.camera.views_public_road else "no",
                    f"{c.camera.retention_days} days",
                    duration_text(c.filming_us),
                    percent_text(c.filming_percent),
                ]
                for c in report.cameras
            ],
            numeric=(4, 5, 6),
        )
    )
    road = report.public_road
    out.append("<h3>Cameras viewing the public road</h3>")
    if road:
        out.append(
            "<ul>"
            + "".join(f"<li>{_e(c.camera.id)}: {_e(', '.join(c.zone_names))}</li>" for c in road)
            + "</ul>"
        )
    else:
        out.append("<p>None.</p>")
    return out


def _coverage(report: CoverageReport) -> list[str]:
    out = ["<h2>Coverage of each zone</h2>"]
    out.append(
        "<p>A zone is covered while at least one camera filming it is online and recording."
        " Percentages are of the time the log holds (covered and gaps), rounded down: 100 %"
        " means no gap at all.</p>"
    )
    out.append(
        _table(
            ["zone", "risk", "cameras", "covered", "gaps", "not recorded", "covered %"],
            [
                [
                    _e(z.zone.name),
                    _e(z.zone.risk),
                    _e(", ".join(z.cameras) or "none"),
                    *_figures(z.figures),
                ]
                for z in report.zones
            ],
            numeric=(3, 4, 5, 6),
        )
    )
    out.append("<h3>Timeline</h3>")
    out.append(timeline_svg(report))
    legend = [
        ("covered / filming", LANE_COLOURS["covered"][1]),
        ("gap / offline", LANE_COLOURS["gap"][1]),
        ("online, not recording", LANE_COLOURS["online, not recording"][1]),
        ("disabled", LANE_COLOURS["disabled"][1]),
        ("unknown", LANE_COLOURS["unknown"][1]),
        ("not recorded", LANE_COLOURS["not recorded"][1]),
        ("hold-up, duress ▼", MARK_COLOURS["holdup"]),
        ("alarm ●", MARK_COLOURS["alarm"]),
        ("technical fault ▮", MARK_COLOURS["technical_fault"]),
    ]
    out.append(
        '<p class="legend">'
        + "".join(
            f'<span><i class="swatch" style="background:{colour}"></i>{_e(name)}</span>'
            for name, colour in legend
        )
        + "</p>"
    )
    return out


def _zone(zone: ZoneExposure, report: CoverageReport) -> list[str]:
    tz = report.site.tzinfo
    title = f"{zone.zone.name} ({zone.zone.id}), risk {zone.zone.risk}"
    out = [f'<div class="zone"><h3>{_e(title)}</h3>']
    out.append(
        _table(
            [CATEGORY_NAMES[c] for c in CATEGORIES],
            [[str(zone.counts.get(c, 0)) for c in CATEGORIES]],
            numeric=range(len(CATEGORIES)),
        )
    )
    if zone.alarms:
        out.append(
            _table(
                ["time", "signal", "kind", "device"],
                [
                    [
                        _e(local_text(s.time, tz)),
                        _e(CATEGORY_NAMES[s.category]),
                        _e(s.kind),
                        _e(s.device),
                    ]
                    for s in zone.alarms
                ],
            )
        )
    if zone.faults:
        out.append(
            _table(
                ["technical fault", "device", "times", "first", "last"],
                [
                    [
                        _e(f.kind),
                        _e(f.device),
                        str(f.count),
                        _e(local_text(f.first, tz)),
                        _e(local_text(f.last, tz)),
                    ]
                    for f in zone.faults
                ],
                numeric=(2,),
            )
        )
    out.append(
        f"<p>Covered {duration_text(zone.figures.covered_us)}, gaps"
        f" {duration_text(zone.figures.gap_us)}, not recorded"
        f" {duration_text(zone.figures.not_recorded_us)}: {percent_text(zone.figures.percent)}.</p>"
    )
    if zone.gap_by_cause:
        out.append(
            _table(
                ["gaps by cause", "length"],
                [[_e(cause), duration_text(us)] for cause, us in zone.gap_by_cause],
                numeric=(1,),
            )
        )
    if zone.gaps:
        out.append(
            _table(
                ["gap from", "to", "length", "cause"],
                [
                    [
                        _e(local_text(g.start, tz)),
                        _e(local_text(g.end, tz)),
                        duration_text(to_us(g.end) - to_us(g.start)),
                        _e(g.cause),
                    ]
                    for g in zone.gaps
                ],
                numeric=(2,),
            )
        )
    else:
        out.append("<p>No gap.</p>")
    if zone.high_stock:
        out.append(
            _table(
                ["high-stock period", "from", "to", "covered", "gaps", "not recorded", "covered %"],
                [
                    [
                        _e(h.window.name),
                        _e(local_text(h.start, tz)),
                        _e(local_text(h.end, tz)),
                        *_figures(h.figures),
                    ]
                    for h in zone.high_stock
                ],
                numeric=(3, 4, 5, 6),
            )
        )
    out.append("</div>")
    return out


def render_html(report: CoverageReport) -> str:
    """The whole page."""
    tz = report.site.tzinfo
    site = report.site
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Video-surveillance coverage: {_e(site.name)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Video-surveillance coverage report</h1>",
        _table(
            ["site", "address", "département", "period", "times in"],
            [
                [
                    _e(site.name),
                    _e(site.address),
                    _e(site.departement),
                    _e(
                        f"{local_text(report.period.start, tz)}"
                        f" to {local_text(report.period.end, tz)}"
                    ),
                    _e(site.timezone),
                ]
            ],
        ),
        f"<p>Made on {_e(local_text(report.generated_at, tz))} by the shop's Écrin hub, from its"
        " coverage log and evidence journal.</p>",
    ]
    out += [f'<p class="note">{_e(note)}</p>' for note in report.notes()]
    out += _system(report)
    out += _coverage(report)
    out.append("<h2>Risk exposure of each zone</h2>")
    if report.high_stock:
        out.append(
            "<p>High-stock periods in the period: "
            + _e(
                "; ".join(
                    f"{w.name} ({w.first_day.isoformat()} to {w.last_day.isoformat()})"
                    for w in report.high_stock
                )
            )
            + ".</p>"
        )
    for zone in report.zones:
        out += _zone(zone, report)
    outside = [f"{n} {CATEGORY_NAMES[c]}" for c, n in report.outside_zones.items() if n]
    if outside:
        out.append(f"<p>Signals that named no zone: {_e(', '.join(outside))}.</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
