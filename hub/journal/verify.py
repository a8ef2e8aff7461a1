"""Checking a journal's chain end to end: was this journal edited?

``verify_journal`` recomputes every row's hash from the one before, compares the last
row with the anchor in ``meta`` and the columns derived from each payload with the
payload, and names the first row found broken and, where the evidence tells, what was
edited. ``ecrin journal verify`` prints that; the hub runs the same check in the
background when it opens its journal (``_verify_until``, which it can stop).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from hub.events import Event, event_from_dict, event_types
from hub.journal.chain import GENESIS_HASH, chain_hash
from hub.journal.errors import _sqlite_error
from hub.journal.reading import _anchor, _read_meta, _reading


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of checking a journal's chain.

    Attributes:
        ok: the chain and the anchor are intact.
        rows: how many rows were found sound: all of them when ``ok``, else those
            before the first bad one.
        first_bad_seq: the first row found broken (a missing row is named by its seq),
            or None when ``ok`` or when the break is not in a row (the anchor is gone).
        reason: ``"intact"``, or one line such as ``"row 57: hash mismatch (payload
            edited)"``.
    """

    ok: bool
    rows: int
    first_bad_seq: int | None
    reason: str


@dataclass(slots=True)
class _Mismatch:
    """A row whose stored hash is not its recomputed hash, waiting for the next link
    (or the anchor) to tell whether the payload or the hash was edited."""

    seq: int
    stored: str
    computed: str

    def reason(self, next_link: str | None) -> str:
        if next_link == self.stored:
            what = "payload edited"
        elif next_link == self.computed:
            what = "hash edited"
        else:
            what = "row edited"
        return f"row {self.seq}: hash mismatch ({what})"


def _column_problem(seq: int, time: str, type_: str, life_safety: int, payload: str) -> str | None:
    """Why the derived columns disagree with the payload, or None when they agree."""
    try:
        data = json.loads(payload)
    except ValueError:
        return f"row {seq}: payload is not valid JSON"
    if not isinstance(data, dict):
        return f"row {seq}: payload is not a JSON object"
    if data.get("type") != type_:
        return f"row {seq}: type column does not match the payload (column edited)"
    if data.get("time") != time:
        return f"row {seq}: time column does not match the payload (column edited)"
    cls = event_types().get(type_)
    if cls is None:
        return None  # a type from a plugin not loaded here: the hash still covers it
    if cls.life_safety is Event.life_safety:
        expected = cls.LIFE_SAFETY  # a class constant: no need to rebuild the event
    else:
        try:
            expected = event_from_dict(data).life_safety
        except (ValueError, TypeError):
            return None
    if bool(life_safety) != expected:
        return f"row {seq}: life_safety column does not match the payload (column edited)"
    return None


def _verify(
    conn: sqlite3.Connection, path: Path, stop: threading.Event | None = None, first: int = 1
) -> VerifyResult | None:
    """Check the chain on an open read transaction; None when ``stop`` was set.

    ``first`` > 1 checks the rows from ``first`` on only, taking that row's link to the
    row before it as given (what replay on start checks: the rows it may escalate).
    """
    try:
        meta = _read_meta(conn, path)
    except sqlite3.Error as exc:
        raise _sqlite_error(path, "cannot read", exc) from exc
    anchor = _anchor(meta)
    first = max(first, 1)
    rows = 0
    expected = first
    prev_hash: str | None = GENESIS_HASH if first == 1 else None
    mismatch: _Mismatch | None = None

    def bad(seq: int | None, reason: str) -> VerifyResult:
        # Every row checked before the first bad one was found sound.
        return VerifyResult(False, rows if seq is None else seq - first, seq, reason)

    try:
        cursor = conn.execute(
            "SELECT seq, time, type, life_safety, payload, prev_hash, hash FROM events"
            " WHERE seq >= ? ORDER BY seq",
            (first,),
        )
        while batch := cursor.fetchmany(1000):
            if stop is not None and stop.is_set():
                return None
            for seq, time, type_, life_safety, payload, link, stored in batch:
                if seq != expected:
                    if mismatch is not None:
                        return bad(mismatch.seq, mismatch.reason(None))
                    if seq < expected:
                        return bad(seq, f"row {seq}: out of order")
                    span = f"rows {expected}-{seq - 1}" if seq > expected + 1 else f"row {expected}"
                    return bad(expected, f"{span}: missing (deleted)")
                if mismatch is not None:
                    return bad(mismatch.seq, mismatch.reason(link))
                own = chain_hash(link, seq, payload)
                if prev_hash is None:
                    prev_hash = link  # the first row checked: its link is taken as given
                if link != prev_hash:
                    if own == stored and seq > 1:
                        return bad(
                            seq - 1,
                            f"row {seq - 1}: rewritten (its hash is not the link held"
                            f" by row {seq})",
                        )
                    if chain_hash(prev_hash, seq, payload) == stored:
                        return bad(seq, f"row {seq}: previous-hash field edited")
                    return bad(seq, f"row {seq}: link and hash both wrong (row edited)")
                if own != stored:
                    mismatch = _Mismatch(seq, stored, own)
                else:
                    problem = _column_problem(seq, time, type_, life_safety, payload)
                    if problem is not None:
                        return bad(seq, problem)
                prev_hash = stored
                expected = seq + 1
                rows += 1
    except sqlite3.Error as exc:
        cause = _sqlite_error(path, "unreadable", exc).cause
        return bad(expected, f"row {expected}: {cause}")
    last = expected - 1
    if prev_hash is None:
        prev_hash = GENESIS_HASH  # no row from ``first`` on
    if mismatch is not None:
        link = anchor[1] if anchor is not None and anchor[0] == mismatch.seq else None
        return bad(mismatch.seq, mismatch.reason(link))
    if anchor is None:
        if rows == 0:
            return VerifyResult(True, 0, None, "intact")
        return bad(None, "the anchor (meta last_seq, last_hash) is missing (meta edited)")
    anchor_seq, anchor_hash = anchor
    if anchor_seq > last:
        span = f"row {last + 1}" if anchor_seq == last + 1 else f"rows {last + 1}-{anchor_seq}"
        return bad(
            last + 1,
            f"{span}: missing (the anchor records {anchor_seq} rows; the tail was deleted)",
        )
    if anchor_seq < last:
        return bad(
            anchor_seq + 1,
            f"row {anchor_seq + 1}: after the anchor (rows added outside the hub,"
            " or the anchor was edited)",
        )
    if anchor_hash != prev_hash:
        return bad(last, f"row {last}: does not match the anchor (row rewritten or anchor edited)")
    return VerifyResult(True, rows, None, "intact")


def verify_journal(path: Path, *, first: int = 1) -> VerifyResult:
    """Recompute the whole chain and check the anchor.

    It reads one consistent snapshot, so it can run while the hub appends.

    Args:
        path: the journal.
        first: check from this row on only, taking its link to the row before as given
            (``rows`` in the result then counts from it).

    Raises:
        JournalError: the file is missing, unreadable or not a journal at all.
    """
    with _reading(path) as conn:
        result = _verify(conn, path, first=first)
    assert result is not None  # no stop event, so it ran to the end
    return result


def _verify_until(path: Path, stop: threading.Event) -> VerifyResult | None:
    with _reading(path) as conn:
        return _verify(conn, path, stop)
