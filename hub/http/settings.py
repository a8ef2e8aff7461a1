"""The tunables of the HTTP side, in one frozen value handed to the app and its listener.

They live apart from the app so that the listener (``hub.http.listener``) and the app
(``hub.http.app``) read the same value without importing each other. The defaults are
the documented behaviour (docs/configuration.md, docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aiohttp import web

from hub.config.model import HttpConfig

__all__ = ["HTTP_SETTINGS", "HttpSettings"]


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Tunables of the HTTP side; the defaults are the documented behaviour.

    Attributes:
        client_max_size: the largest request body accepted, in bytes (413 beyond).
        heartbeat: seconds of silence on an event stream before a heartbeat comment.
        stream_queue_size: changes waiting for a slow stream client before it is cut.
        failure_limit: failed authentications per address within ``failure_window``
            before a lockout.
        failure_window: seconds; also the first lockout's length.
        max_lockout: the longest lockout, in seconds.
        prune_interval: seconds between sweeps of the failure records.
        max_connections: open connections accepted in total; beyond, a new one is
            answered 503 and closed at once.
        max_connections_per_address: open connections accepted from one client address.
        fd_reserve: file descriptors kept free for what matters more than a client
            (webhook deliveries, serial lines, SQLite files): a connection accepted
            within this many descriptors of the process's limit is closed at once. The
            listener accepts at most half this many connections in one go, so a burst
            cannot overshoot the reserve before the first refusals close.
        header_timeout: seconds a client has to send a complete request head, counted
            from the connection (first request) or from its first byte (later ones).
        body_timeout: seconds a handler waits for a request body to arrive.
        keepalive_timeout: seconds an idle keep-alive connection is kept open.
    """

    client_max_size: int = 4096
    heartbeat: float = 15.0
    stream_queue_size: int = 1000
    failure_limit: int = 10
    failure_window: float = 60.0
    max_lockout: float = 3600.0
    prune_interval: float = 300.0
    max_connections: int = 256
    max_connections_per_address: int = 32
    fd_reserve: int = 128
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    keepalive_timeout: float = 15.0

    @classmethod
    def from_config(cls, config: HttpConfig) -> HttpSettings:
        """The settings of the configuration's ``http`` section (the rest: defaults)."""
        return cls(
            max_connections=config.max_connections,
            max_connections_per_address=config.max_connections_per_address,
            fd_reserve=config.fd_reserve,
            header_timeout=config.header_timeout,
            body_timeout=config.body_timeout,
            keepalive_timeout=config.keepalive_timeout,
        )


#: Where ``create_app`` keeps its settings, so that ``serve`` listens with the same ones.
HTTP_SETTINGS: Final = web.AppKey("http_settings", HttpSettings)
