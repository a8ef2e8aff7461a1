"""Recording a hand-over of recordings to the prosecutor: the checks and the one way it
is written, shared by ``ecrin register handover`` (hub stopped) and the running hub's
``POST /api/v1/register/handovers``.

Both do exactly the same, in the same order:

1. ``check_handover``: the camera is configured, the window starts before it ends and
   is over (only recordings already made can be handed over), whom to and the
   reference are one line each, not empty, at most ``TEXT_MAX`` characters;
2. ``record_handover``: the register's row is inserted in a transaction, the
   ``RecordingsHandedOver`` event is appended to the journal, and the row is committed
   only once the journal holds the event: both or neither;
3. the camera plugins are asked to keep the window (``keep_recordings``).

The difference is who holds the journal: the command opens it itself; the hub hands
its own open journal (``HandoverDesk``), since a journal has one writer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Final, Protocol

from hub.coverage.register import HandOver
from hub.coverage.register_store import RegisterError, RegisterStore
from hub.events import Event, RecordingsHandedOver
from hub.journal import JournalError

__all__ = [
    "API_NAMES",
    "TEXT_MAX",
    "FieldNames",
    "HandoverDesk",
    "HandoverRefused",
    "HandoverService",
    "HandoverUnavailable",
    "RecordedHandover",
    "check_handover",
    "record_handover",
]

log = logging.getLogger(__name__)

#: The longest free text a hand-over keeps (whom to, the reference).
TEXT_MAX: Final = 200

#: Appends one event to the journal; returns its row number (its ``seq``).
Append = Callable[[RecordingsHandedOver], Coroutine[Any, Any, int]]
#: Asks the camera plugins to keep a window: camera, start, end, what it is kept for.
KeepRecordings = Callable[[str, datetime, datetime, str], None]


class HandoverRefused(Exception):
    """A hand-over that is not recorded because of what was asked: one line for the
    person who asked (a command's exit 2, an API's 400)."""


class HandoverUnavailable(Exception):
    """A hand-over that could not be recorded for the hub's sake (no journal, a
    register or journal that cannot be written); nothing was recorded."""


@dataclass(frozen=True, slots=True)
class FieldNames:
    """How the person names each value: the command's options or the API's fields,
    so that each error points at what they typed."""

    start: str
    end: str
    to_whom: str
    reference: str


@dataclass(frozen=True, slots=True)
class RecordedHandover:
    """A hand-over recorded: its register line and the journal's row of its event."""

    handover: HandOver
    journal_row: int


