"""Panel devices: each is a decoder and a ``hub.sdk.StreamDevice`` that names it.

Every serial panel here is the SDK's stream device with a different decoder (link →
decoder → ``ctx.emit``, counted and supervised); the protocol classes add only what
their protocol needs (the IT-100's poll, the Envisalink's login). The SIA DC-09
receiver listens on TCP instead and answers each frame, so it has its own class.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar

from hub.sdk import (
    LINE_QUALITY_CODE,
    AlarmKind,
    AlarmSignal,
    Decoder,
    DecoderCounters,
    DeviceContext,
    Event,
    LineQuality,
    LinkDown,
    LinkHealth,
    StreamCounters,
    StreamDevice,
    StreamLink,
    TcpLink,
    TcpServer,
)
from plugins.panels.ad2 import Ad2Decoder
from plugins.panels.contact_id import ContactIdLineDecoder
from plugins.panels.dsc_it100 import (
    It100Decoder,
    It100Error,
    encode_it100,
    it100_poll,
    it100_status_request,
    parse_it100_frame,
)
from plugins.panels.panel_events import PanelReply
from plugins.panels.settings import (
    Ad2Settings,
    ContactIdSettings,
    Dc09Settings,
    EnvisalinkSettings,
    It100Options,
    It100Settings,
)
from plugins.panels.sia_dc09 import Dc09StreamDecoder, dc09_accepted_accounts

__all__ = [
    "LINE_QUALITY_CODE",
    "Ad2Panel",
    "ContactIdReceiver",
    "EnvisalinkPanel",
    "It100Panel",
    "LoginRefused",
    "SiaDc09Receiver",
]


class ContactIdReceiver(StreamDevice[ContactIdSettings]):
    """An alarm receiver's computer port printing Contact ID, one message per line."""

    protocol = "contact-id"
    settings_type = ContactIdSettings

    def make_decoder(self) -> Decoder:
        """A Contact ID line decoder for the receiver's line format."""
        return ContactIdLineDecoder(self.ctx.device_id, line_format=self.settings.line_format)


class It100Panel(StreamDevice[It100Options]):
    """A DSC PowerSeries panel through its IT-100 RS-232 interface.

    Beside reading, it polls the interface (``000``) every ``poll_interval`` seconds:
    the interface answers ``500000``, so a quiet panel still shows a live link and the
    silence watchdog can be set well above the poll period. After the link opens (and
    after each reopening) it asks for a status report (``001``) once, so the hub learns
    the partitions' states instead of waiting for the next change.
    """

    protocol = "dsc-it100"
    settings_type: ClassVar[type[It100Options]] = It100Settings

    def __init__(self, ctx: DeviceContext, link: StreamLink | None = None) -> None:
        super().__init__(ctx, link)
        self.poll_interval = self.settings.poll_interval
        self.status_request = self.settings.status_request
        #: Polls written to the panel.
        self.polls_sent = 0

    def make_decoder(self) -> Decoder:
        """The IT-100 decoder."""
        return It100Decoder(self.ctx.device_id)

    def side_tasks(self) -> Sequence[Coroutine[Any, Any, None]]:
        """The status request and the poll timer, when either is on."""
        tasks: list[Coroutine[Any, Any, None]] = []
        if self.status_request:
            tasks.append(self._request_status())
        if self.poll_interval > 0:
            tasks.append(self._poll())
        return tasks

    async def _request_status(self) -> None:
        """Ask for a status report each time the link is (re)opened."""
        while True:
            await self.link_up.wait()
            self.link_up.clear()
            try:
                await self.write(it100_status_request())
            except LinkDown as exc:  # gone again: the next reopening asks again
                self.log.debug("%s: status request not sent: %s", self.ctx.device_id, exc)

    async def _poll(self) -> None:
        """Poll every ``poll_interval`` seconds while the link is open."""
        while True:
            await asyncio.sleep(self.poll_interval)
            if not self.accepts_commands():
                continue
            try:
                await self.write(it100_poll())
            except LinkDown as exc:  # down between two reopenings: the next tick retries
                self.log.debug("%s: poll not sent: %s", self.ctx.device_id, exc)
            else:
                self.polls_sent += 1

    def accepts_commands(self) -> bool:
        """Whether the interface takes commands now (the link is open)."""
        return self.link.is_open

    def keep(self, event: Event) -> bool:
        """The poll's acknowledgement proves the link is alive (supervision saw the
        bytes); it is not worth a journal entry every ``poll_interval``."""
        return not (isinstance(event, PanelReply) and event.accepted and event.command == "000")


