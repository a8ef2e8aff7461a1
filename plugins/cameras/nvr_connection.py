"""A simulated NVR's own connection to the broker, with the NVR's last will.

Frigate is a client of the shop's broker as the hub is: it connects with a last will
(``<prefix>/available`` ``offline``, QoS 1, retained) that the broker publishes when
Frigate's connection drops without a goodbye. A simulator publishing through the hub's
session could never play that, nor be cut off apart from the hub: ``NvrConnection`` is
a connection of its own, an aiomqtt client that only publishes, for the end-to-end
tests, the benchmark and the demo. ``sever()`` cuts it as a pulled cable or a killed
NVR would, so that the broker publishes the will.

Unlike the hub's session, it does not reconnect by itself nor hide a failure: a
publish on a connection that is gone raises ``aiomqtt.MqttError``, and whoever plays
the NVR decides what to do (Frigate connects again with a fresh client, and publishes
its states again).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from types import TracebackType
from typing import Final, Self

import aiomqtt

from hub.sdk import Message

__all__ = ["NvrConnection"]

#: Seconds the broker has to answer the connection and each QoS 1 publish.
_TIMEOUT: Final = 10.0
#: Seconds a goodbye may take: a broker that went away answers none.
_GOODBYE: Final = 2.0


class NvrConnection:
    """A publishing client of the broker at ``host:port``, for a simulated NVR.

    Args:
        host: the broker's host.
        port: its port.
        will: the NVR's last will (``FrigateSimulator.will``), or None.
        client_id: the client id (a fresh random one when None, as Frigate's).
        username: the broker user, when the broker asks for one.
        password: that user's password.
        keepalive: seconds between pings when idle.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        will: Message | None = None,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        keepalive: int = 30,
    ) -> None:
        self.host = host
        self.port = port
        last_will = None
        if will is not None:
            last_will = aiomqtt.Will(will.topic, will.payload, qos=will.qos, retain=will.retain)
        self._client = aiomqtt.Client(
            host,
            port,
            identifier=client_id,
            username=username,
            password=password,
            will=last_will,
            keepalive=keepalive,
            protocol=aiomqtt.ProtocolVersion.V311,
            timeout=_TIMEOUT,
        )
        self._connected = False
        self._severed = False
        self._watcher: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        state = "connected" if self.connected else "disconnected"
        return f"<NvrConnection {self.host}:{self.port} {state}>"

    @property
    def connected(self) -> bool:
        """Whether the connection is up (not severed, not closed)."""
        return self._connected and not self._severed

    async def __aenter__(self) -> Self:
        """Connect.

        Raises:
            aiomqtt.MqttError: the broker is unreachable, or refused the connection.
        """
        await self._client.__aenter__()
        self._connected = True
        self._watcher = asyncio.get_running_loop().create_task(
            self._watch(), name=f"nvr connection {self.host}:{self.port}"
        )
        return self

    async def _watch(self) -> None:
        """Notice the end of the connection (the broker gone, the socket cut): the
        client library says so to whoever reads its messages, and nothing else does."""
        with contextlib.suppress(aiomqtt.MqttError):
            async for _ in self._client.messages:
                pass  # it subscribes to nothing: no message comes
        self._connected = False

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Disconnect cleanly (the broker then drops the will), unless already cut."""
        self._connected = False
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            if self._severed:  # let it see the end of the cut connection
                await asyncio.wait({watcher}, timeout=_TIMEOUT)
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        # A publish may have failed on the lost connection before the watcher saw the
        # loss: the client library's record of it is then read here, or asyncio would
        # report it as never retrieved.
        disconnected = self._client._disconnected
        if disconnected.done() and not disconnected.cancelled():
            disconnected.exception()
        with contextlib.suppress(aiomqtt.MqttError, OSError, TimeoutError):
            async with asyncio.timeout(_GOODBYE):
                await self._client.__aexit__(exc_type, exc, tb)

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False
    ) -> None:
        """Publish; QoS 1 and 2 wait for the broker's acknowledgement.

        Raises:
            aiomqtt.MqttError: the connection is gone (severed, or the broker left).
        """
        if not self.connected:
            raise aiomqtt.MqttError(f"not connected to {self.host}:{self.port}")
        await self._client.publish(topic, payload, qos=qos, retain=retain)

    def sever(self) -> None:
        """Cut the connection as a pulled cable would: the socket is shut down with no
        MQTT DISCONNECT, so the broker publishes the will at once.

        Raises:
            RuntimeError: the connection is not up.
        """
        sock = self._client._client.socket() if self.connected else None
        if not isinstance(sock, socket.socket):
            raise RuntimeError("the NVR's connection is not up")
        self._severed = True
        sock.shutdown(socket.SHUT_RDWR)
