"""Keeps each configured device running, alone.

The hub runs one supervisor task per device. A device that cannot open (the USB
adapter is not plugged yet, the broker is down) or that crashes is reported in one
line and as a ``DeviceFault`` event, then retried with exponential backoff and jitter.
Nothing a device does can stop another device or the hub: each supervisor catches
everything but cancellation, which is how the hub stops it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from hub.devices import Device
from hub.events import DeviceFault, Event

__all__ = ["Backoff", "DeviceSupervisor"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Backoff:
    """Exponential backoff with full jitter, reset once a device has run long enough.

    Attributes:
        initial: the first delay, in seconds.
        maximum: the cap on any delay.
        stable_after: a device that ran this long is healthy again; the next failure
            starts from ``initial``.
    """

    initial: float = 1.0
    maximum: float = 60.0
    stable_after: float = 30.0
    _attempt: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt (half fixed, half random: no thundering herd
        of devices all retrying on the same tick after a power cut)."""
        ceiling = float(min(self.maximum, self.initial * 2.0**self._attempt))
        self._attempt += 1
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def ran_for(self, seconds: float) -> None:
        """Record how long the device ran before it failed."""
        if seconds >= self.stable_after:
            self._attempt = 0


class DeviceSupervisor:
    """Open, run and reopen one device until cancelled.

    Args:
        device_id: the configured id, for logs and fault events.
        factory: builds a fresh device object for each attempt (a device that failed
            may hold half-open state; a new object starts clean).
        emit: where ``DeviceFault`` events go.
        backoff: the retry policy.
    """

    def __init__(
        self,
        device_id: str,
        factory: Callable[[], Device],
        emit: Callable[[Event], None],
        backoff: Backoff | None = None,
    ) -> None:
        self.device_id = device_id
        self._factory = factory
        self._emit = emit
        self.backoff = backoff or Backoff()
        self.starts = 0
        self.failures = 0
        self.last_error = ""
        self.running = False
        #: Set once the first open has succeeded or failed: the hub's start-up is over
        #: when every device's is (``Hub.wait_ready``).
        self.tried = asyncio.Event()

    async def run(self) -> None:
        """Supervise until cancelled; never returns otherwise."""
        while True:
            started = time.monotonic()
            try:
                device = self._factory()
                async with device:
                    self.starts += 1
                    self.running = True
                    self.tried.set()
                    log.info("device %s: running", self.device_id)
                    await device.run()
                reason = "stopped by itself (run() returned)"
            except asyncio.CancelledError:
                self.running = False
                raise
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            self.running = False
            self.tried.set()
            self.failures += 1
            self.last_error = reason
            self.backoff.ran_for(time.monotonic() - started)
            delay = self.backoff.next_delay()
            log.error("device %s: %s; retrying in %.1f s", self.device_id, reason, delay)
            self._emit(DeviceFault(device=self.device_id, reason=reason, retry_in=delay))
            await asyncio.sleep(delay)
