"""From camera and lifecycle events to closed coverage intervals: pure, no I/O.

``CoverageTracker`` is the one piece of code that decides what the coverage log says.
The live log feeds it the journal's rows as the hub appends them, and ``ecrin coverage
rebuild`` feeds it the same rows from the first: the same code on the same rows in the
same order, so the rebuilt log equals the live one by construction. Its whole state
is a small JSON document (``to_json``), kept beside the intervals in the same
transaction as the journal cursor, so a hub that restarts carries on exactly where it
stopped.

The rules (docs/coverage.md, "What is recorded" and "How gaps are decided"):

* A **run** of the hub begins with its first heartbeat (``HubAlive``), or with
  ``HubStarted`` or a camera event when the journal holds no heartbeat (a journal
  written before the coverage log existed). At the start of a run every configured
  camera is ``unknown`` (availability and recording): nothing heard since start is
  never taken for online.
* A run ends with ``HubStopping`` (a clean stop, closed at its time) or, when the hub
  stopped without a word, at the last moment it was known to be alive: the time of
  the last event of the run the tracker applied (heartbeats included). A new run seen
  without a ``HubStopping`` before it (a heartbeat with another ``started``, a second
  ``HubStarted``) is how a crash shows. An event that leaves the hub down (a heartbeat
  of the stopped run journaled after its stop, a second ``HubStopping``) changes
  nothing, not even the last time applied: the log's span ends where the run ended.
* Between two runs every camera is ``unknown`` with cause ``hub down``, and every zone
  a ``gap`` with cause ``hub down``: the time the hub was down is never covered.
* A zone is ``covered`` while at least one camera filming it is ``online`` and
  recording ``on``; otherwise a ``gap`` whose cause names the cameras: not online
  (offline, disabled or unknown) first, then online but not recording. A zone no
  camera films is a ``gap`` with cause ``no camera films it``. A change of cause
  starts a new gap interval, so every gap carries exactly its causes.
* Only the camera as a whole counts (``CameraAvailability.role == ""``), and only the
  configured cameras; a camera becoming ``unknown`` (the hub lost sight of it) makes
  its recording ``unknown`` too, since what it did meanwhile is not known.
* **A clock that jumped backwards**: an event older than the last one applied is
  applied at the last applied time and counted (``clock_backwards``). Intervals are
  never negative and never overlap; the time the clock "gave back" is simply not
  there twice.

Times are integer microseconds since the epoch (UTC) inside: exact, cheap to compare
and to store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from hub.coverage.model import (
    AVAILABILITY,
    AVAILABILITY_STATES,
    CAUSE_HUB_DOWN,
    CAUSE_NO_CAMERA,
    CAUSE_NOT_RECORDING,
    CAUSE_OFFLINE,
    COVERAGE,
    RECORDING,
    Interval,
    Kind,
)
from hub.events import (
    CameraAvailability,
    CameraRecording,
    Event,
    HubAlive,
    HubStarted,
    HubStopping,
)

__all__ = [
    "EVENT_TYPES",
    "CoverageTracker",
    "Row",
    "from_us",
    "row_interval",
    "signature",
    "to_us",
]

#: The event types the tracker reads; every other journal row is skipped unparsed.
EVENT_TYPES: Final = frozenset(
    {"CameraAvailability", "CameraRecording", "HubAlive", "HubStarted", "HubStopping"}
)

#: A closed interval as stored: subject, kind, state, start, end (µs), cause.
Row = tuple[str, str, str, int, int, str]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_STATE_FORMAT: Final = 1


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact, no float)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    """The aware UTC datetime of ``to_us``."""
    return datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)


def row_interval(row: Row) -> Interval:
    """The ``Interval`` of a stored row."""
    subject, kind, state, start, end, cause = row
    return Interval(subject, _kind(kind), state, from_us(start), from_us(end), cause)


def _kind(text: str) -> Kind:
    if text == AVAILABILITY:
        return "availability"
    if text == RECORDING:
        return "recording"
    return "coverage"


def signature(cameras: Mapping[str, Sequence[str]], zones: Sequence[str]) -> str:
    """What the log's figures depend on in the configuration: the cameras, the zones
    each films, and the shop's zones. A log made under another signature is rebuilt
    (a camera added or moved changes every figure of its zones)."""
    return json.dumps(
        {"cameras": {c: sorted(z) for c, z in sorted(cameras.items())}, "zones": sorted(zones)},
        sort_keys=True,
        separators=(",", ":"),
    )


class CoverageTracker:
    """The state machine of the coverage log.

    Args:
        cameras: each configured camera and the shop zones it films.
        zones: the shop's zones (a zone no camera films is a gap all along).
        state: a ``to_json`` document to carry on from (None: a fresh log).

    Raises:
        ValueError: ``state`` is not a document this tracker wrote.
    """

    def __init__(
        self,
        cameras: Mapping[str, Sequence[str]],
        zones: Sequence[str],
        state: str | None = None,
    ) -> None:
        zone_set = set(zones)
        self.cameras: dict[str, tuple[str, ...]] = {
            c: tuple(z for z in zs if z in zone_set) for c, zs in cameras.items()
        }
        self.zones: tuple[str, ...] = tuple(dict.fromkeys(zones))
        self._filming: dict[str, tuple[str, ...]] = {
            z: tuple(c for c, zs in self.cameras.items() if z in zs) for z in self.zones
        }
        #: What each subject is in now: (kind, subject) -> [state, cause, since µs].
        self.open: dict[tuple[str, str], list[Any]] = {}
        self.up = False
        #: The ``started`` of the run's heartbeats (ISO), None when none was seen yet.
        self.run: str | None = None
        #: The ``started`` of the run that ended with ``HubStopping``: a heartbeat of it
        #: journaled after the stop is late, not a new run.
        self.stopped_run: str | None = None
        #: The run has had its ``HubStarted`` (a second one is another run).
        self.saw_started = False
        #: The last time applied (µs): the last moment known alive, which is where the
        #: run ended (``down_since``) while the hub is down.
        self.last: int | None = None
        #: When the log began (µs), None before its first run.
        self.began: int | None = None
        #: When the hub went down (µs): the downtime runs from here to the next run.
        self.down_since: int | None = None
        #: Events that came with a time older than the last applied one.
        self.clock_backwards = 0
        if state is not None:
            self._load(state)

    # -- persistence ------------------------------------------------------------------
    def to_json(self) -> str:
        """The whole state, to resume from (``CoverageTracker(..., state=...)``)."""
        return json.dumps(
            {
                "format": _STATE_FORMAT,
                "open": [[k, s, *v] for (k, s), v in sorted(self.open.items())],
                "up": self.up,
                "run": self.run,
                "stopped_run": self.stopped_run,
                "saw_started": self.saw_started,
                "last": self.last,
                "began": self.began,
                "down_since": self.down_since,
                "clock_backwards": self.clock_backwards,
            },
            separators=(",", ":"),
        )

    def _load(self, text: str) -> None:
        try:
            data = json.loads(text)
            if data.get("format") != _STATE_FORMAT:
                raise ValueError(f"unknown state format {data.get('format')!r}")
            self.open = {
                (str(k), str(s)): [str(st), str(c), int(t)] for k, s, st, c, t in data["open"]
            }
            self.up = bool(data["up"])
            self.run = data["run"]
            self.stopped_run = data["stopped_run"]
            self.saw_started = bool(data["saw_started"])
            self.last = data["last"]
            self.began = data["began"]
            self.down_since = data["down_since"]
            self.clock_backwards = int(data["clock_backwards"])
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a coverage tracker state: {exc}") from exc

    # -- what is open -----------------------------------------------------------------
    def open_rows(self) -> list[Row]:
        """The intervals still open, as rows ending at the last moment known alive
        (those of zero length left out): what a reader shows until they close."""
        if self.last is None:
            return []
        return [
            (subject, kind, state, since, self.last, cause)
            for (kind, subject), (state, cause, since) in sorted(self.open.items())
            if self.last > since
        ]

    # -- applying events --------------------------------------------------------------
    def apply(self, event: Event) -> list[Row]:
        """Apply one event; returns the intervals it closed (none for an event the log
        does not read, or one that changes nothing)."""
        if not isinstance(
            event, (CameraAvailability, CameraRecording, HubAlive, HubStarted, HubStopping)
        ):
            return []
        if isinstance(event, CameraAvailability) and (
            event.role or event.camera not in self.cameras or event.state not in AVAILABILITY_STATES
        ):
            return []
        if isinstance(event, CameraRecording) and event.camera not in self.cameras:
            return []
        out: list[Row] = []
        raw = to_us(event.time)
        previous = self.last
        was_up = self.up
        if previous is not None and raw < previous:
            self.clock_backwards += 1
            t = previous
        else:
            t = raw
        if isinstance(event, HubAlive):
            self._alive(event.started.isoformat(), previous, t, out)
        elif isinstance(event, HubStarted):
            if not self.up:
                self._begin(t, out)
            elif self.saw_started:
                self._crashed(previous, t, out)
            self.saw_started = True
        elif isinstance(event, HubStopping):
            if self.up:
                self.stopped_run = self.run
                self._end(t, out)
        else:
            if not self.up:
                self._begin(t, out)
            if isinstance(event, CameraAvailability):
                self._availability(event, t, out)
            else:
                self._recording(event.camera, "on" if event.recording else "off", "", t, out)
        if self.up or was_up:
            # While the hub is down the log ends where the run ended: an event that
            # leaves it down (a late heartbeat of the stopped run, a second stop) is
            # no sign of life and moves nothing.
            self.last = t
        return out

    def _alive(self, run: str, previous: int | None, t: int, out: list[Row]) -> None:
        if not self.up and run == self.stopped_run:
            return  # a heartbeat of the run that stopped, journaled after its stop
        if not self.up:
            self._begin(t, out)
        elif (self.run is None and self.saw_started) or (self.run is not None and self.run != run):
            # A heartbeat comes before its run's HubStarted: one after it, or one of
            # another run, means the run before ended without HubStopping.
            self._crashed(previous, t, out)
        self.run = run

    def _crashed(self, previous: int | None, t: int, out: list[Row]) -> None:
        self._end(previous if previous is not None else t, out)
        self._begin(t, out)

    def _begin(self, t: int, out: list[Row]) -> None:
        """A run begins at ``t``: the downtime before it, then everything unknown."""
        down = self.down_since
        if down is not None and t > down:
            for camera in self.cameras:
                out.append((camera, AVAILABILITY, "unknown", down, t, CAUSE_HUB_DOWN))
                out.append((camera, RECORDING, "unknown", down, t, CAUSE_HUB_DOWN))
            for zone in self.zones:
                out.append((zone, COVERAGE, "gap", down, t, CAUSE_HUB_DOWN))
        self.up = True
        self.run = None
        self.saw_started = False
        self.down_since = None
        if self.began is None:
            self.began = t
        for camera in self.cameras:
            self.open[(AVAILABILITY, camera)] = ["unknown", "", t]
            self.open[(RECORDING, camera)] = ["unknown", "", t]
        for zone in self.zones:
            state, cause = self._zone(zone)
            self.open[(COVERAGE, zone)] = [state, cause, t]

    def _end(self, t: int, out: list[Row]) -> None:
        """The run ends at ``t``: everything open is closed there."""
        for (kind, subject), (state, cause, since) in sorted(self.open.items()):
            if t > since:
                out.append((subject, kind, state, since, t, cause))
        self.open.clear()
        self.up = False
        self.run = None
        self.saw_started = False
        self.down_since = t

    def _set(self, kind: str, subject: str, state: str, cause: str, t: int, out: list[Row]) -> bool:
        """Move a subject to ``state``; returns whether anything changed. A camera that
        repeats its state keeps the cause it had; a zone's new cause is a new gap."""
        key = (kind, subject)
        current = self.open.get(key)
        if current is not None:
            if current[0] == state and (kind != COVERAGE or current[1] == cause):
                return False
            if t > current[2]:
                out.append((subject, kind, current[0], current[2], t, current[1]))
        self.open[key] = [state, cause, t]
        return True

    def _availability(self, event: CameraAvailability, t: int, out: list[Row]) -> None:
        changed = self._set(AVAILABILITY, event.camera, event.state, event.reason, t, out)
        if event.state == "unknown":
            changed |= self._recording_only(event.camera, "unknown", event.reason, t, out)
        if changed:
            self._zones_of(event.camera, t, out)

    def _recording(self, camera: str, state: str, cause: str, t: int, out: list[Row]) -> None:
        if self._recording_only(camera, state, cause, t, out):
            self._zones_of(camera, t, out)

    def _recording_only(self, camera: str, state: str, cause: str, t: int, out: list[Row]) -> bool:
        return self._set(RECORDING, camera, state, cause, t, out)

    def _zones_of(self, camera: str, t: int, out: list[Row]) -> None:
        for zone in self.cameras[camera]:
            state, cause = self._zone(zone)
            self._set(COVERAGE, zone, state, cause, t, out)

    def _state(self, kind: str, camera: str) -> str:
        current = self.open.get((kind, camera))
        return "unknown" if current is None else str(current[0])

    def _zone(self, zone: str) -> tuple[str, str]:
        """A zone's coverage now, and the causes of a gap."""
        filming = self._filming[zone]
        if not filming:
            return "gap", CAUSE_NO_CAMERA
        offline: list[str] = []
        not_recording: list[str] = []
        for camera in filming:
            if self._state(AVAILABILITY, camera) != "online":
                offline.append(camera)
            elif self._state(RECORDING, camera) != "on":
                not_recording.append(camera)
            else:
                return "covered", ""
        causes = []
        if offline:
            causes.append(f"{CAUSE_OFFLINE} ({', '.join(offline)})")
        if not_recording:
            causes.append(f"{CAUSE_NOT_RECORDING} ({', '.join(not_recording)})")
        return "gap", "; ".join(causes)
