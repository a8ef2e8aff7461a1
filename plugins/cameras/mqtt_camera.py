"""The ``mqtt-camera`` device type: any camera or bridge whose topics and words the
configuration states.

Frigate has a plugin of its own; everything else that speaks MQTT (a camera's own
firmware, an NVR's alert actions, a bridge) says its availability, its recording and
its motion in its own topics and words. The installer states them per camera::

    cameras:
      - id: cam-vitrine
        type: mqtt-camera
        zones: [vitrine]
        placement: indoor
        settings:
          availability: {topic: cams/vitrine/status, online: "online", offline: "offline"}
          recording: {topic: cams/vitrine/state, value: "$.recording", on: true, off: false}
          motion: {topic: cams/vitrine/motion, on: "ON", off: "OFF"}

and every mistake is reported at its line and column (``payload_rules``). The device
subscribes those topics on the hub's shared session with QoS 1, and a pure decoder
turns each message into ``CameraAvailability``, ``CameraRecording`` and
``CameraMotion``. A payload it cannot read is counted, logged (one line per kind of
problem and per window) and skipped: it never makes a camera online. A camera never
heard from stays ``unknown``: nothing is emitted until a message says something. A
retained message is what the camera said last, so it is taken as its state; when the
broker is lost, the camera becomes ``unknown`` (``broker lost``) until the session is
back and the retained states arrive again.

docs/mqtt-camera.md is the installer's guide. The plugin imports only ``hub.sdk``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from hub.sdk import (
    CameraAvailability,
    CameraMotion,
    CameraRecording,
    DecodeStats,
    DeviceContext,
    DeviceType,
    Event,
    LogThrottle,
    Message,
    MessageDevice,
    hookimpl,
    setting,
)
from plugins.cameras.payload_rules import (
    AVAILABILITY,
    MOTION,
    RECORDING,
    Bad,
    Payload,
    PayloadRule,
    Problem,
    parse_rule,
    rule_problems,
)

__all__ = [
    "BROKER_LOST",
    "SUBSCRIBE_QOS",
    "TYPE_NAME",
    "BadPayload",
    "MqttCamera",
    "MqttCameraDecoder",
    "MqttCameraSettings",
    "camera_rules",
    "register_device_types",
]

TYPE_NAME: Final = "mqtt-camera"
#: State topics are subscribed with QoS 1: a change published while the hub was away
#: is kept by the broker for the hub's persistent session.
SUBSCRIBE_QOS: Final = 1
#: The reason of the ``unknown`` availability reported when the broker is lost.
BROKER_LOST: Final = "broker lost"
#: Bad payloads kept for ``rejects()`` between two calls, at most.
_MAX_PENDING: Final = 100

_RULE_HELP: Final = (
    " {topic, value (a JSON path or a template; omit it for a plain payload), words}:"
    " see docs/mqtt-camera.md"
)


@dataclass(frozen=True, kw_only=True)
class MqttCameraSettings:
    """The settings of ``mqtt-camera``: one mapping per state the camera reports."""

    availability: dict[Any, Any] = setting(
        required=True,
        check=rule_problems(AVAILABILITY),
        help="where the camera says it is online, offline (or disabled):" + _RULE_HELP,
    )
    recording: dict[Any, Any] = setting(
        {},
        check=rule_problems(RECORDING),
        help="where it says it records (on) or not (off); leave out if it does not" + _RULE_HELP,
    )
    motion: dict[Any, Any] = setting(
        {},
        check=rule_problems(MOTION),
        help="where it says it sees motion (on) or not (off); leave out if it does not"
        + _RULE_HELP,
    )


def camera_rules(settings: MqttCameraSettings) -> tuple[PayloadRule, ...]:
    """The rules of a camera's settings (as validated by the loader).

    Raises:
        ValueError: a rule is refused (only settings that did not go through the
            configuration loader can be).
    """
    rules: list[PayloadRule] = []
    for spec, value in (
        (AVAILABILITY, settings.availability),
        (RECORDING, settings.recording),
        (MOTION, settings.motion),
    ):
        if not value and spec is not AVAILABILITY:
            continue  # the camera does not report it
        rule, problems = parse_rule(spec, value)
        if rule is None:
            raise ValueError(f"{spec.what}: " + "; ".join(p.reason for p in problems))
        rules.append(rule)
    return tuple(rules)


@dataclass(frozen=True, slots=True)
class BadPayload:
    """A payload a camera's rule could not read: what for, where, and why.

    Attributes:
        what: ``availability``, ``recording`` or ``motion``.
        topic: the topic it came on.
        problem: the kind of problem (the counter it went to).
        detail: one line that says it (never the whole payload).
        retained: it was a retained message (perhaps left by an earlier configuration).
    """

    what: str
    topic: str
    problem: Problem
    detail: str
    retained: bool


class MqttCameraDecoder:
    """A camera's messages in, camera events out: pure, no I/O, never raising.

    Each message is read by the rules of its topic (several, when one JSON status
    carries availability, recording and motion). A state is emitted when it differs
    from the last one emitted of its kind: a camera that repeats ``online`` every ten
    seconds fills neither the journal nor the bus.

    Args:
        camera: the configured camera id, put on every event.
        rules: what each topic says (``camera_rules``).

    Attributes:
        stats: frames (messages), events, and rejects (one per rule that could not
            read its message).
        problems: rejects by kind of problem (``Problem``).
        ignored: messages on a topic no rule reads (never a reject).
        repeats: states heard again unchanged, and not emitted.
    """

    def __init__(self, camera: str, rules: Sequence[PayloadRule]) -> None:
        self.camera = camera
        self.stats = DecodeStats()
        self.problems: Counter[Problem] = Counter()
        self.ignored = 0
        self.repeats = 0
        by_topic: dict[str, list[PayloadRule]] = {}
        for rule in rules:
            by_topic.setdefault(rule.topic, []).append(rule)
        self._by_topic = {topic: tuple(found) for topic, found in by_topic.items()}
        self._last: dict[str, str] = {}
        self._pending: list[BadPayload] = []

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics the rules read, each once, sorted."""
        return tuple(sorted(self._by_topic))

    @property
    def availability(self) -> str | None:
        """The availability last emitted (None: none since start or since ``forget``)."""
        return self._last.get(AVAILABILITY.what)

    def forget(self) -> None:
        """Forget the states last emitted: the next message of each kind is emitted even
        if it says the same (after a broker loss made the camera ``unknown``)."""
        self._last.clear()

    def decode(self, message: Message) -> Sequence[Event]:
        """The events one message means (none for a repeat, a bad payload or a topic of
        no rule)."""
        self.stats.frames += 1
        rules = self._by_topic.get(message.topic)
        if rules is None:
            self.ignored += 1
            return []
        payload = Payload(message.payload)
        events: list[Event] = []
        for rule in rules:
            state = rule.read(payload)
            if isinstance(state, Bad):
                self._reject(rule, message, state)
            elif self._last.get(rule.what) == state:
                self.repeats += 1
            else:
                self._last[rule.what] = state
                events.append(self._event(rule.what, state))
        self.stats.events += len(events)
        return events

    def rejects(self) -> Sequence[BadPayload]:
        """Return and clear the bad payloads since the previous call (the last
        ``_MAX_PENDING`` at most)."""
        pending, self._pending = self._pending, []
        return pending

    def _event(self, what: str, state: str) -> Event:
        if what == AVAILABILITY.what:
            return CameraAvailability(camera=self.camera, state=state)
        if what == RECORDING.what:
            return CameraRecording(camera=self.camera, recording=state == "on")
        return CameraMotion(camera=self.camera, active=state == "on")

    def _reject(self, rule: PayloadRule, message: Message, bad: Bad) -> None:
        self.stats.reject(message.payload, f"{rule.what} on {message.topic}: {bad.detail}")
        self.problems[bad.problem] += 1
        self._pending.append(
            BadPayload(rule.what, message.topic, bad.problem, bad.detail, message.retain)
        )
        del self._pending[:-_MAX_PENDING]


