"""Start-up recovery between the journal and the outbox.

The engine writes its outbox while the journal writes the signal behind it (the bus
hands it life-safety signals ``before_journal``), so a hub killed between the two
commits leaves one of them without the other. On start the engine reads the journal
to repair both sides:

* ``restore_journal``: an escalated signal only the outbox holds is journaled, from
  the text the outbox kept, before any delivery resumes;
* ``replay``: a life-safety signal only the journal holds is escalated again, if
  the journal's chain verifies up to and including its row. A signal after a break in
  the chain may have been written or edited outside the hub: it is held (journaled as
  ``UnverifiedSignalsHeld`` and logged at error level), never sent to a referent.

This module holds that journal-facing work (read-only SQL on the journal file, run in
a thread), so the engine core does not deal with the journal's tables.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from hub.escalation.rules import Match
from hub.events import Event, event_from_dict
from hub.journal import Journal, JournalError, UnverifiedSignalsHeld, verify_journal

__all__ = [
    "REPLAY_WINDOW",
    "not_journaled",
    "recent_life_safety",
    "replay",
    "restore_journal",
    "signal_digest",
]

# The engine's messages share one logger name, whichever of its modules logs them.
log = logging.getLogger("hub.escalation.engine")

#: How far back the journal is replayed on start for signals that never reached the
#: outbox (never before the outbox was created).
REPLAY_WINDOW: Final = timedelta(hours=1)


def signal_digest(payload: str) -> str:
    """What identifies a signal in the outbox: the digest of its journal text."""
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _json_object(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


#: The last rows of the journal looked through for signals to replay.
SCAN_ROWS: Final = 200_000


def _recent_rows(path: Path, rows: int = SCAN_ROWS) -> tuple[int, list[tuple[int, str]]]:
    """The first seq of the journal's last ``rows`` rows, and the seq and payload of
    the life-safety rows among them."""
    if not path.exists():
        return 1, []
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        conn.execute("BEGIN")
        (last,) = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
        start = max(int(last) - rows + 1, 1)
        found = [
            (int(seq), str(payload))
            for seq, payload in conn.execute(
                "SELECT seq, payload FROM events WHERE life_safety = 1 AND seq >= ? ORDER BY seq",
                (start,),
            )
        ]
        return start, found
    finally:
        conn.close()


def recent_life_safety(path: Path, rows: int = SCAN_ROWS) -> list[str]:
    """The payloads of the life-safety rows among the journal's last ``rows`` rows."""
    return [payload for _seq, payload in _recent_rows(path, rows)[1]]


def _trusted_until(path: Path, first: int) -> tuple[int | None, str]:
    """The last row from ``first`` on that the chain vouches for (None: all of them),
    and the break that ends it ("" when none)."""
    result = verify_journal(path, first=first)
    if result.ok:
        return None, ""
    bad = result.first_bad_seq if result.first_bad_seq is not None else first
    return bad - 1, result.reason


def not_journaled(path: Path, payloads: dict[str, str]) -> list[str]:
    """Those of ``payloads`` (journal texts by digest) that no journal row holds."""
    if not path.exists():
        return list(payloads.values())
    recent = {signal_digest(p) for p in recent_life_safety(path)}
    candidates = [text for digest, text in payloads.items() if digest not in recent]
    if not candidates:
        return []
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:  # older than the recent rows read: look for the exact text (rare, a scan)
        return [
            text
            for text in candidates
            if conn.execute("SELECT 1 FROM events WHERE payload = ? LIMIT 1", (text,)).fetchone()
            is None
        ]
    finally:
        conn.close()


