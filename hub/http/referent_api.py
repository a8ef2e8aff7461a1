"""The referent API (``/api/v1``): list, read, follow live and act on escalations.

Every handler does the same things in the same order: authenticate (401/429), check
the scope (403), check the query (400) and the body (413/415/400), and only then ask
the escalation service, whose own refusals (absent or not visible, forbidden,
conflicting state) become 404/403/409 in the error middleware. The service decides
visibility; this module never filters escalations itself, so the API cannot show a
referent more than the engine would.

The live stream (Server-Sent Events) subscribes to the service's changes before it
reads the open escalations it sends first, so that a change made in between is sent
twice (the client keeps the newest snapshot of each id) rather than never.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any, Final

from aiohttp import hdrs, web

from hub.escalation.model import (
    Contact,
    Escalation,
    EscalationChange,
    EscalationService,
    Status,
)
from hub.http.auth import INSTALLER, REFERENT, SCOPES, Authenticator, require_scope
from hub.http.errors import ApiError
from hub.http.health import HttpMetrics
from hub.http.listener import read_body
from hub.http.sse import HEARTBEAT, format_event, retry_field

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "ReferentApi", "StreamRegistry"]

log = logging.getLogger(__name__)

PREFIX: Final = "/api/v1"
DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 500

#: What an escalation id may look like; anything else cannot exist, so it is a 404.
_ESCALATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")
_LIMIT = re.compile(r"[0-9]{1,3}")
_STATUSES = ", ".join(s.value for s in Status)


def _quote(text: str) -> str:
    """A client-supplied name, shortened, for a reason line."""
    return repr(text if len(text) <= 40 else text[:40] + "…")


def _event_id(escalation: Escalation) -> str:
    return f"{escalation.id}@{escalation.revision}"


def _json(data: Any) -> web.Response:
    response = web.json_response(data)
    response.headers[hdrs.CACHE_CONTROL] = "no-store"
    return response


def _check_query(request: web.Request, allowed: frozenset[str] = frozenset()) -> None:
    query = request.query
    for key in query:
        if key not in allowed:
            raise ApiError("invalid_query", f"unknown query parameter {_quote(key)}")
        if len(query.getall(key)) > 1:
            raise ApiError("invalid_query", f"query parameter {_quote(key)} given twice")


def _escalation_id(request: web.Request) -> str:
    escalation_id = request.match_info["id"]
    if _ESCALATION_ID.fullmatch(escalation_id) is None:
        raise ApiError("not_found", "no such escalation")
    return escalation_id


async def _check_empty_body(request: web.Request, timeout: float) -> None:
    """Accept no body, or the JSON object ``{}``; refuse anything else.

    The actions take no parameter: there is deliberately no field for a note or a
    reason, because the hub never forwards free text. The body is parsed anyway so a
    client sending one learns at once that it was not taken, instead of believing its
    note went somewhere.
    """
    raw = await read_body(request, timeout)  # over client_max_size: aiohttp raises 413
    if not raw.strip():
        return
    if request.content_type != "application/json":
        raise ApiError("unsupported_media_type", "a request body must be application/json")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError("invalid_json", "the request body is not valid UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise ApiError("invalid_body", "the request body must be a JSON object")
    if data:
        field = str(next(iter(data)))
        raise ApiError(
            "invalid_body",
            f"unknown field {_quote(field)}: this request takes no field "
            "(the hub forwards no free text)",
        )


class StreamRegistry:
    """The live event streams, so that the app can end them all when it stops.

    Without this, a server stopping would wait for every SSE client to leave.
    """

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[EscalationChange | None]] = set()
        self.closing = False

    def add(self, queue: asyncio.Queue[EscalationChange | None]) -> None:
        """Track a stream's queue; one added while closing is ended at once."""
        self._queues.add(queue)
        if self.closing:
            queue.put_nowait(None)

    def discard(self, queue: asyncio.Queue[EscalationChange | None]) -> None:
        """Stop tracking a stream that ended."""
        self._queues.discard(queue)

    def close_all(self) -> None:
        """End every stream (the ``None`` sentinel makes its handler return)."""
        self.closing = True
        for queue in self._queues:
            queue.put_nowait(None)

    def __len__(self) -> int:
        return len(self._queues)


