"""Loading a shop's configuration file: every problem at once, or a valid ``Config``.

The loader reads the file with positions (``hub.yamlsource``), resolves ``!secret``
from ``secrets.yaml`` beside it, reads each section and cross-checks them (zones that
devices and cameras refer to, ids unique across both). It never stops at the first
mistake: an installer on a ladder in a shop wants the whole list, once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from hub.config.escalation import read_contacts, read_escalation
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

__all__ = ["TOP_KEYS", "disabled_plugins", "load_config"]

TOP_KEYS: Final = (
    "site",
    "zones",
    "devices",
    "cameras",
    "contacts",
    "escalation",
    "http",
    "mqtt",
    "plugins",
    "journal",
)


def _read(
    ctx: Context, root: YMap, path: Path, secrets: SecretStore
) -> tuple[Config, list[ConfigIssue]]:
    """The configuration, and the issues found in other files it names (the
    high-stock calendar)."""
    top = Section(ctx.log, root, "", TOP_KEYS, required=("site", "zones"))
    site = read_site(ctx, top.get("site"))
    zone_nodes = top.sequence("zones")
    zones_node = top.get("zones")
    if isinstance(zones_node, YSeq) and not zone_nodes:
        ctx.log.add(zones_node, "zones", "at least one zone is required")
    zones = read_zones(ctx, zone_nodes)
    devices = read_devices(ctx, top.sequence("devices"))
    cameras = read_cameras(ctx, top.sequence("cameras"))
    contacts = read_contacts(ctx.log, top.sequence("contacts"))
    escalation, other_issues = read_escalation(
        ctx.log, top.mapping("escalation"), ctx.config_dir, contacts
    )
    config = Config(
        path=path,
        site=site,
        zones=zones,
        devices=devices,
        cameras=cameras,
        contacts=contacts,
        escalation=escalation,
        http=read_http(ctx, top.mapping("http")),
        mqtt=read_mqtt(ctx, top.mapping("mqtt")),
        plugins=read_plugins(ctx, top.mapping("plugins")),
        journal=read_journal(ctx, top.mapping("journal")),
        secret_values=frozenset(secrets.used),
    )
    return config, other_issues


def load_config(path: Path, device_types: Mapping[str, DeviceType]) -> Config:
    """Read and validate a shop's configuration.

    Args:
        path: the YAML file; ``!secret`` values come from ``secrets.yaml`` beside it.
        device_types: the catalogue of device types the loaded plugins provide, which
            the ``devices:`` and ``cameras:`` entries and their settings are checked
            against.

    Returns:
        The configuration, when the file has no problem at all (warnings, such as a
        secret written inline, are on ``Config.warnings``).

    Raises:
        ConfigError: with every problem found, in file order (the secrets file's
            and the high-stock calendar's after the configuration's), and the
            warnings found alongside.
    """
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
            config, other_issues = _read(ctx, ymap, path, secrets)
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
