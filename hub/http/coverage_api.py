"""``GET /api/v1/reports/coverage``: the coverage report, for installers.

The same report as ``ecrin report coverage`` (``hub.coverage``), in the format asked
for: ``from`` and ``to`` as the command takes them (whole days of the site, ``to``
included, or instants), ``format`` one of ``json`` (the default), ``html``, ``csv``,
``pdf``. The same order of checks and error bodies as the other routes: authenticate,
scope, query. Installers only: the report shows every zone's weak hours and hold-ups.

A month's report can take tens of seconds and a gigabyte, so the route only awaits a
``ReportMaker``: the running hub's makes each report in a child process that loses
every competition with the hub (``hub.coverage.report_child``). Reports are still made
one at a time, so a client asking for many cannot take every core, nor the memory, from
the hold-up path; and a report whose client has gone away is stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Final

from aiohttp import hdrs, web

from hub.coverage.formats import FORMATS, Format
from hub.coverage.report_runs import ReportFailed, ReportMaker
from hub.http.auth import INSTALLER, Authenticator, require_scope
from hub.http.errors import ApiError
from hub.http.referent_api import PREFIX, _check_query

__all__ = ["COVERAGE_REPORT_PATH", "CoverageReportApi"]

COVERAGE_REPORT_PATH: Final = f"{PREFIX}/reports/coverage"
_QUERY: Final = frozenset({"from", "to", "format"})
_TEXT: Final = frozenset({"html", "csv", "json"})
#: Seconds between two looks at the client's connection while its report is made.
CLIENT_CHECK: Final = 0.5


class CoverageReportApi:
    """The report route, bound to one shop's log and journal.

    Args:
        reports: what makes the reports (``ChildReports`` for the running hub); None
            for an app without a hub (every request past the checks is then a 503).
        authenticator: turns bearer tokens into contacts.
    """

    def __init__(self, reports: ReportMaker | None, authenticator: Authenticator) -> None:
        self._reports = reports
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
        reports = self._reports
        if reports is None:
            raise ApiError("unavailable", "this hub keeps no coverage log")
        async with self._one_at_a_time:
            try:
                data, media_type = await _while_connected(
                    request, reports.make(start, end, fmt, ("from", "to"))
                )
            except ReportFailed as exc:
                kind = "invalid_query" if exc.invalid else "unavailable"
                raise ApiError(kind, exc.reason) from None
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


async def _while_connected(
    request: web.Request, making: Coroutine[object, object, tuple[bytes, str]]
) -> tuple[bytes, str]:
    """The report ``making`` gives, unless the client goes away first: then it is
    stopped (its process killed), and the answer is a 503 nobody reads.

    aiohttp leaves a handler running when its client goes (handler cancellation is
    off: it would cut other routes' journal writes short), so this route looks at its
    connection itself.
    """
    task = asyncio.ensure_future(making)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=CLIENT_CHECK)
            if done:
                return task.result()
            transport = request.transport
            if transport is None or transport.is_closing():
                raise ApiError("unavailable", "the client went away")
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _safe(text: str) -> str:
    """A typed bound, as a file name's part: digits and dashes only."""
    return "".join(c if c.isdigit() or c == "-" else "_" for c in text.strip())[:32]
