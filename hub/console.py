"""Live, human-readable event lines for ``ecrin demo`` (and ``ecrin run --show``)."""

from __future__ import annotations

from typing import TextIO

from hub.events import (
    AlarmSignal,
    CameraAvailability,
    CameraDetection,
    CameraMotion,
    CameraRecording,
    DeviceFault,
    Event,
    HubAlive,
    LinkLost,
    LinkRestored,
    PanelState,
)

__all__ = ["EventPrinter", "describe_event"]


def describe_event(event: Event) -> str:
    """One line saying what happened, for a person watching a terminal."""
    when = event.time.astimezone().strftime("%H:%M:%S")
    if isinstance(event, AlarmSignal):
        label = event.kind.value.upper() + (" restore" if event.restore else "")
        lane = "  [life-safety lane]" if event.life_safety and not event.restore else ""
        zone = event.zone or f"panel zone {event.panel_zone}"
        return f"{when}  {label:<16} {zone:<14} from {event.device}{lane}"
    if isinstance(event, PanelState):
        return f"{when}  PANEL {event.state:<10} partition {event.partition} of {event.device}"
    if isinstance(event, CameraAvailability):
        role = f" ({event.role})" if event.role else ""
        reason = f": {event.reason}" if event.reason else ""
        return f"{when}  CAMERA {event.state:<9} {event.camera}{role}{reason}"
    if isinstance(event, CameraRecording):
        return f"{when}  RECORDING {'on' if event.recording else 'off':<6} {event.camera}"
    if isinstance(event, CameraMotion):
        return f"{when}  MOTION {'start' if event.active else 'end':<9} {event.camera}"
    if isinstance(event, CameraDetection):
        zones = f" in {', '.join(event.zones)}" if event.zones else ""
        return f"{when}  DETECTION {event.phase:<6} {event.label} on {event.camera}{zones}"
    if isinstance(event, LinkLost):
        return f"{when}  LINK LOST        {event.device}: {event.reason}"
    if isinstance(event, LinkRestored):
        return f"{when}  LINK RESTORED    {event.device}"
    if isinstance(event, DeviceFault):
        retry = f"retry in {event.retry_in:.1f} s"
        return f"{when}  DEVICE FAULT     {event.device}: {event.reason} ({retry})"
    return f"{when}  {type(event).__name__:<16} {_fields(event)}"


def _fields(event: Event) -> str:
    """The event's own fields as ``name=value`` (for types this module does not know:
    a plugin's events still read well)."""
    data = event.to_dict()
    skip = {"type", "time", "raw", "protocol"}
    return " ".join(f"{k}={v}" for k, v in data.items() if k not in skip and v not in ("", None))


class EventPrinter:
    """A bus subscriber that prints every event as one line."""

    event_type = Event

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.printed = 0

    async def handle(self, event: Event) -> None:
        """Print one event (bus handler); the heartbeat is the hub's bookkeeping, not
        something that happened in the shop, and is left out."""
        if isinstance(event, HubAlive):
            return
        self._out.write(describe_event(event) + "\n")
        self._out.flush()
        self.printed += 1
