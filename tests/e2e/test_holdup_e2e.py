"""A hold-up, end to end: from a DSC panel on a serial line to the referents' servers.

Each test runs the real hub of a shop (its YAML file, its plugins from their entry
points, its journal and outbox on disk, its referent API on loopback) with a DSC
IT-100 simulated on a pseudo-terminal, and the contacts' webhook receivers on loopback.

A ``kill -9`` of the hub in the middle of a burst of hold-ups, then a restart, is
``tests/escalation/test_kill.py`` (a real ``ecrin run`` process).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.escalation.model import Status
from hub.escalation.payload import ESCALATION_KEYS
from hub.escalation.webhooks import verify_signature
from hub.journal import read_entries
from hub.testing import wait_until
from plugins.panels.simulators import It100Simulator
from tests.conftest import write_lock
from tests.e2e.conftest import ACK_DEADLINE, INTERLOCUTOR, REFERENT, MakeShop, Shop
from tests.escalation.conftest import SECRET_37, Request
from tests.escalation.support import ChangeLog

#: Keys a payload must never have: the amount of a loss, or free text from the shop.
FORBIDDEN_KEYS = {"amount", "loss", "value", "note", "notes", "comment", "message", "text"}


def created(request: Request) -> bool:
    return request.event == "escalation.created"


def escalated(request: Request) -> bool:
    return request.event == "escalation.escalated"


async def press(panel: It100Simulator, how: str) -> None:
    """A hold-up button on panel zone 5 (in the comptoir), or a duress code."""
    if how == "holdup":
        await panel.zone_alarm(zone=5)
    else:
        await panel.duress(user=40)


def sealed(shop: Shop, escalation_id: str) -> dict[str, Any] | None:
    """The journal seal of an escalation's scene, once the engine has made it."""
    scene = shop.engine.scene(escalation_id)
    return scene.seal if scene is not None else None


async def acknowledge(shop: Shop, escalation_id: str, contact_id: str) -> tuple[int, Any]:
    """POST the acknowledgement through the hub's API, as the referent's client does."""
    headers = {"Authorization": f"Bearer {shop.tokens[contact_id]}"}
    async with (
        aiohttp.ClientSession() as client,
        client.post(f"{shop.url}/api/v1/escalations/{escalation_id}/ack", headers=headers) as r,
    ):
        return r.status, await r.json()


@pytest.mark.parametrize(
    ("how", "kind", "zone"), [("holdup", "holdup", "comptoir"), ("duress", "duress", None)]
)
async def test_a_holdup_on_the_panel_reaches_the_referent_signed(
    make_shop: MakeShop, how: str, kind: str, zone: str | None
) -> None:
    async with make_shop() as shop:
        await press(shop.panel, how)
        (request,) = await shop.referent.wait_for(created)
        await wait_until(lambda: sealed(shop, request.data["id"]) is not None)
        seal = sealed(shop, request.data["id"])
        journal = shop.hub.journal_path
    # The scene is preserved: the journal segment sealed holds the signal's row.
    assert seal is not None
    (row,) = [e for e in read_entries(journal) if e.life_safety]
    assert seal["first_seq"] <= row.seq <= seal["last_seq"]
    # The receiver's own check, as docs/webhooks.md shows it: the signature holds for
    # the body as received, and for nothing else.
    assert verify_signature(SECRET_37, request.signature, request.body, time.time())
    assert not verify_signature(SECRET_37, request.signature, request.body + b" ", time.time())
    data = request.data
    assert (data["kind"], data["zone"]["id"], data["tier"]) == (kind, zone, 0)
    assert (data["priority"], data["status"], data["site"]) == (
        "life-safety",
        "open",
        "Bijouterie Marchal",
    )
    assert set(data) == ESCALATION_KEYS
    assert not FORBIDDEN_KEYS & set(data)
    # Nobody else is told before the first tier's deadline.
    assert shop.interlocutor.requests == []


