"""The access log of the HTTP side: who asked for what, and what they got.

aiohttp's default line holds the request line (query string included, where a client
may have put its token) and the ``Referer`` and ``User-Agent`` headers. This one holds
the address, the method, the path without its query, the status, the size and the
time: nothing a client wrote into a header or a query can reach the log.
"""

from __future__ import annotations

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

__all__ = ["AccessLog"]


class AccessLog(AbstractAccessLogger):
    """One info line per response; the format string aiohttp passes is ignored."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Log one response (aiohttp calls this once it is sent)."""
        self.logger.info(
            "%s %s %s %d %d %.3fs",
            request.remote,
            request.method,
            request.rel_url.raw_path,
            response.status,
            response.body_length,
            time,
        )
