"""Telling the service manager how the hub is doing (systemd's ``sd_notify`` protocol).

Under ``Type=notify``, systemd passes a datagram socket in ``NOTIFY_SOCKET`` and
waits for ``READY=1`` before it counts the service as started; ``STATUS=`` is the line
``systemctl status`` shows, and ``STOPPING=1`` says the stop has begun. The protocol is
a few lines of text in one datagram, so it is spoken here rather than through a
library. Without ``NOTIFY_SOCKET`` (a terminal, a container, a test) nothing is sent.
"""

from __future__ import annotations

import logging
import os
import socket

__all__ = ["notify"]

log = logging.getLogger(__name__)


def notify(*fields: str) -> bool:
    """Send ``fields`` (``"READY=1"``, ``"STATUS=..."``) to the service manager.

    Returns:
        Whether a message was sent (False without ``NOTIFY_SOCKET``, or when the socket
        refused it: logged, never raised, since the hub runs on regardless).
    """
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall("\n".join(fields).encode("utf-8"))
    except OSError as exc:
        log.warning("service manager notification not sent: %s", exc.strerror or exc)
        return False
    return True
