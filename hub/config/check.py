"""``ecrin check-config FILE``: validate a configuration without starting the hub."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from hub.config.issues import ConfigError, ConfigIssue
from hub.config.loader import load_config
from hub.devices import DeviceType

__all__ = ["check_config_main"]


def _in_order(issues: list[ConfigIssue], path: Path) -> list[ConfigIssue]:
    """The configuration's own issues first, then the other files', each in file order."""
    return sorted(issues, key=lambda i: (i.file != str(path), i.file, i.line, i.column))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def check_config_main(
    path: Path, device_types: Mapping[str, DeviceType], out: TextIO, err: TextIO
) -> int:
    """Check one configuration file and report, for people and for scripts.

    Prints every issue on its own line to ``err`` (``FILE:LINE:COLUMN: key.path:
    reason``, which editors and CI annotate) and returns 1; or prints a one-line summary
    to ``out`` and returns 0. Warnings (``FILE:LINE:COLUMN: warning: key.path:
    reason``) go to ``err`` in both cases and do not change the status. A file that does
    not exist returns 2: the check could not run, which a script must tell apart from a
    configuration that is wrong.

    Args:
        path: the configuration file.
        device_types: the catalogue from the plugin manager.
        out: where the summary goes.
        err: where the issues go.
    """
    if not path.is_file():
        print(f"{path}:1:1: <file>: file not found", file=err)
        return 2
    try:
        config = load_config(path, device_types)
    except ConfigError as exc:
        for issue in _in_order([*exc.issues, *exc.warnings], path):
            print(issue, file=err)
        return 1
    for warning in config.warnings:
        print(warning, file=err)
    parts = [
        _count(len(config.zones), "zone"),
        _count(len(config.devices), "device"),
        _count(len(config.cameras), "camera"),
    ]
    if config.escalation is not None:
        parts.append(_count(len(config.contacts), "contact"))
        parts.append(_count(len(config.escalation.ladder), "escalation tier"))
    summary = ", ".join(parts)
    if config.warnings:
        summary += f"; {_count(len(config.warnings), 'warning')}"
    print(f"{path}: valid: {summary}", file=out)
    return 0