class MqttCamera(MessageDevice):
    """A camera reported on the topics its settings state.

    Args:
        ctx: what the hub gives the device; ``ctx.messages`` is the shared session.
        clock: the monotonic clock of the log limit (tests pass their own).
        log_window: seconds during which repeats of one kind of bad payload are only
            counted, not logged.
    """

    def __init__(
        self,
        ctx: DeviceContext,
        *,
        clock: Callable[[], float] = time.monotonic,
        log_window: float = 600.0,
    ) -> None:
        if ctx.messages is None:
            raise OSError("no message session: an mqtt-camera needs the shop's MQTT broker")
        self.settings = ctx.settings_as(MqttCameraSettings)
        self.camera_decoder = MqttCameraDecoder(ctx.device_id, camera_rules(self.settings))
        super().__init__(
            ctx,
            ctx.messages,
            self.camera_decoder,
            self.camera_decoder.topics,
            qos=SUBSCRIBE_QOS,
        )
        self.log_limit = LogThrottle(window=log_window, max_kinds=64, clock=clock)

    def handle(self, message: Message) -> None:
        """Decode one message, emit its events, and log what could not be read."""
        super().handle(message)
        for bad in self.camera_decoder.rejects():
            held = self.log_limit.allow((bad.what, bad.problem))
            if held is None:
                continue
            retained = " (retained: it may be left by an earlier configuration)"
            more = self.log_limit.suffix(held)
            # Written out in full: the device limits its lines per kind of problem
            # itself, and the hub's log filter, which takes the lines of one template
            # for one kind, would hold back another setting's first line behind this one.
            self.ctx.log.warning(
                f"{self.ctx.device_id}: bad {bad.what} payload on {bad.topic}"
                f"{retained if bad.retained else ''}: {bad.detail}; skipped{more}"
            )

    def connection_changed(self, connected: bool) -> None:
        """Broker lost: the camera's states are no longer known. It becomes ``unknown``
        (when it was known), and the next message of each kind is emitted again: the
        session resubscribes once back, and the retained states arrive again."""
        if connected:
            return
        known = self.camera_decoder.availability
        self.camera_decoder.forget()
        if known is not None:
            self.ctx.emit(
                CameraAvailability(camera=self.ctx.device_id, state="unknown", reason=BROKER_LOST)
            )

    def counters(self) -> dict[str, int]:
        """The decoder's counters by name, bad payloads by kind of problem included."""
        decoder = self.camera_decoder
        out = {
            "frames": decoder.stats.frames,
            "events": decoder.stats.events,
            "rejected": decoder.stats.rejected,
            "ignored": decoder.ignored,
            "repeats": decoder.repeats,
        }
        out.update({str(problem): decoder.problems[problem] for problem in Problem})
        return out


@hookimpl
def register_device_types(register: Callable[[DeviceType], None]) -> None:
    """Declare ``mqtt-camera``."""
    register(
        DeviceType(
            name=TYPE_NAME,
            factory=MqttCamera,
            settings=MqttCameraSettings,
            description="camera or bridge on MQTT whose topics and payload words the"
            " configuration states (availability, recording, motion)",
            category="camera",
            messages=True,
        )
    )
