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
* ``running``: ``async with running(device):`` enters it and runs it in a task.

A broker fixture (a Mosquitto on a free loopback port, for message devices) comes
with the MQTT transport.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hub.devices import DeviceType, ZoneMap
from hub.messages import MemorySession, MessageSession
from hub.plugins import PluginManager
from hub.testing.devices import build_device as _build_device
from hub.testing.devices import running as _running
from hub.testing.recorder import EventRecorder
from hub.transports.pty import PtyCable

__all__ = [
    "BuildDevice",
    "build_device",
    "ecrin_plugins",
    "message_session",
    "plugin_manager",
    "pty_cable",
    "recorder",
    "running",
]

#: The ``build_device`` fixture: ``(type, settings, device_id=..., zone_map=...,
#: messages=..., zones=...)``.
BuildDevice = Callable[..., Any]


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
    a message device subscribes on: the ``message_session`` fixture) and ``zones`` (a
    camera's shop zones). Refused settings raise ``ValueError`` with the loader's
    reasons.
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
        )

    return build


@pytest.fixture
def message_session() -> MemorySession:
    """An in-memory message session, as the hub's broker session behaves: it keeps
    retained messages and delivers them on subscription; ``published`` holds what was
    published. (A fixture with a real broker comes with the MQTT transport.)"""
    return MemorySession()


@pytest.fixture
def running() -> Callable[[Any], AbstractAsyncContextManager[Any]]:
    """``async with running(device):`` enters the device and runs it in a task until
    the block ends, then stops it as the hub does (``run()`` must last until then)."""
    return _running
