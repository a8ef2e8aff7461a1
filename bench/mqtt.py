"""Cameras over MQTT: the hub's rate beside a bare subscriber, hold-ups among cameras, memory.

Three measures, in one run (``python -m bench mqtt``), on a Mosquitto started on a free
loopback port with the configuration the hub's documentation gives (queue limits far
above Mosquitto's default, TCP_NODELAY: ``hub.testing.mosquitto``):

1. **Throughput.** A real hub process (``ecrin run``) with ``CAMERAS`` Frigate cameras,
   a bare aiomqtt subscriber (``bench.mqtt_clients``, subscribed to the same topics at
   the same QoS) and a Frigate publisher, each a process of its own. Once every
   camera is online, the publisher sends a load of ``ROUNDS`` rounds of every camera
   (a ``motion`` that changes the camera's state, then a tracked person's ``new``,
   ``update`` and ``end`` on ``frigate/events``: Frigate's own payloads, from the
   simulator the tests use). Every message is an event for the hub: decoded, journaled
   (SQLite on disk, ``synchronous=FULL``, as for real traffic), published on the bus,
   reflected in the state registry. What is counted for the hub is rows in its journal
   (``seq``, read from outside), for the bare subscriber the messages it received.

   * *Drain* passes measure what each consumer can take: both are paused (SIGSTOP)
     while the load is published, so that the broker holds it for them; then each is
     resumed alone, the bare subscriber first, and timed from its resumption to its
     last message (for the hub: until its journal holds them all). Each has the
     machine to itself with the broker, whatever the publisher's speed and however
     two CPUs are shared among four busy processes. Goal: the hub at least 0.8 of the
     bare subscriber's rate (the median of the passes), nothing lost.
   * A *live* pass publishes the same load at full speed to both at once, nothing
     paused: the rates are then the machine's, shared; what it checks is that
     nothing is lost when the hub falls behind (the broker queues for it).

   Each pass runs at QoS 0 (Frigate's default) and QoS 1 (the hub subscribes with
   QoS 1; the broker delivers the lower of the two). At the end, the hub's state API
   must show every camera with the last motion and detection of the load.

2. **Hold-up latency among cameras**: ``bench.holdup_latency`` (the hub's hold-up path,
   from the panel's frame to the signed webhook, 1,000 ordinary frames a second) with
   4 panels, without cameras and with ``CAMERAS`` Frigate cameras publishing
   ``CAMERA_RATE`` messages a second through the broker, alternately.

3. **Memory** of those hubs (``VmRSS``, ``VmHWM`` from ``/proc``), after the warm-up
   and after the load. Goal: under 80 MB with 100 cameras and 4 panels.

Options shrink or grow each part (``--help``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import aiohttp

from bench import holdup_latency
from bench.common import journal_types, process_memory, read_only, report
from bench.holdup_latency import SETUP_EVENTS, start_hub, stop_hub, wait_healthy, wait_journaled
from bench.mqtt_clients import (
    PER_ROUND,
    ClientProcess,
    camera_entries,
    camera_names,
    frigate_load,
)
from hub.bus import EventBus
from hub.events import Event
from hub.http.tokens import hash_token, new_token
from hub.journal import Journal, canonical_payload
from hub.messages import Message
from hub.state import StateRegistry
from hub.testing.mosquitto import Mosquitto, free_port
from plugins.cameras.frigate_decoder import FrigateDecoder, camera_named

#: Cameras of the hub in every part (a large site: an NVR per floor, say).
CAMERAS: Final = 100
#: Rounds of every camera in one load (four messages each): 50,000 messages.
ROUNDS: Final = 125
#: Drain passes per QoS (the median is the figure), and live ones.
DRAINS: Final = 3
LIVES: Final = 1
#: Hold-up runs of each kind (without cameras, with), alternately.
HOLDUP_RUNS: Final = 2
#: Panels of the hold-up runs.
PANELS: Final = 4
#: Camera messages a second in the hold-up runs: 2 a camera, a person tracked (Frigate's
#: ``new``/``update``/``end``) and a motion turned on or off every 2 s on each of 100
#: cameras, all at once: a busy day on a large site, more than any shop's cameras send.
CAMERA_RATE: Final = 200.0
#: A journal that has not moved for that long has all it will get.
STALL: Final = 10.0
GOAL_RATIO: Final = 0.8
GOAL_MEMORY_KB: Final = 80 * 1024

CONFIG = """\
site:
  name: Bijouterie du banc d'essai
  address: 1 rue du Commerce, 37000 Tours
  departement: "37"
  timezone: Europe/Paris
