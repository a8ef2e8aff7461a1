"""Scene preservation: after a hold-up, nothing may destroy the evidence.

When a hold-up (or duress) opens an escalation, the engine seals the journal segment
of the incident, asks the camera plugins to keep their recordings of the incident
window, and marks the scene preserved. Until a referent or an installer releases it,
a configuration that would destroy evidence is refused: one that shortens a camera's
retention, removes a camera, or moves the journal.

The guard compares *evidence settings*, the part of a configuration that decides
what is kept, not whole configurations: a new contact or a renamed zone destroys
nothing. The last accepted evidence settings are stored in the outbox, so a hub
restarted on an edited file is checked against what it ran with before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hub.config import CameraConfig

__all__ = ["EvidenceSettings", "SceneGuard", "SceneLocked"]


class SceneLocked(Exception):
    """A configuration change is refused while a scene is preserved.

    ``str()`` gives one line per reason; ``reasons`` holds them.
    """

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("\n".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True, slots=True)
class EvidenceSettings:
    """The parts of a configuration that decide what evidence is kept.

    Attributes:
        cameras: each camera's retention in days, by camera id.
        journal: the journal's path.
    """

    cameras: Mapping[str, int] = field(default_factory=dict)
    journal: str = ""

    @classmethod
    def of(cls, cameras: Iterable[CameraConfig], journal: Path) -> EvidenceSettings:
        """The evidence settings of a configuration's cameras and journal path."""
        return cls(MappingProxyType({c.id: c.retention_days for c in cameras}), str(journal))

    def to_json(self) -> str:
        """The stored form (sorted, so equal settings give equal text)."""
        return json.dumps({"cameras": dict(self.cameras), "journal": self.journal}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> EvidenceSettings:
        """Read the stored form back.

        Raises:
            ValueError: the text is not stored evidence settings.
        """
        data: Any = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("cameras"), dict):
            raise ValueError("not evidence settings")
        return cls(
            MappingProxyType({str(k): int(v) for k, v in data["cameras"].items()}),
            str(data.get("journal", "")),
        )

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the stored form: equal settings, equal fingerprint."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()


class SceneGuard:
    """Refuses configuration changes that would destroy preserved evidence.

    Args:
        preserved: returns the ids of the escalations whose scene is preserved now.
    """

    def __init__(self, preserved: Callable[[], Collection[str]]) -> None:
        self._preserved = preserved

    def check_config_change(self, old: EvidenceSettings, new: EvidenceSettings) -> list[str]:
        """Why ``new`` may not replace ``old`` now (empty when it may).

        Nothing is refused while no scene is preserved.
        """
        scenes = sorted(self._preserved())
        if not scenes:
            return []
        before, after = old, new
        until = (
            f"while the scene of {', '.join(scenes)} is preserved;"
            " a referent or an installer must release it first"
        )
        reasons: list[str] = []
        for camera, days in sorted(before.cameras.items()):
            kept = after.cameras.get(camera)
            if kept is None:
                reasons.append(f"camera {camera} may not be removed {until}")
            elif kept < days:
                reasons.append(
                    f"camera {camera}: retention may not go from {days} to {kept} days {until}"
                )
        if before.journal and after.journal != before.journal:
            reasons.append(
                f"the journal may not move from {before.journal} to {after.journal or 'nowhere'}"
                f" {until}"
            )
        return reasons
