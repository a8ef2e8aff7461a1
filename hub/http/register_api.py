"""``POST /api/v1/register/handovers``: record a hand-over of recordings to the
prosecutor on the running hub, for installers.

A security hub is not stopped to write that recordings were handed over, and only a
running hub reaches its camera devices (a Frigate camera exports the window through
its device): so the hub records it itself, with the same checks and writes as
``ecrin register handover`` (``hub.coverage.handover``), through the service the
composition root hands it.

The same order of checks and error bodies as the other routes: authenticate, scope,
query (none), body. The body is a JSON object of exactly ``camera``, ``from``, ``to``
(ISO 8601 instants with their offset), ``to_whom`` and ``reference``; its size is
bounded by the app's ``client_max_size``. Every refusal is a 400 with its reason, and
nothing is recorded; a hub that cannot record (no journal, a file it cannot write)
answers 503, nothing recorded either. Whom to is personal data: it is in the answer to
the installer who sent it, never in a log line.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

from aiohttp import web

from hub.coverage.handover import (
    HandoverRefused,
    HandoverService,
    HandoverUnavailable,
    RecordedHandover,
)
from hub.http.auth import INSTALLER, Authenticator, require_scope
from hub.http.errors import ApiError
from hub.http.listener import read_body
from hub.http.referent_api import PREFIX, _check_query

__all__ = ["HANDOVERS_PATH", "HANDOVER_FIELDS", "RegisterApi"]

HANDOVERS_PATH: Final = f"{PREFIX}/register/handovers"
#: The body's fields, every one required.
HANDOVER_FIELDS: Final = ("camera", "from", "to", "to_whom", "reference")
#: The longest value a field may have before it is even read (a camera id, an ISO
#: instant, or a text the register caps at 200 characters once its blanks are folded).
_FIELD_MAX: Final = 1000


class RegisterApi:
    """The hand-over route, bound to one hub's service.

    Args:
        handovers: records hand-overs; None for an app without a hub (every request
            past the checks is then a 503).
        authenticator: turns bearer tokens into contacts.
        body_timeout: seconds the body may take to arrive.
    """

    def __init__(
        self,
        handovers: HandoverService | None,
        authenticator: Authenticator,
        *,
        body_timeout: float,
    ) -> None:
        self._handovers = handovers
        self._auth = authenticator
        self._body_timeout = body_timeout

    def add_routes(self, app: web.Application) -> None:
        """Register ``POST /api/v1/register/handovers``."""
        app.router.add_post(HANDOVERS_PATH, self.post_handover, name="register_handover")

    async def post_handover(self, request: web.Request) -> web.Response:
        """Record a hand-over; 201 with its register line and journal row."""
        contact = self._auth.authenticate(request)
        require_scope(contact, INSTALLER)
        _check_query(request)
        fields = await self._body(request)
        start = _instant(fields["from"], "from")
        end = _instant(fields["to"], "to")
        service = self._handovers
        if service is None:
            raise ApiError("unavailable", "this hub keeps no register")
        try:
            recorded = await service.hand_over(
                fields["camera"], start, end, fields["to_whom"], fields["reference"]
            )
        except HandoverRefused as exc:
            raise ApiError("invalid_body", str(exc)) from None
        except HandoverUnavailable as exc:
            raise ApiError("unavailable", str(exc)) from None
        response = web.json_response(_answer(recorded), status=201)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def _body(self, request: web.Request) -> dict[str, str]:
        raw = await read_body(request, self._body_timeout)  # over the limit: 413
        if request.content_type != "application/json":
            raise ApiError("unsupported_media_type", "the request body must be application/json")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ApiError("invalid_json", "the request body is not valid UTF-8 JSON") from None
        if not isinstance(data, dict):
            raise ApiError("invalid_body", "the request body must be a JSON object")
        for key in data:
            if key not in HANDOVER_FIELDS:
                raise ApiError(
                    "invalid_body",
                    f"unknown field {json.dumps(str(key)[:40])}: the fields are"
                    f" {', '.join(HANDOVER_FIELDS)}",
                )
        fields: dict[str, str] = {}
        for name in HANDOVER_FIELDS:
            value = data.get(name)
            if value is None:
                raise ApiError("invalid_body", f"field {name!r} is required")
            if not isinstance(value, str):
                raise ApiError("invalid_body", f"field {name!r} must be a string")
            if len(value) > _FIELD_MAX:
                raise ApiError("invalid_body", f"field {name!r} is too long")
            fields[name] = value
        return fields


def _instant(text: str, name: str) -> datetime:
    """An ISO 8601 instant with its offset (``2026-03-10T09:00:00Z``), as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ApiError(
            "invalid_body",
            f"field {name!r} is not an ISO 8601 instant (2026-03-10T09:00:00+01:00)",
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ApiError(
            "invalid_body",
            f"field {name!r} has no offset: give the instant with Z or +01:00",
        )
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ApiError("invalid_body", f"field {name!r} is out of range") from None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _answer(recorded: RecordedHandover) -> dict[str, Any]:
    handover = recorded.handover
    return {
        "number": handover.id,
        "camera": handover.camera,
        "from": _iso(handover.start),
        "to": _iso(handover.end),
        "to_whom": handover.to_whom,
        "reference": handover.reference,
        "recorded_at": _iso(handover.recorded_at),
        "journal_row": recorded.journal_row,
    }
