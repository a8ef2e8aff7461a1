"""Firmware bridge: a hold-up input driven in the firmware's pin stand-in to the webhook.

A real hub process (``python -m hub.cli run -c FILE``) runs a shop with two devices:

* ``pont``, a ``bridge`` device whose board is the real firmware (firmware-bridge/)
  on the MicroPython unix port (``plugins.bridge.board.FirmwareBoard``): its UART on a
  pseudo-terminal relayed to the hub's, its pins driven through the host ``machine``
  stand-in's standard input;
* ``panel``, a DSC IT-100 simulated on a pseudo-terminal, as in ``bench.holdup_latency``.

The two are pressed in turn, one hold-up at a time, 1,000 each: the IT-100 figure of
the same run, same hub, same disk, is beside the bridge's. A bridge hold-up's latency
runs from just before the ``pin`` command is written to the firmware's standard input
to the entry of the webhook receiver's handler (one clock, this process). Between the
two: the stand-in sets the pin; the firmware's loop reads it and debounces it (the
board's own 30 ms, boards/pico.json: a real button's bounce is part of the path),
frames the ``HOLDUP`` and writes it; the relay copies it to the hub's pty; the hub
decodes it, acknowledges it, journals it, escalates it and POSTs the signed webhook.
The button is released once its webhook is in, and the release is awaited before the
next press. Every hold-up is its own escalation (``fold_window: 0``).

Then the firmware's main loop alone, on the host: ``micropython main.py --turns
100000`` runs 100,000 turns with the heap locked (any allocation would fail at once),
and prints the heap in use before and after and the mean period of a turn, flat out
(``BRIDGE_IDLE_MS=0``: no wait for a pin command, so the figure is the loop's own cost
on this machine's CPU, not a board's).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import tty
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from bench.common import percentile, report
from bench.holdup_latency import GAP, SECRET, TIMEOUT, WARMUP, _Receiver, start_hub, stop_hub
from hub.testing.mosquitto import free_port
from hub.transports.pty import PtyCable
from plugins.bridge.board import FirmwareBoard, find_firmware, find_micropython
from plugins.panels.dsc_it100 import encode_it100
from plugins.panels.simulators import It100Simulator

#: Hold-ups measured on each device (after the warm-up ones).
PRESSES = 1000
#: Loop turns of the heap and period measurement.
TURNS = 100_000
HOLDUP_INPUT = 0
PANEL_ZONE = 5

CONFIG = """\
site:
  name: Bijouterie du banc d'essai
  address: 1 rue du Commerce, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {{id: comptoir, name: Comptoir, risk: high}}
  - {{id: coffre, name: Coffre, risk: high}}
devices:
  - id: pont
    type: bridge
    settings:
      port: "{bridge}"
      inputs: {{0: holdup}}
    zones:
      0: {{zone: comptoir, type: holdup}}
  - id: panel
    type: dsc-it100
    settings: {{port: "{panel}", poll_interval: 0}}
    zones:
      {zone}: {{zone: coffre, type: holdup}}
contacts:
  - id: referent-37
    name: Référent sûreté
    role: local_referent
    scopes: [referent]
    webhook: {{url: "{url}", secret: !secret referent}}
escalation:
  ladder: [{{contacts: [referent-37], ack_deadline: 3600}}]
  fold_window: 0
