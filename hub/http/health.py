"""Liveness, readiness and a handful of counters, for the installer's monitoring.

Both routes are public: ``/healthz`` says whether the hub has finished starting and how
many of its devices run (counts only, no device names), and ``/metrics`` holds request
counters, never anything about an escalation (an open hold-up must not be readable by
whoever can reach the port).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

__all__ = ["HttpMetrics", "Readiness", "add_health_routes"]


@dataclass(frozen=True, slots=True)
class Readiness:
    """What ``/healthz`` tells a service manager or a script.

    Attributes:
        ready: the start-up is over: journal, escalation engine and HTTP side up, and
            every device opened once or failed to.
        configured: devices and cameras in the configuration.
        running: those open and running now.
        broker: whether the hub's MQTT session is connected to its broker; None when
            the hub has none.
    """

    ready: bool
    configured: int
    running: int
    broker: bool | None = None

    def document(self) -> tuple[int, dict[str, object]]:
        """The HTTP status and body: 503 while starting; then 200, ``ok`` when every
        device runs and the broker (if any) is connected, ``degraded`` when not (the
        hub runs, and retries them)."""
        devices = {"configured": self.configured, "running": self.running}
        body: dict[str, object] = {"devices": devices}
        if self.broker is not None:
            body["broker"] = {"connected": self.broker}
        if not self.ready:
            return 503, {"status": "starting", "ready": False, **body}
        fine = self.running >= self.configured and self.broker is not False
        return 200, {"status": "ok" if fine else "degraded", "ready": True, **body}


@dataclass(slots=True)
class HttpMetrics:
    """Counters of one HTTP application (one per app, never global).

    Attributes:
        responses: responses sent, by status code.
        auth_failures: refused tokens and malformed Authorization headers.
        rate_limited: requests refused because their address was locked out.
        internal_errors: unexpected exceptions turned into 500 (should stay at 0).
        streams_open: live event streams right now.
        started: monotonic time the app was made, for the uptime.
    """

    responses: Counter[int] = field(default_factory=Counter)
    auth_failures: int = 0
    rate_limited: int = 0
    internal_errors: int = 0
    streams_open: int = 0
    started: float = field(default_factory=time.monotonic)

    def count_auth_failure(self) -> None:
        """Count one refused token or header."""
        self.auth_failures += 1

    def count_rate_limited(self) -> None:
        """Count one request refused by the lockout."""
        self.rate_limited += 1

    def count_internal_error(self) -> None:
        """Count one unexpected exception."""
        self.internal_errors += 1

    def exposition(self) -> str:
        """The counters in the Prometheus text format (version 0.0.4)."""
        lines = [
            "# HELP ecrin_http_responses_total HTTP responses sent, by status code.",
            "# TYPE ecrin_http_responses_total counter",
        ]
        lines += [
            f'ecrin_http_responses_total{{code="{code}"}} {count}'
            for code, count in sorted(self.responses.items())
        ]
        for name, kind, text, value in (
            ("auth_failures_total", "counter", "Refused tokens.", self.auth_failures),
            ("rate_limited_total", "counter", "Requests refused by lockout.", self.rate_limited),
            ("internal_errors_total", "counter", "Unexpected errors.", self.internal_errors),
            ("streams_open", "gauge", "Live event streams.", self.streams_open),
        ):
            lines += [
                f"# HELP ecrin_http_{name} {text}",
                f"# TYPE ecrin_http_{name} {kind}",
                f"ecrin_http_{name} {value}",
            ]
        uptime = time.monotonic() - self.started
        lines += [
            "# HELP ecrin_http_uptime_seconds Seconds since the HTTP side started.",
            "# TYPE ecrin_http_uptime_seconds gauge",
            f"ecrin_http_uptime_seconds {uptime:.3f}",
        ]
        return "\n".join(lines) + "\n"


def add_health_routes(
    app: web.Application,
    metrics: HttpMetrics,
    readiness: Callable[[], Readiness] | None = None,
) -> None:
    """Register ``GET /healthz`` and ``GET /metrics``.

    Args:
        app: the application.
        metrics: its counters.
        readiness: the hub's readiness (None: an application without a hub, which only
            says that it answers).
    """

    async def healthz(_request: web.Request) -> web.Response:
        status, body = (200, {"status": "ok"}) if readiness is None else readiness().document()
        response = web.json_response(body, status=status)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def metrics_route(_request: web.Request) -> web.Response:
        return web.Response(
            body=metrics.exposition().encode("utf-8"),
            headers={
                "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
                "Cache-Control": "no-store",
            },
        )

    app.router.add_get("/healthz", healthz, name="healthz", allow_head=False)
    app.router.add_get("/metrics", metrics_route, name="metrics", allow_head=False)
