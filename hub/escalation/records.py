"""What the engine keeps about each escalation, beside the escalation itself.

An ``Escalation`` is what referents see; folding repeats and walking the ladder also
need the fold key, when the last signal came, the high-stock deadline factor, the
reminders sent and the contacts that cannot be reached. ``Record`` holds them together,
and is what the outbox stores (as ``StoredEscalation``) and reads back on start. It has
its own module because the engine core and the referent actions both build and replace
records.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from hub.escalation.clock import Timer
from hub.escalation.model import Escalation
from hub.escalation.outbox import StoredEscalation

__all__ = ["Record"]


@dataclasses.dataclass(slots=True)
class Record:
    """An escalation and what the engine keeps about it beside the snapshot."""

    esc: Escalation
    fold_key: str
    last_signal_at: datetime
    factor: float
    reminders: int = 0
    timer: Timer | None = None
    #: Contacts whose call to act on this escalation failed for good (a 410, a 404):
    #: when a whole tier is in it, the ladder climbs without waiting for the deadline.
    #: Not stored: after a restart the deadline does the same, later.
    unreachable: set[str] = dataclasses.field(default_factory=set)

    def state(self) -> dict[str, Any]:
        return {
            "fold_key": self.fold_key,
            "last_signal_at": self.last_signal_at.isoformat(),
            "factor": self.factor,
            "reminders": self.reminders,
        }

    @classmethod
    def restore(cls, stored: StoredEscalation) -> Record:
        state = stored.state
        esc = stored.escalation
        try:
            last = datetime.fromisoformat(str(state["last_signal_at"]))
        except (KeyError, ValueError):
            last = esc.updated_at
        return cls(
            esc=esc,
            fold_key=str(state.get("fold_key", "")),
            last_signal_at=last,
            factor=float(state.get("factor", 1.0)),
            reminders=int(state.get("reminders", 0)),
        )
