"""The evidence journal: every bus event, append-only, in a hash-chained SQLite file.

After a hold-up the journal is evidence, so it is built to make a later edit detectable
and to lose nothing that was acknowledged. Its parts, each in a module of its own:

* ``chain``: the row format and the hash chain, what a third party checks with
  ``sqlite3`` and ``sha256sum`` (``canonical_payload``, ``chain_hash``, the schema);
* ``errors``: ``JournalError``, one line naming the file and the cause, and the
  ``JournalQuarantined`` and ``UnverifiedSignalsHeld`` events;
* ``anchor``: the head of the chain kept outside the file (the anchor file, and what
  the outbox records), and why a journal fails it (``JournalAnchor``,
  ``anchor_problem``);
* ``reading``: rows and seals read back on read-only connections, while the hub writes
  (``tail``, ``read_entries``, ``read_seals``, ``iter_payloads``);
* ``verify``: the whole chain checked, naming the first row found broken
  (``verify_journal``);
* ``checkpoint``: the WAL copied back into the file off the write path
  (``WalCheckpointer``, which the escalation outbox uses too);
* ``rowtimes``: where a seal's segment starts, found in memory;
* ``store``: the ``Journal`` itself, one writer thread that appends and seals;
* ``writer_lock``: the one writer, a ``flock`` on ``<journal>.lock`` that a second
  process appending is refused by (``JournalLocked``);
* ``quarantine``: an unusable file, or one that fails its anchor, set aside and a
  fresh journal started (``open_or_quarantine``, what the hub opens its journal with);
* ``commands``: ``ecrin journal verify`` and ``ecrin journal tail``.

Each module uses only those listed before it. Code elsewhere imports from here
(``from hub.journal import Journal``), not from the modules.
"""

from hub.journal.anchor import JournalAnchor, anchor_path, anchor_problem, read_anchor
from hub.journal.chain import FORMAT_VERSION, GENESIS_HASH, canonical_payload, chain_hash
from hub.journal.checkpoint import WalCheckpointer
from hub.journal.commands import journal_tail_main, journal_verify_main
from hub.journal.errors import JournalError, JournalQuarantined, UnverifiedSignalsHeld
from hub.journal.quarantine import open_or_quarantine, quarantine_file
from hub.journal.reading import (
    JournalEntry,
    JournalSeal,
    iter_payloads,
    read_entries,
    read_seals,
    tail,
)
from hub.journal.rowtimes import _RowTimes as _RowTimes
from hub.journal.store import SEAL_HORIZON, Journal
from hub.journal.verify import VerifyResult, verify_journal
from hub.journal.writer_lock import JournalLocked, lock_path

__all__ = [
    "FORMAT_VERSION",
    "GENESIS_HASH",
    "SEAL_HORIZON",
    "Journal",
    "JournalAnchor",
    "JournalEntry",
    "JournalError",
    "JournalLocked",
    "JournalQuarantined",
    "JournalSeal",
    "UnverifiedSignalsHeld",
    "VerifyResult",
    "WalCheckpointer",
    "anchor_path",
    "anchor_problem",
    "canonical_payload",
    "chain_hash",
    "iter_payloads",
    "journal_tail_main",
    "journal_verify_main",
    "lock_path",
    "open_or_quarantine",
    "quarantine_file",
    "read_anchor",
    "read_entries",
    "read_seals",
    "tail",
    "verify_journal",
]
