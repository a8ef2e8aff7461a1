"""The register written out: a text table, CSV, and HTML made into PDF.

Every time is given in the shop's time zone with its offset (``2026-03-29T03:00+02:00``)
in CSV, and as ``YYYY-MM-DD HH:MM`` in the text and the PDF, whose heading names the
zone: a register read by the prefecture or a court must not need converting from UTC.

The PDF is made from the HTML with WeasyPrint, imported only when a PDF is asked for,
so that a machine without its system libraries (Pango) still shows and exports CSV.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

from hub.config import Site
from hub.coverage.register import HandOver, Register, RegisterLine

__all__ = [
    "CSV_COLUMNS",
    "PdfUnavailable",
    "register_csv",
    "register_html",
    "register_pdf",
    "register_text",
]

#: The CSV's columns, one row per register line (docs/coverage.md, "The register").
CSV_COLUMNS: Final = (
    "camera",
    "day",
    "start",
    "end",
    "retention_days",
    "destruction",
    "kept",
    "handed_over",
    "ongoing",
    "destroyed",
)


class PdfUnavailable(Exception):
    """WeasyPrint (or the system libraries it needs) cannot be loaded."""


def _tz(register: Register) -> tzinfo:
    return ZoneInfo(register.timezone)


def _minute(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _seconds(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).isoformat(timespec="seconds")


def _handed(handovers: Sequence[HandOver], tz: tzinfo) -> str:
    return "; ".join(
        f"#{h.id} {h.reference} to {h.to_whom} on {_minute(h.recorded_at, tz)}" for h in handovers
    )


def _destruction(line: RegisterLine, tz: tzinfo) -> str:
    return line.destruction_text(tz)


def _destroyed(line: RegisterLine, now: datetime) -> bool:
    """Whether the line's recordings are gone by ``now`` (never while kept)."""
    return line.destruction is not None and line.destruction <= now


def _fate(line: RegisterLine, tz: tzinfo, now: datetime) -> str:
    """What becomes of a line's recordings, as of ``now``: ``kept (...)``, ``to be
    destroyed on DATE`` until the date, ``destroyed on DATE`` once it has passed. A
    register read on a given day must not call recordings destroyed that still exist."""
    if line.destruction is None:
        return _destruction(line, tz)
    verb = "destroyed on" if _destroyed(line, now) else "to be destroyed on"
    return f"{verb} {_destruction(line, tz)}"


def register_text(register: Register, site: Site, now: datetime) -> str:
    """The register as a plain table for a terminal (``ecrin register show``), as of
    ``now`` (the command's clock: a destruction date still ahead is "to be destroyed")."""
    tz = _tz(register)
    out = [
        f"Register of recordings: {site.name}, {site.address}",
        f"Period {_minute(register.start, tz)} to {_minute(register.end, tz)}"
        f" ({register.timezone})",
        "",
    ]
    if not register.lines:
        out.append("No recording in this period.")
    for line in register.lines:
        note = " (recording)" if line.ongoing else ""
        fate = _fate(line, tz, now)
        out.append(
            f"{line.camera:<16} {_minute(line.start, tz)} to {_minute(line.end, tz)}{note}"
            f"  retention {line.retention_days} d  {fate}"
        )
        out.extend(f"{'':<16} handed over: {_handed([h], tz)}" for h in line.handovers)
    out.append("")
    if register.handovers:
        out.append("Hand-overs:")
        for h in register.handovers:
            out.append(
                f"  #{h.id} {h.camera} {_minute(h.start, tz)} to {_minute(h.end, tz)}:"
                f" {h.reference}, to {h.to_whom}, recorded {_minute(h.recorded_at, tz)}"
            )
    else:
        out.append("No hand-over in this period.")
    return "\n".join(out) + "\n"


