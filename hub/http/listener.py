"""The hub's TCP listener: connection caps, a descriptor reserve, read deadlines, and
parser errors in the JSON error contract.

aiohttp's own server trusts its clients: no deadline for a request head, a keep-alive of
an hour, no cap on connections, and a parser error answered in plain text after a
traceback at error level that holds the offending header (a bearer token included).
A hold-up must reach the referents whatever the HTTP side suffers, so the listener here
wraps aiohttp's request handler:

- a connection is admitted only while the process keeps ``fd_reserve`` descriptors
  free, fewer than ``max_connections`` are open, and its address holds fewer than
  ``max_connections_per_address``; otherwise it gets a 503 and is closed at once, so
  the webhooks, the serial lines and the SQLite files always find a descriptor;
- a request head must be complete within ``header_timeout``, a body within
  ``body_timeout`` (``read_body``), and an idle keep-alive connection is closed after
  ``keepalive_timeout``;
- a request the parser refuses gets the documented JSON error and one log line that
  names the address and the kind of fault, never a value the client sent.

The descriptor check costs nothing: Linux hands out the lowest free descriptor, so an
accepted socket numbered within ``fd_reserve`` of the limit means every descriptor
below it is in use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong, PayloadEncodingError
from aiohttp.web_protocol import RequestHandler, RequestPayloadError
from aiohttp.web_request import BaseRequest

from hub.http.access_log import AccessLog
from hub.http.errors import ApiError, error_response
from hub.http.settings import HTTP_SETTINGS, HttpSettings

__all__ = ["ConnectionGate", "read_body", "serve"]

log = logging.getLogger(__name__)

#: The answer to a connection refused by the gate: the JSON error contract, then close.
_REFUSAL_BODY: Final = b'{"error": "unavailable", "reason": "too many connections; retry later"}'
_REFUSAL: Final = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: application/json; charset=utf-8\r\n"
    b"Cache-Control: no-store\r\n"
    b"Retry-After: 5\r\n"
    b"Connection: close\r\n"
    b"Content-Length: " + str(len(_REFUSAL_BODY)).encode() + b"\r\n\r\n" + _REFUSAL_BODY
)


def _open_files_limit() -> int | None:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


class ConnectionGate:
    """Admits or refuses each new connection, and counts what is open.

    Args:
        max_total: open connections allowed in total.
        max_per_address: open connections allowed from one address.
        fd_reserve: descriptors kept free below the process's open-files limit.
        fd_limit: that limit; read from ``RLIMIT_NOFILE`` when None (tests pass theirs).
    """

    def __init__(
        self,
        *,
        max_total: int,
        max_per_address: int,
        fd_reserve: int,
        fd_limit: int | None = None,
    ) -> None:
        self.max_total = max_total
        self.max_per_address = max_per_address
        self.fd_reserve = fd_reserve
        self.fd_limit = fd_limit if fd_limit is not None else _open_files_limit()
        self.open = 0
        self._by_address: Counter[str] = Counter()
        #: Connections refused so far, by reason ("descriptors", "total", "address").
        self.refused: Counter[str] = Counter()

    def admit(self, address: str, fileno: int) -> str | None:
        """Count the connection in and return None, or return why it is refused.

        Args:
            address: the client's address.
            fileno: the accepted socket's descriptor (-1 when unknown).
        """
        reason: str | None = None
        if self.fd_limit is not None and fileno >= self.fd_limit - self.fd_reserve:
            reason = "descriptors"
        elif self.open >= self.max_total:
            reason = "total"
        elif self._by_address[address] >= self.max_per_address:
            reason = "address"
        if reason is not None:
            self.refused[reason] += 1
            return reason
        self.open += 1
        self._by_address[address] += 1
        return None

    def release(self, address: str) -> None:
        """Count out a connection that ``admit`` let in."""
        self.open -= 1
        self._by_address[address] -= 1
        if self._by_address[address] <= 0:
            del self._by_address[address]

    def by_address(self, address: str) -> int:
        """Open connections from ``address``."""
        return self._by_address.get(address, 0)


def _address(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return "unknown"


def _fileno(transport: asyncio.BaseTransport) -> int:
    sock = transport.get_extra_info("socket")
    return sock.fileno() if sock is not None else -1


def _parser_error(exc: BaseException | None) -> ApiError:
    """The error the client gets for a request the parser refused; no value in it."""
    if isinstance(exc, LineTooLong) or (
        isinstance(exc, BadHttpMessage) and "too many headers" in str(exc).lower()
    ):
        return ApiError("headers_too_large", "the request line or headers are too large")
    return ApiError("bad_request", "the request is not valid HTTP/1.1")


class _GuardedHandler(RequestHandler):
    """aiohttp's request handler behind the gate, with a head deadline and JSON errors."""

    def __init__(
        self,
        manager: web.Server,
        *,
        gate: ConnectionGate,
        header_timeout: float,
        loop: asyncio.AbstractEventLoop,
        **kwargs: Any,
    ) -> None:
        super().__init__(manager, loop=loop, **kwargs)
        self._gate = gate
        self._header_timeout = header_timeout
        self._admitted: str | None = None
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        address = _address(transport)
        refusal = self._gate.admit(address, _fileno(transport))
        if refusal is not None:
            # Nothing registered, no task started: the descriptor is handed back at once.
            log.warning("connection refused (%s limit reached)", refusal)
            if isinstance(transport, asyncio.WriteTransport):
                with contextlib.suppress(OSError, RuntimeError):
                    transport.write(_REFUSAL)
            transport.close()
            return
        self._admitted = address
        super().connection_made(transport)
        self._arm_head_deadline()

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._admitted is None:
            return
        self._gate.release(self._admitted)
        self._admitted = None
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if data and self._head_deadline is None and not self._request_in_progress:
            # The first byte of a later request on a kept-alive connection.
            self._arm_head_deadline()
        heads = self._request_count
        super().data_received(data)
        if self._request_count != heads:
            self._disarm_head_deadline()

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        self._head_deadline = self._loop.call_later(self._header_timeout, self._head_too_slow)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if not self._request_in_progress:
            self.force_close()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """Answer what the parser refused in the JSON error contract, logging no value.

        aiohttp's own version logs a traceback holding the raw header (a token with a
        NUL byte in it, say) and echoes it in a plain-text body.
        """
        if status >= 500:
            log.error(
                "unexpected error handling a request from %s: %s",
                request.remote,
                type(exc).__name__,
            )
            error = ApiError("internal_error", "internal error; it has been logged")
        else:
            error = _parser_error(exc)
            log.warning("malformed request from %s refused: %s", request.remote, error.code)
        if request.writer.output_size > 0:
            raise ConnectionError("a response was already sent; cannot send an error")
        response = error_response(error.status, error.code, error.reason)
        response.force_close()
        return response


