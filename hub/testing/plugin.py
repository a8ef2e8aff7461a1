"""The test kit's pytest fixtures, loaded in every pytest run through ``pytest11``.

Installing Écrin gives a plugin's own tests these fixtures, as the project's tests get
them (the model is pytest's ``pytester``):

* ``ecrin_plugins``: the plugins under test; override it in your ``conftest.py``
  (default: none);
* ``plugin_manager``: a fresh plugin manager (no entry points loaded) with those
  plugins registered, checked for misspelled hooks and registration errors;
* ``recorder``: an ``EventRecorder``;
* ``pty_cable``: a real pseudo-terminal whose hub end is ``tmp_path/ttyUSB0``;
* ``build_device``: builds a device from a type name (looked up in
  ``plugin_manager``) or a ``DeviceType``, settings validated as the hub validates
  them, ``recorder.emit`` as its ``emit``;
* ``running``: ``async with running(device):`` enters it and runs it in a task;
* ``mosquitto``: starts a real Mosquitto broker on a free loopback port (options:
  users, TLS, persistence), killed at the end of the test;
* ``mqtt_session``: ``async with mqtt_session(broker) as session:`` the hub's
  ``MqttSession``, connected to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hub.devices import DeviceType, ZoneMap
from hub.messages import MemorySession, MessageSession
from hub.plugins import PluginManager
from hub.supervisor import Backoff
from hub.testing.devices import build_device as _build_device
from hub.testing.devices import running as _running
from hub.testing.mosquitto import Mosquitto
from hub.testing.recorder import EventRecorder, wait_until
from hub.transports.mqtt import MqttSession
from hub.transports.pty import PtyCable

__all__ = [
    "BuildDevice",
    "ConnectSession",
    "StartMosquitto",
    "build_device",
    "ecrin_plugins",
    "message_session",
    "mosquitto",
    "mqtt_session",
    "plugin_manager",
    "pty_cable",
    "recorder",
    "running",
]

#: The ``build_device`` fixture: ``(type, settings, device_id=..., zone_map=...,
#: messages=..., zones=..., retention_days=...)``.
BuildDevice = Callable[..., Any]
#: The ``mosquitto`` fixture: ``(**options) -> Mosquitto``, started.
StartMosquitto = Callable[..., Mosquitto]
#: The ``mqtt_session`` fixture: ``(broker, **config) -> async context manager`` of a
#: connected ``MqttSession``.
ConnectSession = Callable[..., AbstractAsyncContextManager[MqttSession]]


@pytest.fixture
def ecrin_plugins() -> Sequence[ModuleType | object]:
    """The plugins under test (modules or objects with hook implementations).

    Override it in your ``conftest.py``: ``return [my_plugin]``.
    """
    return ()


@pytest.fixture
def plugin_manager(ecrin_plugins: Sequence[ModuleType | object]) -> PluginManager:
    """A fresh plugin manager with the plugins under test, and nothing else.

    Fails the test on a hook implementation that names no hook (a misspelling
    pluggy would otherwise ignore) and on a plugin that could not be registered.
    """
    manager = PluginManager()
    for plugin in ecrin_plugins:
        name = getattr(plugin, "__name__", None) or type(plugin).__name__
        manager.register(plugin, name)
    manager.check_pending()
    assert not manager.errors, [str(e) for e in manager.errors]
    return manager


@pytest.fixture
def recorder() -> EventRecorder:
    """An event recorder: a device's ``emit``, or a bus subscriber (``handle``)."""
    return EventRecorder()


@pytest.fixture
def pty_cable(tmp_path: Path) -> Iterator[PtyCable]:
    """A pty cable whose hub end is the symlink ``tmp_path/ttyUSB0`` (replug-able)."""
    cable = PtyCable(tmp_path / "ttyUSB0")
    yield cable
    cable.close()


