"""Test support for the engine tests: signals, and a log of live changes (waiting on a
condition is the test kit's ``hub.testing.wait_until``)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hub.escalation.engine import EscalationEngine
from hub.escalation.model import Contact, EscalationChange
from hub.events import AlarmKind, AlarmSignal

_TICK = itertools.count()
_BASE = datetime.now(UTC)


def alarm(
    kind: AlarmKind = AlarmKind.HOLDUP,
    *,
    zone: str | None = "comptoir",
    device: str = "centrale",
    restore: bool = False,
    now: bool = False,
) -> AlarmSignal:
    """A signal with a time of its own (two signals never have the same payload); with
    ``now``, the current time (for signals that must look recent)."""
    base = datetime.now(UTC) if now else _BASE
    return AlarmSignal(
        time=base + timedelta(microseconds=next(_TICK)),
        kind=kind,
        device=device,
        zone=zone,
        restore=restore,
        panel_zone=1,
        code="122",
        protocol="contact-id",
    )


class ChangeLog:
    """Reads an engine's live changes for one contact into a list."""

    def __init__(self, engine: EscalationEngine, contact: Contact) -> None:
        self.stream = engine.changes(contact)
        self.items: list[EscalationChange] = []
        self._changed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        async for change in self.stream:
            self.items.append(change)
            self._changed.set()

    def of(self, what: str) -> list[EscalationChange]:
        return [c for c in self.items if c.what == what]

    async def wait_for(
        self,
        what: str,
        predicate: Callable[[EscalationChange], bool] = lambda _c: True,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[EscalationChange]:
        """Wait until ``count`` changes of kind ``what`` match; fail on timeout."""
        async with asyncio.timeout(timeout):
            while True:
                found = [c for c in self.of(what) if predicate(c)]
                if len(found) >= count:
                    return found
                self._changed.clear()
                await self._changed.wait()

    async def close(self) -> None:
        await self.stream.aclose()
        await asyncio.gather(self._task, return_exceptions=True)
