"""The broker the hub runs itself when the shop configures none.

A shop with a few cameras, and the demo, should work without installing anything: when
the configuration has no ``mqtt.host``, the hub starts this broker (amqtt, an asyncio
MQTT 3.1.1 broker, in the hub's own process) on ``mqtt.embedded`` (127.0.0.1:1883 by
default) before its session, and stops it after. It keeps its sessions and retained
messages in memory only: a hub restart forgets them. docs/mqtt.md says when to move to
Mosquitto (many cameras, Frigate on another machine, TLS, persistence across restarts,
a Home Assistant that already runs one).

Who may connect:

* on a loopback address, anyone on the machine, without credentials (the hub, a
  Frigate in a container on the same host);
* on any other address, only with the hub's own ``mqtt.username`` and
  ``mqtt.password``, which the cameras are then given too: the configuration refuses
  a non-loopback ``embedded.host`` without them, and so does this class. The password
  is handed to amqtt only as its SHA-256 digest, compared in constant time.

amqtt's own logging is kept to warnings: its information lines (one per connection)
would drown the hub's.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self

from amqtt.broker import Broker
from amqtt.plugins.base import BaseAuthPlugin

from hub.config.model import is_loopback

__all__ = ["EmbeddedBrokerServer", "SharedCredentials"]

log = logging.getLogger(__name__)

#: amqtt's loggers and the state machine library it uses: warnings only.
_QUIET: Final = ("amqtt", "transitions")


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


class SharedCredentials(BaseAuthPlugin):  # type: ignore[misc]
    """amqtt authentication: one user name and password, the hub's own."""

    @dataclass
    class Config:
        """What amqtt hands the plugin: the user and the SHA-256 of the password."""

        username: str = ""
        password_sha256: str = ""

    async def authenticate(self, *, session: Any) -> bool:
        """Whether the client gave the hub's user name and password."""
        config = self.context.config
        username = getattr(session, "username", None)
        password = getattr(session, "password", None)
        if not config.username or username != config.username or password is None:
            return False
        return hmac.compare_digest(_digest(str(password)), config.password_sha256)


class EmbeddedBrokerServer:
    """amqtt on ``host:port`` while the ``async with`` block runs.

    Args:
        host: the address to listen on.
        port: the port (0: a free one, then given by ``port`` once started).
        username: the only user accepted, when set (required off loopback).
        password: that user's password.

    Raises:
        ValueError: a non-loopback ``host`` without credentials.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        if not is_loopback(host) and not (username and password):
            raise ValueError(
                f"the embedded MQTT broker on {host} would be open to the network:"
                " set mqtt.username and mqtt.password, or listen on 127.0.0.1"
            )
        self.host = host
        self.port = port
        self._credentials = (username, password) if username and password else None
        self._broker: Broker | None = None

    def __repr__(self) -> str:
        auth = "credentials" if self._credentials else "anonymous"
        return f"<EmbeddedBrokerServer {self.host}:{self.port} {auth}>"

    def _config(self) -> dict[str, Any]:
        bind_host = f"[{self.host}]" if ":" in self.host else self.host
        if self._credentials is not None:
            username, password = self._credentials
            auth: dict[str, Any] = {
                f"{__name__}.SharedCredentials": {
                    "username": username,
                    "password_sha256": _digest(str(password)),
                }
            }
        else:
            auth = {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{bind_host}:{self.port}"}},
            "plugins": auth,
        }

    async def __aenter__(self) -> Self:
        """Start listening.

        Raises:
            OSError: the address cannot be bound (the port is taken).
        """
        for name in _QUIET:
            logging.getLogger(name).setLevel(logging.WARNING)
        broker = Broker(self._config())
        try:
            await broker.start()
        except Exception as exc:
            cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else None
            raise OSError(
                f"embedded MQTT broker on {self.host}:{self.port}: {cause or exc}"
            ) from exc
        self._broker = broker
        if self.port == 0:
            self.port = _bound_port(broker)
        log.info("embedded MQTT broker listening on %s:%s", self.host, self.port)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        broker, self._broker = self._broker, None
        if broker is None:
            return
        try:
            await broker.shutdown()
        except Exception:
            log.exception("embedded MQTT broker: shutdown failed")
        else:
            log.info("embedded MQTT broker stopped")


def _bound_port(broker: Broker) -> int:
    """The port the broker's listener was given (it was asked for any free one)."""
    server = broker._servers["default"].instance
    return int(server.sockets[0].getsockname()[1])
