"""``ecrin check-config FILE``: validate a configuration without starting the hub."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TextIO

from hub.config.contributed import ConfigSection
from hub.config.issues import ConfigError, ConfigIssue
from hub.config.loader import load_config
from hub.devices import DeviceType

__all__ = ["check_config_main", "counted"]


def _in_order(issues: list[ConfigIssue], path: Path) -> list[ConfigIssue]:
    """The configuration's own issues first, then the other files', each in file order."""
    return sorted(issues, key=lambda i: (i.file != str(path), i.file, i.line, i.column))


def counted(n: int, noun: str) -> str:
    """``n`` and the noun, plural when it is not one ("1 zone", "2 zones")."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def check_config_main(
    path: Path,
    device_types: Mapping[str, DeviceType],
    out: TextIO,
    err: TextIO,
    sections: Iterable[ConfigSection] = (),
) -> int:
    """Check one configuration file and report, for people and for scripts.

    Prints every issue on its own line to ``err`` (``FILE:LINE:COLUMN: key.path:
    reason``, which editors and CI annotate) and returns 1; or prints a one-line summary
    to ``out`` (with the MQTT broker the hub would use, never its password) and
    returns 0. Warnings (``FILE:LINE:COLUMN: warning: key.path:
    reason``) go to ``err`` in both cases and do not change the status. A file that does
    not exist returns 2: the check could not run, which a script must tell apart from a
    configuration that is wrong.

    Args:
        path: the configuration file.
        device_types: the catalogue from the plugin manager.
        out: where the summary goes.
        err: where the issues go.
        sections: the top-level sections the plugins contribute; each adds its part
            of the summary (the escalation's: contacts and tiers).
    """
    sections = list(sections)
    if not path.is_file():
        print(f"{path}:1:1: <file>: file not found", file=err)
        return 2
    try:
        config = load_config(path, device_types, sections)
    except ConfigError as exc:
        for issue in _in_order([*exc.issues, *exc.warnings], path):
            print(issue, file=err)
        return 1
    for warning in config.warnings:
        print(warning, file=err)
    parts = [
        counted(len(config.zones), "zone"),
        counted(len(config.devices), "device"),
        counted(len(config.cameras), "camera"),
    ]
    for section in sections:
        if section.summary is not None:
            parts.extend(section.summary(config))
    summary = ", ".join(parts)
    broker = config.message_broker(device_types)
    if broker is not None:
        summary += f"; MQTT broker {broker.describe()}"
    if config.warnings:
        summary += f"; {counted(len(config.warnings), 'warning')}"
    print(f"{path}: valid: {summary}", file=out)
    return 0
