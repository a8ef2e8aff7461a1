"""What a webhook carries: the documented payloads, and nothing more.

An escalation leaves the hub for servers the shop does not control, so its payload is
an explicit list of fields built here, never a dump of the escalation: a field added to
the model does not leak by accident. There is no amount of loss and no free text from
the shop: the instructions come from the configuration, written by the installer with
the referent. ``docs/webhooks.md`` documents each field; a test checks the keys are
exactly these.

The payload has no version number: it changes only by adding keys, which receivers
ignore until they use them (docs/webhooks.md says so), and never by changing what a
key holds. So ``cameras`` stays the list of camera ids it always was, and their
availability came as a key of its own, ``camera_states``.
"""

from __future__ import annotations

import json
from datetime import tzinfo
from typing import Any, Final

from hub.escalation.calendar import HighStockPeriod
from hub.escalation.model import Escalation

__all__ = [
    "ESCALATION_EVENTS",
    "ESCALATION_KEYS",
    "HIGH_STOCK_KEYS",
    "encode",
    "escalation_payload",
    "high_stock_payload",
]

#: The keys of an escalation webhook (``"type": "escalation"``).
ESCALATION_KEYS: Final = frozenset(
    {
        "type",
        "event",
        "id",
        "revision",
        "site",
        "address",
        "departement",
        "zone",
        "kind",
        "priority",
        "time",
        "tier",
        "cameras",
        "camera_states",
        "instructions",
        "status",
        "signals",
        "deadline",
        "high_stock",
    }
)

#: The keys of a high-stock period webhook (``"type": "high_stock_period"``).
HIGH_STOCK_KEYS: Final = frozenset({"type", "event", "name", "start", "end"})

#: Why an escalation webhook was sent (its ``event`` and the ``Ecrin-Event`` suffix).
ESCALATION_EVENTS: Final = (
    "created",
    "escalated",
    "repeated",
    "reminder",
    "acknowledged",
    "resolved",
)


def escalation_payload(escalation: Escalation, event: str) -> dict[str, Any]:
    """The body of an escalation webhook.

    Args:
        escalation: the escalation as it is now.
        event: one of ``ESCALATION_EVENTS``.
    """
    if event not in ESCALATION_EVENTS:
        raise ValueError(f"unknown escalation event {event!r}")
    when = escalation.signalled_at or escalation.created_at
    return {
        "type": "escalation",
        "event": event,
        "id": escalation.id,
        "revision": escalation.revision,
        "site": escalation.site,
        "address": escalation.address,
        "departement": escalation.departement,
        "zone": {"id": escalation.zone, "name": escalation.zone_name},
        "kind": escalation.kind,
        "priority": escalation.priority.value,
        "time": when.isoformat(),
        "tier": escalation.tier,
        "cameras": list(escalation.cameras),
        "camera_states": [status.to_dict() for status in escalation.camera_states],
        "instructions": escalation.instructions,
        "status": escalation.status.value,
        "signals": escalation.signals,
        "deadline": escalation.deadline.isoformat() if escalation.deadline else None,
        "high_stock": escalation.high_stock,
    }


def high_stock_payload(period: HighStockPeriod, event: str, tz: tzinfo) -> dict[str, Any]:
    """The body of a high-stock period webhook: its name and times, nothing else.

    Args:
        period: the period.
        event: ``started`` or ``ended``.
        tz: the site's time zone (the times are midnight there).
    """
    if event not in ("started", "ended"):
        raise ValueError(f"unknown high-stock event {event!r}")
    return {
        "type": "high_stock_period",
        "event": event,
        "name": period.name,
        "start": period.starts_at(tz).isoformat(),
        "end": period.ends_at(tz).isoformat(),
    }


def encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed: compact JSON, sorted keys, UTF-8."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )
