"""The coverage feature's contracts: intervals, their states and causes, and what a
reader of the coverage log offers.

The log keeps **closed intervals**: a subject (a camera or a shop zone) was in one
state from ``start`` (included) to ``end`` (excluded). The report, the register and the
referent's view are computed from intervals only, never from raw events, so that the
live log and the one rebuilt from the journal give the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, Protocol

__all__ = [
    "AVAILABILITY",
    "AVAILABILITY_STATES",
    "CAUSE_HUB_DOWN",
    "CAUSE_NOT_RECORDING",
    "CAUSE_NO_CAMERA",
    "CAUSE_OFFLINE",
    "COVERAGE",
    "COVERAGE_STATES",
    "RECORDING",
    "RECORDING_STATES",
    "CoverageReader",
    "Interval",
    "Kind",
]

Kind = Literal["availability", "recording", "coverage"]

#: A camera's availability (``CameraAvailability.state`` for the camera as a whole).
AVAILABILITY: Final = "availability"
AVAILABILITY_STATES: Final = ("online", "offline", "disabled", "unknown")
#: A camera's recording (``CameraRecording``): ``unknown`` until the camera said.
RECORDING: Final = "recording"
RECORDING_STATES: Final = ("on", "off", "unknown")
#: A shop zone's coverage: ``covered`` while at least one camera filming it is online
#: and recording, ``gap`` otherwise (with a cause).
COVERAGE: Final = "coverage"
COVERAGE_STATES: Final = ("covered", "gap")

#: Why a zone was not covered (``Interval.cause`` of a ``gap``); several causes of one
#: gap are joined with ``"; "`` in this order of precedence: hub down first.
CAUSE_HUB_DOWN: Final = "hub down"
CAUSE_OFFLINE: Final = "camera offline"
CAUSE_NOT_RECORDING: Final = "not recording"
CAUSE_NO_CAMERA: Final = "no camera films it"


@dataclass(frozen=True, slots=True)
class Interval:
    """One subject in one state over ``[start, end)``.

    Attributes:
        subject: the camera id (``availability``, ``recording``) or the shop zone id
            (``coverage``), as configured.
        kind: ``availability``, ``recording`` or ``coverage``.
        state: one of the kind's states (``AVAILABILITY_STATES``...).
        start: when it began (UTC, aware).
        end: when it ended (UTC, aware, after ``start``).
        cause: why, when the state is not the good one: for a camera, the reason its
            event gave (``NVR last will``, ``broker lost``) or ``hub down``; for a zone
            gap, the causes (``hub down``, ``camera offline``, ``not recording``, ``no
            camera films it``), with the camera ids in parentheses.
    """

    subject: str
    kind: Kind
    state: str
    start: datetime
    end: datetime
    cause: str = ""

    @property
    def seconds(self) -> float:
        """The interval's length in seconds."""
        return (self.end - self.start).total_seconds()


class CoverageReader(Protocol):
    """What the report, the register and the referent's view read of a coverage log."""

    def span(self) -> tuple[datetime, datetime] | None:
        """When the log began and the last moment the hub was known to be alive (the
        last heartbeat or event), or None when the log holds nothing yet."""
        ...

    def intervals(
        self,
        start: datetime,
        end: datetime,
        *,
        kind: Kind | None = None,
        subject: str | None = None,
    ) -> list[Interval]:
        """The intervals overlapping ``[start, end)``, clipped to it, sorted by subject,
        kind and start. Within the log's span, every configured subject's intervals of
        a kind tile the period without holes (the time the hub was down is ``unknown``
        for a camera and a ``gap`` with cause ``hub down`` for a zone); an interval
        still open is clipped at the last moment the hub was known to be alive."""
        ...
