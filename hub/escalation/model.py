"""The escalation domain: what an escalation is, and the service the HTTP side uses.

An escalation is one incident (a hold-up at the counter, a cut hold-up cable) being
brought to the referents' attention. It walks a ladder of tiers of contacts; each tier
has an acknowledgement deadline; it stops walking when a contact acknowledges it, and
ends when it is resolved. Everything here is plain data: the engine
(``hub.escalation.engine``) owns the behaviour, the outbox (``hub.escalation.outbox``)
owns persistence, and the HTTP API (``hub.http``) talks to the engine only through
``EscalationService``.

There is deliberately no field for an amount of loss, and no free text from the shop:
investigators keep the amount from the press, and the hub must not be where it leaks.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from hub.cameras import CameraStatus
from hub.rules import Priority

__all__ = [
    "Contact",
    "ContactRole",
    "Escalation",
    "EscalationChange",
    "EscalationConflict",
    "EscalationError",
    "EscalationForbidden",
    "EscalationNotFound",
    "EscalationService",
    "Priority",
    "Status",
]


class Status(enum.StrEnum):
    """Where an escalation stands."""

    OPEN = "open"  # walking the ladder, nobody has acknowledged yet
    ACKNOWLEDGED = "acknowledged"  # a contact took it; the ladder stopped
    RESOLVED = "resolved"  # closed by a referent or an installer


class ContactRole(enum.StrEnum):
    """Who a contact is, in the convention's words."""

    LOCAL_REFERENT = "local_referent"  # référent sûreté local (police or gendarmerie)
    DEPARTMENTAL_INTERLOCUTOR = "departmental_interlocutor"  # interlocuteur départemental
    NATIONAL_DELEGATION = "national_delegation"
    MUNICIPAL_POLICE = "municipal_police"
    OWNER = "owner"
    INSTALLER = "installer"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Contact:
    """A person or service that can receive escalations.

    Attributes:
        id: the configuration id.
        name: a display name (never sent to other contacts).
        role: see ``ContactRole``.
        webhook_url: where escalations are POSTed; None for pull-only contacts.
        webhook_secret: the HMAC key for the signature (a ``!secret``).
        token_sha256: hex SHA-256 of the contact's bearer token for the API; the token
            itself is never stored.
        scopes: ``referent`` (sees and acknowledges what is addressed to them) and/or
            ``installer`` (administers: sees everything, releases scenes).
    """

    id: str
    name: str
    role: ContactRole
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    token_sha256: str | None = field(default=None, repr=False)
    scopes: frozenset[str] = frozenset({"referent"})


