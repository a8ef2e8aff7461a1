"""The coverage plugin: the video-surveillance coverage feature's commands.

It adds ``ecrin report coverage`` (``plugins.coverage.report_cli``): the coverage of
each zone, its gaps and the risk exposure, for the authorisation file. It imports the
feature it wires, ``hub.coverage``, and ``hub.sdk``.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.sdk import Command, hookimpl

__all__ = ["register_commands"]


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    """Add ``ecrin report``."""
    from plugins.coverage.report_cli import report_command

    register(report_command())
