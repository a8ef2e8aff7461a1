"""The ``ecrin journal`` commands: ``verify`` and ``tail``, as text for a terminal.

``hub.cli`` parses the arguments and calls these; each writes its lines to the streams
it is given and returns the exit status, so they are tested without a process.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, TextIO

from hub.journal.anchor import JournalAnchor, anchor_path, anchor_problem, read_anchor
from hub.journal.errors import JournalError, _sqlite_error
from hub.journal.reading import JournalEntry, _reading, tail
from hub.journal.verify import verify_journal


def _against_anchor(db: Path, anchor: JournalAnchor) -> str | None:
    with _reading(db) as conn:
        try:
            return anchor_problem(conn, anchor)
        except sqlite3.Error as exc:
            raise _sqlite_error(db, "cannot read", exc) from exc


def journal_verify_main(db: Path, out: TextIO, err: TextIO, *, anchor: Path | None = None) -> int:
    """``ecrin journal verify``: 0 intact, 1 broken (naming the first bad row) or failing
    its anchor, 2 unreadable.

    Args:
        db: the journal.
        out: where the verdict goes.
        err: where a failure to run goes.
        anchor: the anchor file to compare with; None: the one beside the journal, if
            there is one (a journal never anchored is checked on its own).
    """
    anchor_file = anchor if anchor is not None else anchor_path(db)
    try:
        anchored = read_anchor(anchor_file)
    except JournalError as exc:
        err.write(f"ecrin journal verify: {exc}\n")
        return 2
    if anchored is None and anchor is not None:
        err.write(f"ecrin journal verify: {anchor}: no such anchor file\n")
        return 2
    try:
        if anchored is not None and anchored.seq > 0 and db.is_file() and not db.stat().st_size:
            out.write(
                f"{db}: empty: its anchor records {anchored.seq} rows (emptied, or truncated)\n"
            )
            return 1
        result = verify_journal(db)
        problem = _against_anchor(db, anchored) if anchored is not None else None
    except JournalError as exc:
        err.write(f"ecrin journal verify: {exc}\n")
        return 2
    except OSError as exc:
        err.write(f"ecrin journal verify: {db}: {exc.strerror or exc}\n")
        return 2
    if not result.ok:
        out.write(f"{db}: {result.reason}\n")
        return 1
    if problem is not None:
        out.write(f"{db}: {problem}\n")
        return 1
    if anchored is None:
        out.write(f"{db}: intact, {result.rows} rows; no anchor file\n")
    else:
        out.write(f"{db}: intact, {result.rows} rows; its anchor holds (row {anchored.seq})\n")
    return 0


_TAIL_SKIP = frozenset({"type", "time", "raw"})


def _blank(value: Any) -> bool:
    # Fields that say nothing. False and 0 stay: motion stopped, zone 0.
    return value is None or value in ("", [])


def _field_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if not text or any(c.isspace() or c in "=\"'" for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


def _summary(entry: JournalEntry) -> str:
    try:
        data = entry.data()
    except ValueError:
        fields = "(payload is not a JSON object)"
    else:
        fields = " ".join(
            f"{key}={_field_text(value)}"
            for key, value in sorted(data.items())
            if key not in _TAIL_SKIP and not _blank(value)
        )
    mark = " LIFE-SAFETY" if entry.life_safety else ""
    return f"{entry.seq:>6}  {entry.time}  {entry.type}{mark}  {fields}".rstrip()


def journal_tail_main(db: Path, n: int, out: TextIO, err: TextIO, as_json: bool) -> int:
    """``ecrin journal tail``: the last ``n`` events, one line each (or JSON lines).

    Returns 0, or 2 with one line on ``err`` when the file cannot be read.
    """
    if n < 0:
        err.write(f"ecrin journal tail: -n must be 0 or more, not {n}\n")
        return 2
    try:
        entries = tail(db, n)
    except JournalError as exc:
        err.write(f"ecrin journal tail: {exc}\n")
        return 2
    for entry in entries:
        if as_json:
            try:
                line = json.dumps(entry.to_dict(), ensure_ascii=False)
            except ValueError:
                line = json.dumps({"seq": entry.seq, "raw_payload": entry.payload})
            out.write(line + "\n")
        else:
            out.write(_summary(entry) + "\n")
    return 0
