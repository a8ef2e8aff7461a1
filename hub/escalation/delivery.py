"""Webhook deliveries: what each change sends, and the loop that gets it there.

A change is written to the outbox with the deliveries it calls for before anything is
sent; each delivery then runs in its own task (``Deliveries.run``): a signed POST,
retried with exponential backoff and jitter until it is delivered, fails for good, or
is superseded by a newer delivery of the same escalation to the same contact. Every
attempt is recorded in the outbox before and after it is made, so a restarted hub
resumes what was left (at least once).

The engine owns the tasks, the lock and the listeners; this module owns the pending
deliveries and the retry loop, and tells the engine of each failed attempt.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hub.escalation.clock import Clock
from hub.escalation.model import Contact, Escalation
from hub.escalation.outbox import DELIVERED, FAILED, PENDING, SUPERSEDED, Delivery, Outbox
from hub.escalation.payload import encode, escalation_payload
from hub.escalation.webhooks import DeliveryResult, WebhookSender

if TYPE_CHECKING:
    from hub.escalation.config import WebhookSettings

__all__ = ["Deliveries", "escalation_deliveries"]

# The engine's messages share one logger name, whichever of its modules logs them.
log = logging.getLogger("hub.escalation.engine")


def escalation_deliveries(
    esc: Escalation,
    event: str,
    contact_ids: Iterable[str],
    contacts: Mapping[str, Contact],
    now: datetime,
) -> list[Delivery]:
    """The webhooks telling ``contact_ids`` of ``event`` on ``esc``, due now.

    A contact without a webhook gets none: it reads the escalation from the API.
    """
    body = encode(escalation_payload(esc, event))
    out: list[Delivery] = []
    for contact_id in contact_ids:
        contact = contacts.get(contact_id)
        if contact is None or not contact.webhook_url:
            continue  # a pull-only contact reads it from the API
        out.append(
            Delivery(
                key=f"{esc.id}:{esc.tier}:{contact_id}:{esc.revision}",
                escalation_id=esc.id,
                contact=contact_id,
                event=f"escalation.{event}",
                body=body,
                next_at=now,
                created_at=now,
            )
        )
    return out


class Deliveries:
    """The deliveries not yet made, and the loop that makes each one.

    Args:
        contacts: the configured contacts by id (webhook URL and secret).
        webhook: timeouts, backoff and concurrency.
        clock: wall-clock time, to wait for a retry.
        outbox: where each attempt is recorded.
        durably: the engine's outbox write, which logs a failing disk and goes on.
        failed: told of each failed attempt (the delivery, and why, with what comes
            next) so that the engine can tell the listeners.
    """

    def __init__(
        self,
        *,
        contacts: Mapping[str, Contact],
        webhook: WebhookSettings,
        clock: Clock,
        outbox: Outbox,
        durably: Callable[[Awaitable[None]], Awaitable[None]],
        failed: Callable[[Delivery, str], None],
    ) -> None:
        self.pending: dict[str, Delivery] = {}
        #: Set by the engine on start, before any delivery runs.
        self.sender: WebhookSender | None = None
        self._contacts = contacts
        self._webhook = webhook
        self._clock = clock
        self._outbox = outbox
        self._durably = durably
        self._failed = failed

    def waiting(self) -> int:
        """Deliveries not yet delivered."""
        return sum(1 for d in self.pending.values() if d.status == PENDING)

    def first_attempts(self, deliveries: Iterable[Delivery], now: datetime) -> frozenset[str]:
        """Count the first attempt of each new delivery due now, and return their keys.

        The outbox records these attempts in the same transaction as the deliveries
        themselves: the POST follows the one ``fsync`` (``run(recorded=True)``).
        """
        started: set[str] = set()
        for delivery in deliveries:
            if (
                delivery.key not in self.pending
                and delivery.status == PENDING
                and delivery.attempts == 0
                and delivery.next_at <= now
            ):
                delivery.attempts = 1
                started.add(delivery.key)
        return frozenset(started)

    def admit(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """Take the new ones of ``deliveries`` as pending, and return them (to run).

        A new delivery of an escalation to a contact supersedes the pending ones: the
        contact needs its latest state, not every step in between.
        """
        admitted: list[Delivery] = []
        for delivery in deliveries:
            if delivery.key in self.pending:
                continue
            if delivery.escalation_id is not None:
                for other in self.pending.values():
                    if (
                        other.escalation_id == delivery.escalation_id
                        and other.contact == delivery.contact
                        and other.status == PENDING
                    ):
                        other.status = SUPERSEDED
            self.pending[delivery.key] = delivery
            admitted.append(delivery)
        return admitted

    def backoff(self, attempt: int) -> float:
        """Seconds before retrying after failed attempt ``attempt`` (1-based): doubling
        up to the cap, with jitter over its upper half."""
        hook = self._webhook
        ceiling = min(hook.backoff_max, hook.backoff_initial * 2.0 ** min(attempt - 1, 32))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    async def run(self, key: str, *, recorded: bool = False) -> None:
        """Make one delivery until it is delivered, fails for good or is superseded.

        ``recorded``: the first attempt was written to the outbox with the delivery
        itself (``first_attempts``), so it is made without another write.
        """
        sender = self.sender
        assert sender is not None  # set before any delivery starts
        while True:
            delivery = self.pending.get(key)
            if delivery is None or delivery.status != PENDING:
                self.pending.pop(key, None)
                return
            if delivery.next_at > self._clock.now():
                await self._clock.sleep_until(delivery.next_at)
                continue
            contact = self._contacts.get(delivery.contact)
            if recorded:
                recorded = False
                n = delivery.attempts
            else:
                n = delivery.attempts + 1
                delivery.attempts = n
                await self._durably(self._outbox.attempt_started(key, n, self._clock.now()))
            if contact is None or not contact.webhook_url or not contact.webhook_secret:
                result = DeliveryResult("permanent", None, "the contact has no webhook any more")
            else:
                result = await sender.post(
                    contact.webhook_url, contact.webhook_secret, delivery.body, key, delivery.event
                )
            now = self._clock.now()
            delay = 0.0
            if delivery.status == PENDING:
                if result.outcome == "delivered":
                    delivery.status = DELIVERED
                elif result.outcome == "permanent":
                    delivery.status = FAILED
                else:
                    delay = self.backoff(n)
                    if result.retry_after is not None:
                        delay = max(delay, result.retry_after)
                    delivery.next_at = now + timedelta(seconds=delay)
            delivery.last_error = result.error
            await self._durably(
                self._outbox.attempt_finished(
                    delivery, n, now, result.outcome, result.status, result.error
                )
            )
            if result.outcome != "delivered" and delivery.status != SUPERSEDED:
                self._report_failure(delivery, result, delay)

    def _report_failure(self, delivery: Delivery, result: DeliveryResult, delay: float) -> None:
        if delivery.status == FAILED:
            reason = f"{result.error}; not retried"
            log.error(
                "webhook %s to contact %s failed for good: %s",
                delivery.key,
                delivery.contact,
                result.error,
            )
        else:
            reason = f"{result.error}; retry {delivery.attempts + 1} in {delay:.1f} s"
            log.warning(
                "webhook %s to contact %s failed (attempt %d): %s; retrying in %.1f s",
                delivery.key,
                delivery.contact,
                delivery.attempts,
                result.error,
                delay,
            )
        self._failed(delivery, reason)
