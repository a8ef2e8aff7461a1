"""Frigate's MQTT API in, camera events out: the ``frigate`` plugin's pure decoder.

One decoder watches one Frigate camera for one configured camera of the shop. It
reads the topics Frigate documents (docs/docs/integrations/mqtt.md in
blakeblackshear/frigate, and ``frigate/comms/mqtt.py``, ``frigate/comms/dispatcher.py``,
``frigate/video.py`` where the page is thin), under a configurable prefix:

=====================================  ===============================================
Topic                                  What the hub makes of it
=====================================  ===============================================
``<prefix>/available``                 ``online``/``offline``: the NVR itself;
                                       ``offline`` is also its last will
``<prefix>/<camera>/enabled/state``    ``ON``/``OFF`` (Frigate 0.16+): ``OFF`` is a
                                       camera turned off at Frigate: ``disabled``
``<prefix>/<camera>/recordings/state`` ``ON``/``OFF``: ``CameraRecording``
``<prefix>/<camera>/detect/state``     ``ON``/``OFF``: kept (``FrigateView.detect``)
``<prefix>/<camera>/status/<role>``    ``online``/``offline``/``disabled`` (Frigate
                                       0.17+): the role's availability
``<prefix>/<camera>/motion``           ``ON``/``OFF``: ``CameraMotion``
``<prefix>/events``                    tracked objects (``new``/``update``/``end``):
                                       ``CameraDetection``
``<prefix>/reviews``                   review items (Frigate 0.14+): ``CameraDetection``
=====================================  ===============================================

How availability is derived (the camera as a whole, ``role=""``), in this order:

1. nothing is said until ``<prefix>/available`` has been heard: a camera never heard
   from since the hub started stays ``unknown``;
2. ``available`` = ``offline`` (Frigate's last will, or a clean stop): ``offline`` at
   once, reason ``NVR last will``, and every role reported before goes ``offline``;
3. ``enabled/state`` = ``OFF``: ``disabled``;
4. when the roles are in use (``status_topics`` ``yes``, or ``auto`` once a status
   topic has been heard for the camera): ``online`` when a role is online,
   ``disabled`` when every role reported is, ``offline`` otherwise; nothing yet while
   no role has reported since the NVR (re)started;
5. otherwise (Frigate before 0.17, which publishes no status): ``online``.

Each role reported by a status topic is also an event of its own (``role="record"``...),
and every state is said once, when it changes: Frigate repeats its status every few
seconds. ``FrigateDecoder.lost`` makes the camera ``unknown`` (reason ``broker lost``)
when the way to the NVR is lost, and forgets what it said, so that the retained
states the broker hands over again are reported afresh.

Frigate never retains ``motion``, ``status``, ``events`` nor ``reviews``: a retained
one was left on the broker by an earlier setup and says nothing of the present. It is
counted (``stale``) and skipped; a happening of another Frigate camera on the shared
``events``/``reviews`` topics is ignored (``other``), without a word. What cannot be
read (not JSON, a wrong type, an unknown word) is rejected into ``stats`` with the
reason, and the next good message is read as if nothing happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from hub.sdk import (
    CameraAvailability,
    CameraDetection,
    CameraMotion,
    CameraRecording,
    DecodeStats,
    Event,
    Message,
)

__all__ = [
    "BROKER_LOST",
    "DETECTION_SOURCES",
    "NVR_LAST_WILL",
    "ROLES",
    "STATUS_MODES",
    "FrigateDecoder",
    "FrigateView",
    "camera_named",
    "frigate_topics",
    "shared_topics",
]

#: The roles Frigate reports a status for (``<prefix>/<camera>/status/<role>``).
ROLES: Final = ("audio", "detect", "record")
#: ``status_topics``: ``yes`` (Frigate 0.17+: availability from the roles), ``no``
#: (older Frigate: ignore them), ``auto`` (roles once one is heard).
STATUS_MODES: Final = ("auto", "yes", "no")
#: ``detections``: which of Frigate's topics become ``CameraDetection``.
DETECTION_SOURCES: Final = ("events", "reviews", "both")
#: The reason put on a camera whose NVR published (or left) ``offline``.
NVR_LAST_WILL: Final = "NVR last will"
#: The reason put on a camera whose broker session was lost.
BROKER_LOST: Final = "broker lost"

_SWITCH: Final = {"ON": True, "OFF": False}
_AVAILABLE: Final = ("online", "offline")
_STATUS: Final = ("online", "offline", "disabled")
_PHASES: Final = ("new", "update", "end")
_CAMERA = ""

try:  # Frigate's events are 1 to 2 KB of JSON, thousands a second under load:
    # orjson parses them in a quarter of the time of the standard library.
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - a platform without orjson's wheels
    from json import loads as _loads  # type: ignore[assignment]


#: The last JSON payload parsed, shared by every decoder of the process: the router of
#: Frigate's ``events`` and ``reviews`` reads the camera's name, then that camera's
#: decoder the rest (and a message no watched camera claims reaches every decoder),
#: from one parse. Decoders only read it.
_last_json: tuple[bytes, Any] | None = None


def _parse_json(payload: bytes) -> Any:
    """The payload as JSON (parsed once for all decoders), or ``ValueError``."""
    global _last_json
    cached = _last_json
    if cached is not None and (cached[0] is payload or cached[0] == payload):
        return cached[1]
    value = _loads(payload)
    _last_json = (payload, value)
    return value


def camera_named(payload: bytes) -> str | None:
    """The Frigate camera an ``events`` or ``reviews`` payload is about (its
    ``after.camera``), or None when the payload does not say (not JSON, not that shape).

    Parsed once for every decoder of the process, like ``decode``: the shared topics'
    router (``plugins.cameras.frigate_shared``) reads the name, then the camera's
    decoder the rest, from one parse.
    """
    try:
        data = _parse_json(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    after = data.get("after") if isinstance(data, dict) else None
    camera = after.get("camera") if isinstance(after, dict) else None
    return camera if isinstance(camera, str) else None


def shared_topics(prefix: str) -> tuple[str, ...]:
    """The topics every camera of one Frigate reads whole, one message for all: the
    tracked objects and the review items (``available`` is shared too, but rare)."""
    return (f"{prefix}/events", f"{prefix}/reviews")


def frigate_topics(prefix: str, camera: str, detections: str = "events") -> tuple[str, ...]:
    """The topics a camera's device subscribes to, ``<prefix>/available`` last.

    The broker hands over a subscription's retained messages as it takes it, so the
    camera's states subscribed first arrive before the NVR's ``available``: a camera
    turned off at Frigate is never taken for online in between.
    """
    base = f"{prefix}/{camera}"
    topics = [
        f"{base}/enabled/state",
        f"{base}/recordings/state",
        f"{base}/detect/state",
        f"{base}/status/+",
        f"{base}/motion",
    ]
    if detections in ("events", "both"):
        topics.append(f"{prefix}/events")
    if detections in ("reviews", "both"):
        topics.append(f"{prefix}/reviews")
    topics.append(f"{prefix}/available")
    return tuple(topics)


@dataclass
class FrigateView:
    """What the decoder last heard of its camera and its NVR (None: not heard).

    Attributes:
        nvr: ``<prefix>/available`` is ``online``.
        enabled: ``enabled/state`` is ``ON``.
        recording: ``recordings/state`` is ``ON``.
        detect: ``detect/state`` is ``ON`` (object detection at Frigate).
        roles: each role's last status since the NVR (re)started.
        status_seen: a status topic was heard for the camera (Frigate 0.17+).
    """

    nvr: bool | None = None
    enabled: bool | None = None
    recording: bool | None = None
    detect: bool | None = None
    roles: dict[str, str] = field(default_factory=dict)
    status_seen: bool = False


class FrigateDecoder:
    """One Frigate camera's messages in, the shop camera's events out: pure, no I/O.

    Args:
        camera: the configured camera id, put on every event.
        name: the camera's name at Frigate.
        prefix: Frigate's topic prefix (its ``mqtt.topic_prefix``).
        zone_map: Frigate zone names to shop zones.
        zones: the shop zones the camera covers: a detection in no mapped zone is
            placed in these.
        status_topics: ``auto``, ``yes`` or ``no`` (see ``STATUS_MODES``).

    Attributes:
        stats: frames, events and rejects (``DecodeStats``).
        stale: retained happenings skipped (left on the broker by an earlier setup).
        stale_about: what the last stale message was about, for the device's log.
        other: happenings of other Frigate cameras, ignored.
        view: what was last heard of the camera (``FrigateView``).
    """

    def __init__(
        self,
        camera: str,
        name: str,
        *,
        prefix: str = "frigate",
        zone_map: Mapping[str, str] | None = None,
        zones: Sequence[str] = (),
        status_topics: str = "auto",
    ) -> None:
        if status_topics not in STATUS_MODES:
            raise ValueError(f"status_topics: {status_topics!r} is not one of {STATUS_MODES}")
        self.camera = camera
        self.name = name
        self.prefix = prefix
        self.zone_map = dict(zone_map or {})
        self.zones = tuple(zones)
        self.status_topics = status_topics
        self.stats = DecodeStats()
        self.stale = 0
        self.stale_about = ""
        self.other = 0
        self.view = FrigateView()
        self._said: dict[str, str] = {}
        self._recording_said: bool | None = None
        self._available = f"{prefix}/available"
        self._events = f"{prefix}/events"
        self._reviews = f"{prefix}/reviews"
        self._own = f"{prefix}/{name}/"

    # -- the connection --------------------------------------------------------------------
    def lost(self, reason: str = BROKER_LOST) -> list[Event]:
        """The way to the NVR is lost: what was said becomes ``unknown``, then forgotten.

        The retained states that come back with the connection are then news again.
        Returns nothing for a camera never heard of (it is ``unknown`` already).
        """
        events: list[Event] = [
            CameraAvailability(camera=self.camera, state="unknown", role=role, reason=reason)
            for role, state in sorted(self._said.items())
            if state != "unknown"
        ]
        status_seen = self.view.status_seen
        self.view = FrigateView(status_seen=status_seen)
        self._said.clear()
        self._recording_said = None
        self.stats.events += len(events)
        return events

    # -- messages ------------------------------------------------------------------------------
    def decode(self, message: Message) -> Sequence[Event]:
        """The events one message means (none for what it ignores or rejects)."""
        self.stats.frames += 1
        topic = message.topic
        if topic == self._available:
            events = self._on_available(message)
        elif topic == self._events:
            events = self._on_event(message)
        elif topic == self._reviews:
            events = self._on_review(message)
        elif topic.startswith(self._own):
            events = self._on_camera_topic(message, topic[len(self._own) :])
        else:
            self._reject(message, f"not a topic of Frigate camera {self.name!r}")
            return []
        self.stats.events += len(events)
        return events

    def _reject(self, message: Message, reason: str) -> None:
        self.stats.reject(message.payload, f"{message.topic}: {reason}")

    def _skip_stale(self, message: Message, about: str) -> list[Event]:
        self.stale += 1
        self.stale_about = about
        return []

    def _word(self, message: Message, allowed: Sequence[str]) -> str | None:
        try:
            word = message.payload.decode("utf-8").strip()
        except UnicodeDecodeError:
            self._reject(message, "not UTF-8 text")
            return None
        if word not in allowed:
            shown = word if len(word) <= 20 else word[:17] + "..."
            expected = " or ".join(allowed)
            self._reject(message, f"unknown word {shown!r} (expected {expected})")
            return None
        return word

    def _on_available(self, message: Message) -> list[Event]:
        word = self._word(message, _AVAILABLE)
        if word is None:
            return []
        self.view.nvr = word == "online"
        if self.view.nvr:
            return self._derive()
        # The NVR is gone, and every role it reported with it: they report again (a
        # status topic) once it is back.
        self.view.roles.clear()
        events = self._derive()
        for role in sorted(self._said):
            if role != _CAMERA:
                events += self._say(role, "offline", NVR_LAST_WILL)
        return events

    def _on_camera_topic(self, message: Message, rest: str) -> list[Event]:
        if rest.startswith("status/"):
            return self._on_status(message, rest[len("status/") :])
        if rest == "motion":
            if message.retain:
                return self._skip_stale(message, f"a retained motion of {self.name!r}")
            word = self._word(message, tuple(_SWITCH))
            if word is None:
                return []
            return [CameraMotion(camera=self.camera, active=_SWITCH[word])]
        if rest not in ("enabled/state", "recordings/state", "detect/state"):
            self._reject(message, "not a topic the hub reads")
            return []
        word = self._word(message, tuple(_SWITCH))
        if word is None:
            return []
        on = _SWITCH[word]
        if rest == "enabled/state":
            self.view.enabled = on
            return self._derive()
        if rest == "detect/state":
            self.view.detect = on
            return []
        self.view.recording = on
        if on == self._recording_said:
            return []
        self._recording_said = on
        return [CameraRecording(camera=self.camera, recording=on)]

    def _on_status(self, message: Message, role: str) -> list[Event]:
        if role not in ROLES:
            self._reject(message, f"unknown role {role[:20]!r} (expected {', '.join(ROLES)})")
            return []
        if message.retain:
            return self._skip_stale(message, f"a retained status of {self.name!r}")
        word = self._word(message, _STATUS)
        if word is None:
            return []
        self.view.status_seen = True
        if self.status_topics == "no":
            return []
        if self.view.nvr is False:
            return []  # a status after the NVR's last will: out of order, the will wins
        self.view.roles[role] = word
        return self._say(role, word, "") + self._derive()

    # -- availability --------------------------------------------------------------------------
    def _uses_roles(self) -> bool:
        return self.status_topics == "yes" or (
            self.status_topics == "auto" and self.view.status_seen
        )

    def _derive(self) -> list[Event]:
        """The camera's availability from what was heard, said when it changes."""
        view = self.view
        if view.nvr is None:
            return []
        if view.nvr is False:
            return self._say(_CAMERA, "offline", NVR_LAST_WILL)
        if view.enabled is False:
            return self._say(_CAMERA, "disabled", "")
        if not self._uses_roles():
            return self._say(_CAMERA, "online", "")
        states = view.roles
        if not states:
            return []  # the roles have not reported since the NVR (re)started
        if "online" in states.values():
            return self._say(_CAMERA, "online", "")
        if all(state == "disabled" for state in states.values()):
            return self._say(_CAMERA, "disabled", "")
        down = ", ".join(f"{role} {state}" for role, state in sorted(states.items()))
        return self._say(_CAMERA, "offline", f"no role online ({down})")

    def _say(self, role: str, state: str, reason: str) -> list[Event]:
        if self._said.get(role) == state:
            return []
        self._said[role] = state
        return [CameraAvailability(camera=self.camera, state=state, role=role, reason=reason)]

    # -- detections -------------------------------------------------------------------------------
    def _object(self, message: Message) -> tuple[str, str, Mapping[str, Any]] | None:
        """The phase, the id and the ``after`` object of an ``events``/``reviews``
        message about this camera; None when it is not one (rejected or counted)."""
        try:
            data = _parse_json(message.payload)
        except (ValueError, UnicodeDecodeError, RecursionError):
            self._reject(message, "not JSON")
            return None
        if not isinstance(data, dict):
            self._reject(message, "not a JSON object")
            return None
        phase = data.get("type")
        if phase not in _PHASES:
            self._reject(message, f"type is {_shown(phase)}, not one of {', '.join(_PHASES)}")
            return None
        after = data.get("after")
        if not isinstance(after, dict):
            self._reject(message, "no 'after' object")
            return None
        camera = after.get("camera")
        if not isinstance(camera, str):
            self._reject(message, f"after.camera is {_shown(camera)}, not a name")
            return None
        if message.retain:
            self._skip_stale(message, f"a retained {message.topic} of {camera!r}")
            return None
        if camera != self.name:
            self.other += 1  # another camera's
            return None
        ident = after.get("id")
        if not isinstance(ident, str) or not ident:
            self._reject(message, f"after.id is {_shown(ident)}, not an id")
            return None
        return phase, ident, after

    def _on_event(self, message: Message) -> list[Event]:
        found = self._object(message)
        if found is None:
            return []
        phase, ident, after = found
        label = after.get("label")
        if not isinstance(label, str):
            self._reject(message, f"after.label is {_shown(label)}, not a label")
            return []
        if after.get("false_positive") is True:
            return []  # Frigate says so itself: nothing was there
        score = after.get("top_score", after.get("score"))
        if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
            self._reject(message, f"after.top_score is {_shown(score)}, not a number")
            return []
        # A tracked object is in its current zones; at its end, in those it entered.
        key = "entered_zones" if phase == "end" else "current_zones"
        camera_zones = self._names(message, after, key)
        if camera_zones is None:
            return []
        return [self._detection(ident, label, phase, camera_zones, score)]

    def _on_review(self, message: Message) -> list[Event]:
        found = self._object(message)
        if found is None:
            return []
        phase, ident, after = found
        data = after.get("data")
        if not isinstance(data, dict):
            self._reject(message, "no 'after.data' object")
            return []
        objects = self._names(message, data, "objects")
        audio = self._names(message, data, "audio")
        camera_zones = self._names(message, data, "zones")
        if objects is None or audio is None or camera_zones is None:
            return []
        severity = after.get("severity")
        label = ",".join(objects + audio) or (severity if isinstance(severity, str) else "")
        return [self._detection(ident, label, phase, camera_zones, None)]

    def _names(self, message: Message, data: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
        value = data.get(key, [])
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._reject(message, f"{key} is {_shown(value)}, not a list of names")
            return None
        return tuple(value)

    def _detection(
        self,
        ident: str,
        label: str,
        phase: str,
        camera_zones: tuple[str, ...],
        score: float | None,
    ) -> CameraDetection:
        mapped = tuple(dict.fromkeys(self.zone_map[z] for z in camera_zones if z in self.zone_map))
        return CameraDetection(
            camera=self.camera,
            detection=ident,
            label=label,
            phase=phase,
            zones=mapped or self.zones,
            camera_zones=camera_zones,
            score=float(score) if score is not None else None,
        )


def _shown(value: Any) -> str:
    """A value as a reject reason shows it: its type, and short values themselves."""
    if value is None:
        return "missing"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 24 else text[:21] + '...'}"
