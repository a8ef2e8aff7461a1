"""Sub-commands that plugins add to ``ecrin`` (the ``register_commands`` hook).

As in datasette and llm, the core command line imports no plugin: a plugin declares a
``Command`` (a name, a help line, how to add its arguments to an argparse parser, and
what to run), and the core adds it beside its own commands. The command gets a
``CommandContext``: its streams, and the few things of the hub a command may need
(running the hub on a configuration, for ``ecrin demo``; loading a shop file with
every plugin's sections, for ``ecrin coverage``), so that it reaches nothing else of
the core.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol, TextIO

from hub.config import Config
from hub.devices import DeviceType

__all__ = ["Command", "CommandContext", "ConfigReader", "HubRunner"]


class HubRunner(Protocol):
    """Run the hub on a configuration file until it stops (``ecrin run``'s own path)."""

    def __call__(
        self,
        config: Path,
        *,
        duration: float | None = None,
        live: bool = False,
        page_note: str = "",
    ) -> Awaitable[int]:
        """Run the hub; returns the command's exit code.

        Args:
            config: the shop file.
            duration: stop after that many seconds (None: on SIGINT/SIGTERM).
            live: print every event and escalation change as it happens, and serve
                the HTTP API on a free loopback port (what a demo shows).
            page_note: a note printed after the referent page's address (``live``).
        """
        ...


def _no_config(path: Path) -> Config | None:
    raise RuntimeError("this command context reads no configuration")


class ConfigReader(Protocol):
    """Load a shop file as ``ecrin check-config`` would, with every loaded plugin's
    device types and sections."""

    def __call__(self, path: Path) -> Config | None:
        """The configuration; None when it has problems, each already printed as
        ``FILE:LINE:COLUMN: key: reason`` on the command's ``err`` (exit 1). The caller
        checks first that the file exists (exit 2 when not)."""
        ...


@dataclass(frozen=True, slots=True)
class CommandContext:
    """What a plugin's command is given when it runs.

    Attributes:
        out: where its output goes.
        err: where its diagnostics go.
        stdin: the standard input, in bytes.
        run_hub: runs the hub on a configuration (awaited inside ``asyncio.run``).
        device_types: the catalogue of device types every loaded plugin declared (a
            command finds another plugin's simulator there, never by importing it).
        load_config: reads a shop file with every loaded plugin's sections (a
            command that reports on a shop reads its file the way the hub does).
        keep_recordings: asks the camera plugins to keep a window of a camera's
            recordings (the ``keep_recordings`` hook, through the command line's
            plugin manager): camera, start, end, and what it is kept for.
    """

    out: TextIO
    err: TextIO
    stdin: BinaryIO
    run_hub: HubRunner
    device_types: Callable[[], Mapping[str, DeviceType]] = dict
    load_config: ConfigReader = _no_config
    keep_recordings: Callable[[str, datetime, datetime, str], None] | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """An ``ecrin`` sub-command contributed by a plugin.

    Attributes:
        name: the sub-command, e.g. ``"decode"``; must not clash with another command.
        help: one line for ``ecrin --help``.
        run: runs the command with the parsed arguments; returns its exit code (0 ok,
            1 invalid input, 2 could not run).
        add_arguments: adds the command's arguments to its parser.
        description: a longer text for ``ecrin NAME --help``.
    """

    name: str
    help: str
    run: Callable[[argparse.Namespace, CommandContext], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
    description: str = ""
