"""A hold-up, end to end, on chosen days: inside each shipped high-stock period and
outside all of them.

The hub runs with the shipped calendar (``config/high-stock.yaml``) and a clock that
stands on the day the test names and then moves at the real pace, so that the ladder's
timers run on the loop as in a shop. The day the tests run decides nothing: every other
end-to-end test runs without the calendar (``tests/e2e/conftest.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.escalation.clock import SystemClock
from tests.e2e.conftest import ACK_DEADLINE, REFERENT, MakeShop
from tests.escalation.conftest import Request

PARIS = ZoneInfo("Europe/Paris")
#: The shipped calendar's deadline factor (``escalation.high_stock.deadline_factor``).
FACTOR = 0.5


def notice(request: Request) -> bool:
    return request.event == "high_stock_period.started"


@pytest.mark.parametrize(
    ("day", "period"),
    [
        pytest.param(datetime(2027, 2, 10, 11, 0, tzinfo=PARIS), "Saint-Valentin", id="valentin"),
        # 2027: Pentecost is 16 May, so the Fête des mères is Sunday 30 May (20-30 May).
        pytest.param(datetime(2027, 5, 25, 17, 30, tzinfo=PARIS), "Fête des mères", id="meres"),
        pytest.param(datetime(2026, 12, 6, 23, 30, tzinfo=PARIS), "Noël", id="noel"),
        pytest.param(datetime(2027, 3, 10, 11, 0, tzinfo=PARIS), None, id="outside"),
    ],
)
async def test_a_holdup_on_a_given_day(
    make_shop: MakeShop, day: datetime, period: str | None
) -> None:
    clock = SystemClock(start=day)
    async with make_shop(high_stock="{}", clock=clock) as shop:
        await shop.panel.zone_alarm(zone=5)
        (created,) = await shop.referent.wait_for(lambda r: r.event == "escalation.created")
        # Nobody acknowledges: the ladder climbs at the (shortened) deadline.
        (escalated,) = await shop.interlocutor.wait_for(lambda r: r.event == "escalation.escalated")
        esc = shop.engine.get(shop.contact(REFERENT), created.data["id"])
        notices = [r.data["name"] for r in shop.referent.requests if notice(r)]

    assert created.verified
    assert escalated.verified
    assert escalated.data["id"] == created.data["id"]
    assert created.data["high_stock"] == period
    factor = FACTOR if period is not None else 1.0
    first_deadline = datetime.fromisoformat(created.data["deadline"])
    assert first_deadline - esc.created_at == timedelta(seconds=ACK_DEADLINE * factor)
    # The hub's clock stood on the chosen day (the escalation's id carries it).
    assert esc.id.startswith(f"esc-{day.astimezone(UTC):%Y%m%d}-")
    # The referents are told once that the period started; outside one, nothing.
    assert notices == ([period] if period is not None else [])
    # The interlocutor is the second tier: never told of the period.
    assert [r for r in shop.interlocutor.requests if notice(r)] == []
