"""Hold-up latency: from the panel's frame on the serial line to the signed webhook.

A real hub process (``python -m hub.cli run -c FILE``) runs a shop with two DSC IT-100
panels, each on a pseudo-terminal held by an ``It100Simulator`` in this process:

* ``panel`` has eight zones wired to hold-up buttons; the benchmark presses them one
  after the other, one hold-up at a time;
* ``traffic`` reports zones opening and closing at ``ORDINARY_RATE`` frames per second,
  which the hub decodes, journals and publishes like any ordinary event: the hold-ups
  share the decoder loop, the recorder's journal batches and the bus with it.

The default load, 1,000 ordinary frames a second, is ten IT-100 serial lines at their
full rate (96 frames/s each at 9,600 baud): more than a shop's panels and cameras send
together, with room to spare. ``--ordinary-rate 3000`` is the stress load of the
earlier measurements; ``docs/benchmarks.md`` records both.

The latency of one hold-up is the time from just before its frame is written on the
pty (simulator side) to the entry of the webhook receiver's handler (an aiohttp server
on loopback in this process, so both timestamps come from one clock). Between the two:
the hub reads and decodes the frame, journals it (``synchronous=FULL``), publishes it,
the escalation engine opens an escalation and writes it with its delivery and the
first attempt to the outbox (``synchronous=FULL``), then POSTs the signed webhook.

Every hold-up is a separate escalation: the configuration sets ``fold_window: 0``, so a
repeat is never folded into an open incident (folding would only measure a cheaper
path, and a shop that wants every press to reach the police as its own incident sets
exactly that). The zones rotate only so that each webhook can be matched to its press.
A hold-up is pressed once the previous one's webhook has arrived, after a random
50-80 ms, so each figure is one hold-up's latency under ordinary load: not a queue of
hold-ups, and not the previous one's follow-up writes (the attempt's outcome, the
journal seal and the scene record, a few milliseconds after its webhook).

The files live in a temporary directory on the machine's disk (not a RAM disk), so the
two ``fsync`` per hold-up are real. Goal: p99 under 15 ms.

Two options add the rest of a large shop around the same measurement (``bench.mqtt``
runs them, with and without, alternately):

* ``--panels N`` adds idle IT-100 panels (answering the hub's polls, reporting
  nothing) up to N panels in all;
* ``--cameras N`` adds N Frigate cameras, each covering one of the hold-up zones (so
  every escalation carries its cameras' availability), and starts a Mosquitto on a
  free loopback port and a Frigate publisher (``bench.mqtt_clients``, a process of its
  own) that puts every camera online, then publishes motion and tracked objects at
  ``--camera-rate`` messages a second in all while the hold-ups are measured.

The hub's resident memory (``VmRSS``, and its peak ``VmHWM``) is read from ``/proc``
once the warm-up hold-ups are through, and again after the last one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.common import journal_types, percentile, process_memory, read_only, report
from bench.mqtt_clients import ClientProcess, camera_entries
from hub.escalation.webhooks import EVENT_HEADER, SIGNATURE_HEADER, verify_signature
from hub.testing.mosquitto import Mosquitto, free_port
from hub.transports.pty import PtyCable
from plugins.panels.dsc_it100 import encode_it100
from plugins.panels.simulators import It100Simulator

ROOT = Path(__file__).resolve().parent.parent

#: Hold-ups measured (after the warm-up ones, which open the connections).
SIGNALS = 1000
WARMUP = 20
#: Zones wired to hold-up buttons on the measured panel.
HOLDUP_ZONES = 8
#: Ordinary frames per second from the second panel, written in bursts (see above).
ORDINARY_RATE = 1000
BURST_PERIOD = 0.002
#: Seconds between a webhook's arrival and the next press (uniform).
GAP = (0.05, 0.08)
#: A hold-up whose webhook has not arrived by then is counted as lost.
TIMEOUT = 5.0
SECRET = "bench-webhook-secret-0123456789"
#: Panels in the shop by default: the measured one and the traffic.
PANELS = 2
#: Camera messages a second in all, with ``--cameras`` (see ``bench.mqtt``).
CAMERA_RATE = 200.0
#: The events of each camera when Frigate connects: online, recording, no motion.
SETUP_EVENTS = ("CameraAvailability", "CameraRecording", "CameraMotion")

CONFIG = """\
site:
  name: Bijouterie du banc d'essai
  address: 1 rue du Commerce, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
{zones}
devices:
  - id: panel
    type: dsc-it100
    settings: {{port: "{panel}"}}
    zones:
{zone_map}
  - id: traffic
    type: dsc-it100
    settings: {{port: "{traffic}"}}
{idle_panels}{cameras}contacts:
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


