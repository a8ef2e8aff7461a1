"""Signed webhooks: POST a JSON body to a contact's URL, and say how it went.

Each request carries three headers:

* ``Ecrin-Signature: t=<unix seconds>,v1=<hex>``, where the hex is
  ``HMAC-SHA256(secret, f"{t}.{body}")``: the receiver checks that the body came from
  the hub and is recent (a replayed old request fails the time check);
* ``Ecrin-Idempotency-Key``: the same for every retry of one delivery, so a receiver
  that got it twice (at-least-once delivery) keeps one;
* ``Ecrin-Event``: what it is (``escalation.created``, ``high_stock_period.started``).

``verify_signature`` is the receiver's side, in a dozen lines that
``docs/webhooks.md`` reproduces for receivers written in Python.

The sender bounds the number of requests in flight, verifies TLS certificates (the
session's default), never follows redirects (a redirected hold-up could end up
anywhere), and turns every outcome into a ``DeliveryResult``: delivered (2xx), retry
(network error, timeout, 408, 429, 5xx) or permanent (any other status).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ssl
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Literal

import aiohttp

__all__ = [
    "EVENT_HEADER",
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "DeliveryResult",
    "WebhookSender",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER: Final = "Ecrin-Signature"
IDEMPOTENCY_HEADER: Final = "Ecrin-Idempotency-Key"
EVENT_HEADER: Final = "Ecrin-Event"
USER_AGENT: Final = "Ecrin-Hub"
#: Statuses worth retrying besides 5xx: the receiver timed out, or asks us to slow down.
RETRY_STATUSES: Final = frozenset({408, 429})
#: The longest Retry-After honoured, in seconds (a receiver cannot park a hold-up).
MAX_RETRY_AFTER: Final = 300.0


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Ecrin-Signature`` header value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, now: float, tolerance: float = 300.0
) -> bool:
    """Check an ``Ecrin-Signature`` header, as a receiver does.

    Args:
        secret: the key shared with the hub.
        header: the header's value (``t=...,v1=...``; several ``v1`` are accepted, one
            of which must match).
        body: the raw request body, exactly as received.
        now: the receiver's current time, in Unix seconds.
        tolerance: the largest accepted difference between ``now`` and ``t``.

    Returns:
        True only when ``t`` is within ``tolerance`` of ``now`` and a ``v1`` matches.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return False
        if key == "t":
            if not value.isdigit():
                return False
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body).encode("ascii")
    return any(hmac.compare_digest(expected, c.encode("ascii", "replace")) for c in candidates)


Outcome = Literal["delivered", "retry", "permanent"]


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """How one POST went.

    Attributes:
        outcome: ``delivered`` (2xx), ``retry`` or ``permanent``.
        status: the HTTP status, or None when there was no response.
        error: one line for logs and the outbox ("" when delivered).
        retry_after: seconds the receiver asked to wait (Retry-After), if any.
    """

    outcome: Outcome
    status: int | None = None
    error: str = ""
    retry_after: float | None = None


def _retry_after(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None  # an HTTP-date is rare from an API: ignore it, use the backoff
    return min(float(value.strip()), MAX_RETRY_AFTER)


class WebhookSender:
    """Sends signed webhooks through one aiohttp session.

    Use it as ``async with WebhookSender(...) as sender``.

    Args:
        timeout: seconds one request may take in all.
        concurrency: the most requests in flight at once; more wait their turn, each in
            its own task, so a dead URL only ever holds its own slot.
        ssl_context: the TLS settings; None means aiohttp's default, which verifies
            certificates against the system store.
    """

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        concurrency: int = 16,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.timeout = timeout
        self._limit = asyncio.Semaphore(concurrency)
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._session: aiohttp.ClientSession | None = None
        self.sent = 0

    async def __aenter__(self) -> WebhookSender:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            headers={"User-Agent": USER_AGENT},
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def post(
        self, url: str, secret: str, body: bytes, idempotency_key: str, event: str
    ) -> DeliveryResult:
        """POST ``body`` to ``url``, signed with ``secret``; never raises for the
        receiver's faults (only for cancellation)."""
        session = self._session
        if session is None:
            raise RuntimeError("the webhook sender is not open")
        async with self._limit:
            timestamp = int(time.time())
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(secret, body, timestamp),
                IDEMPOTENCY_HEADER: idempotency_key,
                EVENT_HEADER: event,
            }
            try:
                async with session.post(
                    url, data=body, headers=headers, allow_redirects=False, ssl=self._ssl
                ) as response:
                    status = response.status
                    retry_after = _retry_after(response.headers.get("Retry-After"))
                    await response.read()
            except TimeoutError:
                return DeliveryResult("retry", None, f"no answer within {self.timeout:g} s")
            except aiohttp.ClientError as exc:
                reason = str(exc) or type(exc).__name__
                return DeliveryResult("retry", None, f"{type(exc).__name__}: {reason}")
            except OSError as exc:
                return DeliveryResult("retry", None, f"{type(exc).__name__}: {exc}")
        self.sent += 1
        if 200 <= status < 300:
            return DeliveryResult("delivered", status)
        if status >= 500 or status in RETRY_STATUSES:
            return DeliveryResult("retry", status, f"HTTP {status}", retry_after)
        return DeliveryResult("permanent", status, f"HTTP {status} (not retried)")
