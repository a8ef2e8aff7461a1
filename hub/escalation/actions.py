"""What referents and installers see and do: the engine's ``EscalationService`` side.

Who may see an escalation, who may acknowledge, resolve it or release its scene, and
the live changes each contact is shown. These rules are what keeps an installer from
stopping the ladder that calls the police, and a referent from seeing another
referent's escalations, so they sit together here, apart from the engine's mechanics.

``ReferentActions`` works on the engine's records under the engine's lock, and hands
each change to the engine's ``_apply`` (``Commit``), which writes it to the outbox
before anything else sees it.
"""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Final, Protocol

from hub.escalation.clock import Clock
from hub.escalation.delivery import escalation_deliveries
from hub.escalation.model import (
    Contact,
    Escalation,
    EscalationChange,
    EscalationConflict,
    EscalationForbidden,
    EscalationNotFound,
    Priority,
    Status,
)
from hub.escalation.outbox import Delivery, SceneRecord
from hub.escalation.records import Record
from hub.escalation.stream import LISTENER_QUEUE, ChangeStream

__all__ = [
    "INSTALLER",
    "REFERENT",
    "Commit",
    "ReferentActions",
    "addressed_referent",
    "visible",
    "who",
]

# The engine's messages share one logger name, whichever of its modules logs them.
log = logging.getLogger("hub.escalation.engine")

REFERENT: Final = "referent"
INSTALLER: Final = "installer"


class Commit(Protocol):
    """The engine's way to make a change: outbox first, then records, deliveries and
    listeners (``EscalationEngine._apply``). Called with the lock held."""

    def __call__(
        self,
        records: Sequence[Record],
        deliveries: Sequence[Delivery],
        changes: Sequence[EscalationChange],
        *,
        scenes: Iterable[SceneRecord] = ...,
    ) -> Awaitable[None]: ...


def who(contacts: Mapping[str, Contact], as_contact: Contact) -> Contact:
    """The configured contact behind ``as_contact`` (a removed one may do nothing)."""
    contact = contacts.get(as_contact.id)
    if contact is None:
        raise EscalationForbidden(f"{as_contact.id!r} is not a configured contact")
    return contact


def visible(contact: Contact, esc: Escalation) -> bool:
    """An installer sees every escalation; anyone else only those addressed to them."""
    return INSTALLER in contact.scopes or contact.id in esc.addressed_to


def addressed_referent(contact: Contact, esc: Escalation) -> bool:
    """``contact`` is a referent ``esc`` was addressed to."""
    return REFERENT in contact.scopes and contact.id in esc.addressed_to


