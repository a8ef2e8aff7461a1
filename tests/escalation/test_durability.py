"""Nothing is lost: the outbox on disk, resumed deliveries and deadlines after a
restart, signals replayed from the journal, a damaged outbox set aside."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.bus import EventBus
from hub.escalation.config import contact_of
from hub.escalation.model import Escalation, Priority, Status
from hub.escalation.outbox import Delivery, Outbox, OutboxBatch, StoredEscalation
from hub.events import AlarmKind, CameraAvailability
from hub.journal import (
    Journal,
    UnverifiedSignalsHeld,
    canonical_payload,
    read_entries,
    verify_journal,
)
from hub.testing import EventRecorder
from tests.escalation.conftest import (
    Receiver,
    Request,
    engine_for,
    load,
    plugin_manager,
    write_config,
)
from tests.escalation.support import ChangeLog, alarm

NOW = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)


def escalation(esc_id: str, **kw: object) -> Escalation:
    fields: dict[str, object] = {
        "id": esc_id,
        "kind": "holdup",
        "priority": Priority.LIFE_SAFETY,
        "status": Status.OPEN,
        "site": "Bijouterie",
        "address": "1 rue",
        "departement": "37",
        "zone": "comptoir",
        "zone_name": "Comptoir",
        "device": "centrale",
        "cameras": ("cam",),
        "instructions": "",
        "tier": 0,
        "addressed_to": ("r",),
        "signals": 1,
        "high_stock": None,
        "created_at": NOW,
        "updated_at": NOW,
        "deadline": NOW + timedelta(seconds=120),
        "revision": 1,
    }
    fields.update(kw)
    return Escalation(**fields)  # type: ignore[arg-type]


def delivery(key: str, esc_id: str, contact: str = "r") -> Delivery:
    return Delivery(
        key=key,
        escalation_id=esc_id,
        contact=contact,
        event="escalation.created",
        body=b'{"id":"x"}',
        next_at=NOW,
        created_at=NOW,
    )


async def test_outbox_round_trip_and_superseding(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    async with Outbox(path) as outbox:
        await outbox.commit(
            OutboxBatch(
                escalations=[StoredEscalation(escalation("e1"), {"fold_key": "k"})],
                deliveries=[delivery("e1:0:r:1", "e1"), delivery("e1:0:s:1", "e1", "s")],
                signals=[("digest-1", "e1", NOW)],
                notices=[("high-stock:x", NOW)],
            )
        )
        # A newer revision to the same contact supersedes the pending one.
        await outbox.commit(OutboxBatch(deliveries=[delivery("e1:0:r:2", "e1")]))
        # The same key again is ignored: queued once, whatever happens.
        await outbox.commit(OutboxBatch(deliveries=[delivery("e1:0:r:2", "e1")]))
        assert await outbox.delivery_status("e1:0:r:1") == "superseded"
    async with Outbox(path) as outbox:
        snapshot = await outbox.load(NOW - timedelta(hours=1))
    assert [s.escalation for s in snapshot.escalations] == [escalation("e1")]
    assert snapshot.escalations[0].state == {"fold_key": "k"}
    assert [d.key for d in snapshot.pending] == ["e1:0:s:1", "e1:0:r:2"]
    assert snapshot.notices == frozenset({"high-stock:x"})
    assert set(snapshot.signals) == {"digest-1"}
    # WAL with synchronous=FULL, as the journal.
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_a_file_that_is_not_an_outbox_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    path.write_bytes(b"this is not SQLite at all" * 100)
    async with Outbox(path) as outbox:
        assert outbox.quarantined is not None
        assert outbox.quarantined.read_bytes().startswith(b"this is not SQLite")
        snapshot = await outbox.load(NOW)
    assert snapshot.escalations == []


async def test_restart_resumes_undelivered_deliveries_and_deadlines(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    referent = receivers["referent-37"]
    referent.status = 503
    config = load(
        write_config(
            tmp_path,
            {name: r.url for name, r in receivers.items()},
            ladder="[{contacts: [referent-37], ack_deadline: 1.0},"
            " {contacts: [interlocuteur-37], ack_deadline: 300}]",
        )
    )
    installer = contact_of(config, "installer")
    assert installer is not None
    async with engine_for(config, EventBus(), plugins=plugin_manager()) as first:
        log = ChangeLog(first, installer)
        await first.handle(alarm())
        (failed,) = await log.wait_for("delivery_failed")
        await log.close()
        (esc,) = first.list(installer)
    failed_key = referent.requests[0].key
    referent.status = 200
    async with engine_for(config, EventBus(), plugins=plugin_manager()) as second:
        log = ChangeLog(second, installer)
        assert second.get(installer, esc.id) == esc  # read back as it was
        delivered = await referent.wait_for(lambda r: r.status == 200)
        # The deadline stored by the first run still passes, and the ladder moves on.
        (escalated,) = await log.wait_for("escalated", timeout=10)
        await receivers["interlocuteur-37"].wait_for()
        await log.close()
    assert delivered[0].key == failed_key  # the same delivery, not a new one
    assert failed.escalation.id == esc.id
    assert escalated.escalation.tier == 1


async def test_signals_journaled_but_never_escalated_are_replayed(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    config = load(write_config(tmp_path, {name: r.url for name, r in receivers.items()}))
    installer = contact_of(config, "installer")
    assert installer is not None
    # The outbox exists (the hub ran before)...
    async with engine_for(config, plugins=plugin_manager()):
        pass
    # ...then a hold-up reached the journal, and the hub was killed before the engine
    # took it.
    lost = alarm(now=True)
    restored = alarm(restore=True, now=True)
    panic = alarm(AlarmKind.PANIC, zone="coffre", now=True)
    async with Journal(config.journal.path) as journal:
        await journal.append([lost, restored, panic])
        async with engine_for(config, journal=journal, plugins=plugin_manager()) as running:
            requests = await receivers["referent-37"].wait_for(count=2)
            escalations = running.list(installer)
    assert sorted(e.kind for e in escalations) == ["holdup", "panic"]
    assert {r.data["kind"] for r in requests} == {"holdup", "panic"}
    holdup = next(e for e in escalations if e.kind == "holdup")
    assert holdup.signalled_at == lost.time
    # Replayed once: the next start finds them already escalated.
    async with (
        Journal(config.journal.path) as journal,
        engine_for(config, journal=journal, plugins=plugin_manager()) as running,
    ):
        assert len(running.list(installer)) == 2  # the replay is done when start returns


def is_escalation(request: Request) -> bool:
    """A webhook about an escalation (not a high-stock period's notice, which depends
    on the date)."""
    return request.event.startswith("escalation.")


def edit_row(path: Path, seq: int, old: str, new: str) -> None:
    """Edit one row's payload as someone with the sqlite3 shell would: the trigger that
    refuses updates dropped first, the hashes left as they were."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TRIGGER IF EXISTS events_no_update")
        changed = conn.execute(
            "UPDATE events SET payload = replace(payload, ?, ?) WHERE seq = ?", (old, new, seq)
        ).rowcount
        conn.commit()
    finally:
        conn.close()
    assert changed == 1


