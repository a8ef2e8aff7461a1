"""The ``ecrin`` command line.

Each sub-command is a thin shell around a function that takes its streams as arguments,
so the tests run the real code paths without spawning processes (and a few spawn the
real console script too). Exit codes: 0 success, 1 the input is invalid (a config, a
journal), 2 the command could not run (missing file, bad usage).

The core commands are here; plugins add theirs through the ``register_commands`` hook
(``ecrin decode`` from the panels plugin, ``ecrin demo`` from the sim plugin), and
this module imports no plugin.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import re
import sys
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final, TextIO

from hub.app import Hub
from hub.commands import Command, CommandContext
from hub.config import Config, ConfigError, ConfigSection, disabled_plugins, load_config
from hub.descriptors import raise_open_files_limit
from hub.devices import DeviceType
from hub.heap import freeze_startup_objects
from hub.logs import RedactingFilter, configure_logging
from hub.notify import notify
from hub.plugins import PluginManager

log = logging.getLogger(__name__)

__all__ = ["main"]

#: Exit codes, the same for every sub-command (README, "Exit codes").
EXIT_OK: Final = 0
EXIT_INVALID: Final = 1
EXIT_CANNOT_RUN: Final = 2

#: The core's own sub-commands: a plugin cannot register one of these names.
CORE_COMMANDS: Final = frozenset({"run", "check-config", "plugins", "status", "journal", "token"})

DEFAULT_JOURNAL = Path("ecrin-journal.db")


def _plugin_manager(config_path: Path | None) -> PluginManager:
    disabled = disabled_plugins(config_path) if config_path is not None else frozenset()
    return PluginManager.from_environment(disabled=disabled)


def cmd_plugins(out: TextIO) -> int:
    """Print the loaded plugins as JSON: name, version, hooks, essential."""
    manager = _plugin_manager(None)
    catalogue = manager.device_types()
    described = manager.describe()
    for entry in described:
        entry["device_types"] = sorted(
            name
            for name, dt in catalogue.items()
            if getattr(dt.factory, "__module__", "").startswith(entry["module"])
        )
    json.dump(described, out, indent=2)
    out.write("\n")
    return 1 if manager.errors else 0


def cmd_check_config(path: Path, out: TextIO, err: TextIO) -> int:
    """Validate a configuration file and print every problem as FILE:LINE:COLUMN."""
    from hub.config import check_config_main

    manager = _plugin_manager(path)
    for error in manager.errors:
        err.write(f"{error}\n")
    return check_config_main(
        path, manager.device_types(), out, err, sections=manager.config_sections()
    )


_DEVICE_PATH = re.compile(r"^(devices|cameras)\[(\d+)\]")


def config_for_run(
    path: Path,
    catalogue: Mapping[str, DeviceType],
    err: TextIO,
    sections: Iterable[ConfigSection] = (),
) -> Config | None:
    """Load the configuration for running, keeping every device that is fine.

    A shop's hub must not stay down because one device entry is wrong (a plugin not
    installed, a typo in one setting): when every problem lies inside ``devices[i]`` or
    ``cameras[i]`` entries, those entries are left out, each problem is printed as one
    line, and the hub runs the rest. Any other problem (site, zones, contacts, a YAML
    syntax error) stops it: running with a wrong site or ladder would be worse.
    """
    try:
        config = load_config(path, catalogue, sections)
    except ConfigError as exc:
        for warning in exc.warnings:
            err.write(f"{warning}\n")
        bad: dict[str, set[int]] = {"devices": set(), "cameras": set()}
        fatal = False
        for issue in exc.issues:
            match = _DEVICE_PATH.match(issue.key_path)
            if match and issue.file == str(path):
                bad[match.group(1)].add(int(match.group(2)))
            else:
                fatal = True
        for issue in exc.issues:
            err.write(f"{issue}\n")
        partial = exc.partial
        if fatal or not isinstance(partial, Config):
            err.write(f"{path}: not started: fix the problems above\n")
            return None
        skipped = [partial.devices[i].id or f"devices[{i}]" for i in sorted(bad["devices"])]
        skipped += [partial.cameras[i].id or f"cameras[{i}]" for i in sorted(bad["cameras"])]
        err.write(f"{path}: starting without {', '.join(skipped)}; every other part runs\n")
        return dataclasses.replace(
            partial,
            devices=tuple(d for i, d in enumerate(partial.devices) if i not in bad["devices"]),
            cameras=tuple(c for i, c in enumerate(partial.cameras) if i not in bad["cameras"]),
        )
    for warning in config.warnings:
        err.write(f"{warning}\n")
    return config


async def print_escalations(hub: Hub, out: TextIO) -> None:
    """Print the escalation engine's changes, as an installer sees them (``live``)."""
    engine = hub.escalation
    assert engine is not None
    viewer = next((c for c in engine.contacts() if "installer" in c.scopes), None)
    if viewer is None:
        return
    async for change in engine.changes(viewer):
        esc = change.escalation
        when = esc.updated_at.astimezone().strftime("%H:%M:%S")
        out.write(
            f"{when}  ESCALATION {change.what:<12} {esc.kind} at {esc.zone or '?'}, tier"
            f" {esc.tier}, to {', '.join(esc.addressed_to)} ({esc.status})\n"
        )
        out.flush()


