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
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.common import percentile, report
from hub.escalation.webhooks import EVENT_HEADER, SIGNATURE_HEADER, verify_signature
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        self.port = _free_port()
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


def _write_config(directory: Path, panel: str, traffic: str, url: str) -> Path:
    zones = "\n".join(
        f"  - {{id: z{n}, name: Bouton {n}, risk: high}}" for n in range(1, HOLDUP_ZONES + 1)
    )
    zone_map = "\n".join(
        f"      {n}: {{zone: z{n}, type: holdup}}" for n in range(1, HOLDUP_ZONES + 1)
    )
    path = directory / "shop.yaml"
    path.write_text(
        CONFIG.format(
            zones=zones,
            zone_map=zone_map,
            panel=panel,
            traffic=traffic,
            url=url,
            http_port=_free_port(),
        ),
        encoding="utf-8",
    )
    (directory / "secrets.yaml").write_text(f"referent: {SECRET}\n", encoding="utf-8")
    return path


def _read_only(path: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True))


def _counts(directory: Path) -> tuple[dict[str, int], int]:
    """Journal rows by event type, and escalations in the outbox."""
    with _read_only(directory / "journal.db") as conn:
        rows = conn.execute("SELECT type, count(*) FROM events GROUP BY type")
        by_type = {str(t): int(n) for t, n in rows}
    with _read_only(directory / "ecrin-outbox.db") as conn:
        escalations = int(conn.execute("SELECT count(*) FROM escalations").fetchone()[0])
    return by_type, escalations


async def measure(signals: int = SIGNALS, ordinary_rate: float = ORDINARY_RATE) -> dict[str, Any]:
    """Run the hub process, press ``signals`` hold-ups under ordinary load, measure."""
    rng = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="ecrin-bench-") as tmp:
        directory = Path(tmp)
        panel_cable = PtyCable(directory / "ttyPANEL")
        traffic_cable = PtyCable(directory / "ttyTRAFFIC")
        log_path = directory / "hub.log"
        async with (
            _Receiver() as receiver,
            It100Simulator(panel_cable) as panel,
            It100Simulator(traffic_cable) as traffic,
        ):
            config = _write_config(directory, panel_cable.path, traffic_cable.path, receiver.url)
            env = {k: v for k, v in os.environ.items() if not k.startswith("ECRIN_")}
            with log_path.open("wb") as log:
                hub = await asyncio.create_subprocess_exec(
                    sys.executable,
                    *("-m", "hub.cli", "run", "-c", str(config)),
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=log,
                )
            stop = asyncio.Event()
            load: asyncio.Task[int] | None = None
            try:
                # The hub asks each panel for its status once it has opened the port.
                await panel.wait_command("001", timeout=30)
                await traffic.wait_command("001", timeout=30)
                load = asyncio.create_task(_ordinary_traffic(traffic, stop, ordinary_rate))
                load_started = time.perf_counter()
                latencies: list[float] = []
                lost = wrong = 0
                for i in range(WARMUP + signals):
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
            finally:
                stop.set()
                if load is not None:
                    await asyncio.gather(load, return_exceptions=True)
                hub.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(hub.wait(), 30)
                except TimeoutError:
                    hub.kill()
                    await hub.wait()
            verified = sum(1 for h in receiver.hits if h.verified)
            received = len(receiver.hits)
        panel_cable.close()
        traffic_cable.close()
        by_type, escalations = _counts(directory)
    return {
        "signals": signals,
        "warmup": WARMUP,
        "measured": len(latencies),
        "lost": lost,
        "mismatched": wrong,
        "webhooks_received": received,
        "signatures_valid": verified,
        "escalations_in_outbox": escalations,
        "ordinary_frames_sent": frames,
        "ordinary_rate_sent": frames / elapsed,
        "ordinary_journaled": by_type.get("ZoneActivity", 0),
        "journal_rows_by_type": by_type,
        "p50_ms": percentile(latencies, 50),
        "p90_ms": percentile(latencies, 90),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies) if latencies else float("nan"),
    }


def main(argv: list[str] | None = None) -> None:
    """Run the hold-up latency benchmark (``--ordinary-rate N``: another load)."""
    parser = argparse.ArgumentParser(prog="python -m bench.holdup_latency")
    parser.add_argument(
        "--ordinary-rate",
        type=float,
        default=ORDINARY_RATE,
        help=f"ordinary frames per second beside the hold-ups (default {ORDINARY_RATE})",
    )
    args = parser.parse_args(argv if argv is not None else [])
    data = asyncio.run(measure(ordinary_rate=args.ordinary_rate))
    rows = [
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
        ("latency p50", f"{data['p50_ms']:.2f} ms", ""),
        ("latency p90", f"{data['p90_ms']:.2f} ms", ""),
        ("latency p99", f"{data['p99_ms']:.2f} ms", "< 15 ms"),
        ("latency max", f"{data['max_ms']:.2f} ms", ""),
    ]
    name = "holdup_latency"
    if args.ordinary_rate != ORDINARY_RATE:
        name += f"-{args.ordinary_rate:g}"
    report(name, rows, data)


if __name__ == "__main__":
    main(sys.argv[1:])
