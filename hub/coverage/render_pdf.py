"""The report as PDF: the HTML page (``render_html``) printed by WeasyPrint.

One layout for both, so the PDF a shop sends the prefecture holds exactly what the
page shows. WeasyPrint is imported only when a PDF is asked for: it loads Pango
through the system's libraries (Debian: ``libpango-1.0-0``, ``libpangoft2-1.0-0``),
which a hub that never makes a PDF need not have. When it cannot load, the error
names what to install instead of failing with a traceback. The page fetches nothing:
WeasyPrint is given a URL fetcher that refuses every URL.
"""

from __future__ import annotations

from typing import Any, NoReturn

from hub.coverage.render_html import render_html
from hub.coverage.report import CoverageReport

__all__ = ["PdfUnavailable", "render_pdf"]


class PdfUnavailable(RuntimeError):
    """PDF cannot be made on this machine; the message says what to install."""


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    raise ValueError(f"the report fetches nothing ({url[:60]!r})")


def render_pdf(report: CoverageReport) -> bytes:
    """The report as PDF bytes.

    Raises:
        PdfUnavailable: WeasyPrint or the Pango libraries it needs are missing.
    """
    try:
        import weasyprint  # type: ignore[import-untyped,unused-ignore]
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(
            "PDF needs WeasyPrint and the Pango libraries (Debian: apt-get install"
            f" libpango-1.0-0 libpangoft2-1.0-0): {exc}"
        ) from None
    document = weasyprint.HTML(string=render_html(report), url_fetcher=_no_fetch)
    pdf: bytes = document.write_pdf()
    return pdf