@dataclass(frozen=True, slots=True)
class Escalation:
    """One incident being escalated (a snapshot; the engine makes new ones on change).

    Attributes:
        id: stable id, also the idempotency key prefix of its deliveries.
        kind: the ``AlarmKind`` value that opened it (``holdup``, ``duress``...).
        priority: see ``Priority``.
        status: see ``Status``.
        site: the site name; address and departement: from the configuration.
        zone: the shop zone id, and zone_name its display name ("" when unknown).
        device: the device that reported it.
        cameras: ids of the cameras covering the zone.
        instructions: the referent's instructions from the configuration.
        tier: index of the highest tier reached (0-based).
        addressed_to: ids of every contact it has been addressed to so far.
        signals: how many signals were folded into it.
        high_stock: the high-stock period in force when it opened, if any.
        created_at, updated_at: times (UTC).
        deadline: when the ladder next acts on its own: the current tier's
            acknowledgement deadline, or at the last tier the next reminder (None once
            acknowledged, or when no reminder is left).
        acknowledged_by, acknowledged_at, resolved_by, resolved_at: who and when.
        scene_sealed: the scene is preserved (hold-up) until released.
        revision: grows by one at every change that is delivered; a receiver keeps
            the highest it has seen (deliveries can arrive out of order).
        signalled_at: when the first signal happened, by the device's clock (None for
            escalations stored before this field existed).
        camera_states: the availability of each camera of ``cameras``, in the same
            order, as the state registry had it when this snapshot was made (every
            change makes one); empty for escalations stored before this field existed.
    """

    id: str
    kind: str
    priority: Priority
    status: Status
    site: str
    address: str
    departement: str
    zone: str | None
    zone_name: str
    device: str
    cameras: tuple[str, ...]
    instructions: str
    tier: int
    addressed_to: tuple[str, ...]
    signals: int
    high_stock: str | None
    created_at: datetime
    updated_at: datetime
    deadline: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    scene_sealed: bool = False
    revision: int = 0
    signalled_at: datetime | None = None
    camera_states: tuple[CameraStatus, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by the API, the page and (with the tier) the webhooks."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            name = f.name
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif name == "camera_states":
                value = [status.to_dict() for status in value]
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, enum.Enum):
                value = value.value
            out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Escalation:
        """Rebuild an escalation from ``to_dict`` output (the outbox stores that form).

        Unknown keys are ignored and missing optional ones take their defaults, so an
        outbox written by another version still loads.

        Raises:
            ValueError: a required field is missing or a value does not fit.
        """
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            kind = str(f.type)
            if value is None:
                kwargs[f.name] = None
            elif f.name == "camera_states":
                if not isinstance(value, list):
                    raise ValueError("not an escalation: camera_states is not a list")
                kwargs[f.name] = tuple(CameraStatus.from_dict(v) for v in value)
            elif "datetime" in kind:
                kwargs[f.name] = datetime.fromisoformat(value)
            elif "tuple" in kind:
                kwargs[f.name] = tuple(value)
            elif kind == "Priority":
                kwargs[f.name] = Priority(value)
            elif kind == "Status":
                kwargs[f.name] = Status(value)
            else:
                kwargs[f.name] = value
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ValueError(f"not an escalation: {exc}") from exc


@dataclass(frozen=True, slots=True)
class EscalationChange:
    """A change pushed to live streams (SSE): what happened and the new snapshot.

    ``what`` is one of ``created``, ``escalated`` (moved up a tier), ``repeated`` (a
    signal was folded in), ``reminded`` (the last tier was reminded), ``acknowledged``,
    ``resolved``, ``scene_released``, ``delivery_failed``.

    Attributes:
        what: see above.
        escalation: the escalation as it is after the change.
        contact: for ``delivery_failed``, the contact whose delivery failed.
        reason: for ``delivery_failed``, one line saying why and whether it is retried.
    """

    what: str
    escalation: Escalation
    contact: str | None = None
    reason: str = ""


class EscalationError(Exception):
    """Base of the errors the service raises; the HTTP layer maps them to 4xx."""


class EscalationNotFound(EscalationError):
    """No escalation with that id (or not visible to that contact): 404."""


class EscalationForbidden(EscalationError):
    """The contact may not do that to this escalation: 403."""


class EscalationConflict(EscalationError):
    """The escalation is not in a state that allows it (already resolved): 409."""


class EscalationService(Protocol):
    """What the HTTP API needs from the escalation engine.

    ``as_contact`` is the authenticated contact; visibility follows its scopes: a
    ``referent`` sees only escalations addressed to them, an ``installer`` sees all.
    """

    def contacts(self) -> Sequence[Contact]:
        """Every configured contact (the API authenticates against their hashes)."""
        ...

    def list(
        self, as_contact: Contact, *, status: Status | None = None, limit: int = 100
    ) -> Sequence[Escalation]:
        """Escalations visible to ``as_contact``, newest first."""
        ...

    def get(self, as_contact: Contact, escalation_id: str) -> Escalation:
        """One escalation; raises ``EscalationNotFound`` if absent or not visible."""
        ...

    async def acknowledge(self, as_contact: Contact, escalation_id: str) -> Escalation:
        """Take the escalation: the ladder stops. Idempotent for the same contact."""
        ...

    async def resolve(self, as_contact: Contact, escalation_id: str) -> Escalation:
        """Close the escalation. Idempotent once resolved by anyone."""
        ...

    async def release_scene(self, as_contact: Contact, escalation_id: str) -> Escalation:
        """Release a preserved scene (referent it was addressed to, or installer)."""
        ...

    def changes(self, as_contact: Contact) -> AsyncIterator[EscalationChange]:
        """Live changes visible to ``as_contact``, until the iterator is closed."""
        ...
