"""Bus benchmark: throughput against a raw asyncio.Queue, and life-safety latency under load.

Throughput: the same pre-built events go (a) through ``asyncio.Queue(maxsize=1000)``
from one producer to N consumer tasks (one queue per consumer, as the bus has), and (b)
through ``EventBus.publish`` to N subscribers. Both consumers call the same trivial async
handler. The figure is delivered events per second, counted at the consumers; the goal
is a bus at least 0.6 of the raw queue.

Latency: while a producer publishes 20,000 ordinary events/s (bursts every millisecond),
hold-up signals are published every few milliseconds and the time from ``publish`` to the
subscriber's handler is recorded. Goal: p99 under 1 ms.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.common import percentile, report
from hub.bus import EventBus
from hub.events import AlarmKind, AlarmSignal, Event

N_EVENTS = 200_000
BURST = 100


def _events(n: int) -> list[Event]:
    return [
        AlarmSignal(kind=AlarmKind.BURGLARY, device="bench", panel_zone=i % 64) for i in range(n)
    ]


async def raw_queue(events: list[Event], consumers: int) -> float:
    """Events/s delivered through plain asyncio.Queue(maxsize=1000), one per consumer."""
    queues: list[asyncio.Queue[Event | None]] = [
        asyncio.Queue(maxsize=1000) for _ in range(consumers)
    ]
    delivered = 0

    async def handler(_e: Event) -> None:
        nonlocal delivered
        delivered += 1

    async def consume(q: asyncio.Queue[Event | None]) -> None:
        while True:
            item = await q.get()
            if item is None:
                return
            await handler(item)

    tasks = [asyncio.create_task(consume(q)) for q in queues]
    start = time.perf_counter()
    for event in events:
        for q in queues:
            await q.put(event)
    for q in queues:
        await q.put(None)
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    assert delivered == len(events) * consumers
    return len(events) * consumers / elapsed


async def bus_throughput(events: list[Event], consumers: int) -> tuple[float, int]:
    """Events/s delivered through the bus to ``consumers`` subscribers, and drops."""
    bus = EventBus()
    delivered = 0
    done = asyncio.Event()
    target = len(events) * consumers

    async def handler(_e: Event) -> None:
        nonlocal delivered
        delivered += 1
        if delivered == target:
            done.set()

    subs = [bus.subscribe(Event, handler, name=f"s{i}") for i in range(consumers)]
    await asyncio.sleep(0)
    start = time.perf_counter()
    publish = bus.publish
    for i in range(0, len(events), BURST):
        for event in events[i : i + BURST]:
            publish(event)
        await asyncio.sleep(0)
    dropped = sum(s.stats().dropped for s in subs)
    if dropped == 0:
        await done.wait()
    else:
        await bus.drain(60)
    elapsed = time.perf_counter() - start
    await bus.close()
    return delivered / elapsed, dropped


async def life_safety_latency(seconds: float = 5.0, rate: int = 20_000) -> dict[str, Any]:
    """Publish→handler latency of hold-ups while ``rate`` ordinary events/s flow."""
    bus = EventBus()
    latencies: list[float] = []
    sent_at: dict[int, float] = {}
    ordinary = 0

    async def life_handler(event: AlarmSignal) -> None:
        if event.kind is AlarmKind.HOLDUP:
            assert event.panel_zone is not None
            latencies.append(time.perf_counter() - sent_at.pop(event.panel_zone))

    async def ordinary_handler(_e: Event) -> None:
        nonlocal ordinary
        ordinary += 1

    # The life-safety consumer also receives all ordinary traffic: the worst case.
    bus.subscribe(AlarmSignal, life_handler, name="escalation")
    for i in range(3):
        bus.subscribe(Event, ordinary_handler, name=f"ordinary{i}")
    plain = _events(1000)
    loop = asyncio.get_running_loop()
    per_ms = rate // 1000
    start = loop.time()
    tick = 0
    holdups = 0
    published = 0
    while loop.time() - start < seconds:
        tick += 1
        for j in range(per_ms):
            bus.publish(plain[(tick * per_ms + j) % 1000])
        published += per_ms
        if tick % 3 == 0:
            holdups += 1
            sent_at[holdups] = time.perf_counter()
            bus.publish(AlarmSignal(kind=AlarmKind.HOLDUP, device="bench", panel_zone=holdups))
        next_at = start + tick / 1000
        await asyncio.sleep(max(0.0, next_at - loop.time()))
    achieved = published / (loop.time() - start)
    await bus.drain(30)
    await bus.close()
    ms = [x * 1000 for x in latencies]
    return {
        "ordinary_rate_achieved": achieved,
        "holdups": len(ms),
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else float("nan"),
    }


async def _main() -> None:
    events = _events(N_EVENTS)
    rows: list[tuple[str, str, str]] = []
    data: dict[str, Any] = {"events": N_EVENTS}
    for consumers in (1, 10):
        n = events if consumers == 1 else events[: N_EVENTS // 5]
        raw = await raw_queue(n, consumers)
        bus, dropped = await bus_throughput(n, consumers)
        ratio = bus / raw
        rows.append((f"raw asyncio.Queue, {consumers} consumer(s)", f"{raw:,.0f} ev/s", ""))
        rows.append((f"EventBus, {consumers} subscriber(s)", f"{bus:,.0f} ev/s", ""))
        rows.append((f"ratio bus/raw, {consumers}", f"{ratio:.2f}", ">= 0.60"))
        rows.append((f"dropped, {consumers}", str(dropped), "0"))
        data[f"consumers_{consumers}"] = {
            "raw": raw,
            "bus": bus,
            "ratio": ratio,
            "dropped": dropped,
        }
    lat = await life_safety_latency()
    data["life_safety"] = lat
    rows.append(("ordinary load achieved", f"{lat['ordinary_rate_achieved']:,.0f} ev/s", "20,000"))
    rows.append(("hold-ups measured", str(lat["holdups"]), ""))
    rows.append(("life-safety latency p50", f"{lat['p50_ms']:.3f} ms", ""))
    rows.append(("life-safety latency p99", f"{lat['p99_ms']:.3f} ms", "< 1 ms"))
    rows.append(("life-safety latency max", f"{lat['max_ms']:.3f} ms", ""))
    report("bus", rows, data)


def main() -> None:
    """Run the bus benchmark."""
    asyncio.run(_main())


if __name__ == "__main__":
    main()
