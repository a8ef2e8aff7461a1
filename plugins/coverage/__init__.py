"""The coverage plugin: wires the video-surveillance coverage feature (``hub.coverage``)
into the hub.

It contributes the feature's commands through ``register_commands``: ``ecrin report
coverage`` (each zone's coverage, its gaps and risk exposure, for the authorisation
file) and ``ecrin register`` (the register of recordings the law asks for: show,
export, record a hand-over to the prosecutor). The feature's code lives in
``hub.coverage``; this module only declares it. It imports the feature it wires and
``hub.sdk``.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.coverage.register_cli import REGISTER_COMMAND
from hub.sdk import Command, hookimpl

__all__ = ["register_commands"]


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    """Add ``ecrin report`` and ``ecrin register``."""
    from plugins.coverage.report_cli import report_command

    register(report_command())
    register(REGISTER_COMMAND)