@dataclass(slots=True)
class _Hit:
    at: float
    event: str
    body: bytes
    verified: bool


class _Receiver:
    """The referent's webhook endpoint: the arrival time is taken on entry."""

    def __init__(self) -> None:
        self.hits: list[_Hit] = []
        self.arrived = asyncio.Event()
        self.port = free_port()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: web.Request) -> web.Response:
        at = time.perf_counter()
        body = await request.read()
        header = request.headers.get(SIGNATURE_HEADER, "")
        self.hits.append(
            _Hit(
                at,
                request.headers.get(EVENT_HEADER, ""),
                body,
                verify_signature(SECRET, header, body, time.time()),
            )
        )
        self.arrived.set()
        return web.Response(status=204)

    async def __aenter__(self) -> _Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_count(self, n: int, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while len(self.hits) < n:
                    self.arrived.clear()
                    await self.arrived.wait()
        return len(self.hits) >= n


async def _ordinary_traffic(panel: It100Simulator, stop: asyncio.Event, rate: float) -> int:
    """Zone open/closed frames at ``rate`` per second, in bursts; returns frames sent."""
    frames = [
        encode_it100("609" if i % 2 == 0 else "610", f"{(i // 2) % 64 + 1:03d}") for i in range(256)
    ]
    loop = asyncio.get_running_loop()
    start = loop.time()
    sent = 0
    while not stop.is_set():
        due = int((loop.time() - start) * rate)
        if due > sent:
            burst = b"".join(frames[(sent + k) % len(frames)] for k in range(due - sent))
            await panel.send(burst)
            sent = due
        await asyncio.sleep(BURST_PERIOD)
    return sent


async def start_hub(config: Path, log_path: Path) -> asyncio.subprocess.Process:
    """``ecrin run -c config`` in a process of its own, its output into ``log_path``
    (none of the caller's ``ECRIN_`` variables reach it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECRIN_")}
    profile = os.environ.get("BENCH_PROFILE")
    prefix = ("-m", "cProfile", "-o", profile) if profile else ()
    with log_path.open("wb") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            *prefix,
            *("-m", "hub.cli", "run", "-c", str(config)),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )


async def stop_hub(hub: asyncio.subprocess.Process) -> None:
    """Stop the hub as its service manager does (SIGTERM), killed after 30 s."""
    if hub.returncode is not None:
        return
    hub.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(hub.wait(), 30)
    except TimeoutError:
        hub.kill()
        await hub.wait()


def _write_config(
    directory: Path,
    panel: str,
    traffic: str,
    url: str,
    idle: list[str],
    cameras: int,
    broker: Mosquitto | None,
) -> tuple[Path, str]:
    """The shop's configuration and secrets in ``directory``; returns the file and the
    hub's HTTP address."""
    http_port = free_port()
    zones = "\n".join(
        f"  - {{id: z{n}, name: Bouton {n}, risk: high}}" for n in range(1, HOLDUP_ZONES + 1)
    )
    zone_map = "\n".join(
        f"      {n}: {{zone: z{n}, type: holdup}}" for n in range(1, HOLDUP_ZONES + 1)
    )
    idle_panels = "".join(
        f'  - {{id: panel-{n}, type: dsc-it100, settings: {{port: "{port}"}}}}\n'
        for n, port in enumerate(idle, start=3)
    )
    camera_section = ""
    if cameras and broker is not None:
        holdup_zones = [f"z{n}" for n in range(1, HOLDUP_ZONES + 1)]
        camera_section = (
            f"cameras:\n{camera_entries(cameras, holdup_zones)}\n"
            f'mqtt: {{host: "{broker.host}", port: {broker.port}, client_id: ecrin-bench}}\n'
        )
    path = directory / "shop.yaml"
    path.write_text(
        CONFIG.format(
            zones=zones,
            zone_map=zone_map,
            panel=panel,
            traffic=traffic,
            idle_panels=idle_panels,
            cameras=camera_section,
            url=url,
            http_port=http_port,
        ),
        encoding="utf-8",
    )
    (directory / "secrets.yaml").write_text(f"referent: {SECRET}\n", encoding="utf-8")
    return path, f"http://127.0.0.1:{http_port}"


def _counts(directory: Path) -> tuple[dict[str, int], int]:
    """Journal rows by event type, and escalations in the outbox."""
    by_type = journal_types(directory / "journal.db")
    with read_only(directory / "ecrin-outbox.db") as conn:
        escalations = int(conn.execute("SELECT count(*) FROM escalations").fetchone()[0])
    return by_type, escalations


async def wait_healthy(url: str, timeout: float = 60) -> None:
    """Wait until the hub at ``url`` says it is ready (every device opened once, so
    every camera subscribed) and connected to its broker."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(timeout):
        while True:
            with contextlib.suppress(aiohttp.ClientError, ValueError):
                async with http.get(f"{url}/healthz") as response:
                    body = await response.json()
                    if body.get("ready") and body.get("broker", {}).get("connected"):
                        return
            await asyncio.sleep(0.1)


async def wait_journaled(path: Path, wanted: dict[str, int], timeout: float = 60) -> None:
    """Wait until a hub's journal holds at least ``wanted`` rows of each event type.

    Raises:
        TimeoutError: not in time.
    """
    async with asyncio.timeout(timeout):
        while True:
            with contextlib.suppress(sqlite3.Error):
                have = journal_types(path)
                if all(have.get(kind, 0) >= n for kind, n in wanted.items()):
                    return
            await asyncio.sleep(0.05)


def _complaints(log_path: Path, keep: int = 20) -> list[str]:
    """The hub's last warnings and errors (its log goes with the run's directory)."""
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if "level=warning" in line or "level=error" in line][-keep:]


def _camera_rows(path: Path) -> int:
    return sum(n for kind, n in journal_types(path).items() if kind.startswith("Camera"))


async def _wait_camera_rows(path: Path, expected: int, timeout: float = 10) -> int:
    """Wait (``timeout`` at most) until the journal holds ``expected`` camera events;
    returns how many it holds."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while _camera_rows(path) < expected:
                await asyncio.sleep(0.05)
    return _camera_rows(path)