async def read_body(request: web.Request, timeout: float) -> bytes:
    """The request body, read within ``timeout`` seconds and decoded.

    Raises:
        ApiError: 408 when the body does not arrive in time; 400 when its
            ``Content-Encoding`` (gzip, deflate...) does not decode.
    """
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise ApiError("request_timeout", "the request body did not arrive in time") from None
    except (RequestPayloadError, PayloadEncodingError):
        # A gzip or deflate body that does not decode: the client's fault, not a 500.
        raise ApiError("invalid_body", "the request body could not be decoded") from None


class _GuardedSite(web.TCPSite):
    """A TCP site whose connections go through the gate and the guarded handler."""

    def __init__(
        self,
        runner: web.AppRunner,
        host: str,
        port: int,
        factory: Callable[[], RequestHandler],
        backlog: int,
    ) -> None:
        super().__init__(runner, host, port, backlog=backlog)
        self._factory = factory

    async def start(self) -> None:
        """Listen; the same as ``TCPSite.start`` with the guarded protocol factory."""
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._factory, self._host, self._port, backlog=self._backlog
        )
        self._bound_port = self._server.sockets[0].getsockname()[1]


@contextlib.asynccontextmanager
async def serve(
    app: web.Application,
    host: str = "127.0.0.1",
    port: int = 0,
    settings: HttpSettings | None = None,
    *,
    gate: ConnectionGate | None = None,
) -> AsyncIterator[str]:
    """Serve ``app`` on a real TCP socket until the block ends; yields its base URL.

    Args:
        app: the application.
        host: the address to listen on.
        port: the port; 0 picks a free one (the tests and the demo use it).
        settings: the limits and timeouts; when None, those the app was made with
            (``create_app``), else the defaults.
        gate: the connection gate; one made from ``settings`` when None.
    """
    settings = settings or app.get(HTTP_SETTINGS) or HttpSettings()
    gate = gate or ConnectionGate(
        max_total=settings.max_connections,
        max_per_address=settings.max_connections_per_address,
        fd_reserve=settings.fd_reserve,
    )
    runner = web.AppRunner(
        app,
        handle_signals=False,
        shutdown_timeout=5.0,
        access_log_class=AccessLog,
        keepalive_timeout=settings.keepalive_timeout,
    )
    await runner.setup()
    server = runner.server
    assert server is not None
    loop = asyncio.get_running_loop()

    def factory() -> RequestHandler:
        return _GuardedHandler(
            server,
            gate=gate,
            header_timeout=settings.header_timeout,
            loop=loop,
            keepalive_timeout=settings.keepalive_timeout,
            access_log_class=AccessLog,
        )

    try:
        # asyncio accepts up to ``backlog`` connections before any protocol runs: keep
        # that burst within the reserve, so refusals close before descriptors run out.
        backlog = max(1, min(128, settings.fd_reserve // 2))
        site = _GuardedSite(runner, host, port, factory, backlog)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        url_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        yield f"http://{url_host}:{bound_port}"
    finally:
        await runner.cleanup()