async def test_signals_after_a_break_in_the_chain_are_held_not_escalated(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    """Replay on start trusts only the rows whose chain verifies: a signal after an
    edited row is journaled as held and reported, and no referent hears of it."""
    config = load(write_config(tmp_path, {name: r.url for name, r in receivers.items()}))
    installer = contact_of(config, "installer")
    assert installer is not None
    async with engine_for(config, plugins=plugin_manager()):
        pass  # the outbox exists: the hub ran before
    before = alarm(now=True)
    ordinary = CameraAvailability(camera="cam-comptoir", state="online")
    after = alarm(AlarmKind.PANIC, zone="coffre", now=True)
    async with Journal(config.journal.path) as journal:
        seqs = await journal.append([before, ordinary, after])
    edit_row(config.journal.path, seqs[1], "online", "offline")
    bus = EventBus()
    held_events = EventRecorder()
    bus.subscribe(UnverifiedSignalsHeld, held_events.handle)
    async with (
        Journal(config.journal.path) as journal,
        engine_for(config, bus, journal=journal, plugins=plugin_manager()) as running,
    ):
        # The replay is done when start returns; the panic after the break: none.
        assert [e.kind for e in running.list(installer)] == ["holdup"]
        (request,) = await receivers["referent-37"].wait_for(is_escalation)
        (published,) = await held_events.wait_for(UnverifiedSignalsHeld)
    assert request.data["kind"] == "holdup"
    sent = [r for r in receivers["referent-37"].requests if is_escalation(r)]
    assert all(r.data["kind"] != "panic" for r in sent)
    entries = read_entries(config.journal.path)
    held = [e.event() for e in entries if e.type == "UnverifiedSignalsHeld"]
    assert held == [published]
    assert (published.first_bad_seq, published.seqs, published.count) == (
        seqs[1],
        str(seqs[2]),
        1,
    )
    # Held for good: the next start holds it again, and still escalates nothing.
    async with (
        Journal(config.journal.path) as journal,
        engine_for(config, journal=journal, plugins=plugin_manager()) as running,
    ):
        assert [e.kind for e in running.list(installer)] == ["holdup"]


async def test_an_edited_signal_is_held_not_escalated(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    """A hold-up row whose payload was changed (its zone here) is not sent as it reads."""
    config = load(write_config(tmp_path, {name: r.url for name, r in receivers.items()}))
    installer = contact_of(config, "installer")
    assert installer is not None
    async with engine_for(config, plugins=plugin_manager()):
        pass
    holdup = alarm(now=True)
    async with Journal(config.journal.path) as journal:
        (seq,) = await journal.append([holdup])
    edit_row(config.journal.path, seq, '"zone":"comptoir"', '"zone":"vitrine"')
    async with (
        Journal(config.journal.path) as journal,
        engine_for(config, journal=journal, plugins=plugin_manager()) as running,
    ):
        assert running.list(installer) == []
    (held,) = [e.event() for e in read_entries(config.journal.path) if e.type != "AlarmSignal"]
    assert isinstance(held, UnverifiedSignalsHeld)
    assert (held.first_bad_seq, held.seqs) == (seq, str(seq))
    assert [r for r in receivers["referent-37"].requests if is_escalation(r)] == []


async def test_signals_escalated_but_never_journaled_are_journaled_on_start(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    """The engine writes its outbox while the journal writes the signal; a crash between
    the two commits leaves the signal in the outbox only. The next start journals it
    from the outbox, before any webhook resumes."""
    config = load(write_config(tmp_path, {name: r.url for name, r in receivers.items()}))
    installer = contact_of(config, "installer")
    assert installer is not None
    holdup = alarm(now=True)
    other = alarm(AlarmKind.BURGLARY, zone="coffre", now=True)
    # The escalation reached the outbox; the journal never got the signal.
    async with engine_for(config, plugins=plugin_manager()) as running:
        await running.handle(holdup)
        await receivers["referent-37"].wait_for(count=1)
    async with Journal(config.journal.path) as journal:
        await journal.append([other])
        async with engine_for(config, journal=journal, plugins=plugin_manager()) as running:
            assert len(running.list(installer)) == 1  # restored, not escalated again
        entries = read_entries(config.journal.path)
    assert [e.event() for e in entries] == [other, holdup]
    assert entries[1].payload == canonical_payload(holdup)
    assert verify_journal(config.journal.path).ok
    # Done once: the next start finds the signal in the journal.
    async with (
        Journal(config.journal.path) as journal,
        engine_for(config, journal=journal, plugins=plugin_manager()),
    ):
        pass
    assert len(read_entries(config.journal.path)) == 2


async def test_an_outbox_from_before_signal_texts_opens_and_gains_the_column(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outbox.db"
    async with Outbox(path) as outbox:
        await outbox.commit(OutboxBatch(signals=[("old", "e0", NOW)]))
    with sqlite3.connect(path) as conn:  # as an earlier hub made it
        conn.execute("ALTER TABLE signals DROP COLUMN payload")
    async with Outbox(path) as outbox:
        await outbox.commit(
            OutboxBatch(signals=[("new", "e1", NOW)], signal_payloads={"new": '{"type":"X"}'})
        )
        snapshot = await outbox.load(NOW - timedelta(hours=1))
    assert set(snapshot.signals) == {"old", "new"}
    assert snapshot.signal_payloads == {"new": '{"type":"X"}'}


async def test_an_unusable_outbox_does_not_stop_a_holdup(
    tmp_path: Path, receivers: dict[str, Receiver]
) -> None:
    config = load(
        write_config(
            tmp_path,
            {name: r.url for name, r in receivers.items()},
            extra="outbox: {path: a-directory}\n",
        )
    )
    (tmp_path / "a-directory").mkdir()
    installer = contact_of(config, "installer")
    assert installer is not None
    async with engine_for(config, plugins=plugin_manager()) as running:
        await running.handle(alarm())
        (request,) = await receivers["referent-37"].wait_for()
        assert [e.kind for e in running.list(installer)] == ["holdup"]
    assert request.verified
