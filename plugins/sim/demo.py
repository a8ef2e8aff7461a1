"""``ecrin demo``: the demo shop, with a DSC PowerSeries (IT-100) simulated on a pty
and two cameras behind a simulated Frigate on the hub's own MQTT broker.

The demo runs the real hub on ``plugins/sim/demo.yaml`` (``config/demo.yaml`` in the
source tree). Its panel device is a real ``dsc-it100`` device reading a real serial
line (a pty); on the other end of that line, this module plays the panel with the
panels plugin's protocol simulator: it arms and disarms the shop, opens the door,
sends a bit of line noise now and then, and every ``interval`` seconds a customer...
presses the hold-up button under the counter.

Its cameras are real ``frigate`` cameras on the hub's embedded broker, which the demo
moves to a free port (as it serves the referent page on one). Frigate itself is played
by the cameras plugin's simulated NVR, which publishes Frigate's topics through a
connection of its own to that broker, with Frigate's last will: the cameras come
online and record, see motion and a person now and then, and one of them drops off and
comes back on a long period. Everything the terminal shows went through the same
transports, decoders, journal, bus and escalation engine as a real shop's signals.

Its firmware bridge is the real bridge firmware (firmware-bridge/), run by the
``micropython`` command with the host's stand-in for the board, its serial line on a
second pty: a customer presses its hold-up button now and then too. Without the
``micropython`` command (or the firmware, which comes with a source checkout), the demo
says so in one line and leaves the bridge out of the shop file.

The simulators come from the catalogue of device types (``DeviceType.simulator`` of
the panel's and the bridge's types, ``DeviceType.broker_simulator`` of each camera
type): the sim
plugin never imports another plugin. The sim plugin adds the command through the
``register_commands`` hook; the hub runs through ``CommandContext.run_hub``, the path
of ``ecrin run``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hub.sdk import (
    Command,
    CommandContext,
    DeviceType,
    PanelSimulator,
    PtyCable,
    SimulatorFactory,
)

__all__ = [
    "DEMO_BRIDGE_PLACEHOLDER",
    "DEMO_BRIDGE_TYPE",
    "DEMO_BROKER",
    "DEMO_BROKER_PORT",
    "DEMO_CONFIG",
    "DEMO_PORT_PLACEHOLDER",
    "DEMO_TOKEN",
    "DemoCameras",
    "copy_private",
    "demo_bridge",
    "demo_cameras",
    "demo_command",
    "demo_panel",
    "run_demo",
    "without_bridge",
]

#: The demo shop's configuration: package data of this plugin, so that an installed
#: hub runs the demo (``config/demo.yaml`` of the source tree links to it).
DEMO_CONFIG = Path(__file__).resolve().parent / "demo.yaml"

#: The ``port`` value in the demo configuration that the demo replaces with its pty.
DEMO_PORT_PLACEHOLDER = "DEMO-PTY"

#: Where the demo configuration puts the embedded broker; the demo moves it to a free
#: port, so that it runs beside a broker already on the machine (or another demo).
DEMO_BROKER_PORT = 18830
DEMO_BROKER = f"embedded: {{host: 127.0.0.1, port: {DEMO_BROKER_PORT}}}"

#: The demo configuration's referent token (its hash is in demo.yaml). Demo only: a
#: real shop's tokens come from `ecrin token new`.
DEMO_TOKEN = "ecrin_demo_token_for_the_demo_shop_only"

#: Panel zone 5 is wired to the hold-up button under the counter in the demo config.
HOLDUP_ZONE = 5
DOOR_ZONE = 1

EXIT_CANNOT_RUN = 2


async def _script(sim: PanelSimulator, interval: float) -> None:
    """The demo's day in the shop, looping forever."""
    await sim.disarmed()
    while True:
        await sim.zone_open(DOOR_ZONE)
        await asyncio.sleep(interval / 4)
        await sim.zone_closed(DOOR_ZONE)
        await asyncio.sleep(interval / 4)
        await sim.garbage(24)  # a noisy line: counted and skipped, never an event
        await asyncio.sleep(interval / 4)
        await sim.zone_alarm(HOLDUP_ZONE)  # the hold-up button: silent
        await asyncio.sleep(min(1.0, interval / 4))
        await sim.zone_restore(HOLDUP_ZONE)
        await asyncio.sleep(interval / 4)


#: The demo shop's panel type (config/demo.yaml): its plugin provides the simulator.
DEMO_PANEL_TYPE = "dsc-it100"

#: The demo shop's firmware bridge: its type, the ``port`` the demo replaces with the
#: bridge's pty, the input its hold-up button is on, and the lines that end its entry.
DEMO_BRIDGE_TYPE = "bridge"
DEMO_BRIDGE_PLACEHOLDER = "DEMO-BRIDGE"
BRIDGE_HOLDUP_INPUT = 0
_BRIDGE_ENTRY = "  - id: demo-bridge\n"
_BRIDGE_END = "  # end of the bridge\n"


