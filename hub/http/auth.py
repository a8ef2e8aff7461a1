"""Who is calling: bearer tokens, scopes, and the brake on guessing tokens.

Each contact that may use the API has a token; the configuration keeps only its
SHA-256 (see ``hub.http.tokens``). A request proves who it is with
``Authorization: Bearer <token>``; the token is never accepted in the URL, where it
would end up in proxy logs and browser history.

Scopes say what a contact may do: ``referent`` sees and acknowledges the escalations
addressed to them; ``installer`` administers (sees every escalation, releases
preserved scenes) but cannot acknowledge, because an acknowledgement stops the ladder
and only a referent may decide that the police have it in hand.

Guessing is braked per client address: after ``limit`` failed attempts within
``window`` seconds the address is locked out, and each further lockout doubles, up to
``max_lockout``. While locked out, a request from that address that does not carry a
valid token gets a 429 with ``Retry-After`` (it is not even checked, so it costs
nothing); a request with a valid token is served. Successes never reset the count, so
an attacker holding one token cannot interleave it with guesses to dodge the brake; and
a referent's valid token is never refused because someone else guessed from the same
address (a shared NAT, the shop's proxy): during a hold-up, that refusal would be the
worse harm. Tokens carry 256 random bits, so the brake is there to bound the work and
the noise of a guesser, not to protect a small guess space.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from aiohttp import hdrs, web

from hub.escalation.model import Contact
from hub.http.errors import ApiError
from hub.http.tokens import find_contact, is_wellformed_token

__all__ = [
    "INSTALLER",
    "REFERENT",
    "SCOPES",
    "Authenticator",
    "FailureLimiter",
    "require_scope",
]

REFERENT: Final = "referent"
INSTALLER: Final = "installer"
#: The scopes the API knows; a contact's other scopes are ignored here.
SCOPES: Final = frozenset({REFERENT, INSTALLER})

_REALM = 'Bearer realm="ecrin"'


@dataclass(slots=True)
class _Record:
    failures: deque[float] = field(default_factory=deque)
    strikes: int = 0
    blocked_until: float = 0.0


class FailureLimiter:
    """Counts failed authentications per client address and locks out the guessers.

    Args:
        limit: failures allowed within ``window`` before a lockout.
        window: the counting window, in seconds; also the first lockout's length.
        max_lockout: the longest lockout, in seconds; lockouts double up to it, and an
            address that behaved for that long starts again from the first lockout.
        max_addresses: how many addresses are remembered; the least recently seen are
            forgotten first, so a spray from many addresses cannot exhaust memory.
        clock: a monotonic clock in seconds (tests pass their own).
    """

    def __init__(
        self,
        *,
        limit: int = 10,
        window: float = 60.0,
        max_lockout: float = 3600.0,
        max_addresses: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window <= 0 or max_lockout < window or max_addresses < 1:
            raise ValueError("limiter needs limit >= 1, window > 0, max_lockout >= window")
        self.limit = limit
        self.window = window
        self.max_lockout = max_lockout
        self.max_addresses = max_addresses
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def retry_after(self, address: str) -> int | None:
        """Whole seconds until ``address`` may try again, or None if it is not locked out."""
        record = self._records.get(address)
        if record is None:
            return None
        left = record.blocked_until - self._clock()
        return math.ceil(left) if left > 0 else None

    def failure(self, address: str) -> None:
        """Count one failed attempt; lock the address out when it reaches the limit."""
        now = self._clock()
        record = self._records.get(address)
        if record is None:
            record = self._records[address] = _Record()
            self._forget_oldest()
        else:
            self._records.move_to_end(address)
        if record.strikes and now - record.blocked_until > self.max_lockout:
            record.strikes = 0
        failures = record.failures
        failures.append(now)
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if len(failures) >= self.limit:
            record.strikes += 1
            lockout = min(self.window * 2 ** (record.strikes - 1), self.max_lockout)
            record.blocked_until = now + lockout
            failures.clear()

    def prune(self) -> None:
        """Forget addresses with nothing left to remember (called now and then)."""
        now = self._clock()
        for address in [a for a, r in self._records.items() if self._stale(r, now)]:
            del self._records[address]

    def __len__(self) -> int:
        return len(self._records)

    def _stale(self, record: _Record, now: float) -> bool:
        recent = bool(record.failures) and record.failures[-1] > now - self.window
        remembered = record.strikes > 0 and now - record.blocked_until <= self.max_lockout
        return not recent and not remembered

    def _forget_oldest(self) -> None:
        if len(self._records) > self.max_addresses:
            self.prune()
        while len(self._records) > self.max_addresses:
            self._records.popitem(last=False)


class Authenticator:
    """Turns a request's ``Authorization`` header into a ``Contact``, or refuses it.

    Args:
        contacts: returns the configured contacts (read on each request, so a reload of
            the configuration takes effect at once).
        limiter: the brake on failed attempts.
        on_failure: called once per refused attempt (the metrics counter).
        on_rate_limited: called once per request refused by the brake.
    """

    def __init__(
        self,
        contacts: Callable[[], Sequence[Contact]],
        limiter: FailureLimiter,
        *,
        on_failure: Callable[[], None] = lambda: None,
        on_rate_limited: Callable[[], None] = lambda: None,
    ) -> None:
        self._contacts = contacts
        self.limiter = limiter
        self._on_failure = on_failure
        self._on_rate_limited = on_rate_limited

    def authenticate(self, request: web.Request) -> Contact:
        """The contact the request's bearer token belongs to.

        Raises:
            ApiError: 401 for a missing or malformed header or an unknown token; 429
                instead for the last two while the client address is locked out.
        """
        address = request.remote or "unknown"
        header = request.headers.get(hdrs.AUTHORIZATION)
        if header is None:
            # No credentials at all is a client that has not signed in yet, not a guess.
            raise ApiError(
                "missing_token",
                "an Authorization: Bearer <token> header is required",
                {hdrs.WWW_AUTHENTICATE: _REALM},
            )
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        wellformed = scheme.lower() == "bearer" and is_wellformed_token(token)
        contact = find_contact(token, self._contacts()) if wellformed else None
        if contact is not None:
            # A valid token is served even while the address is locked out.
            return contact
        retry = self.limiter.retry_after(address)
        if retry is not None:
            self._on_rate_limited()
            raise ApiError(
                "rate_limited",
                f"too many failed sign-in attempts from this address; retry in {retry} s",
                {hdrs.RETRY_AFTER: str(retry)},
            )
        self._fail(address)
        if not wellformed:
            raise ApiError(
                "malformed_authorization",
                "the Authorization header must be 'Bearer <token>'",
                {hdrs.WWW_AUTHENTICATE: f'{_REALM}, error="invalid_request"'},
            )
        raise ApiError(
            "invalid_token",
            "unknown or revoked token",
            {hdrs.WWW_AUTHENTICATE: f'{_REALM}, error="invalid_token"'},
        )

    def _fail(self, address: str) -> None:
        self._on_failure()
        self.limiter.failure(address)


def require_scope(contact: Contact, *any_of: str) -> None:
    """Refuse the request unless ``contact`` holds one of ``any_of``.

    Raises:
        ApiError: 403, naming the scopes that would do.
    """
    if contact.scopes.isdisjoint(any_of):
        wanted = " or ".join(sorted(any_of))
        raise ApiError("forbidden", f"this needs the {wanted} scope")
