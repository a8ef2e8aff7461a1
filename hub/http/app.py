"""The aiohttp application of the hub's HTTP side (served by ``hub.http.listener``).

``create_app`` wires the parts together and nothing else: the error middleware
(outermost, so nothing escapes as an HTML error page), the referent API, the page, the
OpenAPI document, health and metrics. Long-lived work is started and stopped in one
place, the app's ``cleanup_ctx``; live streams are ended on shutdown, so stopping the
hub never waits for a referent's open page to go away.

The app does not own the escalation service: whoever made the engine enters and leaves
it (``Hub`` for ``ecrin run``, a fixture in the tests), and hands it here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Final

from aiohttp import web

from hub.coverage.handover import HandoverService
from hub.coverage.model import CoverageReader
from hub.coverage.report_runs import ReportMaker
from hub.escalation.model import EscalationService
from hub.http.auth import Authenticator, FailureLimiter
from hub.http.coverage_api import CoverageReportApi
from hub.http.coverage_view import CoverageView
from hub.http.errors import make_error_middleware
from hub.http.health import HttpMetrics, Readiness, add_health_routes
from hub.http.listener import serve
from hub.http.openapi import OPENAPI_PATH, openapi_document
from hub.http.page import add_page_routes
from hub.http.referent_api import ReferentApi
from hub.http.register_api import RegisterApi
from hub.http.settings import HTTP_SETTINGS, HttpSettings
from hub.http.state_api import StateApi, StateView
from hub.state import StateRegistry

__all__ = [
    "AUTHENTICATOR",
    "METRICS",
    "REFERENT_API",
    "HttpSettings",
    "create_app",
    "serve",
]

METRICS: Final = web.AppKey("metrics", HttpMetrics)
AUTHENTICATOR: Final = web.AppKey("authenticator", Authenticator)
REFERENT_API: Final = web.AppKey("referent_api", ReferentApi)


def create_app(
    service: EscalationService,
    settings: HttpSettings | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    readiness: Callable[[], Readiness] | None = None,
    state: StateView | None = None,
    coverage: CoverageReader | None = None,
    coverage_report: ReportMaker | None = None,
    handovers: HandoverService | None = None,
) -> web.Application:
    """Build the application for one escalation service.

    Args:
        service: the running escalation engine.
        settings: tunables; the defaults when None.
        clock: the monotonic clock of the lockout (tests pass their own).
        readiness: the hub's readiness, for ``/healthz``.
        state: the hub's state registry, for ``GET /api/v1/state`` (None: an empty
            one, for an app without a hub).
        coverage: the coverage log, for ``GET /api/v1/escalations/{id}/coverage``
            (None: the hub keeps none, and the route says so).
        coverage_report: what makes the reports of ``GET /api/v1/reports/coverage``
            (``ChildReports`` for the running hub; None: that route answers 503).
        handovers: records hand-overs of recordings with the hub's journal and camera
            plugins, for ``POST /api/v1/register/handovers`` (None: that route answers
            503).
    """
    settings = settings or HttpSettings()
    metrics = HttpMetrics()
    app = web.Application(
        client_max_size=settings.client_max_size,
        middlewares=[make_error_middleware(metrics.count_internal_error)],
    )
    limiter = FailureLimiter(
        limit=settings.failure_limit,
        window=settings.failure_window,
        max_lockout=settings.max_lockout,
        clock=clock,
    )
    authenticator = Authenticator(
        service.contacts,
        limiter,
        on_failure=metrics.count_auth_failure,
        on_rate_limited=metrics.count_rate_limited,
    )
    api = ReferentApi(
        service,
        authenticator,
        metrics,
        heartbeat=settings.heartbeat,
        stream_queue_size=settings.stream_queue_size,
        body_timeout=settings.body_timeout,
    )
    app[HTTP_SETTINGS] = settings
    app[METRICS] = metrics
    app[AUTHENTICATOR] = authenticator
    app[REFERENT_API] = api

    api.add_routes(app)
    CoverageView(service, authenticator, coverage).add_routes(app)
    StateApi(state if state is not None else StateRegistry(), authenticator).add_routes(app)
    CoverageReportApi(coverage_report, authenticator).add_routes(app)
    RegisterApi(handovers, authenticator, body_timeout=settings.body_timeout).add_routes(app)
    add_page_routes(app)
    add_health_routes(app, metrics, readiness)
    document = openapi_document()

    async def openapi(_request: web.Request) -> web.Response:
        return web.json_response(document, headers={"Cache-Control": "no-cache"})

    app.router.add_get(OPENAPI_PATH, openapi, name="openapi", allow_head=False)

    async def count_response(_request: web.Request, response: web.StreamResponse) -> None:
        metrics.responses[response.status] += 1

    app.on_response_prepare.append(count_response)
    app.on_shutdown.append(api.on_shutdown)

    async def background(_app: web.Application) -> AsyncIterator[None]:
        prune = asyncio.create_task(_prune_forever(limiter, settings.prune_interval))
        yield
        prune.cancel()
        await asyncio.gather(prune, return_exceptions=True)

    app.cleanup_ctx.append(background)
    return app


async def _prune_forever(limiter: FailureLimiter, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        limiter.prune()
