"""``GET /api/v1/escalations/{id}/coverage``: which cameras filmed the zone at the signal.

A referent who opens a hold-up wants to know at once which footage exists: which of the
cameras filming the zone were online *and* recording when the signal came. The
escalation's ``camera_states`` does not say that: it is the state registry's view at
the escalation's *last change* (refreshed at every change), and it counts a camera
whose recording was never reported as covering. The coverage log says it exactly, from
the journal: the availability and the recording of each camera at a moment, and
whether the zone was covered.

The answer is "as of" a moment: the signal's time when the log already reaches it, or
else the last moment the log knows (it follows the journal a fraction of a second
behind, and between camera events only the heartbeat moves it on); the states it
gives then are those still in force, since no camera event that changed them was
journaled before. ``known`` is false, with a reason, when the log cannot tell (no
coverage log, the signal before it began, an escalation without a zone).

Same order of checks as the rest of the API (authenticate, scope, query), and the
escalation service decides visibility (404 for an escalation the caller cannot see).
The log is read in a thread: an SQLite read must not hold the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any, Final

from aiohttp import web

from hub.coverage.model import AVAILABILITY, COVERAGE, RECORDING, CoverageReader
from hub.escalation.model import Escalation, EscalationService
from hub.http.auth import INSTALLER, REFERENT, Authenticator, require_scope
from hub.http.referent_api import PREFIX, _check_query, _escalation_id, _json

__all__ = ["COVERAGE_PATH", "CoverageView", "coverage_at_signal"]

log = logging.getLogger(__name__)

COVERAGE_PATH: Final = f"{PREFIX}/escalations/{{id}}/coverage"

_INSTANT: Final = timedelta(microseconds=1)


def _unknown(escalation: Escalation, at: datetime, reason: str) -> dict[str, Any]:
    return {
        "escalation": escalation.id,
        "zone": escalation.zone,
        "at": at.isoformat(),
        "known": False,
        "reason": reason,
        "as_of": None,
        "covered": None,
        "cause": "",
        "cameras": [],
    }


def coverage_at_signal(reader: CoverageReader | None, escalation: Escalation) -> dict[str, Any]:
    """The coverage of the escalation's zone when its first signal came (the JSON body).

    Raises:
        Exception: what the reader raises when its file cannot be read.
    """
    at = escalation.signalled_at or escalation.created_at
    if reader is None:
        return _unknown(escalation, at, "the hub keeps no coverage log")
    if escalation.zone is None:
        return _unknown(escalation, at, "the signal named no shop zone")
    span = reader.span()
    if span is None or span[0] >= span[1]:
        return _unknown(escalation, at, "the coverage log holds nothing yet")
    began, last = span
    if at < began:
        return _unknown(escalation, at, "the signal came before the coverage log began")
    as_of = min(at, last - _INSTANT)
    window = reader.intervals(as_of, as_of + _INSTANT)
    states = {(i.kind, i.subject): i for i in window}
    zone = states.get((COVERAGE, escalation.zone))
    cameras = []
    for camera in escalation.cameras:
        availability = states.get((AVAILABILITY, camera))
        recording = states.get((RECORDING, camera))
        online = availability.state if availability is not None else "unknown"
        records = recording.state if recording is not None else "unknown"
        cameras.append(
            {
                "id": camera,
                "availability": online,
                "recording": records,
                "filming": online == "online" and records == "on",
            }
        )
    return {
        "escalation": escalation.id,
        "zone": escalation.zone,
        "at": at.isoformat(),
        "known": True,
        "reason": "",
        "as_of": (as_of if as_of == at else last).isoformat(),
        "covered": zone is not None and zone.state == "covered",
        "cause": zone.cause if zone is not None else "",
        "cameras": cameras,
    }


class CoverageView:
    """The route, bound to the escalation service and the coverage log.

    Args:
        service: the escalation service (visibility, the escalation).
        authenticator: turns bearer tokens into contacts.
        reader: the coverage log (None: the hub keeps none).
    """

    def __init__(
        self,
        service: EscalationService,
        authenticator: Authenticator,
        reader: CoverageReader | None,
    ) -> None:
        self._service = service
        self._auth = authenticator
        self._reader = reader

    def add_routes(self, app: web.Application) -> None:
        """Register ``GET /api/v1/escalations/{id}/coverage``."""
        app.router.add_get(COVERAGE_PATH, self.get_coverage, name="coverage", allow_head=False)

    async def get_coverage(self, request: web.Request) -> web.Response:
        """The zone's coverage at the signal (referent or installer; 404 when absent
        or not addressed to the caller)."""
        contact = self._auth.authenticate(request)
        require_scope(contact, REFERENT, INSTALLER)
        escalation_id = _escalation_id(request)
        _check_query(request)
        escalation = self._service.get(contact, escalation_id)
        try:
            body = await asyncio.to_thread(coverage_at_signal, self._reader, escalation)
        except Exception as exc:  # an unreadable file: say so, never a wrong answer
            log.error("coverage of escalation %s not read: %s", escalation.id, exc)
            at = escalation.signalled_at or escalation.created_at
            body = _unknown(escalation, at, "the coverage log cannot be read (see the hub's log)")
        return _json(body)
