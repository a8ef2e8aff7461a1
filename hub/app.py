"""The hub: wires configuration, plugins, journal, bus and devices together.

``Hub`` is an async context manager. Entering it opens the journal, starts the recorder
(journal before bus), subscribes nothing itself, launches one supervisor task per
configured device and camera, and tells the plugins the hub started. Leaving it does the
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
import logging
import signal
from collections.abc import Callable, Iterator, Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from hub.bus import EventBus
from hub.config import Config
from hub.devices import Device, DeviceContext, DeviceType, ZoneMap
from hub.escalation.clock import Clock
from hub.escalation.config import contacts_of, escalation_of
from hub.escalation.engine import EscalationEngine
from hub.escalation.outbox import read_journal_anchor
from hub.escalation.scene import EvidenceSettings
from hub.escalation.site import EscalationSite
from hub.events import AlarmSignal, Event, HubStarted, HubStopping
from hub.homeassistant import DiscoveryPublisher, home_assistant_publisher
from hub.hookspecs import HubInfo
from hub.http import HttpSettings, Readiness, create_app, serve
from hub.journal import Journal, JournalAnchor, JournalError, open_or_quarantine
from hub.messages import MessageSession
from hub.plugins import PluginManager
from hub.recorder import Recorder
from hub.state import StateRegistry, restore_from_journal
from hub.supervisor import Backoff, DeviceSupervisor

__all__ = ["Hub"]

log = logging.getLogger(__name__)

#: How long the start-up waits for each device's first open before the hub says it is
#: ready anyway (a device that is still trying counts as not running).
STARTUP_WAIT: Final = 10.0


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
        messages: the message session handed to every device (``DeviceContext.messages``);
            None until the shop has a broker. Tests pass a ``MemorySession``.
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
        self.state = StateRegistry(
            zone_maps={d.id: d.zone_map for d in config.devices},
            cameras=[c.id for c in config.cameras],
        )
        #: Set once the journal's earlier rows are merged into ``state`` (or could not be).
        self.state_restored = asyncio.Event()
        self.journal: Journal | None = None
        self.recorder: Recorder | None = None
        self.escalation: EscalationEngine | None = None
        self.home_assistant: DiscoveryPublisher | None = None
        self.supervisors: dict[str, DeviceSupervisor] = {}
        self._backoff = backoff
        self._serve_http = serve_http
        self._http_port = http_port
        self._clock = clock
        self.messages = messages
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
        self.recorder = await self._stack.enter_async_context(Recorder(self.journal, self.bus))
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
                        EscalationSite.from_config(self.config),
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
        # Home Assistant discovery: after the registry and the session, before the
        # devices (their first states are published); it stops before the session.
        publisher = home_assistant_publisher(self.config, self.messages, self.state)
        if publisher is not None:
            self.home_assistant = await self._stack.enter_async_context(publisher)
        self._start_devices()
        self.plugins.hub_started(self.info)
        self.emit(HubStarted(site=self.config.site.name))
        return self

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
            restored = StateRegistry(
                zone_maps={d.id: d.zone_map for d in self.config.devices},
                cameras=[c.id for c in self.config.cameras],
            )
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

    def _start_devices(self) -> None:
        entries: list[tuple[str, str, Mapping[str, Any], ZoneMap, tuple[str, ...]]] = []
        for device in self.config.devices:
            entries.append((device.id, device.type, device.settings, device.zone_map, ()))
        for camera in self.config.cameras:
            entries.append((camera.id, camera.type, camera.settings, ZoneMap(), camera.zones))
        for device_id, type_name, settings, zone_map, zones in entries:
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
        if self.recorder is not None:
            self.emit(HubStopping(site=self.config.site.name, reason=reason))
        await self._stack.aclose()
        self.recorder = None

    # -- readiness -------------------------------------------------------------------------
    def readiness(self) -> Readiness:
        """Whether the start-up is over, and how many configured devices run now."""
        return Readiness(
            ready=self._ready,
            configured=len(self.info.devices),
            running=sum(s.running for s in self.supervisors.values()),
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
