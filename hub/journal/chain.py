"""The journal's row format and its hash chain: what a third party checks.

Everything that decides the bytes on disk is here, so that a change to the format is a
change to this module (and to ``FORMAT_VERSION``):

* Each row carries the hash of the previous row and its own hash,
  ``sha256(prev_hash || seq || payload)`` (text concatenation, hex digest; the first
  row's ``prev_hash`` is 64 zeros). Editing a payload, a hash or a link, or deleting a
  row, breaks the chain at that row. The recipe is simple enough for a third party to
  check with ``sqlite3`` and ``sha256sum`` (see ``docs/journal.md``).
* Deleting the *last* rows leaves a shorter chain that is still valid, so the ``meta``
  table keeps an anchor (the last seq and hash) updated in the same transaction as the
  rows. Someone who edits the anchor too defeats it; sealing the journal per incident
  anchors it outside the file.
* Triggers refuse ``UPDATE`` and ``DELETE`` on the events table: a speed bump against
  an accidental edit, not a defence (a trigger can be dropped; the chain still tells).
* The ``seals`` table is append-only like ``events`` (triggers), is created on open
  for journals made before it existed, and changes nothing else in the format.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from hub.events import Event

#: Bumped when the schema or the hash recipe changes; a hub refuses a newer journal.
FORMAT_VERSION = 1
#: The ``prev_hash`` of the first row.
GENESIS_HASH = "0" * 64

_CHAIN_RECIPE = "sha256(prev_hash || seq || payload), hex; genesis prev_hash = 64 zeros"
_COLUMNS = "seq, time, type, life_safety, payload, prev_hash, hash"
#: One row of ``events``, in ``_COLUMNS`` order.
_Row = tuple[int, str, str, int, str, str, str]
#: Rows go in with one multi-row ``INSERT`` per power of two in their count, not with
#: ``executemany``: the writer thread gives up the interpreter lock around every step,
#: so ``executemany`` takes it back once per row, and each time waits for the event
#: loop to let go of it. A batch of 170 rows went from 170 waits to 4.
_CHUNKS = (256, 128, 64, 32, 16, 8, 4, 2, 1)
_INSERTS = {
    n: f"INSERT INTO events ({_COLUMNS}) VALUES " + ",".join(["(?, ?, ?, ?, ?, ?, ?)"] * n)
    for n in _CHUNKS
}
_SCHEMA = f"""
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    time        TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    life_safety INTEGER NOT NULL,
    payload     TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
INSERT INTO meta (key, value) VALUES ('format', '{FORMAT_VERSION}'), ('chain', '{_CHAIN_RECIPE}');
"""

_SEALS_SCHEMA = """
CREATE TABLE IF NOT EXISTS seals (
    id        INTEGER PRIMARY KEY,
    incident  TEXT    NOT NULL,
    sealed_at TEXT    NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE TRIGGER IF NOT EXISTS seals_no_update BEFORE UPDATE ON seals
BEGIN SELECT RAISE(ABORT, 'seals are append-only'); END;
CREATE TRIGGER IF NOT EXISTS seals_no_delete BEFORE DELETE ON seals
BEGIN SELECT RAISE(ABORT, 'seals are append-only'); END;
"""


def _json_fallback(value: Any) -> str:
    # A plugin's event may hold a value JSON cannot carry; keep its repr rather than
    # refuse the event (a refused event would be lost evidence).
    return repr(value)


#: ``json.dumps`` with these arguments builds an encoder per call; one is enough.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_json_fallback)


#: The text of the last life-safety events, by identity (the event is kept, so an id
#: is never mistaken). The recorder makes a hold-up's text when it arrives and the
#: escalation engine needs the same text a moment later, on the hold-up's path, to
#: identify the signal; ordinary events, thousands a second, are not kept.
_LIFE_SAFETY_TEXTS: dict[int, tuple[Event, str]] = {}
_LIFE_SAFETY_KEPT = 256


def canonical_payload(event: Event) -> str:
    """The exact text stored and hashed for ``event``: sorted keys, no spaces, ASCII
    (what ``json.dumps(..., sort_keys=True, separators=(",", ":"))`` gives).

    A life-safety event's text is made once (events are immutable): later calls for
    the same event return it.
    """
    if not event.life_safety:
        return _CANONICAL.encode(event.to_dict())
    kept = _LIFE_SAFETY_TEXTS.get(id(event))
    if kept is not None and kept[0] is event:
        return kept[1]
    text = _CANONICAL.encode(event.to_dict())
    if len(_LIFE_SAFETY_TEXTS) >= _LIFE_SAFETY_KEPT:
        _LIFE_SAFETY_TEXTS.clear()  # a bound, not an order: a miss only costs the encoding
    _LIFE_SAFETY_TEXTS[id(event)] = (event, text)
    return text


def _insert(conn: sqlite3.Connection, rows: Sequence[_Row]) -> None:
    """Insert ``rows`` with as few statements as their count allows (see ``_CHUNKS``)."""
    start, left = 0, len(rows)
    for size in _CHUNKS:
        while left >= size:
            conn.execute(_INSERTS[size], [v for row in rows[start : start + size] for v in row])
            start += size
            left -= size


def chain_hash(prev_hash: str, seq: int, payload: str) -> str:
    """The hash of one row: ``sha256(prev_hash || seq || payload)`` as hex.

    ``||`` is text concatenation (SQLite's own operator), ``seq`` is in decimal, and
    the whole text is UTF-8 (canonical payloads are ASCII).
    """
    return hashlib.sha256(f"{prev_hash}{seq}{payload}".encode()).hexdigest()
