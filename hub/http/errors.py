"""Every error the HTTP side returns: one JSON shape, one status per code, never a 500 for
bad input.

A client (the referent page, a gendarmerie system polling the API, curl) always gets
``{"error": "<code>", "reason": "<one line>"}``: ``error`` is a stable code to branch
on, ``reason`` a short sentence for a person. The middleware here is the single place
where exceptions become responses, so a handler raises and never builds an error by
hand; anything it did not expect becomes a generic 500, is logged with its traceback
and counted, and the tests check that counter stays at zero for every bad input.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Final

from aiohttp import web
from aiohttp.http_exceptions import PayloadEncodingError
from aiohttp.typedefs import Handler, Middleware
from aiohttp.web_protocol import RequestPayloadError

from hub.escalation.model import (
    EscalationConflict,
    EscalationForbidden,
    EscalationNotFound,
)

__all__ = [
    "ERROR_CODES",
    "ApiError",
    "error_response",
    "make_error_middleware",
]

log = logging.getLogger(__name__)

#: Every ``error`` code the API returns, with its HTTP status. The OpenAPI document and
#: docs/referent-api.md list the same codes; a test keeps the three in step.
ERROR_CODES: Final[Mapping[str, int]] = {
    "bad_request": 400,
    "invalid_query": 400,
    "invalid_json": 400,
    "invalid_body": 400,
    "missing_token": 401,
    "malformed_authorization": 401,
    "invalid_token": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "request_timeout": 408,
    "conflict": 409,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "rate_limited": 429,
    "headers_too_large": 431,
    "internal_error": 500,
    "unavailable": 503,
}

#: Statuses aiohttp raises by itself (routing, body size), with the code and reason used.
_AIOHTTP_ERRORS: Final[Mapping[int, tuple[str, str]]] = {
    404: ("not_found", "no such resource"),
    405: ("method_not_allowed", "method not allowed on this resource"),
    413: ("payload_too_large", "request body too large"),
}

_MAX_REASON = 200


class ApiError(Exception):
    """A request the API refuses, with the status, code and reason the client gets.

    Args:
        code: a key of ``ERROR_CODES`` (its status follows from it).
        reason: one line for a person; trimmed and cut to 200 characters.
        headers: extra response headers (``WWW-Authenticate``, ``Retry-After``).
    """

    def __init__(self, code: str, reason: str, headers: Mapping[str, str] | None = None) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(reason)
        self.code = code
        self.status = ERROR_CODES[code]
        self.reason = reason
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        """The JSON response for this error."""
        return error_response(self.status, self.code, self.reason, self.headers)


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_REASON else line[: _MAX_REASON - 1] + "…"


def error_response(
    status: int, code: str, reason: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A ``{"error", "reason"}`` JSON response, never cached."""
    response = web.json_response({"error": code, "reason": _one_line(reason)}, status=status)
    response.headers["Cache-Control"] = "no-store"
    if headers:
        response.headers.update(headers)
    return response


def make_error_middleware(on_internal_error: Callable[[], None]) -> Middleware:
    """The outermost middleware: turns every exception into the JSON error shape.

    Args:
        on_internal_error: called once per unexpected exception (the metrics counter).
    """

    @web.middleware
    async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return exc.response()
        except EscalationNotFound:
            return error_response(404, "not_found", "no such escalation")
        except EscalationForbidden as exc:
            return error_response(403, "forbidden", str(exc) or "not allowed for this contact")
        except EscalationConflict as exc:
            return error_response(409, "conflict", str(exc) or "not allowed in this state")
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            code, reason = _AIOHTTP_ERRORS.get(exc.status, ("", ""))
            if not code:
                return _internal(request, exc, on_internal_error)
            headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
            return error_response(exc.status, code, reason, headers)
        except (RequestPayloadError, PayloadEncodingError):
            # A body whose Content-Encoding does not decode: the client's fault.
            return error_response(400, "invalid_body", "the request body could not be decoded")
        except (asyncio.CancelledError, ConnectionError):
            # The client went away or the server is stopping: nobody to answer.
            raise
        except Exception as exc:
            return _internal(request, exc, on_internal_error)

    return error_middleware


def _internal(
    request: web.Request, exc: BaseException, on_internal_error: Callable[[], None]
) -> web.Response:
    on_internal_error()
    log.error("unexpected error on %s %s", request.method, request.rel_url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal error; it has been logged")
