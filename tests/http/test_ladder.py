"""The API and the stream as the real engine walks its ladder (on a clock moved by hand)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.escalation.clock import ManualClock
from tests.http.conftest import ACK_DEADLINE, Client, Shop, stream


@pytest.fixture
def engine_clock() -> ManualClock:
    return ManualClock(datetime.now(UTC))


async def test_the_second_tier_sees_it_arrive_live_and_takes_it(
    client: Client, shop: Shop, engine_clock: ManualClock
) -> None:
    escalation = await shop.holdup()
    hidden = await client.get(f"/api/v1/escalations/{escalation.id}", who="interlocutor")
    assert hidden.status == 404

    async with stream(client, "interlocutor") as reader:
        assert await reader.events_until_heartbeat() == []
        engine_clock.advance(ACK_DEADLINE + 1)  # nobody acknowledged in time
        escalated = await reader.event()
        assert escalated.event == "escalated"
        assert escalated.json["id"] == escalation.id
        assert escalated.json["tier"] == 1
        assert escalated.json["addressed_to"] == ["referent-37", "interlocutor-37"]

        taken = await client.post(f"/api/v1/escalations/{escalation.id}/ack", who="interlocutor")
        assert taken.status == 200
        assert taken.body["acknowledged_by"] == "interlocutor-37"
        assert (await reader.event()).event == "acknowledged"

    late = await client.post(f"/api/v1/escalations/{escalation.id}/ack", who="referent")
    assert late.status == 409
    assert late.body["error"] == "conflict"
    seen = await client.get(f"/api/v1/escalations/{escalation.id}", who="referent")
    assert seen.body["acknowledged_by"] == "interlocutor-37"