zones:
  - {{id: salle, name: Salle de vente, risk: high}}
cameras:
{cameras}
mqtt: {{host: "{host}", port: {port}, client_id: ecrin-bench, keepalive: 300}}
contacts:
  - id: installateur
    name: Installateur
    role: installer
    token_sha256: "{token_sha256}"
    scopes: [installer]
escalation:
  ladder: [{{contacts: [installateur], ack_deadline: 3600}}]
http: {{port: {http_port}}}
journal: {{path: journal.db}}
"""


@dataclass(frozen=True, slots=True)
class Pass:
    """One load through the broker, as each consumer took it.

    Attributes:
        mode: ``drain`` (each consumer resumed alone) or ``live`` (all at once).
        qos: the QoS the publisher sent with.
        published: messages in the load.
        bare_received: messages the bare subscriber received.
        bare_seconds: from its start (resumption, or the first publish) to its last.
        bare_cpu: its processor seconds meanwhile.
        hub_journaled: rows the hub's journal gained.
        hub_seconds: from its start to the journal holding them.
        hub_cpu: its processor seconds meanwhile (every thread).
        by_type: the rows gained, by event type.
    """

    mode: str
    qos: int
    published: int
    bare_received: int
    bare_seconds: float
    bare_cpu: float
    hub_journaled: int
    hub_seconds: float
    hub_cpu: float
    by_type: dict[str, int]

    @property
    def bare_rate(self) -> float:
        return self.bare_received / self.bare_seconds

    @property
    def hub_rate(self) -> float:
        return self.hub_journaled / self.hub_seconds

    @property
    def lost(self) -> int:
        """Messages the hub did not journal, and those the bare subscriber missed."""
        return max(0, self.published - self.hub_journaled) + max(
            0, self.published - self.bare_received
        )

    def to_dict(self) -> dict[str, Any]:
        """The pass with its rates, for the JSON file."""
        rates = {"bare_rate": self.bare_rate, "hub_rate": self.hub_rate, "lost": self.lost}
        return asdict(self) | rates


def _cpu_seconds(pid: int) -> float:
    """Processor time of a process so far (user and system, every thread)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def _journal_head(path: Path) -> int:
    with read_only(path) as conn:
        row = conn.execute("SELECT max(seq) FROM events").fetchone()
    return int(row[0] or 0)


async def _wait_head(path: Path, target: int) -> tuple[int, float]:
    """Poll the journal's last row until ``target``; returns it and when it got there
    (or when it last moved, if it stopped short for ``STALL`` seconds)."""
    head, moved = -1, time.monotonic()
    while True:
        with contextlib.suppress(sqlite3.Error):
            now, seen = time.monotonic(), _journal_head(path)
            if seen != head:
                head, moved = seen, now
            if head >= target:
                return head, now
            if now - moved > STALL:
                return head, moved
        await asyncio.sleep(0.005)


