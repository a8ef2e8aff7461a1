"""Hold-up escalation: rules, ladder, high-stock calendar, durable outbox, webhooks.

The domain values (``Escalation``, ``Contact``...) and the service the HTTP side uses
live in ``hub.escalation.model``; the engine that runs it all is
``hub.escalation.engine.EscalationEngine``, imported from its module so that this
package stays cheap to import. The feature's configuration sections are
``hub.escalation.config``; the rule contract it runs is the core's (``hub.rules``).
See ``docs/escalation.md``.
"""

from __future__ import annotations

from hub.escalation.calendar import HighStockCalendar, HighStockPeriod
from hub.escalation.model import (
    Contact,
    ContactRole,
    Escalation,
    EscalationChange,
    EscalationConflict,
    EscalationError,
    EscalationForbidden,
    EscalationNotFound,
    EscalationService,
    Priority,
    Status,
)

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
    "HighStockCalendar",
    "HighStockPeriod",
    "Priority",
    "Status",
]
