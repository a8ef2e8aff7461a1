"""The report's formats: their media types and file suffixes, and one call that makes
any of them, shared by ``ecrin report coverage`` and the installer API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, Literal

from hub.coverage.render_csv import render_csv
from hub.coverage.render_html import render_html
from hub.coverage.render_json import render_json
from hub.coverage.render_pdf import render_pdf
from hub.coverage.report import CoverageReport

__all__ = ["FORMATS", "MEDIA_TYPES", "Format", "render"]

Format = Literal["html", "pdf", "csv", "json"]
#: The formats, in the order the help lists them.
FORMATS: Final[tuple[Format, ...]] = ("html", "pdf", "csv", "json")
MEDIA_TYPES: Final[Mapping[Format, str]] = {
    "html": "text/html",
    "pdf": "application/pdf",
    "csv": "text/csv",
    "json": "application/json",
}


def _text(make: Callable[[CoverageReport], str]) -> Callable[[CoverageReport], bytes]:
    return lambda report: make(report).encode("utf-8")


_RENDERERS: Final[Mapping[Format, Callable[[CoverageReport], bytes]]] = {
    "html": _text(render_html),
    "pdf": render_pdf,
    "csv": _text(render_csv),
    "json": _text(render_json),
}


def render(report: CoverageReport, fmt: Format) -> bytes:
    """The report in ``fmt``; text formats in UTF-8.

    Raises:
        PdfUnavailable: PDF asked for, and WeasyPrint cannot run here.
    """
    return _RENDERERS[fmt](report)
