"""What the register's tests share: a small real coverage reader over given intervals,
and a shop file with its journal, outbox and register in a temporary directory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hub.coverage.model import Interval, Kind

SHOP = """\
site:
  name: Bijouterie Marchal
  address: 14 rue Nationale, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {id: vitrine, name: Vitrine rue, risk: high}
  - {id: comptoir, name: Comptoir, risk: high}
cameras:
  - id: cam-vitrine
    type: sim-camera
    zones: [vitrine]
    placement: indoor
    retention_days: 30
  - id: cam-comptoir
    type: sim-camera
    zones: [comptoir]
    placement: indoor
    retention_days: 15
contacts:
  - id: referent-37
    name: Référent sûreté
    role: local_referent
    scopes: [referent, installer]
escalation:
  ladder:
    - contacts: [referent-37]
      ack_deadline: 120
  outbox: {path: ecrin-outbox.db}
journal:
  path: ecrin-journal.db
"""


def utc(*args: int) -> datetime:
    """A UTC moment."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


class Intervals:
    """A coverage reader over a list of intervals: the protocol's contract (clipped,
    sorted, filtered), nothing else."""

    def __init__(self, intervals: list[Interval], span: tuple[datetime, datetime] | None) -> None:
        self._intervals = intervals
        self._span = span

    def span(self) -> tuple[datetime, datetime] | None:
        return self._span

    def intervals(
        self,
        start: datetime,
        end: datetime,
        *,
        kind: Kind | None = None,
        subject: str | None = None,
    ) -> list[Interval]:
        found = [
            Interval(i.subject, i.kind, i.state, max(i.start, start), min(i.end, end), i.cause)
            for i in self._intervals
            if i.start < end
            and start < i.end
            and (kind is None or i.kind == kind)
            and (subject is None or i.subject == subject)
        ]
        return sorted(found, key=lambda i: (i.subject, i.kind, i.start))


def shop(directory: Path, text: str = SHOP) -> Path:
    """Write the shop file (and an empty secrets file) in ``directory``."""
    path = directory / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    return path
