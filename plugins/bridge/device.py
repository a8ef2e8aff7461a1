"""The ``bridge`` device: the SDK's stream device speaking the bridge protocol.

It is a serial panel like the others (link → decoder → ``ctx.emit``, counted and
supervised), with three things of its own:

* it answers: after each chunk, the frames the decoder queued (acknowledgements,
  errors, the handshake, the configuration) are written back through the link's one
  writer, and a side task sends again every ``retry_ms`` the commands the board has not
  acknowledged yet;
* it greets the board each time the link opens, so that a board already running
  when the hub starts (or when a cable is replugged) is configured again;
* its supervision listens for frames, not bytes: line noise does not keep a dead
  board's link up. Three heartbeat periods without a good frame is ``LinkLost``, and
  the next good frame ``LinkRestored`` (firmware-bridge/PROTOCOL.md, "Heartbeats and
  supervision").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from hub.sdk import (
    DeviceContext,
    Event,
    LinkDown,
    LinkHealth,
    LogThrottle,
    StreamDevice,
    StreamLink,
)
from plugins.bridge.session import BridgeDecoder
from plugins.bridge.settings import BridgeSettings

__all__ = ["HEARTBEATS_LOST", "BridgeDevice", "BridgeHealth"]

#: Heartbeat periods without a good frame after which the link is lost.
HEARTBEATS_LOST = 3


class BridgeHealth(LinkHealth):
    """The link's health, judged on good frames rather than on bytes.

    The stream supervisor reports every chunk read as activity; on this link a chunk
    of noise, or a board stuck in a reset loop printing its boot banner, is not a sign
    of life. Only ``frame()`` (a frame with a good CRC) is.
    """

    def __init__(self, device_id: str, emit: Callable[[Event], None], *, silence: float) -> None:
        super().__init__(device_id, emit, silence=silence)

    def activity(self) -> None:
        """Bytes came in: not proof of life by themselves (see ``frame``)."""

    def frame(self) -> None:
        """A good frame came in: the board is alive (restores a link lost to silence)."""
        super().activity()


class BridgeDevice(StreamDevice[BridgeSettings]):
    """A firmware bridge board on a serial line (firmware-bridge/PROTOCOL.md)."""

    protocol = "bridge"
    settings_type = BridgeSettings

    decoder: BridgeDecoder
    health: BridgeHealth

    def __init__(self, ctx: DeviceContext, link: StreamLink | None = None) -> None:
        super().__init__(ctx, link)
        settings = self.settings
        self.health = BridgeHealth(ctx.device_id, ctx.emit, silence=self._silence())
        self.supervisor.health = self.health
        self.throttle = LogThrottle(window=600.0)
        self._write_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self.retry = settings.retry_ms / 1000

    def make_decoder(self) -> BridgeDecoder:
        """The hub's side of the protocol, configured from the settings."""
        settings = self.settings
        return BridgeDecoder(
            self.ctx.device_id,
            settings.specs(),
            heartbeat_ms=settings.heartbeat_ms,
            debounce_ms=settings.debounce_ms,
            retry_ms=settings.retry_ms,
        )

    def _silence(self) -> float:
        """Seconds without a good frame that make the link lost."""
        if self.settings.supervision_interval > 0:
            return self.settings.supervision_interval
        return HEARTBEATS_LOST * self.decoder.period_ms / 1000

    # -- counters ------------------------------------------------------------------------

    def protocol_counters(self) -> dict[str, int]:
        """The codec's and the session's counters, by name (metrics, diagnostics)."""
        frames, seqs, d = self.decoder.frames, self.decoder.seqs, self.decoder
        beat = d.heartbeat
        return {
            "bad_crc": frames.bad_crc,
            "bad_cobs": frames.bad_cobs,
            "short": frames.short,
            "oversize": frames.oversize,
            "unknown_type": frames.unknown_type,
            "bad_version": frames.bad_version,
            "skipped": frames.skipped,
            "resyncs": frames.resyncs,
            "jumps": seqs.jumps,
            "missed": seqs.missed,
            "repeats": seqs.repeats,
            "duplicates": seqs.duplicates,
            "acks_sent": d.acks_sent,
            "before_handshake": d.before_handshake,
            "board_rx_errors": beat.rx_errors if beat is not None else 0,
            "board_pending": beat.pending if beat is not None else 0,
        }

    # -- lifecycle -----------------------------------------------------------------------

    def link_opened(self) -> None:
        """Greet the board each time the link opens."""
        super().link_opened()
        self.decoder.opened()
        self._wake.set()

    def side_tasks(self) -> Sequence[Coroutine[Any, Any, None]]:
        """The writer of the replies and the retransmission timer."""
        return (self._writer(), self._retransmit())

    async def _retransmit(self) -> None:
        while True:
            await asyncio.sleep(self.retry)
            self.decoder.due()
            self._wake.set()

    async def _writer(self) -> None:
        """Write what the decoder queued, in order, as soon as it is queued."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write the queued replies now (dropped when the link is down: the board sends
        its reliable frames again, and the hub greets it when the link is back)."""
        async with self._write_lock:
            for reply in self.decoder.replies():
                try:
                    await self.write(reply)
                except LinkDown as exc:
                    self.log.debug("%s: reply not sent: %s", self.ctx.device_id, exc)

    # -- data path -----------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Decode, emit, log what the decoder noticed, and wake the writer."""
        good = self.decoder.good_frames
        super().feed(data)
        if self.decoder.good_frames > good:
            self.health.frame()
        self.health.silence = self._silence()
        for notice in self.decoder.notices():
            held = self.throttle.allow(notice.key)
            if held is None:
                continue
            more = f" (and {held} more in the last {self.throttle.window:g} s)" if held else ""
            if notice.warning:
                self.log.warning("%s%s", notice.message, more)
            else:
                self.log.info("%s%s", notice.message, more)
        self._wake.set()