http: {{port: {http_port}}}
journal: {{path: journal.db}}
"""


def _zone_of(body: bytes) -> str:
    found = re.search(rb'"zone":\{"id":"(\w+)"', body)
    return found.group(1).decode() if found else ""


async def _press(
    receiver: _Receiver, press: Any, zone: str, latencies: list[float], measured: bool
) -> bool:
    """One hold-up; False when its webhook did not come (or named another zone)."""
    expected = len(receiver.hits) + 1
    sent_at = time.perf_counter()
    await press()
    if not await receiver.wait_count(expected, TIMEOUT):
        return False
    hit = receiver.hits[expected - 1]
    if hit.event != "escalation.created" or _zone_of(hit.body) != zone:
        return False
    if measured:
        latencies.append((hit.at - sent_at) * 1000)
    return True


async def measure_holdups(presses: int = PRESSES) -> dict[str, Any]:
    """The hub process with the firmware bridge and an IT-100; ``presses`` each."""
    rng = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="ecrin-bench-bridge-") as tmp:
        directory = Path(tmp)
        bridge_cable = PtyCable(directory / "ttyBRIDGE")
        panel_cable = PtyCable(directory / "ttyPANEL")
        async with AsyncExitStack() as stack:
            receiver = await stack.enter_async_context(_Receiver())
            board = await stack.enter_async_context(
                FirmwareBoard(bridge_cable, directory / "board")
            )
            panel = await stack.enter_async_context(It100Simulator(panel_cable))
            http_port = free_port()
            config = directory / "shop.yaml"
            config.write_text(
                CONFIG.format(
                    bridge=bridge_cable.path,
                    panel=panel_cable.path,
                    zone=PANEL_ZONE,
                    url=receiver.url,
                    http_port=http_port,
                ),
                encoding="utf-8",
            )
            (directory / "secrets.yaml").write_text(f"referent: {SECRET}\n", encoding="utf-8")
            hub = await start_hub(config, directory / "hub.log")
            bridge_ms: list[float] = []
            panel_ms: list[float] = []
            lost = {"bridge": 0, "it100": 0}
            try:
                await panel.wait_command("001", timeout=30)

                async def press_bridge() -> None:
                    await board.press(HOLDUP_INPUT)

                async def press_panel() -> None:
                    await panel.send(encode_it100("601", f"1{PANEL_ZONE:03d}"))

                for i in range(WARMUP + presses):
                    measured = i >= WARMUP
                    if not await _press(receiver, press_bridge, "comptoir", bridge_ms, measured):
                        lost["bridge"] += 1
                    await board.release(HOLDUP_INPUT)
                    await asyncio.sleep(rng.uniform(*GAP))  # the release, debounced, is sent
                    if not await _press(receiver, press_panel, "coffre", panel_ms, measured):
                        lost["it100"] += 1
                    await asyncio.sleep(rng.uniform(*GAP))
            finally:
                await stop_hub(hub)
            verified = sum(1 for h in receiver.hits if h.verified)
            received = len(receiver.hits)
            by_event = Counter(h.event for h in receiver.hits)
        bridge_cable.close()
        panel_cable.close()
    return {
        "presses": presses,
        "warmup": WARMUP,
        "lost": lost,
        "webhooks_received": received,
        "signatures_valid": verified,
        "webhooks_by_event": dict(by_event),
        "bridge_ms": _figures(bridge_ms),
        "it100_ms": _figures(panel_ms),
    }


def _figures(values: list[float]) -> dict[str, float]:
    return {
        "measured": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": max(values) if values else float("nan"),
    }


def measure_loop(turns: int = TURNS) -> dict[str, Any]:
    """The firmware's main loop on the host: heap before and after, mean period."""
    micropython = find_micropython()
    if micropython is None or find_firmware() is None:
        raise SystemExit("the micropython command or the firmware is missing")
    with tempfile.TemporaryDirectory(prefix="ecrin-bench-loop-") as tmp:
        directory = Path(tmp)
        cable = PtyCable(directory / "unused")
        board = FirmwareBoard(cable, directory / "board")
        board.stage()
        cable.close()
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        try:
            env = dict(
                os.environ,
                MICROPYPATH=str(board.directory),
                BRIDGE_UART=os.ttyname(slave),
                BRIDGE_IDLE_MS="0",
            )
            proc = subprocess.run(
                [micropython, "main.py", "--turns", str(turns)],
                cwd=board.directory,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        finally:
            os.close(master)
            os.close(slave)
    found = re.search(
        r"turns (\d+) heap_before (\d+) heap_after (\d+) period_us (\d+)", proc.stdout
    )
    if proc.returncode != 0 or found is None:
        raise SystemExit(f"the firmware's loop measurement failed:\n{proc.stdout}{proc.stderr}")
    done, before, after, period = (int(g) for g in found.groups())
    return {"turns": done, "heap_before": before, "heap_after": after, "period_us": period}


def rows(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The result table."""
    bridge, it100, loop = data["bridge_ms"], data["it100_ms"], data["loop"]
    return [
        ("hold-ups measured (bridge / IT-100)", f"{bridge['measured']} / {it100['measured']}", ""),
        (
            "lost (bridge / IT-100)",
            f"{data['lost']['bridge']} / {data['lost']['it100']}",
            "0 / 0",
        ),
        (
            "signatures valid",
            f"{data['signatures_valid']:,}/{data['webhooks_received']:,}",
            "all",
        ),
        ("bridge latency p50 (30 ms debounce)", f"{bridge['p50']:.2f} ms", ""),
        ("bridge latency p99 (30 ms debounce)", f"{bridge['p99']:.2f} ms", ""),
        ("bridge latency max", f"{bridge['max']:.2f} ms", ""),
        ("IT-100 latency p50", f"{it100['p50']:.2f} ms", ""),
        ("IT-100 latency p99", f"{it100['p99']:.2f} ms", "< 15 ms"),
        ("firmware loop turns", f"{loop['turns']:,}", ""),
        ("firmware loop period (host)", f"{loop['period_us']} µs", ""),
        (
            "firmware heap before / after",
            f"{loop['heap_before']:,} / {loop['heap_after']:,} B",
            "flat",
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    """Run the firmware bridge benchmark."""
    parser = argparse.ArgumentParser(prog="python -m bench.bridge")
    parser.add_argument(
        "--presses", type=int, default=PRESSES, help=f"hold-ups on each device ({PRESSES})"
    )
    parser.add_argument("--turns", type=int, default=TURNS, help=f"loop turns ({TURNS:,})")
    args = parser.parse_args(argv if argv is not None else [])
    data = asyncio.run(measure_holdups(args.presses))
    data["loop"] = measure_loop(args.turns)
    report("bridge", rows(data), data)


if __name__ == "__main__":
    main(sys.argv[1:])
