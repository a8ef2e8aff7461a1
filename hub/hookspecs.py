"""Every hook a plugin can implement, and the markers to implement them.

Plugins are modules (or objects) exposed through the entry-point group
``ecrin.plugins``; they decorate functions named after these specs with
``@hookimpl``. Hooks are synchronous and cheap: they *declare* things (device types)
or are *told* things (the hub started). The I/O lives in device objects that the hub
owns, opens, runs and closes.

The core never calls ``pm.hook`` directly: ``hub.plugins.PluginManager`` wraps every
hook in a typed method. Every hook here is documented in ``docs/plugins.md`` (a test
checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pluggy

from hub.devices import DeviceType

__all__ = ["PROJECT", "HubInfo", "hookimpl", "hookspec"]

#: The one name shared by the pluggy project, the entry-point group prefix and the
#: environment variables (``ECRIN_LOAD_PLUGINS``, ``ECRIN_TRACE_PLUGINS``).
PROJECT = "ecrin"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclass(frozen=True, slots=True)
class HubInfo:
    """What a plugin is told about the hub when it starts or stops.

    Attributes:
        site: the site name from the configuration.
        config_path: the configuration file the hub runs on ("" when built in code).
        devices: the ids of the configured devices and cameras.
    """

    site: str
    config_path: str
    devices: tuple[str, ...]


@hookspec
def register_device_types(register: Callable[[DeviceType], None]) -> None:
    """Declare the device types this plugin provides.

    Called once per plugin manager, when the hub (or ``ecrin check-config``) needs the
    catalogue of device types, before any configuration is validated.

    Args:
        register: call it once per ``DeviceType``. A name already registered by another
            plugin is an error reported with both plugin names.

    Returns:
        Nothing; the return value is ignored.
    """


@hookspec
def hub_started(info: HubInfo) -> None:
    """Be told that the hub is running.

    Called once, after the journal is open and every configured device has been
    launched (devices may still be connecting). Keep it quick: it runs on the event
    loop. An exception is logged and does not stop the hub.

    Args:
        info: the site, the configuration file and the device ids.
    """


@hookspec
def hub_stopping(info: HubInfo) -> None:
    """Be told that the hub is stopping.

    Called once, on SIGINT/SIGTERM or shutdown, before devices are closed and while the
    journal is still open. Keep it quick. An exception is logged and ignored.

    Args:
        info: the same information as ``hub_started``.
    """