def _text(value: str, name: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise HandoverRefused(f"{name} cannot be empty")
    if len(text) > TEXT_MAX:
        raise HandoverRefused(f"{name} is longer than {TEXT_MAX} characters")
    return text


def _shown(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def check_handover(
    camera: str,
    start: datetime,
    end: datetime,
    to_whom: str,
    reference: str,
    *,
    cameras: Sequence[str],
    now: datetime,
    tz: tzinfo,
    names: FieldNames,
) -> tuple[RecordingsHandedOver, str]:
    """The hand-over's event and whom to, if everything asked is acceptable.

    Args:
        camera: the camera asked for.
        start: the window's start (aware).
        end: its end (aware).
        to_whom: whom the recordings were given to (whitespace folded).
        reference: the requisition's reference (whitespace folded).
        cameras: the configured camera ids.
        now: the hand-over's time; a window ending after it is refused.
        tz: the shop's time zone, to show moments as the person gave them.
        names: what the person calls each value.

    Returns:
        The ``RecordingsHandedOver`` event to journal (its ``time`` is ``now``), and
        whom to as the register keeps it: not in the event, since the journal travels
        with an escalation's evidence and whom to is personal data.

    Raises:
        HandoverRefused: the first thing that is wrong, in the order above.
    """
    if camera not in cameras:
        known = ", ".join(cameras) or "none"
        raise HandoverRefused(f"camera {camera!r} is not configured (cameras: {known})")
    if end <= start:
        raise HandoverRefused(
            f"{names.start} ({_shown(start, tz)}) must be before {names.end} ({_shown(end, tz)})"
        )
    if end > now:
        raise HandoverRefused(
            f"{names.end} ({_shown(end, tz)}) is in the future: only recordings already"
            " made can be handed over"
        )
    whom = _text(to_whom, names.to_whom)
    event = RecordingsHandedOver(
        time=now,
        camera=camera,
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        reference=_text(reference, names.reference),
    )
    return event, whom


async def record_handover(
    store: RegisterStore, event: RecordingsHandedOver, to_whom: str, append: Append
) -> RecordedHandover:
    """Write the hand-over to the register and its event to the journal, both or neither.

    The register's transaction runs in a thread (its ``fsync`` never holds the loop);
    it waits there for ``append``, run on the loop, and commits only once the journal
    has the event. Should the append fail, the row is rolled back.

    Raises:
        RegisterError: the register cannot be written (nothing was journaled).
        JournalError: the journal cannot be written (nothing was registered).
    """
    loop = asyncio.get_running_loop()

    def write() -> RecordedHandover:
        with store.recording(
            event.camera, event.start, event.end, to_whom, event.reference, event.time
        ) as handover:
            row: int = asyncio.run_coroutine_threadsafe(append(event), loop).result()
        return RecordedHandover(handover, row)

    return await asyncio.to_thread(write)


class HandoverService(Protocol):
    """What the installer API's route calls to record a hand-over on a running hub."""

    async def hand_over(
        self, camera: str, start: datetime, end: datetime, to_whom: str, reference: str
    ) -> RecordedHandover:
        """Check, record (register and journal) and keep, as ``HandoverDesk`` does.

        Raises:
            HandoverRefused: a bad request; nothing was recorded.
            HandoverUnavailable: the hub cannot record it now; nothing was recorded.
        """
        ...


#: The API's names of the values, for its errors.
API_NAMES: Final = FieldNames(start="from", end="to", to_whom="to_whom", reference="reference")


class HandoverDesk:
    """The running hub's hand-overs: the same checks and writes as the command, with
    the hub's own journal and plugin manager, handed in by the composition root.

    Args:
        cameras: the configured camera ids.
        tz: the shop's time zone (for the errors' moments).
        store: the register's file.
        append: appends an event to the hub's journal and returns its row (None: the
            hub runs without a journal, and nothing can be recorded).
        publish: puts a journaled event on the hub's bus.
        keep_recordings: the ``keep_recordings`` hook, through the hub's plugin manager.
        now: the hub's wall clock.
    """

    def __init__(
        self,
        cameras: Sequence[str],
        tz: tzinfo,
        store: RegisterStore,
        append: Append | None,
        publish: Callable[[Event], None],
        keep_recordings: KeepRecordings,
        now: Callable[[], datetime],
    ) -> None:
        self._cameras = tuple(cameras)
        self._tz = tz
        self._store = store
        self._append = append
        self._publish = publish
        self._keep = keep_recordings
        self._now = now
        self._one_at_a_time = asyncio.Lock()

    async def hand_over(
        self, camera: str, start: datetime, end: datetime, to_whom: str, reference: str
    ) -> RecordedHandover:
        """See ``HandoverService.hand_over``.

        Shielded: a client that goes away once the register's transaction has begun
        does not leave the camera plugins unasked.
        """
        return await asyncio.shield(self._hand_over(camera, start, end, to_whom, reference))

    async def _hand_over(
        self, camera: str, start: datetime, end: datetime, to_whom: str, reference: str
    ) -> RecordedHandover:
        async with self._one_at_a_time:
            event, whom = check_handover(
                camera,
                start,
                end,
                to_whom,
                reference,
                cameras=self._cameras,
                now=self._now(),
                tz=self._tz,
                names=API_NAMES,
            )
            append = self._append
            if append is None:
                raise HandoverUnavailable("the hub runs without its journal: nothing recorded")
            try:
                recorded = await record_handover(self._store, event, whom, append)
            except (RegisterError, JournalError) as exc:
                log.error("hand-over not recorded: %s", exc)
                raise HandoverUnavailable(
                    "the register or the journal cannot be written now: nothing recorded"
                ) from exc
            self._publish(event)
            self._keep(event.camera, event.start, event.end, f"hand-over {event.reference}")
            return recorded