@pytest.fixture
def build_device(plugin_manager: PluginManager, recorder: EventRecorder) -> BuildDevice:
    """Build a device as the hub does, its events going to ``recorder``.

    Call it with a type name registered by the plugins under test (or a
    ``DeviceType``), the settings as a shop file gives them, and optionally
    ``device_id`` (default ``"centrale"``), ``zone_map``, ``messages`` (the session
    a message device subscribes on: the ``message_session`` fixture), ``zones`` (a
    camera's shop zones) and ``retention_days`` (a camera's declared retention).
    Refused settings raise ``ValueError`` with the loader's reasons.
    """
    catalogue: dict[str, DeviceType] | None = None

    def build(
        device_type: str | DeviceType,
        settings: Mapping[str, Any] | None = None,
        device_id: str = "centrale",
        *,
        zone_map: ZoneMap | None = None,
        messages: MessageSession | None = None,
        zones: tuple[str, ...] = (),
        retention_days: int | None = None,
    ) -> Any:
        nonlocal catalogue
        if isinstance(device_type, str):
            if catalogue is None:
                catalogue = plugin_manager.device_types()
            if device_type not in catalogue:
                known = ", ".join(sorted(catalogue)) or "none: override ecrin_plugins"
                raise LookupError(f"unknown device type {device_type!r} (known: {known})")
            device_type = catalogue[device_type]
        return _build_device(
            device_type,
            settings or {},
            recorder.emit,
            device_id=device_id,
            zone_map=zone_map,
            messages=messages,
            zones=zones,
            retention_days=retention_days,
        )

    return build


@pytest.fixture
def message_session() -> MemorySession:
    """An in-memory message session, as the hub's broker session behaves: it keeps
    retained messages and delivers them on subscription; ``published`` holds what was
    published. (``mosquitto`` and ``mqtt_session`` give the real broker and session.)"""
    return MemorySession()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[StartMosquitto]:
    """Start a real Mosquitto broker on a free loopback port: ``broker = mosquitto()``.

    Options (see ``hub.testing.mosquitto.Mosquitto``): ``users={"name": "password"}``
    (a password file, anonymous access off), ``tls=True`` (a TLS listener on
    ``broker.tls_port``, its CA at ``broker.ca.certfile``), ``require_certificate``,
    ``persistence`` (on by default), ``max_queued_messages``. ``broker.stop()`` and
    ``broker.start()`` restart it on the same ports with the same persistence;
    ``broker.kill()`` is a crash; ``broker.client()`` is a plain aiomqtt client of
    it, ``broker.mqtt_config()`` an ``MqttConfig`` for the hub. Every broker started
    is killed at the end of the test. No ``mosquitto`` installed is an error, never a
    skip.
    """
    started: list[Mosquitto] = []

    def start(**options: Any) -> Mosquitto:
        broker = Mosquitto(tmp_path / f"mosquitto-{len(started)}", **options)
        started.append(broker)
        broker.start()
        return broker

    yield start
    for broker in started:
        broker.kill()


@pytest.fixture
def mqtt_session() -> ConnectSession:
    """``async with mqtt_session(broker, **config) as session:`` an ``MqttSession`` of
    the hub, connected to ``broker`` (a ``Mosquitto``), with a short reconnection
    backoff (50 ms to 0.5 s); ``config`` overrides fields of ``broker.mqtt_config()``
    (``client_id``, ``username``, ``tls=True``...). ``subscribe=[(filter, handler)]``
    subscribes before the connection. It waits (10 s at most) until connected, and
    stops the session cleanly at the end of the block."""

    @contextlib.asynccontextmanager
    async def connect(
        broker: Mosquitto,
        *,
        subscribe: Sequence[tuple[str, Any]] = (),
        backoff: Callable[[], Backoff] = lambda: Backoff(0.05, 0.5),
        **config: Any,
    ) -> AsyncIterator[MqttSession]:
        config.setdefault("client_id", "ecrin-test")
        session = MqttSession(broker.mqtt_config(**config), backoff=backoff)
        for topic, handler in subscribe:
            await session.subscribe(topic, handler, qos=1)
        async with session:
            await wait_until(lambda: session.connected, timeout=10.0)
            yield session

    return connect


@pytest.fixture
def running() -> Callable[[Any], AbstractAsyncContextManager[Any]]:
    """``async with running(device):`` enters the device and runs it in a task until
    the block ends, then stops it as the hub does (``run()`` must last until then)."""
    return _running