async def test_no_webhook_leaves_before_the_journal_holds_the_signal(make_shop: MakeShop) -> None:
    """The engine writes its outbox while the journal writes the hold-up, but sends
    nothing until the journal has it: here the journal is held up (its write lock taken
    from outside) for longer than the whole path takes otherwise."""
    async with make_shop() as shop:
        journal = shop.hub.journal_path
        with write_lock(journal):
            await press(shop.panel, "holdup")
            await wait_until(lambda: escalations_in(shop.engine.outbox.path) == 1)
            # Well inside the recorder's publish deadline (0.5 s), past which a stuck
            # journal is given up on so that a hold-up never waits for a dead disk.
            await asyncio.sleep(0.1)
            assert shop.referent.requests == []
            assert [e for e in read_entries(journal) if e.life_safety] == []
        (request,) = await shop.referent.wait_for(created)
        (row,) = [e for e in read_entries(journal) if e.life_safety]
    assert request.data["kind"] == "holdup"
    assert row.event().time.isoformat() == request.data["time"]


def escalations_in(outbox: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{outbox}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT count(*) FROM escalations").fetchone()[0])


async def test_without_acknowledgement_the_next_tier_is_told_after_the_deadline(
    make_shop: MakeShop,
) -> None:
    async with make_shop() as shop:
        await press(shop.panel, "holdup")
        (first,) = await shop.referent.wait_for(created)
        (climbed,) = await shop.interlocutor.wait_for(escalated, timeout=ACK_DEADLINE + 5)
        escalation = shop.engine.get(shop.contact(INTERLOCUTOR), first.data["id"])
    assert climbed.verified
    assert climbed.data["id"] == first.data["id"]
    assert (climbed.data["tier"], climbed.data["kind"]) == (1, "holdup")
    assert escalation.addressed_to == (REFERENT, INTERLOCUTOR)
    assert escalation.status is Status.OPEN
    # The first tier already has it: it is not sent again for the climb.
    assert [r.event for r in shop.referent.requests] == ["escalation.created"]


async def test_an_acknowledgement_through_the_api_stops_the_ladder(
    make_shop: MakeShop,
) -> None:
    async with make_shop() as shop:
        await press(shop.panel, "holdup")
        (first,) = await shop.referent.wait_for(created)
        taken = first.data["id"]
        status, body = await acknowledge(shop, taken, REFERENT)
        assert (status, body["status"], body["acknowledged_by"]) == (200, "acknowledged", REFERENT)
        # The ladder has nothing left to wait for: no deadline, so no timer.
        escalation = shop.engine.get(shop.contact(REFERENT), taken)
        assert (escalation.status, escalation.deadline) == (Status.ACKNOWLEDGED, None)
        # A second hold-up, in the other zone, nobody takes: its next tier is told one
        # deadline after it, long after the first escalation's deadline has passed.
        await shop.panel.zone_alarm(zone=6)
        (second,) = await shop.interlocutor.wait_for(escalated, timeout=ACK_DEADLINE + 5)
    assert second.data["zone"]["id"] == "vitrine"
    assert second.data["id"] != taken
    assert {r.data["id"] for r in shop.interlocutor.requests} == {second.data["id"]}
    assert [r.data["event"] for r in shop.referent.requests if r.data["id"] == taken] == [
        "created",
        "acknowledged",
    ]


async def test_a_receiver_that_is_down_gets_the_holdup_when_it_is_back(
    make_shop: MakeShop,
) -> None:
    async with make_shop(down={REFERENT}) as shop:
        changes = ChangeLog(shop.engine, shop.contact(REFERENT))
        await press(shop.panel, "holdup")
        (failed,) = await changes.wait_for("delivery_failed")
        assert "retry" in failed.reason
        await shop.referent.start()
        (request,) = await shop.referent.wait_for(created)
        await changes.close()
    assert request.verified
    assert request.data["id"] == failed.escalation.id
    assert (request.data["kind"], request.data["zone"]["id"]) == ("holdup", "comptoir")
