"""The plugin manager: one per hub instance, and the only caller of hooks.

Built-in plugins (``plugins/``) and third-party ones load through the same
entry-point group, ``ecrin.plugins``. Two environment variables steer loading, as in
pytest and datasette:

* ``ECRIN_LOAD_PLUGINS``: a comma-separated allowlist of entry-point names; when set
  (even empty), only those load, plus the essential ones.
* ``ECRIN_TRACE_PLUGINS``: when set, every hook call is traced to stderr (or to the
  file it names, when it is a path).

A plugin module of Écrin's own distribution that sets ``ECRIN_ESSENTIAL = True`` is
essential: neither the allowlist nor the configuration's ``plugins.disable`` can remove
it. Plugins outside the allowlist are not even imported.

A plugin that fails to import, or whose hook raises, is reported in one line and the
hub goes on with the others (``PluginManager.errors`` keeps those lines).
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any, TextIO, TypeVar

import pluggy

from hub import hookspecs
from hub.commands import Command
from hub.config.contributed import ConfigSection
from hub.config.loader import CORE_KEYS
from hub.devices import DeviceType
from hub.hookspecs import PROJECT, HubInfo
from hub.rules import Rule

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginError",
    "PluginManager",
    "PluginRecord",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

ENTRY_POINT_GROUP = f"{PROJECT}.plugins"
LOAD_ENV = "ECRIN_LOAD_PLUGINS"
TRACE_ENV = "ECRIN_TRACE_PLUGINS"
#: Only Écrin's own distribution may ship essential plugins: a third-party package must
#: not be able to make itself impossible to disable.
TRUSTED_DISTRIBUTIONS = frozenset({"ecrin"})


@dataclass(frozen=True, slots=True)
class PluginRecord:
    """What is known of one loaded plugin (printed by ``ecrin plugins``)."""

    name: str
    module: str
    version: str
    distribution: str
    essential: bool

    def to_dict(self, hooks: list[str]) -> dict[str, Any]:
        """The JSON form used by ``ecrin plugins``."""
        return {
            "name": self.name,
            "module": self.module,
            "version": self.version,
            "distribution": self.distribution,
            "essential": self.essential,
            "hooks": hooks,
        }


@dataclass(frozen=True, slots=True)
class PluginError:
    """One plugin problem, as one line: which plugin, and what went wrong."""

    plugin: str
    reason: str

    def __str__(self) -> str:
        return f"plugin {self.plugin}: {self.reason}"


@dataclass
class PluginManager:
    """Loads plugins and calls their hooks through typed methods.

    Args:
        allow: entry-point names to load (None: all). Defaults to ``ECRIN_LOAD_PLUGINS``.
        disabled: entry-point names the configuration disables (essential ones stay).
        trace: where to trace hook calls; defaults to ``ECRIN_TRACE_PLUGINS``.
        trusted: distributions whose plugins may declare themselves essential (Écrin's
            own); their plugins are always imported to learn whether they are.
    """

    allow: frozenset[str] | None = None
    disabled: frozenset[str] = frozenset()
    trusted: frozenset[str] = TRUSTED_DISTRIBUTIONS
    trace: TextIO | None = None
    errors: list[PluginError] = field(default_factory=list)
    _records: dict[str, PluginRecord] = field(default_factory=dict)
    _pm: pluggy.PluginManager = field(init=False)

    def __post_init__(self) -> None:
        self._pm = pluggy.PluginManager(PROJECT)
        self._pm.add_hookspecs(hookspecs)
        if self.trace is not None:
            writer = self.trace
            self._pm.trace.root.setwriter(lambda text: (writer.write(text), writer.flush()))
            self._pm.enable_tracing()

    @classmethod
    def from_environment(
        cls,
        *,
        disabled: Iterable[str] = (),
        load_entry_points: bool = True,
        trusted: frozenset[str] = TRUSTED_DISTRIBUTIONS,
    ) -> PluginManager:
        """Build a manager honouring ``ECRIN_LOAD_PLUGINS`` and ``ECRIN_TRACE_PLUGINS``,
        then load the entry points."""
        allow: frozenset[str] | None = None
        raw = os.environ.get(LOAD_ENV)
        if raw is not None:
            allow = frozenset(p.strip() for p in raw.split(",") if p.strip())
        trace: TextIO | None = None
        trace_to = os.environ.get(TRACE_ENV)
        if trace_to:
            trace = sys.stderr if trace_to in {"1", "stderr", "true"} else open(trace_to, "a")  # noqa: SIM115
        manager = cls(allow=allow, disabled=frozenset(disabled), trace=trace, trusted=trusted)
        if load_entry_points:
            manager.load_entry_points()
        return manager

    # -- loading ---------------------------------------------------------------------
    def load_entry_points(self) -> None:
        """Import and register every plugin of the ``ecrin.plugins`` group that the
        allowlist and the configuration permit; essential plugins always load."""
        for ep in sorted(
            importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name
        ):
            if ep.name in self._records:
                continue
            dist = ep.dist
            dist_name = dist.name if dist is not None else ""
            trusted = dist_name in self.trusted
            allowed = (self.allow is None or ep.name in self.allow) and ep.name not in self.disabled
            if not trusted and not allowed:
                continue  # never import what is not wanted: its import could be the problem
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not stop the hub
                self._error(ep.name, f"failed to import {ep.value}: {type(exc).__name__}: {exc}")
                continue
            essential = trusted and bool(getattr(module, "ECRIN_ESSENTIAL", False))
            if not essential and not allowed:
                continue
            self.register(
                module,
                ep.name,
                essential=essential,
                version=dist.version if dist is not None else "",
                distribution=dist_name,
            )
        for name in sorted(self.disabled):
            record = self._records.get(name)
            if record is not None and record.essential:
                self._error(name, "is essential and cannot be disabled; it stays loaded")

    def register(
        self,
        plugin: ModuleType | object,
        name: str,
        *,
        essential: bool = False,
        version: str = "",
        distribution: str = "",
    ) -> None:
        """Register a plugin object or module under ``name`` (tests and embedders use
        this directly; the hub uses ``load_entry_points``)."""
        try:
            self._pm.register(plugin, name=name)
        except Exception as exc:
            self._error(name, f"could not be registered: {exc}")
            return
        module = getattr(plugin, "__name__", type(plugin).__name__)
        self._records[name] = PluginRecord(name, module, version, distribution, essential)

    def _error(self, plugin: str, reason: str) -> None:
        error = PluginError(plugin, reason)
        self.errors.append(error)
        log.error("%s", error)

    # -- introspection -----------------------------------------------------------------
    def records(self) -> list[PluginRecord]:
        """The loaded plugins, by name."""
        return sorted(self._records.values(), key=lambda r: r.name)

    def hooks_of(self, name: str) -> list[str]:
        """The hook names the plugin ``name`` implements."""
        plugin = self._pm.get_plugin(name)
        if plugin is None:
            return []
        callers = self._pm.get_hookcallers(plugin) or []
        return sorted(c.name for c in callers)

    def describe(self) -> list[dict[str, Any]]:
        """Every loaded plugin as JSON-able dicts (``ecrin plugins``)."""
        return [r.to_dict(self.hooks_of(r.name)) for r in self.records()]

    # -- typed hook calls ----------------------------------------------------------------
    def _per_plugin(self, hook_name: str) -> list[tuple[str, Callable[..., Any]]]:
        """One caller per implementing plugin, so that a failure is attributed to the
        plugin that raised and does not stop the others. Each goes through pluggy (a
        subset caller), so ``ECRIN_TRACE_PLUGINS`` traces it."""
        impls = getattr(self._pm.hook, hook_name).get_hookimpls()
        plugins = {impl.plugin_name: impl.plugin for impl in impls}
        out: list[tuple[str, Callable[..., Any]]] = []
        for name in plugins:
            others = [p for n, p in plugins.items() if n != name]
            out.append((name, self._pm.subset_hook_caller(hook_name, remove_plugins=others)))
        return out

    def device_types(self) -> dict[str, DeviceType]:
        """The catalogue of device types, by name.

        Each plugin's hook is called on its own so that one plugin's failure or a
        duplicate name is reported against the right plugin, and the others still count.
        """
        catalogue: dict[str, DeviceType] = {}
        owners: dict[str, str] = {}
        for plugin_name, function in self._per_plugin("register_device_types"):

            def register(device_type: DeviceType, _plugin: str = plugin_name) -> None:
                if not isinstance(device_type, DeviceType):
                    raise TypeError(f"expected a DeviceType, got {type(device_type).__name__}")
                if device_type.name in catalogue:
                    raise ValueError(
                        f"device type {device_type.name!r} is already registered by"
                        f" plugin {owners[device_type.name]}"
                    )
                catalogue[device_type.name] = device_type
                owners[device_type.name] = _plugin

            try:
                function(register=register)
            except Exception as exc:
                self._error(plugin_name, f"register_device_types failed: {exc}")
        return catalogue

    def config_sections(self) -> list[ConfigSection]:
        """The top-level configuration sections the plugins contribute, essential
        plugins' first.

        Each plugin's hook is called on its own, so a failure, a duplicate key or a
        core key is reported against the right plugin and the other sections still
        count.
        """
        found = self._registered(
            "register_config_sections",
            ConfigSection,
            "config section",
            lambda section: section.key,
            reserved=CORE_KEYS,
        )
        ordered = [section for _owner, section in found]
        owners = {section.key: owner for owner, section in found}
        keys = {s.key for s in ordered}
        usable: list[ConfigSection] = []
        for section in ordered:
            missing = [k for k in section.after if k not in keys]
            if missing:
                self._error(
                    owners[section.key],
                    f"config section {section.key!r} needs {', '.join(missing)},"
                    " which no loaded plugin contributes; left out",
                )
            else:
                usable.append(section)
        return usable

    def _notify(self, hook_name: str, **kwargs: Any) -> None:
        for plugin_name, function in self._per_plugin(hook_name):
            try:
                function(**kwargs)
            except Exception as exc:
                self._error(plugin_name, f"{hook_name} failed: {type(exc).__name__}: {exc}")

    def hub_started(self, info: HubInfo) -> None:
        """Tell every plugin the hub is running; a failing plugin is logged, not fatal."""
        self._notify("hub_started", info=info)

    def hub_stopping(self, info: HubInfo) -> None:
        """Tell every plugin the hub is stopping; a failing plugin is logged, not fatal."""
        self._notify("hub_stopping", info=info)

    def escalation_rules(self) -> list[Rule]:
        """The escalation rules the plugins declare, essential plugins' first.

        Each plugin's hook is called on its own, so a failure or a duplicate name is
        reported against the right plugin and the other rules still count.
        """
        found = self._registered(
            "register_escalation_rules", Rule, "escalation rule", lambda rule: rule.name
        )
        return [rule for _owner, rule in found]

    def _registered(
        self,
        hook_name: str,
        item_type: type[T],
        kind: str,
        key: Callable[[T], str],
        *,
        reserved: Iterable[str] = (),
    ) -> list[tuple[str, T]]:
        """What each plugin registers through a ``register(item)`` hook, essential
        plugins' first, with the plugin that registered each.

        Each plugin's hook is called on its own, so a failure, a wrong type, a reserved
        key or a key another plugin took is reported against the right plugin and the
        other items still count.
        """
        taken = frozenset(reserved)
        found: list[tuple[bool, str, T]] = []
        owners: dict[str, str] = {}
        for plugin_name, function in self._per_plugin(hook_name):
            record = self._records.get(plugin_name)
            essential = record is not None and record.essential

            def register(item: T, _plugin: str = plugin_name, _essential: bool = essential) -> None:
                if not isinstance(item, item_type):
                    raise TypeError(f"expected a {item_type.__name__}, got {type(item).__name__}")
                name = key(item)
                if name in taken:
                    raise ValueError(f"{kind} {name!r} is the core's")
                if name in owners:
                    raise ValueError(
                        f"{kind} {name!r} is already registered by plugin {owners[name]}"
                    )
                owners[name] = _plugin
                found.append((_essential, _plugin, item))

            try:
                function(register=register)
            except Exception as exc:
                self._error(plugin_name, f"{hook_name} failed: {exc}")
        return [(owner, item) for essential, owner, item in found if essential] + [
            (owner, item) for essential, owner, item in found if not essential
        ]

    def keep_recordings(self, camera: str, start: datetime, end: datetime, incident: str) -> None:
        """Ask the camera plugins to keep a window of recordings; a failing plugin is
        logged, the others are still asked."""
        self._notify("keep_recordings", camera=camera, start=start, end=end, incident=incident)

    # -- commands (register_commands) --------------------------------------------------
    def commands(self, reserved: Iterable[str] = ()) -> dict[str, Command]:
        """The sub-commands plugins add to ``ecrin``, by name.

        Args:
            reserved: the core's own command names; a plugin cannot take one.

        A plugin whose hook raises, or a name already taken, is reported against the
        plugin (``errors``) and the other plugins' commands still count.
        """
        taken = frozenset(reserved)
        commands: dict[str, Command] = {}
        owners: dict[str, str] = {}
        for plugin_name, function in self._per_plugin("register_commands"):
            mine: dict[str, Command] = {}

            def register(
                command: Command, _plugin: str = plugin_name, _mine: dict[str, Command] = mine
            ) -> None:
                if not isinstance(command, Command):
                    raise TypeError(f"expected a Command, got {type(command).__name__}")
                if command.name in taken:
                    raise ValueError(f"command {command.name!r} is a built-in command")
                if command.name in commands or command.name in _mine:
                    owner = owners.get(command.name, _plugin)
                    raise ValueError(
                        f"command {command.name!r} is already registered by plugin {owner}"
                    )
                _mine[command.name] = command

            try:
                function(register=register)
            except Exception as exc:
                self._error(plugin_name, f"register_commands failed: {exc}")
                continue
            for name, command in mine.items():
                commands[name] = command
                owners[name] = plugin_name
        return commands

    def check_pending(self) -> None:
        """Fail on a hook implementation that matches no hookspec (a misspelled hook).

        Raises:
            pluggy.PluginValidationError: naming the plugin and the unknown hook.
        """
        self._pm.check_pending()