class ReferentApi:
    """The ``/api/v1`` handlers, bound to one escalation service.

    Args:
        service: the escalation engine, seen through ``EscalationService``.
        authenticator: turns bearer tokens into contacts.
        metrics: the app's counters.
        heartbeat: seconds between heartbeat comments on an idle stream.
        stream_queue_size: changes a stream may have waiting before it is closed as
            too slow (the client reconnects and gets the current state again).
        retry_ms: the reconnection delay the stream suggests to clients.
        body_timeout: seconds a request body has to arrive (408 beyond).
    """

    def __init__(
        self,
        service: EscalationService,
        authenticator: Authenticator,
        metrics: HttpMetrics,
        *,
        heartbeat: float = 15.0,
        stream_queue_size: int = 1000,
        retry_ms: int = 3000,
        body_timeout: float = 10.0,
    ) -> None:
        self._service = service
        self._auth = authenticator
        self._metrics = metrics
        self._heartbeat = heartbeat
        self._queue_size = stream_queue_size
        self._retry_ms = retry_ms
        self._body_timeout = body_timeout
        self.streams = StreamRegistry()

    def add_routes(self, app: web.Application) -> None:
        """Register the routes (the stream before ``{id}``, which would swallow it)."""
        get = app.router.add_get
        post = app.router.add_post
        get(f"{PREFIX}/me", self.me, name="me", allow_head=False)
        get(f"{PREFIX}/escalations", self.list_escalations, name="list", allow_head=False)
        get(f"{PREFIX}/escalations/stream", self.stream, name="stream", allow_head=False)
        get(f"{PREFIX}/escalations/{{id}}", self.get_escalation, name="get", allow_head=False)
        post(f"{PREFIX}/escalations/{{id}}/ack", self.acknowledge, name="ack")
        post(f"{PREFIX}/escalations/{{id}}/resolve", self.resolve, name="resolve")
        post(f"{PREFIX}/escalations/{{id}}/release-scene", self.release_scene, name="release")

    async def on_shutdown(self, _app: web.Application) -> None:
        """End the live streams so that stopping the server does not wait for clients."""
        self.streams.close_all()

    # -- handlers ----------------------------------------------------------------------
    async def me(self, request: web.Request) -> web.Response:
        """Who the token belongs to, and what it may do."""
        contact = self._auth.authenticate(request)
        _check_query(request)
        return _json(
            {
                "id": contact.id,
                "name": contact.name,
                "role": contact.role.value,
                "scopes": sorted(contact.scopes & SCOPES),
            }
        )

    async def list_escalations(self, request: web.Request) -> web.Response:
        """Escalations visible to the caller, newest first."""
        contact = self._viewer(request)
        _check_query(request, frozenset({"status", "limit"}))
        status: Status | None = None
        raw_status = request.query.get("status")
        if raw_status is not None:
            try:
                status = Status(raw_status)
            except ValueError:
                raise ApiError("invalid_query", f"status must be one of {_STATUSES}") from None
        limit = DEFAULT_LIMIT
        raw_limit = request.query.get("limit")
        if raw_limit is not None:
            if _LIMIT.fullmatch(raw_limit) is None or not 1 <= int(raw_limit) <= MAX_LIMIT:
                raise ApiError("invalid_query", f"limit must be an integer from 1 to {MAX_LIMIT}")
            limit = int(raw_limit)
        found = self._service.list(contact, status=status, limit=limit)
        return _json({"escalations": [e.to_dict() for e in found[:limit]]})

    async def get_escalation(self, request: web.Request) -> web.Response:
        """One escalation (404 when absent or not addressed to the caller)."""
        contact = self._viewer(request)
        escalation_id = _escalation_id(request)
        _check_query(request)
        return _json(self._service.get(contact, escalation_id).to_dict())

    async def acknowledge(self, request: web.Request) -> web.Response:
        """Take the escalation: the ladder stops. Replaying it changes nothing."""
        contact = self._auth.authenticate(request)
        require_scope(contact, REFERENT)
        escalation_id = await self._action_request(request)
        escalation = await self._service.acknowledge(contact, escalation_id)
        return _json(escalation.to_dict())

    async def resolve(self, request: web.Request) -> web.Response:
        """Close the escalation. Replaying it changes nothing."""
        contact = self._viewer(request)
        escalation_id = await self._action_request(request)
        return _json((await self._service.resolve(contact, escalation_id)).to_dict())

    async def release_scene(self, request: web.Request) -> web.Response:
        """Release the preserved scene (installer, or a referent it was addressed to)."""
        contact = self._viewer(request)
        escalation_id = await self._action_request(request)
        return _json((await self._service.release_scene(contact, escalation_id)).to_dict())

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """Server-Sent Events: the open escalations first, then every change, live."""
        contact = self._viewer(request)
        _check_query(request)
        queue: asyncio.Queue[EscalationChange | None] = asyncio.Queue()
        changes = self._service.changes(contact)
        pump = asyncio.create_task(self._pump(changes, queue), name=f"sse-pump:{contact.id}")
        self.streams.add(queue)
        try:
            # Let the pump subscribe before the snapshot is read (see the module doc).
            await asyncio.sleep(0)
            current = self._service.list(contact, status=Status.OPEN, limit=MAX_LIMIT)
            response = web.StreamResponse(
                headers={
                    hdrs.CONTENT_TYPE: "text/event-stream; charset=utf-8",
                    hdrs.CACHE_CONTROL: "no-store",
                    "X-Accel-Buffering": "no",
                }
            )
            await response.prepare(request)
            self._metrics.streams_open += 1
            try:
                await response.write(retry_field(self._retry_ms))
                for escalation in reversed(current):  # oldest first, like live changes
                    await response.write(
                        format_event("current", escalation.to_dict(), _event_id(escalation))
                    )
                await self._relay(queue, response)
            except ConnectionError:
                log.debug("event stream of %s closed by the client", contact.id)
            finally:
                self._metrics.streams_open -= 1
            return response
        finally:
            self.streams.discard(queue)
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)
            aclose = getattr(changes, "aclose", None)
            if aclose is not None:
                await aclose()

    # -- helpers -----------------------------------------------------------------------
    def _viewer(self, request: web.Request) -> Contact:
        contact = self._auth.authenticate(request)
        require_scope(contact, REFERENT, INSTALLER)
        return contact

    async def _action_request(self, request: web.Request) -> str:
        escalation_id = _escalation_id(request)
        _check_query(request)
        await _check_empty_body(request, self._body_timeout)
        return escalation_id

    async def _pump(
        self,
        changes: AsyncIterator[EscalationChange],
        queue: asyncio.Queue[EscalationChange | None],
    ) -> None:
        try:
            async for change in changes:
                if queue.qsize() >= self._queue_size:
                    log.warning("event stream too slow to keep up; closing it")
                    break
                queue.put_nowait(change)
        except Exception:
            log.exception("the escalation change feed failed; closing the stream")
        finally:
            queue.put_nowait(None)

    async def _relay(
        self, queue: asyncio.Queue[EscalationChange | None], response: web.StreamResponse
    ) -> None:
        while True:
            try:
                async with asyncio.timeout(self._heartbeat):
                    change = await queue.get()
            except TimeoutError:
                await response.write(HEARTBEAT)
                continue
            if change is None:
                return
            escalation = change.escalation
            await response.write(
                format_event(change.what, escalation.to_dict(), _event_id(escalation))
            )