async def restore_journal(journal: Journal, payloads: dict[str, str]) -> None:
    """Put back in the journal the escalated signals it does not hold.

    The engine writes its outbox while the journal writes the signal (the bus hands
    it life-safety signals ``before_journal``) and sends nothing until the journal
    holds it; a crash between the two commits leaves an escalation whose signal
    only the outbox holds. It is journaled here, from the text the outbox kept,
    before any delivery resumes. Its row comes after rows written later; its
    ``time`` still says when it happened.

    Args:
        journal: the open journal.
        payloads: the journal texts of the escalated signals, by digest (the outbox's).
    """
    try:
        missing = await asyncio.to_thread(not_journaled, journal.path, payloads)
    except (sqlite3.Error, OSError) as exc:
        log.error("escalation: cannot compare the outbox with the journal: %s", exc)
        return
    events: list[Event] = []
    texts: list[str | None] = []
    for text in missing:
        try:
            events.append(event_from_dict(_json_object(text)))
        except ValueError as exc:
            log.error("escalation: an escalated signal cannot be read back: %s", exc)
            continue
        texts.append(text)
    if not events:
        return
    try:
        await journal.append(events, texts)
    except JournalError as exc:
        log.error("escalation: cannot journal %d escalated signals: %s", len(events), exc)
        return
    log.warning(
        "journal: %d escalated signals were missing (the hub stopped between the outbox"
        " and the journal commits); journaled now from the outbox",
        len(events),
    )


async def replay(
    journal_path: Path,
    since: datetime,
    *,
    seen: Callable[[str], bool],
    match: Callable[[Event], Match | None],
    signal: Callable[[Event, Match, str], Awaitable[None]],
    hold: Callable[[UnverifiedSignalsHeld], Awaitable[None]],
) -> None:
    """Escalate the life-safety signals that reached the journal but not the outbox,
    from the rows whose chain verifies only.

    When there is a signal to replay, the chain is checked first over the rows looked
    through (the last ``SCAN_ROWS``: a whole journal would take too long to check
    before the devices start; the background check on open covers the rest). Signals
    at or after the first break are held: logged at error level and handed to
    ``hold`` in one ``UnverifiedSignalsHeld``, never escalated.

    Args:
        journal_path: the journal's file, read directly (read-only).
        since: signals older than this are left alone (the replay window, or the
            outbox's creation).
        seen: whether a signal digest was already escalated (asked again for each
            signal: replaying one escalates it).
        match: the engine's rules applied to an event.
        signal: the engine's way in for a matched signal and its journal text.
        hold: records the signals held (the engine journals and publishes it).
    """
    try:
        first, rows = await asyncio.to_thread(_recent_rows, journal_path)
    except (sqlite3.Error, OSError) as exc:
        log.error("escalation: cannot replay the journal %s: %s", journal_path, exc)
        return
    candidates: list[tuple[int, str, Event]] = []
    for seq, payload in rows:
        if seen(signal_digest(payload)):
            continue
        try:
            event = event_from_dict(_json_object(payload))
        except ValueError:
            continue
        if event.time >= since:
            candidates.append((seq, payload, event))
    if not candidates:
        return
    try:
        trusted, reason = await asyncio.to_thread(_trusted_until, journal_path, first)
    except JournalError as exc:
        trusted, reason = first - 1, f"the chain cannot be checked: {exc.cause}"
    replayed = 0
    held: list[int] = []
    for seq, payload, event in candidates:
        if seen(signal_digest(payload)):
            continue
        found = match(event)
        if found is None:
            continue
        if trusted is not None and seq > trusted:
            held.append(seq)
            continue
        replayed += 1
        await signal(event, found, payload)
    if replayed:
        log.warning(
            "escalation: %d signals from the journal had not been escalated; done now",
            replayed,
        )
    if held:
        log.error(
            "escalation: %d signals from the journal (rows %s) come after a break in its"
            " chain (%s): held, not escalated; check the journal with `ecrin journal verify`",
            len(held),
            ", ".join(map(str, held)),
            reason,
        )
        await hold(
            UnverifiedSignalsHeld(
                first_bad_seq=trusted + 1 if trusted is not None else first,
                reason=reason,
                seqs=",".join(map(str, held)),
                count=len(held),
            )
        )
