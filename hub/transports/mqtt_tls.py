"""The TLS side of the MQTT session: the context the hub checks its broker with.

Kept apart from the session because it reads files (the CA bundle, the hub's client
certificate and key): the session builds it in a thread before it connects, so a slow
disk never holds the event loop, and a file that went missing since the configuration
was checked is one clear line, retried like an unreachable broker.
"""

from __future__ import annotations

import ssl

from hub.config.model import MqttTls

__all__ = ["tls_context"]


def tls_context(tls: MqttTls) -> ssl.SSLContext:
    """A client context for ``tls``: the broker's certificate checked against the
    configured CA (or the system's CAs), its host name checked unless
    ``check_hostname`` is off, TLS 1.2 at least, and the hub's own certificate presented
    when one is configured.

    Raises:
        OSError: a file cannot be read (``ssl.SSLError`` for one that is not PEM).
    """
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=str(tls.ca) if tls.ca is not None else None
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # Without the host name check, the certificate is still verified against the CA:
    # what is left out is only the check that it names this host (a broker reached by
    # an address its certificate does not list).
    context.check_hostname = tls.check_hostname
    if tls.certfile is not None:
        context.load_cert_chain(
            str(tls.certfile), str(tls.keyfile) if tls.keyfile is not None else None
        )
    return context
