"""Transports: the I/O under the protocol decoders.

A transport owns a link (a serial port, a pyserial URL, a TCP connection or listener),
keeps the event loop free while it waits on it, serialises what is written to it, and
supervises it: a link that vanishes or falls silent is reported as ``LinkLost`` and
reopened with backoff, and ``LinkRestored`` follows when it is back. Decoders never
see any of this; they get bytes.
"""

from __future__ import annotations

from hub.transports.link import LinkDown, StreamLink
from hub.transports.pty import PtyCable
from hub.transports.serial import PARITIES, SerialConfig, SerialLink
from hub.transports.supervision import LineQuality, LinkHealth, StreamSupervisor
from hub.transports.tcp import ConnectionHandler, TcpLink, TcpServer

__all__ = [
    "PARITIES",
    "ConnectionHandler",
    "LineQuality",
    "LinkDown",
    "LinkHealth",
    "PtyCable",
    "SerialConfig",
    "SerialLink",
    "StreamLink",
    "StreamSupervisor",
    "TcpLink",
    "TcpServer",
]
