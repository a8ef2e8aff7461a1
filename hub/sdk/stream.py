"""The base of every device on a byte stream: link → decoder → ``ctx.emit``, supervised.

Every serial panel is the same machine with a different decoder: the link's bytes go
to the decoder, the decoder's events go to ``ctx.emit``, and what the decoder rejects
is counted and, when it comes in a burst, reported once as a line-quality trouble.
``StreamDevice`` holds that machine, so that a new line protocol is a decoder and a
subclass that names it (its protocol, its settings dataclass, its decoder); the
protocol classes add only what their protocol needs (a poll, a login).

The link is opened in ``__aenter__`` so that a port that is not there at all is the
hub's to report and retry; once open, the link is supervised inside ``run()``: a port
that vanishes is ``LinkLost`` and is reopened here, with backoff, without the hub
tearing the device down.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

from hub.decoding import Decoder
from hub.devices import DeviceContext
from hub.events import AlarmKind, AlarmSignal, Event
from hub.transports.link import StreamLink
from hub.transports.serial import PARITIES, SerialConfig, SerialLink
from hub.transports.supervision import LineQuality, LinkHealth, StreamSupervisor
from hub.typed_settings import setting

__all__ = [
    "LINE_QUALITY_CODE",
    "RECONNECT_INITIAL",
    "DecoderCounters",
    "SerialSettings",
    "SerialStreamSettings",
    "StreamCounters",
    "StreamDevice",
    "StreamSettings",
    "redefault",
    "serial_link",
]

#: The ``code`` of the trouble raised for a burst of bad frames.
LINE_QUALITY_CODE = "line-quality"

#: The first delay before reopening a lost link, in seconds (the cap is a setting).
RECONNECT_INITIAL = 0.5

_BAUD_MIN, _BAUD_MAX = 50, 4_000_000


def redefault(base: type, name: str, default: Any) -> Any:
    """Restate one inherited setting with another default, keeping its rules and help.

    A protocol whose interface has its own usual speed or silence interval says only
    that: ``baudrate: int = redefault(SerialStreamSettings, "baudrate", 115200)``.
    """
    for f in dataclasses.fields(base):
        if f.name == name:
            return dataclasses.field(default=default, metadata=f.metadata)
    raise TypeError(f"{base.__name__} has no setting {name!r}")


@dataclass(frozen=True, kw_only=True)
class StreamSettings:
    """The settings every supervised stream device takes (the link's own apart)."""

    supervision_interval: float = setting(
        0.0, minimum=0.0, help="seconds of silence reported as link lost (0 = off)"
    )
    reconnect_max: float = setting(
        30.0,
        minimum=0.1,
        maximum=3600.0,
        help="longest wait between two attempts to reopen a lost link, seconds",
    )
    bad_frame_burst: int = setting(
        5,
        minimum=0,
        help="bad frames (bad checksums, runs of noise) within bad_frame_window reported"
        " as a line-quality trouble (0 = off)",
    )
    bad_frame_window: float = setting(
        60.0, minimum=1.0, help="the window of bad_frame_burst, seconds"
    )


@dataclass(frozen=True, kw_only=True)
class SerialSettings:
    """The settings of a serial line."""

    port: str = setting(
        required=True, help="serial device (prefer /dev/serial/by-id/...) or pyserial URL"
    )
    baudrate: int = setting(9600, minimum=_BAUD_MIN, maximum=_BAUD_MAX, help="bits per second")
    bytesize: int = setting(8, choices=(5, 6, 7, 8), help="data bits")
    parity: str = setting("N", choices=PARITIES, help="N none, E even, O odd")
    stopbits: float = setting(1.0, choices=(1.0, 1.5, 2.0), help="stop bits")
    rtscts: bool = setting(False, help="hardware (RTS/CTS) flow control")
    xonxoff: bool = setting(False, help="software (XON/XOFF) flow control")

    def serial_config(self) -> SerialConfig:
        """The line settings as the serial transport takes them."""
        return SerialConfig(
            port=self.port,
            baudrate=self.baudrate,
            bytesize=self.bytesize,
            parity=self.parity,
            stopbits=self.stopbits,
            rtscts=self.rtscts,
            xonxoff=self.xonxoff,
        )


@dataclass(frozen=True, kw_only=True)
class SerialStreamSettings(StreamSettings, SerialSettings):
    """A supervised device on a serial line: the line, then its supervision."""


def serial_link(settings: SerialSettings) -> SerialLink:
    """The serial link described by a device's settings."""
    return SerialLink(settings.serial_config())


@dataclass(frozen=True, slots=True)
class StreamCounters:
    """The counters a stream device exposes (metrics, ``ecrin status``).

    Attributes:
        frames: frames (lines) the decoder completed.
        events: events it produced.
        rejected: frames it rejected (garbage, bad checksum, unknown).
        bad_checksum: rejected for a bad checksum alone.
        noise: runs of bytes that could not be framed (line noise, a wrong baud rate).
        reconnects: times the link was reopened after it went away.
        line_quality_troubles: bursts of bad frames reported.
    """

    frames: int = 0
    events: int = 0
    rejected: int = 0
    bad_checksum: int = 0
    noise: int = 0
    reconnects: int = 0
    line_quality_troubles: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters by name."""
        return dataclasses.asdict(self)


class DecoderCounters:
    """The decoder's counters as device properties, shared by every decoding device so
    that metrics read the same names whatever the transport."""

    decoder: Decoder

    @property
    def frames(self) -> int:
        """Frames the decoder completed."""
        return self.decoder.stats.frames

    @property
    def events(self) -> int:
        """Events the decoder produced."""
        return self.decoder.stats.events

    @property
    def rejected(self) -> int:
        """Frames the decoder rejected."""
        return self.decoder.stats.rejected

    @property
    def bad_checksum(self) -> int:
        """Frames rejected for a bad checksum (a bad CRC for DC-09)."""
        return self.decoder.stats.bad_checksum

    @property
    def noise(self) -> int:
        """Runs of bytes that could not be framed (see ``hub.sdk.framing``)."""
        return self.decoder.stats.noise


S = TypeVar("S", bound=StreamSettings)


class StreamDevice(DecoderCounters, Generic[S]):
    """A device on a byte stream: link → decoder → ``ctx.emit``, supervised.

    A subclass names its protocol and its settings dataclass and builds its decoder::

        class HoldupBox(StreamDevice[BoxSettings]):
            protocol = "holdup-box"
            settings_type = BoxSettings

            def make_decoder(self) -> Decoder:
                return BoxDecoder(self.ctx.device_id)

    Args:
        ctx: what the hub gives the device.
        link: the link (not yet open); by default ``make_link()`` builds it from the
            settings (a serial line for ``SerialSettings``).
        decoder: the protocol decoder; by default ``make_decoder()`` builds it.
    """

    #: The protocol name put on the line-quality trouble.
    protocol: ClassVar[str] = ""
    #: The settings dataclass of the device type (the schema the hub validates).
    settings_type: ClassVar[type[StreamSettings]] = SerialStreamSettings

    settings: S

    def __init__(
        self, ctx: DeviceContext, link: StreamLink | None = None, decoder: Decoder | None = None
    ) -> None:
        self.ctx = ctx
        self.log: logging.Logger = ctx.log
        self.settings = ctx.settings_as(self.settings_type)  # type: ignore[assignment]
        self.link = link if link is not None else self.make_link()
        self.decoder = decoder if decoder is not None else self.make_decoder()
        settings = self.settings
        self.supervision_interval = settings.supervision_interval
        self.reconnect_max = settings.reconnect_max
        self.quality = LineQuality(settings.bad_frame_burst, settings.bad_frame_window)
        self.health = LinkHealth(ctx.device_id, ctx.emit, silence=self.supervision_interval)
        #: Set when the link opens and each time it is reopened; a side task that must
        #: resynchronise with the device (a status request) clears and waits.
        self.link_up = asyncio.Event()
        self.supervisor = StreamSupervisor(
            self.link,
            self.health,
            self.feed,
            reconnect_initial=min(RECONNECT_INITIAL, self.reconnect_max),
            reconnect_max=self.reconnect_max,
            on_reopen=self.link_opened,
            logger=self.log,
        )
        self._side_tasks: list[asyncio.Task[None]] = []

    # -- what a protocol provides ------------------------------------------------------
    def make_link(self) -> StreamLink:
        """The link when none is given: a serial line for serial settings."""
        if isinstance(self.settings, SerialSettings):
            return serial_link(self.settings)
        raise TypeError(
            f"{type(self).__name__}: settings {type(self.settings).__name__} name no serial"
            " line: override make_link() or pass a link"
        )

    def make_decoder(self) -> Decoder:
        """The protocol's decoder when none is given: a subclass builds its own."""
        raise TypeError(f"{type(self).__name__}: override make_decoder() or pass a decoder")

    # -- counters (frames, events, rejected, bad_checksum: from DecoderCounters) -----

    @property
    def reconnects(self) -> int:
        """Times the link was reopened after it went away."""
        return self.supervisor.reconnects

    def counters(self) -> StreamCounters:
        """A snapshot of every counter."""
        return StreamCounters(
            frames=self.frames,
            events=self.events,
            rejected=self.rejected,
            bad_checksum=self.bad_checksum,
            noise=self.noise,
            reconnects=self.reconnects,
            line_quality_troubles=self.quality.bursts,
        )

    # -- lifecycle -------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        """Open the link; ``OSError`` (naming the port and the reason) when it cannot."""
        await self.link.open()
        self.health.restored()  # silence is measured from now
        self.link_opened()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop_side_tasks()
        await self.link.close()

    async def run(self) -> None:
        """Read, decode, emit and supervise until cancelled."""
        for coro in self.side_tasks():
            self._side_tasks.append(asyncio.create_task(coro))
        try:
            await self.supervisor.run()
        finally:
            await self._stop_side_tasks()

    def link_opened(self) -> None:
        """The link was opened or reopened: wake whoever resynchronises with the device."""
        self.link_up.set()

    def side_tasks(self) -> Sequence[Coroutine[Any, Any, None]]:
        """Coroutines to run beside the reader for as long as ``run`` runs (a poll
        timer); none by default."""
        return ()

    async def _stop_side_tasks(self) -> None:
        tasks, self._side_tasks = self._side_tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:  # a side task's crash is logged, not raised on close
                self.log.exception("%s: side task failed", self.ctx.device_id)

    # -- data path -------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Decode a chunk from the link and emit its events (runs on the loop)."""
        stats = self.decoder.stats
        frames, rejected, line_errors = stats.frames, stats.rejected, stats.line_errors
        events = self.decoder.feed(data)
        for event in events:
            if self.keep(event):
                self.ctx.emit(event)
        for reject in self.decoder.rejects():
            self.log.debug("%s: rejected %r: %s", self.ctx.device_id, reject.raw, reject.reason)
        new_rejects = stats.rejected - rejected
        # Bad checksums and noise (bytes that cannot be framed), as the decoder counts
        # them: see hub.sdk.framing.
        noise = stats.line_errors - line_errors
        if noise and self.quality.bad(noise):
            self.log.warning(
                "%s: %d bad frames within %g s: line-quality trouble",
                self.ctx.device_id,
                self.quality.burst,
                self.quality.window,
            )
            self.line_quality(restore=False)
        good = stats.frames - frames - new_rejects
        if (good > 0 or events) and self.quality.good():
            self.log.warning("%s: line quality back to normal", self.ctx.device_id)
            self.line_quality(restore=True)

    def keep(self, event: Event) -> bool:
        """Whether a decoded event goes to the hub (all do, unless a protocol filters
        out its own link chatter)."""
        return True

    def line_quality(self, *, restore: bool) -> None:
        """Report a burst of bad frames (or its end) as a line-quality trouble."""
        self.ctx.emit(
            AlarmSignal(
                kind=AlarmKind.TROUBLE,
                device=self.ctx.device_id,
                restore=restore,
                code=LINE_QUALITY_CODE,
                protocol=self.protocol,
            )
        )

    async def write(self, data: bytes) -> None:
        """Send bytes to the device through the link's one writer.

        Raises:
            LinkDown: the link is down (the caller decides whether to retry).
        """
        await self.link.write(data)
