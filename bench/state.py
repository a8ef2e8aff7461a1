"""State registry benchmark: what ``StateRegistry.apply`` costs on the bus's publish path.

The registry is a bus observer (``EventBus.observe``): it runs inside ``publish``, on
the producer's path, the hold-up's included, for every event of the shop. This measures
that cost per event, for the events a busy shop sends most:

* a panel zone opening or closing (DSC's ``ZoneActivity``), each report a change, the
  zones mapped to shop zones as in a real shop;
* the same reports repeated (a detector reporting what it already said);
* a partition state (``PanelState``) and a burglary alarm with its restore;
* ``publish`` with and without the registry observing, to the same idle bus.

Each figure is the best of five passes over 50,000 pre-built events (the best, because
noise on a shared machine only ever adds time). Goal: under 10 µs an event, so that the
1,000 ordinary events a second of the hold-up benchmark cost the loop under 1 %.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.common import report
from hub.bus import EventBus
from hub.devices import PanelZone, ZoneMap
from hub.events import AlarmKind, AlarmSignal, Event, PanelState
from hub.state import StateRegistry
from plugins.panels.panel_events import ZoneActivity

N_EVENTS = 50_000
PASSES = 5
ZONES = 32
GOAL_US = 10.0


def _zone_map() -> dict[str, ZoneMap]:
    zones = {n: PanelZone(zone=f"zone-{n % 8}") for n in range(1, ZONES + 1)}
    return {"traffic": ZoneMap(zones=zones)}


def _changing() -> list[Event]:
    """Every report a change: each zone alternates open and closed."""
    return [
        ZoneActivity(
            device="traffic",
            panel_zone=i % ZONES + 1,
            open=(i // ZONES) % 2 == 0,
            protocol="dsc-it100",
            raw=b"609001",
        )
        for i in range(N_EVENTS)
    ]


def _repeated() -> list[Event]:
    """Every report after the first of each zone repeats what the zone said."""
    return [
        ZoneActivity(
            device="traffic", panel_zone=i % ZONES + 1, open=True, protocol="dsc-it100", raw=b""
        )
        for i in range(N_EVENTS)
    ]


def _panel_states() -> list[Event]:
    words = ("armed_away", "disarmed")
    return [
        PanelState(device="traffic", state=words[i % 2], partition=1 + i % 2)
        for i in range(N_EVENTS)
    ]


def _alarms() -> list[Event]:
    return [
        AlarmSignal(
            kind=AlarmKind.BURGLARY,
            device="traffic",
            panel_zone=i % ZONES + 1,
            zone=f"zone-{i % 8}",
            restore=(i // ZONES) % 2 == 1,
        )
        for i in range(N_EVENTS)
    ]


def _best(run: Callable[[], None]) -> float:
    """Seconds an event, best of ``PASSES`` runs over ``N_EVENTS``."""
    best = float("inf")
    for _ in range(PASSES):
        started = time.perf_counter()
        run()
        best = min(best, (time.perf_counter() - started) / N_EVENTS)
    return best


def apply_cost(events: Sequence[Event]) -> float:
    """Seconds an event of ``StateRegistry.apply`` (a registry per pass: each pass
    starts from nothing, as a hub does)."""

    def run() -> None:
        apply = StateRegistry(_zone_map()).apply
        for event in events:
            apply(event)

    return _best(run)


async def publish_cost(events: Sequence[Event], observed: bool) -> float:
    """Seconds an event of ``EventBus.publish`` with no subscriber, with or without the
    registry observing."""
    bus = EventBus()
    if observed:
        bus.observe(StateRegistry(_zone_map()).apply)

    def run() -> None:
        publish = bus.publish
        for event in events:
            publish(event)

    cost = _best(run)
    await bus.close()
    return cost


def main() -> None:
    """Measure and print."""
    changing = _changing()
    costs: dict[str, float] = {
        "zone activity, each a change": apply_cost(changing),
        "zone activity, repeated": apply_cost(_repeated()),
        "panel state": apply_cost(_panel_states()),
        "burglary alarm and restore": apply_cost(_alarms()),
    }
    bare = asyncio.run(publish_cost(changing, observed=False))
    observed = asyncio.run(publish_cost(changing, observed=True))
    rows: list[tuple[str, str, str]] = [
        (f"apply: {name}", f"{cost * 1e6:.2f} µs", f"< {GOAL_US:.0f} µs")
        for name, cost in costs.items()
    ]
    rows.append(("publish, no observer", f"{bare * 1e6:.2f} µs", ""))
    rows.append(("publish, registry observing", f"{observed * 1e6:.2f} µs", ""))
    rows.append(
        ("loop share at 1,000 events/s", f"{observed * 1000 * 100:.2f} %", "< 1 %"),
    )
    data: dict[str, Any] = {
        "events": N_EVENTS,
        "passes": PASSES,
        "apply_us": {name: round(cost * 1e6, 3) for name, cost in costs.items()},
        "publish_us": {"bare": round(bare * 1e6, 3), "observed": round(observed * 1e6, 3)},
    }
    report("state", rows, data)


if __name__ == "__main__":
    main()
