"""``GET /api/v1/reports/coverage``: the coverage report, for installers.

The same report as ``ecrin report coverage`` (``hub.coverage``), in the format asked
for: ``from`` and ``to`` as the command takes them (whole days of the site, ``to``
included, or instants), ``format`` one of ``json`` (the default), ``html``, ``csv``,
``pdf``. The same order of checks and error bodies as the other routes: authenticate,
scope, query. Installers only: the report shows every zone's weak hours and hold-ups.

Building a report reads the journal and the log and may take seconds for a month, so
it runs in a thread, one at a time: a client asking for many cannot take the loop, or
every core, from the hold-up path.
"""

from __future__ import annotations

import asyncio
from typing import Final

from aiohttp import hdrs, web

from hub.coverage.formats import FORMATS, Format
from hub.coverage.period import PeriodError
from hub.coverage.render_pdf import PdfUnavailable
from hub.coverage.report_source import CoverageLogUnavailable, ReportSource
from hub.http.auth import INSTALLER, Authenticator, require_scope
from hub.http.errors import ApiError
from hub.http.referent_api import PREFIX, _check_query
from hub.journal import JournalError

__all__ = ["COVERAGE_REPORT_PATH", "CoverageReportApi"]

COVERAGE_REPORT_PATH: Final = f"{PREFIX}/reports/coverage"
_QUERY: Final = frozenset({"from", "to", "format"})
_TEXT: Final = frozenset({"html", "csv", "json"})


class CoverageReportApi:
    """The report route, bound to one shop's log and journal.

    Args:
        source: what reports are made from; None for an app without a hub (every
            request past the checks is then a 503).
        authenticator: turns bearer tokens into contacts.
    """

    def __init__(self, source: ReportSource | None, authenticator: Authenticator) -> None:
        self._source = source
        self._auth = authenticator
        self._one_at_a_time = asyncio.Lock()

    def add_routes(self, app: web.Application) -> None:
        """Register ``GET /api/v1/reports/coverage``."""
        app.router.add_get(
            COVERAGE_REPORT_PATH, self.get_report, name="coverage_report", allow_head=False
        )

    async def get_report(self, request: web.Request) -> web.Response:
        """The report of the period asked for, in the format asked for."""
        contact = self._auth.authenticate(request)
        require_scope(contact, INSTALLER)
        _check_query(request, _QUERY)
        start, end = (self._required(request, name) for name in ("from", "to"))
        fmt = self._format(request)
        source = self._source
        if source is None:
            raise ApiError("unavailable", "this hub keeps no coverage log")
        async with self._one_at_a_time:
            try:
                data, media_type = await asyncio.to_thread(
                    source.make, start, end, fmt, names=("from", "to")
                )
            except PeriodError as exc:
                raise ApiError("invalid_query", str(exc)) from None
            except (CoverageLogUnavailable, PdfUnavailable, JournalError) as exc:
                raise ApiError("unavailable", _without_paths(exc)) from None
        response = web.Response(
            body=data,
            content_type=media_type,
            charset="utf-8" if fmt in _TEXT else None,
        )
        response.headers[hdrs.CACHE_CONTROL] = "no-store"
        if fmt in ("pdf", "csv"):
            response.headers[hdrs.CONTENT_DISPOSITION] = (
                f'attachment; filename="coverage-{_safe(start)}-{_safe(end)}.{fmt}"'
            )
        return response

    @staticmethod
    def _required(request: web.Request, name: str) -> str:
        value = request.query.get(name)
        if value is None or not value.strip():
            raise ApiError(
                "invalid_query",
                f"query parameter {name!r} is required: a date (2024-03-31) or a date and time",
            )
        return value

    @staticmethod
    def _format(request: web.Request) -> Format:
        value = request.query.get("format", "json")
        for fmt in FORMATS:
            if value == fmt:
                return fmt
        raise ApiError(
            "invalid_query", f"query parameter 'format' must be one of {', '.join(FORMATS)}"
        )


def _without_paths(exc: Exception) -> str:
    """The reason for a client: what is missing, not where the hub keeps its files."""
    if isinstance(exc, CoverageLogUnavailable):
        return "the coverage log cannot be read yet: has the hub recorded any?"
    if isinstance(exc, PdfUnavailable):
        return "PDF cannot be made on this hub (WeasyPrint or Pango missing); ask for html"
    return "the journal cannot be read"


def _safe(text: str) -> str:
    """A typed bound, as a file name's part: digits and dashes only."""
    return "".join(c if c.isdigit() or c == "-" else "_" for c in text.strip())[:32]
