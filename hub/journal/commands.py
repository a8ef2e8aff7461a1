"""The ``ecrin journal`` commands: ``verify`` and ``tail``, as text for a terminal.

``hub.cli`` parses the arguments and calls these; each writes its lines to the streams
it is given and returns the exit status, so they are tested without a process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from hub.journal.errors import JournalError
from hub.journal.reading import JournalEntry, tail
from hub.journal.verify import verify_journal


def journal_verify_main(db: Path, out: TextIO, err: TextIO) -> int:
    """``ecrin journal verify``: 0 intact, 1 broken (naming the first bad row), 2 unreadable."""
    try:
        result = verify_journal(db)
    except JournalError as exc:
        err.write(f"ecrin journal verify: {exc}\n")
        return 2
    if result.ok:
        out.write(f"{db}: intact, {result.rows} rows\n")
        return 0
    out.write(f"{db}: {result.reason}\n")
    return 1


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