async def _start_cameras(
    stack: AsyncExitStack, directory: Path, cameras: int
) -> tuple[Mosquitto, ClientProcess]:
    """A Mosquitto for the run, and the Frigate publisher of ``cameras`` cameras (QoS 0,
    Frigate's default; its load repeats motion and tracked objects)."""
    broker = Mosquitto(directory / "broker", persistence=False)
    broker.start()
    stack.callback(broker.stop)
    publisher = await ClientProcess.start(
        "publish", broker.host, str(broker.port), "--cameras", str(cameras), "--rounds", "2"
    )
    stack.push_async_callback(publisher.close)
    await publisher.read()
    return broker, publisher


async def measure(
    signals: int = SIGNALS,
    ordinary_rate: float = ORDINARY_RATE,
    *,
    panels: int = PANELS,
    cameras: int = 0,
    camera_rate: float = CAMERA_RATE,
) -> dict[str, Any]:
    """Run the hub process, press ``signals`` hold-ups under ordinary load, measure.

    Args:
        signals: hold-ups measured, after ``WARMUP`` ones.
        ordinary_rate: zone frames a second from the traffic panel.
        panels: panels in the shop, at least the measured one and the traffic; the
            others are idle.
        cameras: Frigate cameras, publishing through a Mosquitto of the run.
        camera_rate: camera messages a second in all while the hold-ups are measured.
    """
    rng = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="ecrin-bench-") as tmp:
        directory = Path(tmp)
        panel_cable = PtyCable(directory / "ttyPANEL")
        traffic_cable = PtyCable(directory / "ttyTRAFFIC")
        idle_cables = [PtyCable(directory / f"ttyIDLE{n}") for n in range(panels - PANELS)]
        log_path = directory / "hub.log"
        journal = directory / "journal.db"
        camera_messages = camera_events = 0
        async with AsyncExitStack() as stack:
            receiver = await stack.enter_async_context(_Receiver())
            panel = await stack.enter_async_context(It100Simulator(panel_cable))
            traffic = await stack.enter_async_context(It100Simulator(traffic_cable))
            idle = [await stack.enter_async_context(It100Simulator(c)) for c in idle_cables]
            broker: Mosquitto | None = None
            publisher: ClientProcess | None = None
            if cameras:
                broker, publisher = await _start_cameras(stack, directory, cameras)
            config, url = _write_config(
                directory,
                panel_cable.path,
                traffic_cable.path,
                receiver.url,
                [c.path for c in idle_cables],
                cameras,
                broker,
            )
            hub = await start_hub(config, log_path)
            stop = asyncio.Event()
            load: asyncio.Task[int] | None = None
            try:
                # The hub asks each panel for its status once it has opened the port.
                for simulator in (panel, traffic, *idle):
                    await simulator.wait_command("001", timeout=30)
                if publisher is not None:
                    # Every camera subscribed, then online, before anything is measured.
                    await wait_healthy(url)
                    await publisher.send("setup")
                    await publisher.read()
                    await wait_journaled(journal, dict.fromkeys(SETUP_EVENTS, cameras))
                    camera_events = _camera_rows(journal)
                    await publisher.send(f"pace {camera_rate}")
                load = asyncio.create_task(_ordinary_traffic(traffic, stop, ordinary_rate))
                load_started = time.perf_counter()
                latencies: list[float] = []
                lost = wrong = 0
                memory_warm: dict[str, int] = {}
                for i in range(WARMUP + signals):
                    if i == WARMUP:
                        memory_warm = process_memory(hub.pid)
                    zone = i % HOLDUP_ZONES + 1
                    frame = encode_it100("601", f"1{zone:03d}")
                    expected = len(receiver.hits) + 1
                    sent_at = time.perf_counter()
                    await panel.send(frame)
                    if not await receiver.wait_count(expected, TIMEOUT):
                        lost += 1
                        continue
                    hit = receiver.hits[expected - 1]
                    zone_id = f'"id":"z{zone}"'
                    if hit.event != "escalation.created" or zone_id not in hit.body.decode():
                        wrong += 1
                    if i >= WARMUP:
                        latencies.append((hit.at - sent_at) * 1000)
                    await asyncio.sleep(rng.uniform(*GAP))
                stop.set()
                frames = await load
                elapsed = time.perf_counter() - load_started
                if publisher is not None:
                    await publisher.send("stop")
                    camera_messages = int((await publisher.read())["paced"])
                    # Each message is an event.
                    setup_events = camera_events
                    camera_events = (
                        await _wait_camera_rows(journal, setup_events + camera_messages)
                        - setup_events
                    )
                memory_loaded = process_memory(hub.pid)
            finally:
                stop.set()
                if load is not None:
                    await asyncio.gather(load, return_exceptions=True)
                await stop_hub(hub)
            verified = sum(1 for h in receiver.hits if h.verified)
            received = len(receiver.hits)
            webhook_events = Counter(h.event for h in receiver.hits)
        for cable in (panel_cable, traffic_cable, *idle_cables):
            cable.close()
        by_type, escalations = _counts(directory)
        complaints = _complaints(log_path)
    return {
        "signals": signals,
        "warmup": WARMUP,
        "measured": len(latencies),
        "lost": lost,
        "mismatched": wrong,
        "webhooks_received": received,
        "webhooks_by_event": dict(webhook_events),
        "signatures_valid": verified,
        "escalations_in_outbox": escalations,
        "ordinary_frames_sent": frames,
        "ordinary_rate_sent": frames / elapsed,
        "ordinary_journaled": by_type.get("ZoneActivity", 0),
        "panels": panels,
        "cameras": cameras,
        "camera_messages_sent": camera_messages,
        "camera_rate_sent": camera_messages / elapsed,
        "camera_events_journaled": camera_events,
        "camera_messages_lost": max(0, camera_messages - camera_events),
        "journal_rows_by_type": by_type,
        "hub_warnings": complaints,
        "memory_kb_after_warmup": memory_warm,
        "memory_kb_after_load": memory_loaded,
        "p50_ms": percentile(latencies, 50),
        "p90_ms": percentile(latencies, 90),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies) if latencies else float("nan"),
    }


