"""Loading a shop's configuration file: every problem at once, or a valid ``Config``.

The loader reads the file with positions (``hub.yamlsource``), resolves ``!secret``
from ``secrets.yaml`` beside it, reads each section and cross-checks them (zones that
devices and cameras refer to, ids unique across both). It never stops at the first
mistake: an installer on a ladder in a shop wants the whole list, once.

The core sections are read first; then each section a plugin contributes
(``hub.config.contributed``: the escalation's ``contacts`` and ``escalation``...), in
a stable order, with the core values in hand. A top-level key that neither the core
nor a loaded plugin knows is refused, with the list of the known ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final

from hub.config.contributed import ConfigSection, SectionContext, reading_order
from hub.config.fields import Section, as_map
from hub.config.issues import WARNING, ConfigError, ConfigIssue, IssueLog
from hub.config.model import Config
from hub.config.secrets import (
    SECRET_TAG,
    SECRETS_FILE,
    SecretStore,
    inline_secrets,
    secrets_file_issues,
)
from hub.config.sections import (
    Context,
    read_cameras,
    read_devices,
    read_http,
    read_journal,
    read_mqtt,
    read_plugins,
    read_site,
    read_zones,
)
from hub.devices import DeviceType
from hub.yamlsource import INVALID, ROOT_PATH, Mark, YMap, YScalar, YSeq, read_yaml

__all__ = ["CORE_KEYS", "disabled_plugins", "known_keys", "load_config"]

#: The core's sections about the shop itself, listed first among the known keys.
SHOP_KEYS: Final = ("site", "zones", "devices", "cameras")
#: The core's sections about the hub's services, listed after the contributed ones.
SERVICE_KEYS: Final = ("http", "mqtt", "plugins", "journal")
#: Every top-level key the core reads itself.
CORE_KEYS: Final = SHOP_KEYS + SERVICE_KEYS


def known_keys(sections: Iterable[ConfigSection]) -> tuple[str, ...]:
    """The top-level keys a file may hold: the shop's, the contributed ones in reading
    order, the services' (the order the docs list them, and the error message too)."""
    return SHOP_KEYS + tuple(s.key for s in sections) + SERVICE_KEYS


def _check_sections(sections: Iterable[ConfigSection]) -> list[ConfigSection]:
    """The contributed sections in reading order, refusing a clash with the core."""
    ordered = reading_order(sections)
    for section in ordered:
        if section.key in CORE_KEYS:
            raise ValueError(f"config section {section.key!r} is the core's")
    return ordered


def _read(
    ctx: Context,
    root: YMap,
    path: Path,
    secrets: SecretStore,
    sections: list[ConfigSection],
) -> tuple[Config, list[ConfigIssue]]:
    """The configuration, and the issues found in other files it names (the
    high-stock calendar)."""
    top = Section(ctx.log, root, "", known_keys(sections), required=("site", "zones"))
    site = read_site(ctx, top.get("site"))
    zone_nodes = top.sequence("zones")
    zones_node = top.get("zones")
    if isinstance(zones_node, YSeq) and not zone_nodes:
        ctx.log.add(zones_node, "zones", "at least one zone is required")
    zones = read_zones(ctx, zone_nodes)
    devices = read_devices(ctx, top.sequence("devices"))
    cameras = read_cameras(ctx, top.sequence("cameras"))
    http = read_http(ctx, top.mapping("http"))
    mqtt = read_mqtt(ctx, top.mapping("mqtt"), site.name)
    plugins = read_plugins(ctx, top.mapping("plugins"))
    journal = read_journal(ctx, top.mapping("journal"))
    values: dict[str, object] = {}
    other_files: list[ConfigIssue] = []
    for section in sections:
        context = SectionContext(
            log=ctx.log,
            config_dir=ctx.config_dir,
            site=site,
            zones=zones,
            devices=devices,
            cameras=cameras,
            sections=MappingProxyType(dict(values)),
            other_files=other_files,
        )
        values[section.key] = section.read(top.get(section.key), context)
    config = Config(
        path=path,
        site=site,
        zones=zones,
        devices=devices,
        cameras=cameras,
        sections=MappingProxyType(values),
        http=http,
        mqtt=mqtt,
        plugins=plugins,
        journal=journal,
        secret_values=frozenset(secrets.used),
    )
    return config, other_files


def load_config(
    path: Path,
    device_types: Mapping[str, DeviceType],
    sections: Iterable[ConfigSection] = (),
) -> Config:
    """Read and validate a shop's configuration.

    Args:
        path: the YAML file; ``!secret`` values come from ``secrets.yaml`` beside it.
        device_types: the catalogue of device types the loaded plugins provide, which
            the ``devices:`` and ``cameras:`` entries and their settings are checked
            against.
        sections: the top-level sections the loaded plugins contribute
            (``PluginManager.config_sections()``); a key none of them nor the core
            knows is an error.

    Returns:
        The configuration, when the file has no problem at all (warnings, such as a
        secret written inline, are on ``Config.warnings``).

    Raises:
        ConfigError: with every problem found, in file order (the secrets file's
            and the high-stock calendar's after the configuration's), and the
            warnings found alongside.
        ValueError: two contributed sections need each other, or one needs a
            section nobody contributes, or takes a core key (a plugin's mistake, not
            the file's).
    """
    ordered = _check_sections(sections)
    path = Path(path)
    display = str(path)
    secrets_path = path.parent / SECRETS_FILE
    secrets = SecretStore(secrets_path, str(secrets_path))
    log = IssueLog(display)
    root, problems = read_yaml(path, {SECRET_TAG: secrets.resolve})
    for problem in problems:
        log.add(problem.mark, problem.path, problem.reason)
    config: Config | None = None
    other_issues: list[ConfigIssue] = []
    if root is None and not problems:
        log.add(Mark(1, 1), ROOT_PATH, "the file is empty: expected a mapping with site and zones")
    elif root is not None:
        inline_secrets(log, root)
        ymap = as_map(log, root, ROOT_PATH, "a mapping with site, zones, devices and cameras")
        if ymap is not None:
            ctx = Context(log, device_types, path.absolute().parent)
            config, other_issues = _read(ctx, ymap, path, secrets, ordered)
    found: list[ConfigIssue] = sorted(
        log.issues
        + secrets.issues
        + other_issues
        + secrets_file_issues(secrets_path, str(secrets_path)),
        key=lambda i: (i.file != display, i.file, i.line, i.column),
    )
    issues = [i for i in found if i.severity != WARNING]
    warnings = [i for i in found if i.severity == WARNING]
    if issues or config is None:
        raise ConfigError(issues, partial=config, warnings=warnings)
    return dataclasses.replace(config, warnings=tuple(warnings)) if warnings else config


def disabled_plugins(path: Path) -> frozenset[str]:
    """The entry-point names under ``plugins.disable``, read before any plugin loads.

    The hub must know which plugins to leave out before it can build the catalogue of
    device types that full validation needs, so this reads that one list and ignores
    every other problem (``load_config`` reports them afterwards). Secrets are not
    read. An unreadable file or a malformed list gives an empty set.
    """
    root, _ = read_yaml(Path(path), {SECRET_TAG: lambda _name: INVALID})
    if not isinstance(root, YMap):
        return frozenset()
    plugins = root.get("plugins")
    disable = plugins.get("disable") if isinstance(plugins, YMap) else None
    if not isinstance(disable, YSeq):
        return frozenset()
    return frozenset(
        item.value
        for item in disable.items
        if isinstance(item, YScalar) and isinstance(item.value, str) and item.value
    )
