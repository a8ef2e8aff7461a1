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
from datetime import datetime

import pluggy

from hub.commands import Command
from hub.config.contributed import ConfigSection
from hub.devices import DeviceType
from hub.rules import Rule

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


@hookspec
def register_escalation_rules(register: Callable[[Rule], None]) -> None:
    """Declare rules that turn bus events into escalations.

    Called once when the escalation engine starts. The essential ``escalation`` plugin
    registers the built-in rules (hold-up, duress and panic; burglary while armed;
    tamper; link lost on a hold-up device). A plugin's rule can add escalations, never
    remove one: the built-in rules are tried first.

    Args:
        register: call it once per ``hub.rules.Rule`` (a name, the event
            classes it looks at, and a quick, I/O-free ``match`` function). A name
            already registered is an error reported with both plugin names.

    Returns:
        Nothing; the return value is ignored.
    """


@hookspec
def keep_recordings(camera: str, start: datetime, end: datetime, incident: str) -> None:
    """Keep a camera's recordings of an incident window: the scene is preserved.

    Called by the escalation engine right after a hold-up or duress opens an
    escalation, once per camera covering the zone, while ``end`` may still be in the
    future: keep what the camera records until then too. A camera plugin marks the
    recordings (a Frigate retain flag, an NVR lock) so that its own retention does not
    delete them until the scene is released. It must not do anything the shop can
    see or hear (the hold-up is silent), and must return quickly: start the I/O in
    the device's own task. An exception is reported and the other cameras are still
    asked.

    Args:
        camera: the configured camera id; ignore ids that are not yours.
        start: the start of the window (UTC), before the first signal.
        end: the end of the window (UTC).
        incident: the escalation id, to name the kept recordings after.
    """


@hookspec
def register_config_sections(register: Callable[[ConfigSection], None]) -> None:
    """Declare top-level sections of the shop file that this plugin owns.

    Called once per plugin manager, when the configuration is about to be read (by the
    hub, ``ecrin run`` and ``ecrin check-config``), after the plugins the configuration
    disables are left out. The core reads its own sections first (site, zones, devices,
    cameras, http, mqtt, plugins, journal); then each contributed section's reader gets
    its YAML node and a ``SectionContext`` (the core values, the issue log, the
    sections read before it), in the order of their keys, a section coming after those
    it names in ``after``. A key that neither the core nor a loaded plugin knows is an
    error listing the known ones. The essential ``escalation`` plugin contributes
    ``contacts`` and ``escalation`` this way.

    Args:
        register: call it once per ``hub.config.ConfigSection`` (a key, a reader, the
            sections it needs first, a summary for ``check-config``). A key already
            registered, or one of the core's, is an error reported with the plugin
            names.

    Returns:
        Nothing; the return value is ignored. The section's value is read back with
        ``Config.section(key, kind)``.
    """


@hookspec
def register_commands(register: Callable[[Command], None]) -> None:
    """Add sub-commands to the ``ecrin`` command line (as datasette's ``register_commands``).

    Called once each time ``ecrin`` starts, before the command line is parsed, so that
    ``ecrin --help`` lists the plugins' commands. The core command line imports no
    plugin: ``ecrin decode`` comes from the panels plugin and ``ecrin demo`` from the
    sim plugin this way. A plugin whose hook raises, or whose command clashes with
    another, is reported on stderr and the other commands still work.

    Args:
        register: call it once per ``hub.commands.Command`` (a name, a help line, a
            function adding its arguments to an argparse parser, and the function
            that runs it with the parsed arguments and a ``CommandContext``).

    Returns:
        Nothing; the return value is ignored.
    """