def rows(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The result table of one run."""
    table = [
        ("hold-ups measured (separate escalations)", f"{data['measured']:,}", ">= 1,000"),
        ("lost / mismatched", f"{data['lost']} / {data['mismatched']}", "0 / 0"),
        (
            "signatures valid",
            f"{data['signatures_valid']:,}/{data['webhooks_received']:,}",
            "all",
        ),
        ("escalations in the outbox", f"{data['escalations_in_outbox']:,}", "one per hold-up"),
        ("ordinary load sent", f"{data['ordinary_rate_sent']:,.0f} ev/s", ""),
        ("ordinary events journaled", f"{data['ordinary_journaled']:,}", ""),
    ]
    if data["cameras"]:
        table += [
            ("cameras / panels", f"{data['cameras']} / {data['panels']}", ""),
            ("camera messages sent", f"{data['camera_rate_sent']:,.0f} msg/s", ""),
            ("camera events journaled", f"{data['camera_events_journaled']:,}", ""),
            ("camera messages lost", f"{data['camera_messages_lost']:,}", "0"),
        ]
    table += [
        ("latency p50", f"{data['p50_ms']:.2f} ms", ""),
        ("latency p90", f"{data['p90_ms']:.2f} ms", ""),
        ("latency p99", f"{data['p99_ms']:.2f} ms", "< 15 ms"),
        ("latency max", f"{data['max_ms']:.2f} ms", ""),
    ]
    return table


def main(argv: list[str] | None = None) -> None:
    """Run the hold-up latency benchmark (options: another load, more panels, cameras)."""
    parser = argparse.ArgumentParser(prog="python -m bench.holdup_latency")
    parser.add_argument(
        "--ordinary-rate",
        type=float,
        default=ORDINARY_RATE,
        help=f"ordinary frames per second beside the hold-ups (default {ORDINARY_RATE})",
    )
    parser.add_argument(
        "--signals", type=int, default=SIGNALS, help=f"hold-ups measured (default {SIGNALS})"
    )
    parser.add_argument(
        "--panels",
        type=int,
        default=PANELS,
        help=f"panels in the shop, the extra ones idle (default {PANELS})",
    )
    parser.add_argument(
        "--cameras", type=int, default=0, help="Frigate cameras publishing through a Mosquitto"
    )
    parser.add_argument(
        "--camera-rate",
        type=float,
        default=CAMERA_RATE,
        help=f"camera messages per second in all (default {CAMERA_RATE:g})",
    )
    args = parser.parse_args(argv if argv is not None else [])
    if args.panels < PANELS:
        parser.error(f"--panels: at least {PANELS} (the measured panel and the traffic)")
    data = asyncio.run(
        measure(
            args.signals,
            args.ordinary_rate,
            panels=args.panels,
            cameras=args.cameras,
            camera_rate=args.camera_rate,
        )
    )
    name = "holdup_latency"
    if args.ordinary_rate != ORDINARY_RATE:
        name += f"-{args.ordinary_rate:g}"
    if args.cameras:
        name += f"-{args.cameras}cameras"
    report(name, rows(data), data)


if __name__ == "__main__":
    main(sys.argv[1:])