async def _cameras_in_state(url: str, token: str) -> list[dict[str, Any]]:
    """The camera entities of the hub's state API."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{url}/api/v1/state", headers=headers) as response,
    ):
        response.raise_for_status()
        body = await response.json()
    return [e for e in body["entities"] if e["domain"] == "camera"]


class _Throughput:
    """The consumers of the throughput part and the publisher, and one load through them.

    Args:
        hub: the hub's process id.
        journal: the hub's journal.
        bare: the bare subscriber.
        publisher: Frigate's publisher, its cameras online.
    """

    def __init__(
        self, hub: int, journal: Path, bare: ClientProcess, publisher: ClientProcess
    ) -> None:
        self.hub = hub
        self.journal = journal
        self.bare = bare
        self.publisher = publisher

    async def load(self, mode: str, qos: int) -> Pass:
        """Publish one load and time each consumer on it (see the module)."""
        base = _journal_head(self.journal)
        drain = mode == "drain"
        if drain:
            os.kill(self.hub, signal.SIGSTOP)
            os.kill(self.bare.pid, signal.SIGSTOP)
        await self.publisher.send(f"load {qos}")
        sent = await self.publisher.read()
        published = int(sent["load"])
        # Live, both consumers start with the publisher's first message.
        bare_start = hub_start = float(sent["started"])
        bare_cpu = hub_cpu = 0.0
        if drain:
            bare_start, bare_cpu = _resume(self.bare.pid)
        counted = await self.bare.read()
        if drain:
            bare_cpu = _cpu_seconds(self.bare.pid) - bare_cpu
            hub_start, hub_cpu = _resume(self.hub)
        head, done = await _wait_head(self.journal, base + published)
        if drain:
            hub_cpu = _cpu_seconds(self.hub) - hub_cpu
        return Pass(
            mode=mode,
            qos=qos,
            published=published,
            bare_received=int(counted["count"]),
            bare_seconds=float(counted["last"]) - bare_start,
            bare_cpu=bare_cpu,
            hub_journaled=head - base,
            hub_seconds=done - hub_start,
            hub_cpu=hub_cpu,
            by_type=journal_types(self.journal, base),
        )


def _resume(pid: int) -> tuple[float, float]:
    """Resume a paused process; returns when, and its processor time until then."""
    at, cpu = time.monotonic(), _cpu_seconds(pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT)
    return at, cpu


async def throughput(
    cameras: int = CAMERAS,
    rounds: int = ROUNDS,
    drains: int = DRAINS,
    lives: int = LIVES,
    qos_levels: tuple[int, ...] = (0, 1),
) -> dict[str, Any]:
    """Run the throughput part (see the module): every pass, the state, the memory."""
    token = new_token()
    names = camera_names(cameras)
    with tempfile.TemporaryDirectory(prefix="ecrin-bench-mqtt-") as tmp:
        directory = Path(tmp)
        journal = directory / "journal.db"
        async with AsyncExitStack() as stack:
            broker = Mosquitto(directory / "broker", persistence=False)
            broker.start()
            stack.callback(broker.stop)
            url = f"http://127.0.0.1:{free_port()}"
            config = directory / "shop.yaml"
            config.write_text(
                CONFIG.format(
                    cameras=camera_entries(cameras, ["salle"]),
                    host=broker.host,
                    port=broker.port,
                    token_sha256=hash_token(token),
                    http_port=url.rsplit(":", 1)[1],
                ),
                encoding="utf-8",
            )
            hub = await start_hub(config, directory / "hub.log")
            stack.push_async_callback(stop_hub, hub)
            # Every process resumed, whatever happens (a paused hub never stops).
            stack.callback(_resume, hub.pid)
            await wait_healthy(url)
            endpoint = (broker.host, str(broker.port), "--cameras", str(cameras))
            bare = await ClientProcess.start("subscribe", *endpoint)
            stack.push_async_callback(bare.close)
            stack.callback(_resume, bare.pid)
            await bare.read()
            publisher = await ClientProcess.start("publish", *endpoint, "--rounds", str(rounds))
            stack.push_async_callback(publisher.close)
            await publisher.read()
            await publisher.send("setup")
            await publisher.read()
            await wait_journaled(
                journal,
                dict.fromkeys(SETUP_EVENTS, cameras),
            )
            run = _Throughput(hub.pid, journal, bare, publisher)
            memory_ready = process_memory(hub.pid)
            passes = [
                await run.load(mode, qos)
                for qos in qos_levels
                for mode in ["drain"] * drains + ["live"] * lives
            ]
            memory_loaded = process_memory(hub.pid)
            state = await _cameras_in_state(url, token)
    # Each load's rounds end on a motion ON (an odd count) and a tracked person's end.
    final_motion = rounds % 2 == 1
    reflected = sum(
        1
        for e in state
        if e["entity_id"].split(":", 1)[-1] in names
        and e["state"] == "online"
        and e["attributes"]["motion"] is final_motion
        and e["attributes"]["detection"] == "person"
    )
    return {
        "cameras": cameras,
        "rounds": rounds,
        "messages_per_load": cameras * rounds * PER_ROUND,
        "passes": [p.to_dict() for p in passes],
        "cameras_reflected_in_state": reflected,
        "memory_kb_ready": memory_ready,
        "memory_kb_after_load": memory_loaded,
    }


def _best(run: Callable[[], object], count: int, passes: int = 5) -> float:
    """Microseconds an item of ``run`` (over ``count`` items), best of ``passes``."""
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        run()
        best = min(best, (time.perf_counter() - started) / count)
    return best * 1e6


async def stages(cameras: int = CAMERAS, rounds: int = 25) -> dict[str, float]:
    """The hub's own work on a camera message, stage by stage, in this process: µs a
    message of the throughput load, best of five passes (noise only adds time).

    Not measured here: reading the message off the socket (paho, as the bare
    subscriber does: its processor time per message is that figure, and more).
    """
    load = await frigate_load(cameras, rounds)
    names = camera_names(cameras)
    messages = [Message(p.topic, p.payload, qos=1) for p in load]
    decoders = {
        name: FrigateDecoder(name, name, zones=("salle",), status_topics="no") for name in names
    }
    own = {f"frigate/{name}/": decoders[name] for name in names}

    def route_and_decode() -> list[Event]:
        out: list[Event] = []
        for m in messages:
            name = camera_named(m.payload) if m.topic == "frigate/events" else None
            decoder = decoders[name] if name else own[m.topic[: m.topic.rindex("/") + 1]]
            out.extend(decoder.decode(m))
        return out

    events = route_and_decode()
    count = len(messages)
    costs = {"route and decode (JSON included)": _best(route_and_decode, count)}
    costs["journal text"] = _best(lambda: [canonical_payload(e) for e in events], count)
    registry = StateRegistry({}, cameras=names)
    bus = EventBus()
    bus.observe(registry.apply)

    def publish() -> None:
        for event in events:
            bus.publish(event)

    costs["bus publish and state registry"] = _best(publish, count)
    await bus.close()
    payloads = [canonical_payload(e) for e in events]
    with tempfile.TemporaryDirectory(prefix="ecrin-bench-journal-") as tmp:
        async with Journal(Path(tmp) / "journal.db") as journal:
            best = float("inf")
            for _ in range(5):
                started = time.perf_counter()
                for i in range(0, count, 500):
                    await journal.append(events[i : i + 500], payloads[i : i + 500])
                best = min(best, (time.perf_counter() - started) / count)
    costs["journal append (writer thread)"] = best * 1e6
    return costs


async def holdups(
    cameras: int = CAMERAS,
    runs: int = HOLDUP_RUNS,
    signals: int = holdup_latency.SIGNALS,
    camera_rate: float = CAMERA_RATE,
) -> list[dict[str, Any]]:
    """The hold-up benchmark with ``PANELS`` panels, without cameras and with them,
    alternately, ``runs`` times each."""
    results = []
    for _ in range(runs):
        for with_cameras in (0, cameras):
            results.append(
                await holdup_latency.measure(
                    signals, panels=PANELS, cameras=with_cameras, camera_rate=camera_rate
                )
            )
    return results


def _values(values: list[float], fmt: str) -> str:
    return ", ".join(format(v, fmt) for v in values)


def _throughput_rows(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    per_load = data["messages_per_load"]
    for qos in (0, 1):
        drains = [p for p in data["passes"] if p["qos"] == qos and p["mode"] == "drain"]
        lives = [p for p in data["passes"] if p["qos"] == qos and p["mode"] == "live"]
        lost = sum(p["lost"] for p in drains + lives)
        if not drains + lives:
            continue  # not run at this QoS (--qos)
        if drains:
            bare = [p["bare_rate"] for p in drains]
            hub = [p["hub_rate"] for p in drains]
            ratios = [h / b for h, b in zip(hub, bare, strict=True)]
            rows += [
                (f"QoS {qos} drain: bare subscriber", f"{statistics.median(bare):,.0f} msg/s", ""),
                (f"QoS {qos} drain: hub (journaled)", f"{statistics.median(hub):,.0f} msg/s", ""),
                (
                    f"QoS {qos} drain: ratio hub/bare (each pass)",
                    f"{statistics.median(ratios):.2f} ({_values(ratios, '.2f')})",
                    f">= {GOAL_RATIO}",
                ),
                (
                    f"QoS {qos} drain: CPU per message, bare / hub",
                    " / ".join(
                        f"{statistics.median(p[k] / p[n] for p in drains) * 1e6:.0f} µs"
                        for k, n in (("bare_cpu", "bare_received"), ("hub_cpu", "hub_journaled"))
                    ),
                    "",
                ),
            ]
        for p in lives:
            rows.append(
                (
                    f"QoS {qos} live: bare / hub",
                    f"{p['bare_rate']:,.0f} / {p['hub_rate']:,.0f} msg/s",
                    "",
                )
            )
        rows.append(
            (
                f"QoS {qos}: lost (of {len(drains + lives)} x {per_load:,} x 2)",
                str(lost),
                "0",
            )
        )
    rows.append(
        (
            "cameras whose state shows the load's end",
            f"{data['cameras_reflected_in_state']}/{data['cameras']}",
            "all",
        )
    )
    return rows


def _holdup_rows(runs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for label, kind in (("without cameras", False), ("with cameras", True)):
        chosen = [r for r in runs if bool(r["cameras"]) is kind]
        if not chosen:
            continue
        sample = chosen[0]
        rows += [
            (
                f"hold-ups {label} ({sample['cameras']} cameras, {sample['panels']} panels)",
                f"{sum(r['measured'] for r in chosen):,}",
                "",
            ),
            (
                "  lost / mismatched",
                f"{sum(r['lost'] for r in chosen)} / {sum(r['mismatched'] for r in chosen)}",
                "0 / 0",
            ),
            ("  p50 (each run)", _values([r["p50_ms"] for r in chosen], ".2f") + " ms", ""),
            ("  p99 (each run)", _values([r["p99_ms"] for r in chosen], ".2f") + " ms", ""),
        ]
        if kind:
            rows.append(
                (
                    "  camera messages sent / lost",
                    f"{sum(r['camera_messages_sent'] for r in chosen):,}"
                    f" / {sum(r['camera_messages_lost'] for r in chosen):,}",
                    "0 lost",
                )
            )
        for r in chosen:
            warm = r["memory_kb_after_warmup"]
            after = r["memory_kb_after_load"]
            rows.append(
                (
                    "  memory: RSS after warm-up / after load, peak",
                    f"{warm['VmRSS'] / 1024:.1f} / {after['VmRSS'] / 1024:.1f},"
                    f" {after['VmHWM'] / 1024:.1f} MB",
                    f"< {GOAL_MEMORY_KB // 1024} MB" if kind else "",
                )
            )
    return rows


def _stage_rows(costs: dict[str, float]) -> list[tuple[str, str, str]]:
    rows = [(f"hub's work a message: {name}", f"{cost:.1f} µs", "") for name, cost in costs.items()]
    rows.append(("hub's work a message, in all", f"{sum(costs.values()):.1f} µs", ""))
    return rows


def main(argv: list[str] | None = None) -> None:
    """Run the MQTT benchmark (``python -m bench mqtt``; options: ``--help``)."""
    parser = argparse.ArgumentParser(prog="python -m bench.mqtt")
    parser.add_argument(
        "--cameras", type=int, default=CAMERAS, help=f"Frigate cameras (default {CAMERAS})"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=ROUNDS,
        help=f"rounds of every camera in a throughput load, 4 messages each (default {ROUNDS})",
    )
    parser.add_argument(
        "--drains", type=int, default=DRAINS, help=f"drain passes per QoS (default {DRAINS})"
    )
    parser.add_argument(
        "--lives", type=int, default=LIVES, help=f"live passes per QoS (default {LIVES})"
    )
    parser.add_argument(
        "--holdup-runs",
        type=int,
        default=HOLDUP_RUNS,
        help=f"hold-up runs without and with cameras, each (default {HOLDUP_RUNS})",
    )
    parser.add_argument(
        "--signals",
        type=int,
        default=holdup_latency.SIGNALS,
        help=f"hold-ups measured a run (default {holdup_latency.SIGNALS})",
    )
    parser.add_argument(
        "--camera-rate",
        type=float,
        default=CAMERA_RATE,
        help=f"camera messages a second during the hold-ups (default {CAMERA_RATE:g})",
    )
    parser.add_argument(
        "--qos",
        type=int,
        choices=(0, 1),
        action="append",
        help="a QoS of the throughput passes; repeat for both (default: 0 and 1)",
    )
    parser.add_argument(
        "--no-stages", action="store_true", help="skip the hub's work a message, by stage"
    )
    args = parser.parse_args(argv if argv is not None else [])
    data: dict[str, Any] = {}
    rows: list[tuple[str, str, str]] = []
    if args.drains + args.lives:
        data["throughput"] = asyncio.run(
            throughput(
                args.cameras, args.rounds, args.drains, args.lives, tuple(args.qos or (0, 1))
            )
        )
        rows += _throughput_rows(data["throughput"])
    if not args.no_stages:
        data["stages_us"] = asyncio.run(stages(args.cameras))
        rows += _stage_rows(data["stages_us"])
    if args.holdup_runs:
        data["holdups"] = asyncio.run(
            holdups(args.cameras, args.holdup_runs, args.signals, args.camera_rate)
        )
        rows += _holdup_rows(data["holdups"])
    report("mqtt", rows, data)


if __name__ == "__main__":
    main(sys.argv[1:])
