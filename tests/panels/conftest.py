"""The panel tests run the panels plugin through the test kit (``hub.testing``): its
device types from a fresh plugin manager, devices built and run as the hub builds and
runs them, simulated panels over real pseudo-terminals."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import pytest

import plugins.panels
from hub.devices import DeviceType
from hub.plugins import PluginManager

#: Settings that keep the tests fast: a replugged port is found within 0.2 s.
FAST = {"reconnect_max": 0.2}


@pytest.fixture
def ecrin_plugins() -> Sequence[ModuleType]:
    """The plugin under test, for the kit's ``plugin_manager`` and ``build_device``."""
    return [plugins.panels]


@pytest.fixture
def panel_types(plugin_manager: PluginManager) -> dict[str, DeviceType]:
    """The panel plugin's device types, through a plugin manager as the hub gets them."""
    return plugin_manager.device_types()
