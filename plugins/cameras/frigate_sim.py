"""A simulated Frigate NVR: Frigate's real topics and payloads, on any message session.

The tests, the demo and the benchmark need a Frigate without a Frigate. The simulator
publishes what Frigate publishes, as Frigate publishes it (``frigate/comms/mqtt.py``,
``frigate/comms/dispatcher.py`` and docs/docs/integrations/mqtt.md in
blakeblackshear/frigate), through whatever it is given to publish with (a
``Publisher``: any message session's ``publish``): a ``MemorySession`` in unit tests,
an ``NvrConnection`` (the NVR's own connection to a real broker, with Frigate's last
will) in the end-to-end tests, the benchmark and the demo. Nothing else changes
between them.

* ``start()`` is Frigate connecting to its broker: every camera's retained states
  (``enabled``, ``recordings``, ``snapshots``, ``audio``, ``detect``, ``motion``...),
  ``motion`` ``OFF`` (not retained), then ``available`` ``online``, retained, last;
* ``stop()`` is a clean stop (``available`` ``offline``); ``die()`` is what the broker
  publishes for a Frigate that vanished: its last will (``will``: the same message,
  QoS 1, retained). On a real broker, a simulator given a connection of its own whose
  will is ``will`` can also be killed for real (``NvrConnection.sever``);
* ``set_enabled``, ``set_recording``, ``set_detect``: a switch turned at Frigate (its
  retained state follows);
* ``report_status`` and ``status``: the per-role health of Frigate 0.17 (``online``,
  ``offline``, ``disabled``; not retained; repeated every few seconds by Frigate's
  watchdog). Earlier versions publish none: ``version`` decides;
* ``motion``; ``track``/``update``/``end`` a tracked object (``<prefix>/events``) and
  ``review``/``update_review``/``end_review`` a review item (``<prefix>/reviews``),
  with ``before`` and ``after`` in the documented shape.

Ids and times are Frigate's formats (``1607123955.475377-mxklsc``, epoch seconds), from
a clock and a seed the caller may fix, so that a run can be replayed.
"""

from __future__ import annotations

import json
import random
import string
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.sdk import Message

__all__ = ["FrigateSimulator", "Publisher", "SimCamera", "frigate_will"]

_ID_CHARS = string.ascii_lowercase + string.digits


@dataclass
class SimCamera:
    """One simulated Frigate camera and its switches.

    Attributes:
        name: the camera's name at Frigate.
        enabled: Frigate processes it (``enabled/state``).
        recording: Frigate records it (``recordings/state``).
        detect: object detection is on (``detect/state``).
        roles: the roles of its ffmpeg inputs, each reported by a status topic (0.17+).
        zones: the zones drawn on its image.
    """

    name: str
    enabled: bool = True
    recording: bool = True
    detect: bool = True
    roles: tuple[str, ...] = ("detect", "record")
    zones: tuple[str, ...] = ()


@dataclass
class _Tracked:
    """What the simulator keeps of a tracked object or a review item: the last
    ``after`` it published, which is the next message's ``before``."""

    topic: str
    after: dict[str, Any] = field(default_factory=dict)


class Publisher(Protocol):
    """Where a simulator publishes: the ``publish`` of a message session."""

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False
    ) -> None:
        """Publish one message."""
        ...


def frigate_will(prefix: str = "frigate") -> Message:
    """Frigate's last will: ``<prefix>/available`` ``offline``, QoS 1, retained (what
    its connection to the broker is made with, before anything is published)."""
    return Message(f"{prefix}/available", b"offline", retain=True, qos=1)


def _switch(on: bool) -> bytes:
    return b"ON" if on else b"OFF"