def without_bridge(text: str) -> str:
    """The shop file less the bridge's entry (and the comment above it)."""
    start, end = text.find(_BRIDGE_ENTRY), text.find(_BRIDGE_END)
    if start < 0 or end < start:
        return text
    # The entry's own comment lines just above it go with it.
    lines = text[:start].splitlines(keepends=True)
    while lines and lines[-1].lstrip().startswith("#") and lines[-1].startswith("  #"):
        lines.pop()
    return "".join(lines) + text[end + len(_BRIDGE_END) :]


async def _bridge_script(sim: PanelSimulator, interval: float) -> None:
    """Now and then, someone presses the bridge's hold-up button, then lets it go."""
    await asyncio.sleep(interval / 2)
    while True:
        await sim.zone_alarm(BRIDGE_HOLDUP_INPUT)
        await asyncio.sleep(min(1.0, interval / 4))
        await sim.zone_restore(BRIDGE_HOLDUP_INPUT)
        await asyncio.sleep(interval * 3)


@contextlib.asynccontextmanager
async def demo_bridge(
    directory: Path, simulator: SimulatorFactory | None, interval: float = 5.0
) -> AsyncIterator[str]:
    """Run the firmware bridge until the block ends; yields the path the hub opens.

    Raises:
        OSError: the bridge cannot run here (no ``micropython`` command, no firmware,
            no plugin providing it), with the reason in one line.
    """
    if simulator is None:
        raise OSError("no plugin provides the firmware bridge (is the bridge plugin disabled?)")
    cable = PtyCable(directory / "ttyDEMO1")
    try:
        async with simulator(cable) as sim:
            task = asyncio.create_task(_bridge_script(sim, interval), name="demo bridge")
            try:
                yield cable.path
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
    finally:
        cable.close()


@contextlib.asynccontextmanager
async def demo_panel(
    directory: Path, simulator: SimulatorFactory, interval: float = 5.0
) -> AsyncIterator[str]:
    """Run the simulated panel until the block ends; yields the path the hub opens."""
    cable = PtyCable(directory / "ttyDEMO0")
    try:
        async with simulator(cable) as sim:
            task = asyncio.create_task(_script(sim, interval), name="demo panel")
            try:
                yield cable.path
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
    finally:
        cable.close()


class _Tolerant(yaml.SafeLoader):
    """YAML as the demo reads it: tags such as ``!secret`` read as nothing (the hub
    reads the file itself; the demo only looks for its cameras and its broker)."""


_Tolerant.add_multi_constructor("!", lambda _loader, _suffix, _node: None)


@dataclass(frozen=True, slots=True)
class DemoCameras:
    """What the demo plays of a shop file's cameras.

    Attributes:
        host: the broker the cameras' simulators connect to.
        port: its port.
        by_type: the configured cameras (id -> settings) of each camera type.
    """

    host: str
    port: int
    by_type: Mapping[str, Mapping[str, Mapping[str, Any]]]

    @classmethod
    def read(cls, text: str) -> DemoCameras:
        """The cameras and the broker of a shop file (nothing to play when it cannot be
        read: the hub says what is wrong with it)."""
        try:
            document = yaml.load(text, Loader=_Tolerant)  # a safe loader, tags ignored
        except yaml.YAMLError:
            document = None
        if not isinstance(document, dict):
            return cls("127.0.0.1", 1883, {})
        by_type: dict[str, dict[str, Mapping[str, Any]]] = {}
        for entry in document.get("cameras") or ():
            if not isinstance(entry, dict):
                continue
            ident, kind, settings = entry.get("id"), entry.get("type"), entry.get("settings")
            if isinstance(ident, str) and isinstance(kind, str):
                by_type.setdefault(kind, {})[ident] = settings if isinstance(settings, dict) else {}
        mqtt = document.get("mqtt")
        mqtt = mqtt if isinstance(mqtt, dict) else {}
        where = mqtt if mqtt.get("host") else mqtt.get("embedded")
        where = where if isinstance(where, dict) else {}
        host, port = where.get("host"), where.get("port")
        host = host if isinstance(host, str) else "127.0.0.1"
        port = port if isinstance(port, int) else 1883
        if host in ("0.0.0.0", "::"):  # a listening address: connect on loopback
            host = "127.0.0.1"
        return cls(host, port, by_type)


@contextlib.asynccontextmanager
async def demo_cameras(
    cameras: DemoCameras, device_types: Mapping[str, DeviceType], interval: float = 5.0
) -> AsyncIterator[list[str]]:
    """Play the shop's cameras on its broker while the block runs, with the simulator
    each camera type declares (``DeviceType.broker_simulator``); yields the types
    played. A type without one plays its cameras itself (``sim-camera``), or not at all."""
    played: list[str] = []
    async with contextlib.AsyncExitStack() as stack:
        for kind, entries in cameras.by_type.items():
            device_type = device_types.get(kind)
            if device_type is None or device_type.broker_simulator is None:
                continue
            simulator = device_type.broker_simulator(cameras.host, cameras.port, entries, interval)
            await stack.enter_async_context(simulator)
            played.append(kind)
        yield played