class LoginRefused(PermissionError):
    """The Envisalink refused the password: reconnecting will not help, so the device
    stops and the hub reports it (and retries with its slow backoff)."""


class EnvisalinkPanel(It100Panel):
    """A DSC PowerSeries panel through an Envisalink (EVL-3/EVL-4) on TCP port 4025.

    The Envisalink's TPI speaks the IT-100 protocol after a login: on each connection
    it prompts (``505`` ``3``), the hub answers ``005`` with the password, and it
    replies ``505`` ``1`` (accepted) or ``505`` ``0`` (refused). The status request
    and the polls wait for the login; a refused password stops the device with a
    clear error instead of hammering the Envisalink with a wrong one.
    """

    settings_type = EnvisalinkSettings

    def __init__(self, ctx: DeviceContext, link: StreamLink | None = None) -> None:
        self.tpi = ctx.settings_as(EnvisalinkSettings)
        super().__init__(ctx, link)
        # The value may be the configuration's secret string: kept as it is, so that
        # its repr stays hidden.
        self._password = self.tpi.password
        self.logged_in = False
        self._prompted = asyncio.Event()
        self._lines = b""

    def link_opened(self) -> None:
        """A new session: not logged in until the Envisalink says so."""
        self.logged_in = False
        self._lines = b""

    def accepts_commands(self) -> bool:
        """Commands wait for the login."""
        return self.link.is_open and self.logged_in

    def make_link(self) -> StreamLink:
        """The TCP connection to the Envisalink's TPI."""
        return TcpLink(self.tpi.host, self.tpi.port, connect_timeout=self.tpi.connect_timeout)

    def side_tasks(self) -> Sequence[Coroutine[Any, Any, None]]:
        """The login, beside the status request and the poll."""
        return (self._login(), *super().side_tasks())

    async def _login(self) -> None:
        while True:
            await self._prompted.wait()
            self._prompted.clear()
            try:
                await self.write(encode_it100("005", self._password))
            except LinkDown as exc:
                self.log.debug("%s: login not sent: %s", self.ctx.device_id, exc)

    def feed(self, data: bytes) -> None:
        """Watch for the login exchange, then decode as an IT-100."""
        self._lines += data
        *lines, self._lines = self._lines.split(b"\n")
        self._lines = self._lines[-256:]
        for line in lines:
            if line.startswith(b"505"):
                self._login_state(line.strip(b"\r"))
        super().feed(data)

    def _login_state(self, line: bytes) -> None:
        try:
            frame = parse_it100_frame(line)
        except It100Error:
            return
        if frame.data == "3":
            self._prompted.set()
        elif frame.data == "1":
            self.logged_in = True
            self.log.info("%s: logged in to %s", self.ctx.device_id, self.link.name)
            self.link_up.set()  # now the status request can go
        elif frame.data == "0":
            raise LoginRefused(f"{self.link.name}: login refused (wrong password)")
        elif frame.data == "2":
            self.log.warning("%s: login timed out; waiting for the next prompt", self.ctx.device_id)


class Ad2Panel(StreamDevice[Ad2Settings]):
    """A Honeywell/Ademco Vista panel through an AlarmDecoder (AD2USB, AD2SERIAL,
    AD2PI).

    The AlarmDecoder repeats the keypad message every few seconds, so silence is a
    real fault and supervision is on by default. Its lines carry no checksum: every
    line it cannot parse counts towards a line-quality burst.
    """

    protocol = "ad2"
    settings_type = Ad2Settings

    def make_decoder(self) -> Decoder:
        """An AlarmDecoder decoder for the configured partition."""
        return Ad2Decoder(
            self.ctx.device_id,
            partition=self.settings.partition,
            report_code_override=self.settings.report_code_override,
        )