class FrigateSimulator:
    """Frigate's side of the broker, for one NVR and its cameras.

    Args:
        session: where to publish (a ``MemorySession``, a broker session, or an
            ``NvrConnection`` of its own); may be replaced between connections.
        cameras: the cameras, by name or as ``SimCamera``.
        prefix: Frigate's ``mqtt.topic_prefix``.
        version: the Frigate version played, as ``(major, minor)``: ``enabled/state``
            is published from (0, 16), status topics from (0, 17).
        qos: the QoS Frigate publishes with (its ``mqtt.qos``, 0 by default).
        clock: epoch seconds, for the ids and times of objects and reviews.
        seed: the seed of the ids' random part.
    """

    def __init__(
        self,
        session: Publisher,
        cameras: Iterable[str | SimCamera],
        *,
        prefix: str = "frigate",
        version: tuple[int, int] = (0, 17),
        qos: int = 0,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
    ) -> None:
        self.session = session
        self.cameras = {
            c.name: c for c in (c if isinstance(c, SimCamera) else SimCamera(c) for c in cameras)
        }
        self.prefix = prefix
        self.version = version
        self.qos = qos
        self._clock = clock
        self._random = random.Random(seed)
        self._tracked: dict[str, _Tracked] = {}

    @property
    def will(self) -> Message:
        """Frigate's last will: ``<prefix>/available`` ``offline``, QoS 1, retained."""
        return frigate_will(self.prefix)

    def camera(self, name: str) -> SimCamera:
        """A simulated camera by name (``KeyError`` for one the NVR does not have)."""
        return self.cameras[name]

    async def _publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        await self.session.publish(f"{self.prefix}/{topic}", payload, qos=self.qos, retain=retain)

    # -- the NVR ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Frigate connects: the cameras' retained states, then ``available`` ``online``."""
        for cam in self.cameras.values():
            await self.publish_states(cam.name)
        await self._publish("available", b"online", retain=True)

    async def publish_states(self, name: str) -> None:
        """One camera's states, as Frigate publishes them on connecting."""
        cam = self.cameras[name]
        if self.version >= (0, 16):
            await self._publish(f"{name}/enabled/state", _switch(cam.enabled), retain=True)
        await self._publish(f"{name}/recordings/state", _switch(cam.recording), retain=True)
        await self._publish(f"{name}/snapshots/state", b"ON", retain=True)
        await self._publish(f"{name}/audio/state", _switch("audio" in cam.roles), retain=True)
        await self._publish(f"{name}/detect/state", _switch(cam.detect), retain=True)
        await self._publish(f"{name}/motion/state", b"ON", retain=True)
        await self._publish(f"{name}/motion", b"OFF")

    async def stop(self) -> None:
        """Frigate stops cleanly: ``available`` ``offline``, retained."""
        await self._publish("available", b"offline", retain=True)

    async def die(self) -> None:
        """Frigate vanishes: the broker publishes its last will (``will``)."""
        will = self.will
        await self.session.publish(will.topic, will.payload, qos=will.qos, retain=will.retain)

    # -- switches -------------------------------------------------------------------------------
    async def set_enabled(self, name: str, on: bool) -> None:
        """Turn a camera on or off at Frigate (0.16+); its roles follow (0.17+)."""
        self.cameras[name].enabled = on
        await self._publish(f"{name}/enabled/state", _switch(on), retain=True)
        if not on:
            await self.report_status(name)

    async def set_recording(self, name: str, on: bool) -> None:
        """Turn a camera's recording on or off at Frigate."""
        self.cameras[name].recording = on
        await self._publish(f"{name}/recordings/state", _switch(on), retain=True)

    async def set_detect(self, name: str, on: bool) -> None:
        """Turn a camera's object detection on or off at Frigate."""
        self.cameras[name].detect = on
        await self._publish(f"{name}/detect/state", _switch(on), retain=True)

    # -- health (Frigate 0.17+) --------------------------------------------------------------
    async def status(self, name: str, role: str, state: str) -> None:
        """One role's health: ``online``, ``offline`` or ``disabled`` (not retained).

        Published whatever the version played, so that a test can say what a 0.17
        Frigate says; ``report_status`` follows the version.
        """
        await self._publish(f"{name}/status/{role}", state.encode())

    async def report_status(self, name: str | None = None, state: str = "online") -> None:
        """What Frigate's watchdog repeats: every role of a camera (or of all cameras),
        ``disabled`` for a camera turned off, else ``state``. Nothing before 0.17."""
        if self.version < (0, 17):
            return
        names = [name] if name is not None else list(self.cameras)
        for cam in (self.cameras[n] for n in names):
            for role in cam.roles:
                await self.status(cam.name, role, state if cam.enabled else "disabled")

    async def motion(self, name: str, active: bool) -> None:
        """Motion started or stopped on a camera (not retained)."""
        await self._publish(f"{name}/motion", _switch(active))

    # -- tracked objects (<prefix>/events) --------------------------------------------------
    def _new_id(self, now: float) -> str:
        suffix = "".join(self._random.choice(_ID_CHARS) for _ in range(6))
        return f"{now:.6f}-{suffix}"

    async def track(
        self,
        name: str,
        label: str = "person",
        *,
        zones: Sequence[str] = (),
        score: float = 0.8,
    ) -> str:
        """A new tracked object on a camera; returns its id."""
        now = self._clock()
        ident = self._new_id(now)
        after = _event_object(ident, name, label, now, score, tuple(zones))
        self._tracked[ident] = _Tracked("events", after)
        await self._object_message("events", "new", after, after)
        return ident

    async def update(
        self, ident: str, *, zones: Sequence[str] | None = None, score: float | None = None
    ) -> None:
        """The tracked object (or review item) moved into other zones or scored again."""
        tracked = self._tracked[ident]
        if tracked.topic == "reviews":
            await self.update_review(ident, zones=zones)
            return
        before = tracked.after
        after = dict(before)
        after["frame_time"] = self._clock()
        if zones is not None:
            after["current_zones"] = list(zones)
            after["entered_zones"] = list(dict.fromkeys([*before["entered_zones"], *zones]))
        if score is not None:
            after["score"] = score
            after["top_score"] = max(score, before["top_score"])
        tracked.after = after
        await self._object_message("events", "update", before, after)

    async def end(self, ident: str) -> None:
        """The tracked object (or review item) is over: ``end`` with ``end_time`` set."""
        if self._tracked[ident].topic == "reviews":
            await self.end_review(ident)
            return
        before = self._tracked.pop(ident).after
        after = dict(before, end_time=self._clock(), current_zones=[], active=False)
        await self._object_message("events", "end", before, after)

    async def _object_message(
        self, topic: str, phase: str, before: dict[str, Any], after: dict[str, Any]
    ) -> None:
        payload = json.dumps({"type": phase, "before": before, "after": after}).encode()
        await self._publish(topic, payload)

    # -- review items (<prefix>/reviews, Frigate 0.14+) -----------------------------------------
    async def review(
        self,
        name: str,
        objects: Sequence[str] = ("person",),
        *,
        zones: Sequence[str] = (),
        severity: str = "alert",
        detections: Sequence[str] = (),
    ) -> str:
        """A new review item (an alert or a detection) on a camera; returns its id."""
        now = self._clock()
        ident = self._new_id(now)
        after = _review_object(ident, name, now, severity, objects, zones, detections)
        self._tracked[ident] = _Tracked("reviews", after)
        await self._object_message("reviews", "new", after, after)
        return ident

    async def update_review(
        self,
        ident: str,
        *,
        objects: Sequence[str] | None = None,
        zones: Sequence[str] | None = None,
        severity: str | None = None,
    ) -> None:
        """The review item gained objects or zones, or became an alert."""
        tracked = self._tracked[ident]
        before = tracked.after
        data = dict(before["data"])
        if objects is not None:
            data["objects"] = list(dict.fromkeys([*data["objects"], *objects]))
        if zones is not None:
            data["zones"] = list(dict.fromkeys([*data["zones"], *zones]))
        after = dict(before, data=data)
        if severity is not None:
            after["severity"] = severity
        tracked.after = after
        await self._object_message("reviews", "update", before, after)

    async def end_review(self, ident: str) -> None:
        """The review item is over."""
        before = self._tracked.pop(ident).after
        after = dict(before, end_time=self._clock())
        await self._object_message("reviews", "end", before, after)

    # -- anything else -------------------------------------------------------------------------
    async def raw(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publish anything under the prefix: a bad payload, a leftover retained message."""
        await self._publish(topic, payload, retain=retain)


def _event_object(
    ident: str, camera: str, label: str, now: float, score: float, zones: tuple[str, ...]
) -> dict[str, Any]:
    """A tracked object with the keys Frigate 0.14's documentation shows."""
    return {
        "id": ident,
        "camera": camera,
        "frame_time": now,
        "snapshot_time": now,
        "label": label,
        "sub_label": None,
        "top_score": score,
        "false_positive": False,
        "start_time": float(ident.split("-", maxsplit=1)[0]),
        "end_time": None,
        "score": score,
        "box": [424, 500, 536, 712],
        "area": 23744,
        "ratio": 2.113207,
        "region": [264, 450, 667, 853],
        "current_zones": list(zones),
        "entered_zones": list(zones),
        "thumbnail": None,
        "has_snapshot": False,
        "has_clip": False,
        "active": True,
        "stationary": False,
        "motionless_count": 0,
        "position_changes": 0,
        "attributes": {},
        "current_attributes": [],
    }


def _review_object(
    ident: str,
    camera: str,
    now: float,
    severity: str,
    objects: Sequence[str],
    zones: Sequence[str],
    detections: Sequence[str],
) -> dict[str, Any]:
    """A review item with the keys Frigate 0.14's documentation shows."""
    return {
        "id": ident,
        "camera": camera,
        "start_time": now,
        "end_time": None,
        "severity": severity,
        "thumb_path": f"/media/frigate/clips/review/thumb-{camera}-{ident}.webp",
        "data": {
            "detections": list(detections),
            "objects": list(objects),
            "sub_labels": [],
            "zones": list(zones),
            "audio": [],
        },
    }