def _free_port() -> int:
    """A loopback port nobody listens on now (the embedded broker's)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def copy_private(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target``, readable by this account only (mode 0600, even
    over an earlier copy): ``secrets.yaml`` holds passwords and keys, and a ``--keep``
    directory is made with the umask's permissions."""
    data = source.read_bytes()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        os.fchmod(fd, 0o600)
        file.write(data)


def run_demo(
    ctx: CommandContext, config_path: Path, duration: float | None, keep: Path | None
) -> int:
    """Run the demo shop with simulated devices and print events live.

    The configuration is copied into a directory of its own first: a temporary one,
    removed at exit, so that a demo never resumes yesterday's escalations; or ``keep``,
    kept afterwards, so that the journal can be verified and read once the demo is over
    (run again on the same directory, the demo goes on with the same journal).
    """
    if keep is not None:
        try:
            keep.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            ctx.err.write(f"ecrin demo: cannot use {keep}: {exc.strerror or exc}\n")
            return EXIT_CANNOT_RUN
        return _demo_in(ctx, config_path, duration, keep, kept=True)
    with tempfile.TemporaryDirectory(prefix="ecrin-demo-") as tmp:
        return _demo_in(ctx, config_path, duration, Path(tmp), kept=False)


def _demo_in(
    ctx: CommandContext, config_path: Path, duration: float | None, directory: Path, *, kept: bool
) -> int:
    out, err = ctx.out, ctx.err
    copy = directory / config_path.name
    try:
        text = config_path.read_text(encoding="utf-8")
        secrets = config_path.parent / "secrets.yaml"
        if secrets.exists():
            copy_private(secrets, directory / "secrets.yaml")
    except OSError as exc:
        err.write(f"ecrin demo: cannot read {config_path}: {exc.strerror or exc}\n")
        return EXIT_CANNOT_RUN
    if kept:
        out.write(f"Demo files in {directory} (kept after the demo).\n")
    else:
        out.write(
            f"Demo files in {directory}, removed when the demo stops"
            " (ecrin demo --keep DIR keeps them).\n"
        )

    catalogue = ctx.device_types()
    panel = catalogue.get(DEMO_PANEL_TYPE)
    if panel is None or panel.simulator is None:
        err.write(
            f"ecrin demo: no plugin provides a simulated {DEMO_PANEL_TYPE} panel"
            " (the panels plugin does: is it disabled?)\n"
        )
        return EXIT_CANNOT_RUN
    simulator = panel.simulator
    if DEMO_BROKER in text:
        text = text.replace(
            DEMO_BROKER, DEMO_BROKER.replace(str(DEMO_BROKER_PORT), str(_free_port()))
        )
    cameras = DemoCameras.read(text)

    bridge_type = catalogue.get(DEMO_BRIDGE_TYPE)
    bridge = bridge_type.simulator if bridge_type is not None else None

    async def demo() -> int:
        async with contextlib.AsyncExitStack() as stack:
            port = await stack.enter_async_context(demo_panel(directory, simulator))
            shop = text.replace(DEMO_PORT_PLACEHOLDER, port)
            if DEMO_BRIDGE_PLACEHOLDER in shop:
                try:
                    line = await stack.enter_async_context(demo_bridge(directory, bridge))
                except OSError as exc:
                    out.write(f"Firmware bridge left out of the demo: {exc}.\n")
                    shop = without_bridge(shop)
                else:
                    shop = shop.replace(DEMO_BRIDGE_PLACEHOLDER, line)
            await stack.enter_async_context(demo_cameras(cameras, catalogue))
            copy.write_text(shop, encoding="utf-8")
            return await ctx.run_hub(
                copy, duration=duration, live=True, page_note=f"demo token: {DEMO_TOKEN}"
            )

    code = asyncio.run(demo())
    if kept:
        journal = directory / "ecrin-journal.db"
        out.write(f"Check the demo's journal: ecrin journal verify --db {journal}\n")
    return code


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path, default=DEMO_CONFIG)
    parser.add_argument("--duration", type=float, default=None, help="stop after N seconds")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the demo's configuration, journal and outbox in DIR (default: a"
        " temporary directory removed at exit)",
    )


def _run(args: argparse.Namespace, ctx: CommandContext) -> int:
    return run_demo(ctx, args.config, args.duration, args.keep)


def demo_command() -> Command:
    """``ecrin demo [-c FILE] [--duration N] [--keep DIR]``, for ``register_commands``."""
    return Command(
        name="demo",
        help="run a demo shop with simulated devices",
        add_arguments=_add_arguments,
        run=_run,
    )