def register_csv(register: Register, now: datetime) -> str:
    """One row per register line, with the columns of ``CSV_COLUMNS``; ``destroyed``
    says whether the destruction date has passed at ``now`` (the export's time)."""
    tz = _tz(register)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in register.lines:
        writer.writerow(
            [
                line.camera,
                line.day.isoformat(),
                _seconds(line.start, tz),
                _seconds(line.end, tz),
                line.retention_days,
                "" if line.destruction is None else _seconds(line.destruction, tz),
                "; ".join(f"{h.kind} {h.ref}" for h in line.holds if h.keeps),
                _handed(line.handovers, tz),
                "yes" if line.ongoing else "no",
                "yes" if _destroyed(line, now) else "no",
            ]
        )
    return buffer.getvalue()


_STYLE: Final = """
body { font-family: sans-serif; font-size: 10pt; margin: 1.5em; }
h1 { font-size: 14pt; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }
th, td { border: 1px solid #999; padding: 3px 5px; text-align: left; vertical-align: top; }
th { background: #eee; }
.kept { font-weight: bold; }
@page { size: A4 landscape; margin: 1.5cm; }
"""


def register_html(register: Register, site: Site, generated_at: datetime) -> str:
    """A self-contained HTML page of the register (no script, no fetch), for the PDF;
    destruction dates are "to be destroyed" or "destroyed" as of ``generated_at``."""
    tz = _tz(register)
    e = html.escape
    rows = []
    for line in register.lines:
        kept = ' class="kept"' if line.kept else ""
        rows.append(
            "<tr>"
            f"<td>{e(line.camera)}</td><td>{line.day.isoformat()}</td>"
            f"<td>{_minute(line.start, tz)}</td>"
            f"<td>{_minute(line.end, tz)}{' (recording)' if line.ongoing else ''}</td>"
            f"<td>{line.retention_days}</td>"
            f"<td{kept}>{e(_fate(line, tz, generated_at))}</td>"
            f"<td>{e(_handed(line.handovers, tz))}</td>"
            "</tr>"
        )
    if not rows:
        rows.append('<tr><td colspan="7">No recording in this period.</td></tr>')
    handovers = [
        "<tr>"
        f"<td>{h.id}</td><td>{e(h.camera)}</td>"
        f"<td>{_minute(h.start, tz)}</td><td>{_minute(h.end, tz)}</td>"
        f"<td>{e(h.to_whom)}</td><td>{e(h.reference)}</td>"
        f"<td>{_minute(h.recorded_at, tz)}</td>"
        "</tr>"
        for h in register.handovers
    ] or ['<tr><td colspan="7">No hand-over in this period.</td></tr>']
    cameras = "".join(
        f"<tr><td>{e(camera)}</td><td>{days}</td></tr>" for camera, days in register.cameras
    )
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<title>Register of recordings: {e(site.name)}</title>
<style>{_STYLE}</style></head>
<body>
<h1>Register of recordings (CSI L252-5)</h1>
<p>{e(site.name)}, {e(site.address)} (département {e(site.departement)})<br>
Period {_minute(register.start, tz)} to {_minute(register.end, tz)}, times in
{e(register.timezone)}. Made {_minute(generated_at, tz)}.</p>
<h2>Cameras and declared retention</h2>
<table><tr><th>Camera</th><th>Retention (days)</th></tr>{cameras}</table>
<h2>Recordings</h2>
<table><tr><th>Camera</th><th>Day</th><th>From</th><th>To</th><th>Retention (days)</th>
<th>Destruction</th><th>Handed over</th></tr>
{"".join(rows)}
</table>
<h2>Hand-overs</h2>
<table><tr><th>No.</th><th>Camera</th><th>From</th><th>To</th><th>To whom</th>
<th>Reference</th><th>Recorded</th></tr>
{"".join(handovers)}
</table>
</body></html>
"""


def register_pdf(page: str) -> bytes:
    """The HTML ``page`` as a PDF (WeasyPrint, loaded here).

    Raises:
        PdfUnavailable: WeasyPrint or its system libraries are missing.
    """
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: Pango missing
        raise PdfUnavailable(
            f"cannot make a PDF: WeasyPrint cannot be loaded ({exc});"
            " install Écrin's dependencies and the Debian packages libpango-1.0-0 and"
            " libpangoft2-1.0-0, or export CSV"
        ) from exc
    pdf: bytes = HTML(string=page).write_pdf()
    return pdf