class ReferentActions:
    """Queries, actions and live changes on the engine's escalations.

    Args:
        contacts: the configured contacts by id.
        records: the engine's records by escalation id (read; changed only by
            ``commit``).
        scene: the preserved scene of an escalation, if any (the engine's).
        lock: the engine's lock, held across each action and its ``commit``.
        clock: wall-clock time.
        commit: the engine's ``_apply``.
        refresh: a snapshot with its cameras' availability as of now (every change
            carries it; the default leaves it as it was).
    """

    def __init__(
        self,
        *,
        contacts: Mapping[str, Contact],
        records: dict[str, Record],
        scene: Callable[[str], SceneRecord | None],
        lock: asyncio.Lock,
        clock: Clock,
        commit: Commit,
        refresh: Callable[[Escalation], Escalation] = lambda esc: esc,
    ) -> None:
        self._refresh = refresh
        self._contacts = contacts
        self._records = records
        self._scene = scene
        self._lock = lock
        self._clock = clock
        self._commit = commit
        self._listeners: set[ChangeStream] = set()

    def _record_for(self, contact: Contact, escalation_id: str) -> Record:
        record = self._records.get(escalation_id)
        if record is None or not visible(contact, record.esc):
            raise EscalationNotFound(f"no escalation {escalation_id!r}")
        return record

    def list(
        self, as_contact: Contact, *, status: Status | None = None, limit: int = 100
    ) -> Sequence[Escalation]:
        """Escalations visible to ``as_contact``, newest first."""
        contact = who(self._contacts, as_contact)
        # Newest first; escalations opened in the same instant keep their opening order
        # (records are kept in it, and the sort is stable).
        found = [
            r.esc
            for r in reversed(self._records.values())
            if visible(contact, r.esc) and (status is None or r.esc.status is status)
        ]
        found.sort(key=lambda e: e.created_at, reverse=True)
        return found[: max(limit, 0)]

    def get(self, as_contact: Contact, escalation_id: str) -> Escalation:
        """One escalation visible to ``as_contact``."""
        return self._record_for(who(self._contacts, as_contact), escalation_id).esc

    async def acknowledge(self, as_contact: Contact, escalation_id: str) -> Escalation:
        """Take the escalation: the ladder stops. Only a referent it was addressed to
        may (an installer's acknowledgement would stop the police being called)."""
        contact = who(self._contacts, as_contact)
        async with self._lock:
            record = self._record_for(contact, escalation_id)
            esc = record.esc
            if not addressed_referent(contact, esc):
                raise EscalationForbidden("only a referent it was addressed to acknowledges it")
            if esc.status is Status.RESOLVED:
                raise EscalationConflict(f"escalation {esc.id} is already resolved")
            if esc.status is Status.ACKNOWLEDGED:
                if esc.acknowledged_by == contact.id:
                    return esc
                raise EscalationConflict(
                    f"escalation {esc.id} is already acknowledged by {esc.acknowledged_by}"
                )
            return await self._settle(record, contact, Status.ACKNOWLEDGED)

    async def resolve(self, as_contact: Contact, escalation_id: str) -> Escalation:
        """Close the escalation (a referent it was addressed to, or an installer once a
        life-safety escalation has been acknowledged). Idempotent once resolved."""
        contact = who(self._contacts, as_contact)
        async with self._lock:
            record = self._record_for(contact, escalation_id)
            esc = record.esc
            if esc.status is Status.RESOLVED:
                return esc
            referent = addressed_referent(contact, esc)
            if not referent and INSTALLER not in contact.scopes:
                raise EscalationForbidden("only a referent it was addressed to, or an installer")
            if not referent and esc.status is Status.OPEN and esc.priority is Priority.LIFE_SAFETY:
                raise EscalationForbidden(
                    "an unacknowledged life-safety escalation is closed by a referent"
                )
            return await self._settle(record, contact, Status.RESOLVED)

    async def _settle(self, record: Record, contact: Contact, status: Status) -> Escalation:
        """Move ``record`` to ``status`` (acknowledged or resolved) by ``contact``: the
        ladder stops (no deadline), everyone addressed is told, and the change is
        committed before anything else sees it. Called with the lock held."""
        now = self._clock.now()
        esc = record.esc
        if status is Status.ACKNOWLEDGED:
            esc = dataclasses.replace(esc, acknowledged_by=contact.id, acknowledged_at=now)
        else:
            esc = dataclasses.replace(esc, resolved_by=contact.id, resolved_at=now)
        new = self._refresh(
            dataclasses.replace(
                esc, status=status, deadline=None, updated_at=now, revision=esc.revision + 1
            )
        )
        event = status.value  # "acknowledged" or "resolved"
        updated = dataclasses.replace(record, esc=new, timer=None)
        deliveries = escalation_deliveries(new, event, new.addressed_to, self._contacts, now)
        await self._commit([updated], deliveries, [EscalationChange(event, new)])
        log.info("escalation %s %s by %s", new.id, event, contact.id)
        return new

    async def release_scene(self, as_contact: Contact, escalation_id: str) -> Escalation:
        """Release a preserved scene (a referent it was addressed to, or an installer):
        evidence-destroying configuration is accepted again once no scene is held."""
        contact = who(self._contacts, as_contact)
        async with self._lock:
            record = self._record_for(contact, escalation_id)
            esc = record.esc
            if not addressed_referent(contact, esc) and INSTALLER not in contact.scopes:
                raise EscalationForbidden("only a referent it was addressed to, or an installer")
            scene = self._scene(esc.id)
            if scene is None:
                raise EscalationConflict(f"escalation {esc.id} has no preserved scene")
            if scene.released:
                return esc
            now = self._clock.now()
            released = dataclasses.replace(scene, released_by=contact.id, released_at=now)
            new = self._refresh(dataclasses.replace(esc, scene_sealed=False, updated_at=now))
            updated = dataclasses.replace(record, esc=new, timer=None)
            await self._commit(
                [updated], [], [EscalationChange("scene_released", new)], scenes=[released]
            )
            log.info("escalation %s: scene released by %s", esc.id, contact.id)
            return new

    # -- live changes ----------------------------------------------------------------------
    def changes(self, as_contact: Contact) -> ChangeStream:
        """Live changes visible to ``as_contact``; listening starts at this call."""
        contact = who(self._contacts, as_contact)
        stream = ChangeStream(contact, LISTENER_QUEUE, self._listeners.discard)
        self._listeners.add(stream)
        return stream

    def emit(self, change: EscalationChange) -> None:
        """Offer ``change`` to every listener whose contact may see it."""
        for listener in builtins.list(self._listeners):
            if visible(listener.contact, change.escalation):
                listener.offer(change)

    def close_listeners(self) -> None:
        """End every live stream (the engine stops)."""
        for listener in builtins.list(self._listeners):
            listener.close()
