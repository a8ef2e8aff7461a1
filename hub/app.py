"""The hub: wires configuration, plugins, journal, bus and devices together.

``Hub`` is an async context manager. Entering it opens the journal, starts the recorder
(journal before bus), subscribes nothing itself, starts the MQTT session the cameras
share when the shop uses a broker (its embedded broker first when none is configured;
the session connects in a task of its own, so a broker away delays nothing), launches
one supervisor task per configured device and camera, and tells the plugins the hub
started. Leaving it does the
reverse, in order, so that every event a device emitted is journaled and delivered
before the journal closes. ``ecrin run`` and ``ecrin demo`` enter ``stop_on_signals``
before the hub, wait for ``wait_ready`` (every device opened once, or failed to), then
``run_until_signal`` until SIGINT or SIGTERM.

The hub passes each part what it needs (no god object): devices get a
``DeviceContext``, plugins get a ``HubInfo``, subscribers get the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import Callable, Iterator, Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from hub.bus import EventBus
from hub.config import Config, MqttConfig
from hub.coverage import (
    CoverageError,
    CoverageLayout,
    CoverageLog,
    LiveCoverageLog,
    coverage_of,
)
from hub.coverage.handover import HandoverDesk
from hub.coverage.register_store import REGISTER_FILE, RegisterStore
from hub.coverage.report_child import ChildReports
from hub.devices import Device, DeviceContext, DeviceType, ZoneMap
from hub.escalation.clock import Clock
from hub.escalation.config import contacts_of, escalation_of
from hub.escalation.engine import EscalationEngine
from hub.escalation.outbox import read_journal_anchor
from hub.escalation.scene import EvidenceSettings
from hub.escalation.site import EscalationSite
from hub.events import (
    AlarmSignal,
    Event,
    HubStarted,
    HubStopping,
    LinkLost,
    LinkRestored,
    RecordingsHandedOver,
    utcnow,
)
from hub.homeassistant import DiscoveryPublisher, home_assistant_publisher
from hub.hookspecs import HubInfo
from hub.http import HttpSettings, Readiness, create_app, serve
from hub.journal import Journal, JournalAnchor, JournalError, open_or_quarantine
from hub.messages import BROKER_LINK, MessageSession
from hub.plugins import PluginManager
from hub.recorder import Recorder
from hub.state import StateRegistry, restore_from_journal
from hub.supervisor import Backoff, DeviceSupervisor
from hub.transports.embedded_broker import EmbeddedBrokerServer
from hub.transports.mqtt import MqttSession

__all__ = ["Hub"]

log = logging.getLogger(__name__)

#: How long the start-up waits for each device's first open before the hub says it is
#: ready anyway (a device that is still trying counts as not running).
STARTUP_WAIT: Final = 10.0
#: Events not yet journaled past which the MQTT session stops reading for a while: a
#: few of the recorder's batches, well under its retry buffer's bound (10,000), past
#: which it would drop ordinary events from the journal.
JOURNAL_BEHIND: Final = 2_000


class Hub:
    """One running hub for one shop.

    Args:
        config: the validated configuration.
        plugins: this hub's plugin manager (already loaded).
        device_types: the catalogue from ``plugins.device_types()``; computed when None.
        journal_path: overrides the configuration's journal path (the demo uses a
            temporary one).
        backoff: the retry policy factory for devices (tests shorten it).
        serve_http: serve the referent API and page when escalation is configured.
        http_port: overrides the configuration's HTTP port (0 picks a free one).
        clock: the escalation engine's wall clock (deadlines, retries, high-stock
            periods); None is the machine's. Tests pass one standing on a chosen date.
        messages: the message session handed to every device (``DeviceContext.messages``)
            instead of the one the hub would make; tests pass a ``MemorySession``.
            None: the hub makes its own ``MqttSession`` when the configuration has an
            ``mqtt:`` section or a configured device's type needs messages
            (``DeviceType.messages``), with its embedded broker when no ``mqtt.host``
            is given; else devices get None.
    """

    def __init__(
        self,
        config: Config,
        plugins: PluginManager,
        device_types: Mapping[str, DeviceType] | None = None,
        *,
        journal_path: Path | None = None,
        backoff: Callable[[], Backoff] = Backoff,
        serve_http: bool = True,
        http_port: int | None = None,
        clock: Clock | None = None,
        messages: MessageSession | None = None,
    ) -> None:
        self.config = config
        self.plugins = plugins
        self.device_types = (
            dict(device_types) if device_types is not None else plugins.device_types()
        )
        self.journal_path = journal_path or config.journal.path
        self.bus = EventBus()
        # -- state registry (hub.state): restored from the journal, fed by the bus --
        self.state = _state_registry(config)
        #: Set once the journal's earlier rows are merged into ``state`` (or could not be).
        self.state_restored = asyncio.Event()
        self.journal: Journal | None = None
        self.recorder: Recorder | None = None
        self.escalation: EscalationEngine | None = None
        self.coverage: LiveCoverageLog | None = None
        self.home_assistant: DiscoveryPublisher | None = None
        self.supervisors: dict[str, DeviceSupervisor] = {}
        self._backoff = backoff
        self._serve_http = serve_http
        self._http_port = http_port
        self._clock = clock
        self.messages = messages
        #: The broker the hub uses, when it makes its own session (``message_broker``).
        self.broker: MqttConfig | None = (
            config.message_broker(self.device_types) if messages is None else None
        )
        #: The hub's own MQTT session and embedded broker, when it runs them.
        self.mqtt: MqttSession | None = None
        self.embedded_broker: EmbeddedBrokerServer | None = None
        self._broker_lost = False
        self.http_url: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stack = AsyncExitStack()
        self._stop = asyncio.Event()
        self._ready = False
        self.stop_reason = ""
        self.info = HubInfo(
            site=config.site.name,
            config_path=str(config.path),
            devices=tuple(d.id for d in config.devices) + tuple(c.id for c in config.cameras),
        )

    # -- events ------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        """Record then publish an event (never blocks; see ``hub.recorder``)."""
        if self.recorder is None:
            raise RuntimeError("the hub is not running")
        self.recorder.emit(event)

    def _emitter_for(self, zone_map: ZoneMap) -> Callable[[Event], None]:
        def emit(event: Event) -> None:
            if isinstance(event, AlarmSignal):
                event = zone_map.apply(event)
            self.emit(event)

        return emit

    # -- lifecycle -----------------------------------------------------------------------
    async def __aenter__(self) -> Hub:
        try:
            self.journal = await self._stack.enter_async_context(
                open_or_quarantine(self.journal_path, anchors=await self._outbox_anchors())
            )
        except Exception as exc:
            # The journal is evidence, but a broken disk must not stop hold-ups from
            # reaching the referents: run without it, loudly.
            log.error("journal %s unavailable, running without it: %s", self.journal_path, exc)
            self.journal = None
        await self._restore_state()
        # Registered before the recorder so that it runs after it on exit: the recorder's
        # final flush must still find the bus open.
        self._stack.push_async_callback(self.bus.close)
        await self._start_coverage()
        self.recorder = await self._stack.enter_async_context(Recorder(self.journal, self.bus))
        if self.coverage is not None:
            # Before any device: the run's first heartbeat precedes its camera events.
            self.coverage.start_heartbeat(self.emit)
        if self.journal is not None and self.journal.quarantined is not None:
            # Already journaled (first row of the fresh journal): publish only.
            self.bus.publish(self.journal.quarantined)
        settings = escalation_of(self.config)
        if settings is not None:
            # Started by the hub itself, before any device, so that no hold-up is
            # published before the engine listens. A refusal (SceneLocked) stops the start.
            # The engine is handed its slice of the configuration, the rules and the
            # cameras' keep_recordings: it never sees the plugin manager.
            try:
                self.escalation = await self._stack.enter_async_context(
                    EscalationEngine(
                        settings,
                        contacts_of(self.config),
                        self._escalation_site(),
                        self.bus,
                        evidence=EvidenceSettings.of(self.config.cameras, self.config.journal.path),
                        rules=self.plugins.escalation_rules(),
                        keep_recordings=self.plugins.keep_recordings,
                        journal=self.journal,
                        clock=self._clock,
                        state=self.state,
                        cameras=self.state,
                    )
                )
            except BaseException:
                await self._stack.aclose()
                self.recorder = None
                raise
            if self._serve_http:
                await self._start_http(self.escalation)
        await self._start_messages()

        # Home Assistant discovery: after the registry and the session, before the
        # devices (their first states are published); it stops before the session.
        publisher = home_assistant_publisher(self.config, self.messages, self.state)
        if publisher is not None:
            self.home_assistant = await self._stack.enter_async_context(publisher)
        self._start_devices()
        self.plugins.hub_started(self.info)
        self.emit(HubStarted(site=self.config.site.name))
        return self

    async def _start_coverage(self) -> None:
        """Open the coverage log (``hub.coverage``) when it is configured and the
        journal it follows is there.

        Entered before the recorder, so that it is left after it: the recorder's last
        flush journals ``HubStopping``, and the log's last catch-up closes the run at
        its time. A coverage file that cannot be opened is one error line: it is
        evidence for the authorisation file, not for a hold-up.
        """
        settings = coverage_of(self.config)
        if settings is None or not settings.enabled:
            return
        if self.journal is None:
            log.error("coverage log not kept: it follows the journal, which is unavailable")
            return
        layout = CoverageLayout.of(self.config, self.journal.path)
        try:
            self.coverage = await self._stack.enter_async_context(
                LiveCoverageLog(settings, layout, self.bus)
            )
        except CoverageError as exc:
            log.error("coverage log not kept: %s", exc)

    async def _outbox_anchors(self) -> list[JournalAnchor]:
        """The journal head the outbox recorded last, which the journal must still hold
        (see ``hub.journal.anchor``); none when the journal path was overridden (the
        outbox then anchors another journal) or there is no outbox."""
        escalation = escalation_of(self.config)
        if escalation is None or self.journal_path != self.config.journal.path:
            return []
        anchor = await asyncio.to_thread(read_journal_anchor, escalation.outbox_path)
        return [anchor] if anchor is not None else []

    async def _start_http(self, engine: EscalationEngine) -> None:
        """Serve the referent API and page. Entered after the engine, so it stops first.

        Coverage reports are made by child processes that load the hub's shop file
        (``hub.coverage.report_child``), never in this process.

        A port that cannot be bound is one error line: webhooks still reach the
        referents, and the rest of the hub runs.
        """
        http = self.config.http
        port = http.port if self._http_port is None else self._http_port
        try:
            self.http_url = await self._stack.enter_async_context(
                serve(
                    create_app(
                        engine,
                        HttpSettings.from_config(http),
                        readiness=self.readiness,
                        state=self.state,
                        coverage_report=ChildReports(self.config.path),
                        coverage=(
                            CoverageLog(self.coverage.layout.path)
                            if self.coverage is not None
                            else None
                        ),
                        handovers=self._handover_desk(),
                    ),
                    http.host,
                    port,
                )
            )
        except OSError as exc:
            log.error(
                "HTTP %s:%s unavailable (%s): no referent API or page; webhooks still go out",
                http.host,
                port,
                exc.strerror or exc,
            )
        else:
            log.info("referent API and page on %s", self.http_url)

    def _handover_desk(self) -> HandoverDesk:
        """Hand-overs recorded while the hub runs (``POST /api/v1/register/handovers``):
        the register beside the journal, the hub's own journal (its one writer), the
        bus, and the cameras' ``keep_recordings`` through this hub's plugin manager,
        which the HTTP side never sees.

        The event is appended to the journal directly rather than emitted through the
        recorder, as the engine does with the signals it holds back: the register's row
        is committed only if that append succeeded, and the recorder, which keeps a
        failed event for a later retry, cannot say so. It is published once recorded.
        """
        journal = self.journal

        async def append(event: RecordingsHandedOver) -> int:
            assert journal is not None
            (seq,) = await journal.append([event])
            return seq

        return HandoverDesk(
            [c.id for c in self.config.cameras],
            self.config.site.tzinfo,
            RegisterStore(self.journal_path.parent / REGISTER_FILE),
            append if journal is not None else None,
            self.bus.publish,
            self.plugins.keep_recordings,
            self._clock.now if self._clock is not None else utcnow,
        )

    async def _restore_state(self) -> None:
        """Let the state registry observe the bus now, and rebuild what earlier runs
        left in the journal in a thread, merged in when done (``state_restored``).

        Nothing waits for the restore (a hold-up at start-up least of all): until it
        is merged, the registry knows only what this run has heard, as a hub without a
        journal would. An unreadable journal leaves it at that, logged.
        """
        self._stack.callback(self.bus.observe(self.state.apply))
        if self.journal is None:
            self.state_restored.set()
            return
        journal_path, last = self.journal.path, self.journal.last_seq

        async def restore() -> None:
            restored = _state_registry(self.config)
            try:
                result = await asyncio.to_thread(restore_from_journal, restored, journal_path, last)
            except JournalError as exc:
                log.error("state not restored from the journal: %s", exc)
            else:
                taken = self.state.merge(restored)
                log.info(
                    "state restored from %d journal rows (%d skipped): %d entities",
                    result.rows,
                    result.skipped,
                    taken,
                )
            finally:
                self.state_restored.set()

        task = asyncio.get_running_loop().create_task(restore(), name="state-restore")

        async def stop() -> None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        self._stack.push_async_callback(stop)

    def _escalation_site(self) -> EscalationSite:
        """The shop as the engine sees it. The broker's link counts as a hold-up
        device's when a device wired to hold-up buttons speaks through it: losing the
        broker then means hold-ups no longer heard, a technical fault escalated like a
        hold-up panel's lost link. (Cameras alone: the broker's loss shows as
        ``link:mqtt`` down, and the cameras as ``unknown``, judged by the camera rules.)
        """
        site = EscalationSite.from_config(self.config)
        if self.broker is None and self.messages is None:
            return site
        speak = {name for name, t in self.device_types.items() if t.messages}
        if any(d.id in site.holdup_devices and d.type in speak for d in self.config.devices):
            return dataclasses.replace(site, holdup_devices=site.holdup_devices | {BROKER_LINK})
        return site

    async def _start_messages(self) -> None:
        """Start the hub's MQTT session (and first its embedded broker) when a broker is
        used; a session given to the hub is only listened to.

        Nothing here waits for the broker: the session connects in a task of its own,
        so an unreachable broker delays neither the start nor a hold-up. Its losses and
        returns become ``LinkLost``/``LinkRestored`` of ``mqtt`` (``BROKER_LINK``).
        """
        if self.messages is not None:
            self._stack.callback(self.messages.add_connection_listener(self._broker_connection))
            return
        broker = self.broker
        if broker is None:
            return
        log.info("MQTT broker: %s", broker.describe())
        start = True
        if broker.host is None:
            where = broker.embedded
            server = EmbeddedBrokerServer(
                where.host, where.port, username=broker.username, password=broker.password
            )
            try:
                await self._stack.enter_async_context(server)
            except OSError as exc:
                # The session is still handed to the cameras, never started: they stay
                # unknown (never online by mistake), and the link is reported down.
                log.error("%s: the cameras stay unknown until the hub restarts on a free port", exc)
                self._broker_status(False, str(exc))
                start = False
            else:
                self.embedded_broker = server
            broker = dataclasses.replace(broker, host=_local_address(where.host), port=server.port)
        session = MqttSession(
            broker, backoff=self._backoff, hold_unmatched=True, busy=self._journal_behind
        )
        self._stack.callback(session.add_status_listener(self._broker_status))
        if start:
            await self._stack.enter_async_context(session)
        self.mqtt = session
        self.messages = session

    def _journal_behind(self) -> bool:
        """Whether the journal has more than ``JOURNAL_BEHIND`` events still to write:
        the MQTT session then stops reading for a while (the broker queues)."""
        recorder = self.recorder
        return recorder is not None and recorder.backlog > JOURNAL_BEHIND

    def _broker_connection(self, connected: bool) -> None:
        self._broker_status(connected, "connection lost")

    def _broker_status(self, up: bool, reason: str) -> None:
        """The session connected (``up``) or failed or lost its broker: one ``LinkLost``
        per outage (an unreachable broker at start is one too), one ``LinkRestored``
        when it ends."""
        if self.recorder is None:
            return
        if up and self._broker_lost:
            self._broker_lost = False
            self.emit(LinkRestored(device=BROKER_LINK))
        elif not up and not self._broker_lost:
            self._broker_lost = True
            self.emit(LinkLost(device=BROKER_LINK, reason=f"MQTT broker: {reason}"))

    def _start_devices(self) -> None:
        entries: list[tuple[str, str, Mapping[str, Any], ZoneMap, tuple[str, ...], int | None]] = []
        for device in self.config.devices:
            entries.append((device.id, device.type, device.settings, device.zone_map, (), None))
        for camera in self.config.cameras:
            entries.append(
                (
                    camera.id,
                    camera.type,
                    camera.settings,
                    ZoneMap(),
                    camera.zones,
                    camera.retention_days,
                )
            )
        for device_id, type_name, settings, zone_map, zones, retention_days in entries:
            device_type = self.device_types.get(type_name)
            if device_type is None:
                log.error(
                    "device %s: unknown device type %r (no loaded plugin provides it);"
                    " the other devices run",
                    device_id,
                    type_name,
                )
                continue
            ctx = DeviceContext(
                device_id=device_id,
                settings=settings,
                emit=self._emitter_for(zone_map),
                zone_map=zone_map,
                log=logging.getLogger(f"ecrin.device.{device_id}"),
                messages=self.messages,
                zones=zones,
                retention_days=retention_days,
            )
            factory = device_type.factory

            def build(
                factory: Callable[[DeviceContext], Device] = factory, ctx: DeviceContext = ctx
            ) -> Device:
                return factory(ctx)

            supervisor = DeviceSupervisor(device_id, build, self.emit, self._backoff())
            self.supervisors[device_id] = supervisor
            self._tasks.append(
                asyncio.get_running_loop().create_task(supervisor.run(), name=f"device:{device_id}")
            )

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        reason = self.stop_reason or ("error" if exc is not None else "shutdown")
        self.plugins.hub_stopping(self.info)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.coverage is not None:
            self.coverage.stop_heartbeat()  # no heartbeat after HubStopping
        if self.recorder is not None:
            self.emit(HubStopping(site=self.config.site.name, reason=reason))
        await self._stack.aclose()
        self.recorder = None

    # -- readiness -------------------------------------------------------------------------
    def readiness(self) -> Readiness:
        """Whether the start-up is over, how many configured devices run now, and
        whether the broker is connected (None when the hub has no message session)."""
        return Readiness(
            ready=self._ready,
            configured=len(self.info.devices),
            running=sum(s.running for s in self.supervisors.values()),
            broker=self.messages.connected if self.messages is not None else None,
        )

    async def wait_ready(self, timeout: float = STARTUP_WAIT) -> Readiness:
        """Wait until every device has been opened once or has failed to, then mark the
        hub ready (``/healthz``, the service manager, the "running" line).

        A device whose first open takes longer than ``timeout`` does not hold the rest
        back (it goes on trying, and counts as not running); neither does a stop asked
        meanwhile (SIGTERM during start-up).
        """
        tries = [asyncio.ensure_future(s.tried.wait()) for s in self.supervisors.values()]
        stop = asyncio.ensure_future(self._stop.wait())
        waiters: set[asyncio.Future[Any]] = {stop, asyncio.gather(*tries)}
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in [*tries, *waiters]:
                waiter.cancel()
        self._ready = True
        if self.mqtt is not None:
            # Every device has subscribed (or failed to): a message queued for the hub
            # that none wants is now one for no one (see ``MqttSession.settle``).
            self.mqtt.settle()
        return self.readiness()

    # -- running until told to stop ----------------------------------------------------------
    @contextlib.contextmanager
    def stop_on_signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM ask the hub to stop, from now until the block ends.

        ``ecrin run`` enters it before the hub starts: a signal during start-up lets
        the start finish (nothing is left half-opened: the journal, the outbox, the
        devices), then the hub stops in order at once.
        """
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop, sig.name)
                installed.append(sig)
        try:
            yield
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    @property
    def stop_requested(self) -> bool:
        """Whether a stop was asked (a signal, ``request_stop``)."""
        return self._stop.is_set()

    def request_stop(self, reason: str) -> None:
        """Ask ``run_until_signal`` to return (signal handlers and tests call this)."""
        if not self._stop.is_set():
            self.stop_reason = reason
        self._stop.set()

    async def run_until_signal(self, duration: float | None = None) -> str:
        """Wait for ``request_stop`` (SIGINT and SIGTERM within ``stop_on_signals``) or
        ``duration`` seconds; at once if a stop was asked already.

        Args:
            duration: stop by itself after that many seconds (None: run until told).

        Returns:
            Why the wait ended.
        """
        if duration is None:
            await self._stop.wait()
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), duration)
            if not self._stop.is_set():
                self.request_stop(f"ran for {duration:g} s")
        log.info("stopping: %s", self.stop_reason)
        return self.stop_reason


def _state_registry(config: Config) -> StateRegistry:
    """An empty registry of the shop's devices and cameras (the live one, and the one
    the journal is replayed into before being merged)."""
    return StateRegistry(
        zone_maps={d.id: d.zone_map for d in config.devices},
        cameras=[c.id for c in config.cameras],
    )


def _local_address(host: str) -> str:
    """Where the hub reaches a broker listening on ``host``: itself, except for the
    any-address, reached on loopback."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