async def _run_hub(
    redactor: RedactingFilter,
    config_path: Path,
    duration: float | None,
    journal: Path | None,
    live: bool,
    out: TextIO,
    err: TextIO,
    page_note: str = "",
) -> int:
    from hub.console import EventPrinter

    raise_open_files_limit()
    manager = _plugin_manager(config_path)
    catalogue = manager.device_types()
    config = config_for_run(config_path, catalogue, err, manager.config_sections())
    if config is None:
        return 1
    redactor.update(config.secret_values)
    from hub.escalation.scene import SceneLocked

    hub = Hub(config, manager, catalogue, journal_path=journal, http_port=0 if live else None)
    try:
        with hub.stop_on_signals():
            notify(f"STATUS=starting: journal {hub.journal_path}, engine, devices")
            async with hub:
                watchers: list[asyncio.Task[None]] = []
                if live:
                    printer = EventPrinter(out)
                    hub.bus.subscribe(printer.event_type, printer.handle, name="console")
                    if hub.escalation is not None:
                        watchers.append(asyncio.create_task(print_escalations(hub, out)))
                readiness = await hub.wait_ready()
                frozen = freeze_startup_objects()
                log.debug("garbage collector: %d start-up objects set aside", frozen)
                status = (
                    f"{readiness.running} of {readiness.configured} devices running,"
                    f" journal {hub.journal_path}"
                )
                if hub.broker is not None:  # which broker, never its password
                    status += f", MQTT broker {hub.broker.describe()}"
                if not hub.stop_requested:  # else a signal came during start-up: stop now
                    notify("READY=1", f"STATUS={status}")
                    out.write(f"Écrin running for {config.site.name}: {status}. Ctrl-C to stop.\n")
                    if live and hub.http_url:
                        note = f" ({page_note})" if page_note else ""
                        out.write(f"Referent page: {hub.http_url}/{note}\n")
                    out.flush()
                reason = await hub.run_until_signal(duration)
                notify("STOPPING=1", f"STATUS=stopping: {reason}")
                for task in watchers:
                    task.cancel()
                await asyncio.gather(*watchers, return_exceptions=True)
    except SceneLocked as exc:
        for line in exc.reasons:
            err.write(f"{config_path}: refused while a scene is preserved: {line}\n")
        err.write("release the scene (referent API or page) before changing this\n")
        return 1
    out.write(f"Écrin stopped ({reason}).\n")
    return 0


def cmd_run(
    redactor: RedactingFilter, config_path: Path, duration: float | None, out: TextIO, err: TextIO
) -> int:
    """Run the hub on a configuration until SIGINT/SIGTERM."""
    if not config_path.is_file():
        err.write(f"{config_path}: not started: no such file\n")
        return EXIT_CANNOT_RUN
    return asyncio.run(_run_hub(redactor, config_path, duration, None, False, out, err))


def command_context(redactor: RedactingFilter, out: TextIO, err: TextIO) -> CommandContext:
    """What a plugin's command gets: its streams, and ``ecrin run``'s own way to run
    the hub (``live``: events printed as they come, the HTTP API on a free port)."""

    def run_hub(
        config: Path,
        *,
        duration: float | None = None,
        live: bool = False,
        page_note: str = "",
    ) -> Awaitable[int]:
        return _run_hub(redactor, config, duration, None, live, out, err, page_note)

    return CommandContext(
        out=out,
        err=err,
        stdin=sys.stdin.buffer,
        run_hub=run_hub,
        device_types=lambda: PluginManager.from_environment().device_types(),
        load_config=load_config_for_command,
    )


def load_config_for_command(path: Path) -> Config:
    """Load a shop file for a plugin's command, as ``ecrin status`` does: with the
    device types and sections of the plugins that file leaves enabled.

    Raises:
        ConfigError: every problem of the file.
    """
    manager = _plugin_manager(path)
    return load_config(path, manager.device_types(), manager.config_sections())


