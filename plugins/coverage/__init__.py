"""The coverage plugin: wires the video-surveillance coverage feature (``hub.coverage``)
into the hub.

The log itself is a feature of the hub, started by the hub next to the journal it
follows, because it needs the journal and the bus, which no plugin is given. What
belongs to a plugin is what a shop sees of it: the ``coverage:`` section of the shop
file (``enabled``, ``heartbeat_seconds``) and the commands: ``ecrin coverage``
(``rebuild``), ``ecrin report coverage`` (each zone's coverage, its gaps and risk
exposure, for the authorisation file) and ``ecrin register`` (the register of
recordings the law asks for: show, export, record a hand-over to the prosecutor). A
shop that disables this plugin keeps no coverage log. It imports the feature it wires
and ``hub.sdk``.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.coverage.commands import coverage_command
from hub.coverage.config import CONFIG_SECTIONS
from hub.coverage.register_cli import REGISTER_COMMAND
from hub.sdk import Command, ConfigSection, hookimpl

__all__ = ["register_commands", "register_config_sections"]


@hookimpl
def register_config_sections(register: Callable[[ConfigSection], None]) -> None:
    """Contribute ``coverage:`` to the shop file."""
    for section in CONFIG_SECTIONS:
        register(section)


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    """Add ``ecrin coverage``, ``ecrin report`` and ``ecrin register``."""
    from plugins.coverage.report_cli import report_command

    register(coverage_command())
    register(report_command())
    register(REGISTER_COMMAND)