class SiaDc09Receiver(DecoderCounters):
    """A SIA DC-09 receiver: communicators connect over TCP and report; each frame is
    answered ACK, NAK or DUH.

    One decoder serves every connection, fed one whole frame at a time (each
    connection cuts its own stream at the frame's CR), so the answers of a frame go
    back on its own connection and a frame a communicator repeats on a new connection
    (it did not get the ACK) is still recognised as a repeat. A frame with a bad CRC
    gets no answer, so the communicator sends it again.

    Communicators usually connect only to report, so a closed connection is not a lost
    link; silence is, when ``supervision_interval`` is set: every accepted frame, the
    ``NULL`` link tests included, counts as activity.

    With ``accounts`` set (or a key of its own for an account in ``keys``), a frame from
    any other account is refused with NAK, and each such account is logged once: a
    flood from one account, or from many, cannot fill the log. Without either, any
    account is accepted, and the start says so.
    """

    decoder: Dc09StreamDecoder

    protocol = "sia-dc09"
    #: The longest frame kept while waiting for its CR; longer is garbage.
    max_frame = 2048
    #: Unknown accounts logged one by one; past that many, one line says the rest are
    #: only counted (a sender making up a new account per frame is a flood too).
    max_logged_accounts = 32

    def __init__(self, ctx: DeviceContext) -> None:
        self.ctx = ctx
        self.log: logging.Logger = ctx.log
        settings = self.settings = ctx.settings_as(Dc09Settings)
        window = (settings.timestamp_past, settings.timestamp_future)
        # Values may be the configuration's secret strings: keep them as they are, so
        # that their repr stays hidden wherever the decoder keeps them.
        keys = {str(k): v if isinstance(v, str) else str(v) for k, v in dict(settings.keys).items()}
        #: The only accounts accepted (upper-case), or None for any.
        self.accounts = dc09_accepted_accounts(settings.accounts, keys)
        self.decoder = Dc09StreamDecoder(
            ctx.device_id,
            keys=keys,
            now=lambda: datetime.now(UTC),
            window=window,
            max_line=self.max_frame,
            accounts=self.accounts,
        )
        self._logged_accounts: set[str] = set()
        self._too_many_accounts = False
        self.health = LinkHealth(ctx.device_id, ctx.emit, silence=settings.supervision_interval)
        self.quality = LineQuality(settings.bad_frame_burst, settings.bad_frame_window)
        self.server = TcpServer(
            settings.host,
            settings.port,
            self._serve,
            name=f"DC-09 receiver {ctx.device_id}",
        )
        #: Frames answered, by answer (ACK, NAK, DUH).
        self.answers: dict[str, int] = {"ACK": 0, "NAK": 0, "DUH": 0}

    # -- counters (the same names as the serial panels', from DecoderCounters) ------

    @property
    def reconnects(self) -> int:
        """Always 0: a listener has nothing to reopen (see ``connections``)."""
        return 0

    @property
    def connections(self) -> int:
        """Connections accepted since the receiver started."""
        return self.server.accepted

    @property
    def port(self) -> int:
        """The TCP port actually listened on (useful with ``port: 0`` in tests)."""
        return self.server.port

    @property
    def unknown_accounts(self) -> int:
        """Frames refused because their account is not accepted (also in ``rejected``)."""
        return self.decoder.unknown_accounts

    def counters(self) -> StreamCounters:
        """A snapshot of every counter."""
        return StreamCounters(
            frames=self.frames,
            events=self.events,
            rejected=self.rejected,
            bad_checksum=self.bad_checksum,
            noise=self.noise,
            reconnects=0,
            line_quality_troubles=self.quality.bursts,
        )

    # -- lifecycle -------------------------------------------------------------------
    async def __aenter__(self) -> SiaDc09Receiver:
        """Start listening; ``OSError`` naming the address when it cannot."""
        await self.server.start()
        self.health.restored()
        if self.accounts is None:
            self.log.warning(
                "%s: accepting frames from any account; list the communicators' accounts"
                " in the accounts setting (or give each its key in keys) to refuse the others",
                self.ctx.device_id,
            )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.server.close()

    async def run(self) -> None:
        """Supervise silence until cancelled (the listener serves in the background)."""
        await self.health.watch()
        await asyncio.Event().wait()  # no watchdog: nothing else to do but be cancelled

    # -- per connection ----------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        self.log.debug("%s: connection from %s", self.ctx.device_id, peer)
        pending = b""
        while chunk := await reader.read(4096):
            pending += chunk
            *frames, pending = pending.split(b"\r")
            for frame in frames:
                replies = self.feed(frame + b"\r")
                if replies:
                    writer.write(b"".join(replies))
                    await writer.drain()
            if len(pending) > self.max_frame:
                self._drop(pending, f"no CR within {self.max_frame} bytes", noise=True)
                pending = b""
        if pending.strip(b"\r\n"):
            self._drop(pending, "connection closed in the middle of a frame")

    def _drop(self, raw: bytes, reason: str, *, noise: bool = False) -> None:
        """Count bytes that never made a frame; ``noise``: a run too long to be a frame,
        which counts towards line quality as the framer counts one: once per
        ``max_frame`` bytes."""
        stats = self.decoder.stats
        stats.reject(raw, reason, noise=noise)
        self.log.debug("%s: dropped %r: %s", self.ctx.device_id, raw[:64], reason)
        if not noise:
            return
        blocks = -(len(raw) // -self.max_frame)  # a ceiling division
        stats.noise += blocks - 1  # the reject counted the first
        if self.quality.bad(blocks):
            self.log.warning("%s: burst of bad CRCs or noise", self.ctx.device_id)
            self.line_quality(restore=False)

    def feed(self, frame: bytes) -> list[bytes]:
        """Decode one whole frame, emit its events, return the answers to send."""
        stats = self.decoder.stats
        frames, rejected, line_errors = stats.frames, stats.rejected, stats.line_errors
        for event in self.decoder.feed(frame):
            self.ctx.emit(event)
        for reject in self.decoder.rejects():
            self.log.debug("%s: rejected %r: %s", self.ctx.device_id, reject.raw, reject.reason)
        for account in self.decoder.refusals():
            self._log_refusal(account)
        replies = self.decoder.replies()
        for reply in replies:
            kind = _answer_kind(reply)
            if kind:
                self.answers[kind] += 1
        accepted = stats.frames - frames - (stats.rejected - rejected)
        if accepted > 0:
            self.health.activity()
            if self.quality.good():
                self.line_quality(restore=True)
        noise = stats.line_errors - line_errors
        if noise and self.quality.bad(noise):
            self.log.warning("%s: burst of bad CRCs or noise", self.ctx.device_id)
            self.line_quality(restore=False)
        return replies

    def _log_refusal(self, account: str) -> None:
        """Log the first frame refused from each account (the others are counted)."""
        if account in self._logged_accounts:
            return
        device = self.ctx.device_id
        if len(self._logged_accounts) >= self.max_logged_accounts:
            if not self._too_many_accounts:
                self._too_many_accounts = True
                self.log.warning(
                    "%s: frames from more than %d unknown accounts refused; the next ones"
                    " are counted (unknown_accounts), not logged",
                    device,
                    self.max_logged_accounts,
                )
            return
        self._logged_accounts.add(account)
        if account:
            self.log.warning(
                "%s: refused a frame from unknown account %s with NAK; add it to accounts"
                " to accept it (its next frames are counted, not logged)",
                device,
                account,
            )
        else:
            self.log.warning(
                "%s: refused a frame naming no account with NAK (the next ones are"
                " counted, not logged)",
                device,
            )

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


def _answer_kind(reply: bytes) -> str:
    """``ACK``, ``NAK`` or ``DUH`` from an answer frame (``\\n CRC LEN "ID"...``)."""
    start = reply.find(b'"')
    word = reply[start + 1 : start + 5].lstrip(b"*")[:3].decode("ascii", "replace")
    return word if word in ("ACK", "NAK", "DUH") else ""
