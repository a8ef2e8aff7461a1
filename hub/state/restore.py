"""Rebuilding the registry from the journal, on start and for ``ecrin status``.

The journal already holds every event the registry was ever fed, in order, so a
restart replays it through the same ``StateRegistry.apply``: a restored registry is
the one that ran, with the same times. Rows of a type that changes no state (hub
start and stop, signals held...) are skipped by their type column without decoding
their payload, and a row whose type is unknown to this process (a plugin no longer
installed) or whose payload no longer fits is skipped and counted, never fatal: the
state is a convenience, the journal stays the evidence.

The whole journal is read, from its first row, in a thread, while the hub already
runs: about 2 s for a 100,000-row journal on the 2-core machine of docs/benchmarks.md
(docs/state.md has the figure and why it is read whole). The live registry starts
empty and observes the bus at once; the restored one is merged into it when ready
(``StateRegistry.merge``), so a hold-up at start-up never waits for the restore.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from hub.events import event_from_dict, event_types
from hub.journal import iter_payloads
from hub.state.registry import StateRegistry

__all__ = ["RestoreResult", "restore_from_journal"]


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What a restore read.

    Attributes:
        rows: rows read.
        applied: rows whose event was applied to the registry.
        skipped: rows skipped because their type is unknown to this process or their
            payload does not fit it.
        last_seq: the last row read (0 for an empty journal).
    """

    rows: int
    applied: int
    skipped: int
    last_seq: int


def restore_from_journal(
    registry: StateRegistry, path: Path, last: int | None = None
) -> RestoreResult:
    """Apply every relevant row of the journal at ``path`` to ``registry``, in order.

    Blocking (SQLite and a loop over the rows): the hub runs it in a thread, on a
    registry of its own, then merges it into the live one (``StateRegistry.merge``).

    Args:
        registry: the registry to feed.
        path: the journal file.
        last: the last row to read (the hub's: the last row of earlier runs); None:
            to the end.

    Raises:
        JournalError: the file is missing, unreadable or not a journal.
    """
    classes = event_types()
    # Per type name: True apply, False ignore (changes no state), None unknown here.
    wanted: dict[str, bool | None] = {}
    rows = applied = skipped = 0
    last_seq = 0
    for seq, type_name, payload in iter_payloads(path, last=last):
        rows += 1
        last_seq = seq
        if type_name in wanted:
            want = wanted[type_name]
        else:
            cls = classes.get(type_name)
            want = wanted[type_name] = None if cls is None else registry.wants(cls)
        if not want:
            skipped += want is None
            continue
        try:
            event = event_from_dict(json.loads(payload))
        except (ValueError, TypeError):
            skipped += 1
            continue
        registry.apply(event)
        applied += 1
    return RestoreResult(rows=rows, applied=applied, skipped=skipped, last_seq=last_seq)
