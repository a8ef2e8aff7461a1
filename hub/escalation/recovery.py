"""Start-up recovery between the journal and the outbox.

The engine writes its outbox while the journal writes the signal behind it (the bus
hands it life-safety signals ``before_journal``), so a hub killed between the two
commits leaves one of them without the other. On start the engine reads the journal
to repair both sides:

* ``restore_journal``: an escalated signal only the outbox holds is journaled, from
  the text the outbox kept, before any delivery resumes;
* ``replay``: a life-safety signal only the journal holds is escalated again.

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
from hub.journal import Journal, JournalError

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


def recent_life_safety(path: Path, rows: int = 200_000) -> list[str]:
    """The payloads of the life-safety rows among the journal's last ``rows`` rows."""
    if not path.exists():
        return []
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        return [
            str(payload)
            for (payload,) in conn.execute(
                "SELECT payload FROM events WHERE life_safety = 1"
                " AND seq > (SELECT coalesce(max(seq), 0) FROM events) - ? ORDER BY seq",
                (rows,),
            )
        ]
    finally:
        conn.close()


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
) -> None:
    """Escalate the life-safety signals that reached the journal but not the outbox.

    Args:
        journal_path: the journal's file, read directly (read-only).
        since: signals older than this are left alone (the replay window, or the
            outbox's creation).
        seen: whether a signal digest was already escalated (asked again for each
            signal: replaying one escalates it).
        match: the engine's rules applied to an event.
        signal: the engine's way in for a matched signal and its journal text.
    """
    try:
        payloads = await asyncio.to_thread(recent_life_safety, journal_path)
    except (sqlite3.Error, OSError) as exc:
        log.error("escalation: cannot replay the journal %s: %s", journal_path, exc)
        return
    replayed = 0
    for payload in payloads:
        if seen(signal_digest(payload)):
            continue
        try:
            event = event_from_dict(_json_object(payload))
        except ValueError:
            continue
        if event.time < since:
            continue
        found = match(event)
        if found is None:
            continue
        replayed += 1
        await signal(event, found, payload)
    if replayed:
        log.warning(
            "escalation: %d signals from the journal had not been escalated; done now",
            replayed,
        )
