"""What a camera's availability means to the rest of the hub: does it cover its zones?

Camera plugins report availability (online, offline, disabled, unknown; for the camera
as a whole or for one role), recording switched on or off, motion and detections, as
events (``hub.events``). The state registry turns them into each camera's state;
escalations and the coverage log need one plain answer from it: is the camera
*covering* its zones now, that is filming and keeping what it films. This module holds
that answer's definition and the narrow view of it that a feature is handed, so that
the escalation engine can read cameras without importing the registry:

* ``covering(state, recording)``: the camera is ``online`` and its recording is not
  known to be off (a camera whose recording was never reported covers: most NVRs
  record by default, and an unknown switch is not a fault);
* ``CameraStatus``: one camera's availability at one moment, the form a webhook
  payload carries;
* ``CameraView``: what the registry answers about cameras (``StateRegistry`` fits it).

A camera never heard of is ``unknown``, and so never covering: the hub never counts a
camera online by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from hub.events import Event

__all__ = ["ONLINE", "UNKNOWN_CAMERA", "CameraStatus", "CameraView", "covering"]

#: The one camera state in which a camera can cover its zones.
ONLINE: Final = "online"
#: The state of a camera the hub has not heard of (or can no longer tell about).
UNKNOWN_CAMERA: Final = "unknown"


def covering(state: str, recording: bool | None) -> bool:
    """Whether a camera in ``state`` with ``recording`` covers its zones: online, and
    recording not known to be off."""
    return state == ONLINE and recording is not False


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """One camera's availability at one moment, as the state registry has it.

    Attributes:
        camera: the configured camera id.
        state: ``online``, ``offline``, ``disabled`` or ``unknown`` (docs/state.md).
        covering: online and recording not known to be off (``covering``).
        recording: whether it records; None when nothing has said so.
        since: when ``state`` took its value (the event's time); None for a camera
            never heard of.
    """

    camera: str
    state: str = UNKNOWN_CAMERA
    covering: bool = False
    recording: bool | None = None
    since: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of a webhook payload's and the API's ``camera_states``."""
        return {
            "id": self.camera,
            "state": self.state,
            "covering": self.covering,
            "recording": self.recording,
            "since": None if self.since is None else self.since.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CameraStatus:
        """Read back ``to_dict`` (an escalation stored in the outbox).

        Raises:
            ValueError: the value is not such an object.
        """
        try:
            since = data.get("since")
            recording = data.get("recording")
            return cls(
                camera=str(data["id"]),
                state=str(data["state"]),
                covering=bool(data["covering"]),
                recording=None if recording is None else bool(recording),
                since=None if since is None else datetime.fromisoformat(since),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a camera status: {exc}") from exc


class CameraView(Protocol):
    """What a feature may ask about cameras (the hub hands it its ``StateRegistry``)."""

    def camera_status(self, camera: str) -> CameraStatus:
        """The camera's availability now; ``unknown`` for a camera never heard of."""
        ...

    def outage_began(self, event: Event) -> bool:
        """Whether ``event`` (an availability or recording report) is the one that made
        its camera stop covering, in an outage that still lasts: a repeat of a report
        within the outage, or a report of a camera that covers again, is not."""
        ...
