"""The coverage plugin: wires the video-surveillance coverage log into the hub.

The log itself is a feature of the hub (``hub.coverage``), started by the hub next to
the journal it follows, because it needs the journal and the bus, which no plugin is
given. What belongs to a plugin is what a shop sees of it: the ``coverage:`` section
of the shop file (``enabled``, ``heartbeat_seconds``) and the ``ecrin coverage``
command group. A shop that disables this plugin keeps no coverage log.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.coverage.commands import coverage_command
from hub.coverage.config import CONFIG_SECTIONS
from hub.sdk import Command, ConfigSection, hookimpl

__all__ = ["register_commands", "register_config_sections"]


@hookimpl
def register_config_sections(register: Callable[[ConfigSection], None]) -> None:
    """Contribute ``coverage:`` to the shop file."""
    for section in CONFIG_SECTIONS:
        register(section)


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    """Add ``ecrin coverage`` (``rebuild``)."""
    register(coverage_command())