def plugin_commands() -> dict[str, Command]:
    """The commands plugins add; a plugin whose registration fails is logged in one
    line (``plugin NAME: register_commands failed: ...``) and the other commands
    still work."""
    return PluginManager.from_environment().commands(reserved=CORE_COMMANDS)


# -- ecrin status (hub.state) -------------------------------------------------------------
def cmd_status(config_path: Path, as_json: bool, out: TextIO, err: TextIO) -> int:
    """Print the shop's state as the configuration's journal leaves it (offline)."""
    from hub.state import status_main

    if not config_path.is_file():
        err.write(f"{config_path}: no such file\n")
        return EXIT_CANNOT_RUN
    try:
        manager = _plugin_manager(config_path)
        config = load_config(config_path, manager.device_types(), manager.config_sections())
    except ConfigError as exc:
        for issue in exc.issues:
            err.write(f"{issue}\n")
        return EXIT_INVALID
    return status_main(
        config.journal.path,
        out,
        err,
        as_json=as_json,
        cameras=[c.id for c in config.cameras],
        zone_maps={d.id: d.zone_map for d in config.devices},
    )


def _logging_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", default="warning", help="debug, info, warning, error")
    parser.add_argument("--log-format", default="text", choices=["text", "json"])


def build_parser(commands: Mapping[str, Command] | None = None) -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs and the tests).

    Args:
        commands: the plugins' commands, added after the core's (none when None).
    """
    parser = argparse.ArgumentParser(
        prog="ecrin", description="Security hub for jewellery and watch shops."
    )
    _logging_arguments(parser)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run the hub on a configuration file")
    p.add_argument("-c", "--config", type=Path, required=True)
    p.add_argument("--duration", type=float, default=None, help="stop after N seconds")

    p = sub.add_parser("check-config", help="validate a configuration file")
    p.add_argument("file", type=Path)

    sub.add_parser("plugins", help="list loaded plugins as JSON")

    p = sub.add_parser("status", help="print the shop's state, as the journal leaves it")
    p.add_argument("-c", "--config", type=Path, required=True)
    p.add_argument("--json", action="store_true", help="one JSON document, as the API gives")

    journal = sub.add_parser("journal", help="inspect the evidence journal")
    jsub = journal.add_subparsers(dest="journal_command", required=True)
    p = jsub.add_parser("verify", help="check the hash chain and its anchor")
    p.add_argument("--db", type=Path, default=DEFAULT_JOURNAL)
    p.add_argument(
        "--anchor",
        type=Path,
        default=None,
        help="the anchor file to compare with (default: the one beside the journal)",
    )
    p = jsub.add_parser("tail", help="show recent events")
    p.add_argument("--db", type=Path, default=DEFAULT_JOURNAL)
    p.add_argument("-n", type=int, default=20)
    p.add_argument("--json", action="store_true")

    token = sub.add_parser("token", help="API tokens for contacts")
    tsub = token.add_subparsers(dest="token_command", required=True)
    p = tsub.add_parser("new", help="print a new bearer token and its token_sha256 line")
    p.add_argument("contact", help="the contact id it is for")

    for name, command in sorted((commands or {}).items()):
        p = sub.add_parser(name, help=command.help, description=command.description or command.help)
        if command.add_arguments is not None:
            command.add_arguments(p)
    return parser


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Entry point of the ``ecrin`` console script."""
    out = out or sys.stdout
    err = err or sys.stderr
    # Logging first, so that a plugin failing while it loads or registers its
    # commands is reported as the user asked (level, format, stream).
    early = argparse.ArgumentParser(add_help=False)
    _logging_arguments(early)
    logging_args, _ = early.parse_known_args(argv)
    redactor = configure_logging(
        level=logging_args.log_level, fmt=logging_args.log_format, stream=err
    )
    commands = plugin_commands()
    args = build_parser(commands).parse_args(argv)
    if args.command == "plugins":
        return cmd_plugins(out)
    if args.command == "check-config":
        return cmd_check_config(args.file, out, err)
    if args.command == "run":
        return cmd_run(redactor, args.config, args.duration, out, err)
    if args.command == "status":
        return cmd_status(args.config, args.json, out, err)
    if args.command == "journal":
        from hub.journal import journal_tail_main, journal_verify_main

        if args.journal_command == "verify":
            return journal_verify_main(args.db, out, err, anchor=args.anchor)
        return journal_tail_main(args.db, args.n, out, err, args.json)
    if args.command == "token":
        from hub.http import token_new_main

        return token_new_main(args.contact, out)
    command = commands.get(args.command)
    if command is not None:
        return command.run(args, command_context(redactor, out, err))
    raise AssertionError(args.command)  # argparse guarantees a known command


if __name__ == "__main__":
    raise SystemExit(main())
