"""``GET /api/v1/escalations/{id}/coverage`` over real HTTP, from a real coverage log
made from a real journal: which cameras filmed the zone when the signal came."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.coverage import CoverageLog, CoverageWriter
from hub.coverage.model import CoverageReader
from hub.events import CameraAvailability, CameraRecording, Event, HubAlive
from hub.http.coverage_view import coverage_at_signal
from hub.journal import Journal
from tests.http.conftest import ZONES, Client, Shop

#: The cameras of ``shop_config``: one, on the counter.
CAMERAS = {"cam-counter": ("counter",)}


async def log_of(directory: Path, events: list[Event]) -> CoverageLog:
    """A coverage log on disk, from a journal holding ``events``."""
    directory.mkdir(exist_ok=True)
    async with Journal(directory / "journal.db") as journal:
        await journal.append(events)

    def catch_up() -> None:
        writer = CoverageWriter(directory / "coverage.sqlite", CAMERAS, tuple(ZONES))
        try:
            writer.catch_up(directory / "journal.db")
        finally:
            writer.close()

    await asyncio.to_thread(catch_up)
    return CoverageLog(directory / "coverage.sqlite")


def filming_since_an_hour(
    recording: bool = True, until: timedelta = timedelta(hours=1)
) -> list[Event]:
    """The hub alive from an hour ago to ``until`` from now (a heartbeat ahead of the
    signals the test raises now), the counter camera online all along."""
    now = datetime.now(UTC)
    return [
        HubAlive(started=now - timedelta(hours=1), time=now - timedelta(hours=1)),
        CameraAvailability(camera="cam-counter", state="online", time=now - timedelta(minutes=50)),
        CameraRecording(
            camera="cam-counter", recording=recording, time=now - timedelta(minutes=50)
        ),
        HubAlive(started=now - timedelta(hours=1), time=now + until),
    ]


@pytest.fixture
async def coverage(tmp_path: Path) -> CoverageReader:
    return await log_of(tmp_path / "coverage", filming_since_an_hour())


async def test_the_cameras_filming_the_zone_at_the_signal(client: Client, shop: Shop) -> None:
    escalation = await shop.holdup("counter")
    reply = await client.get(f"/api/v1/escalations/{escalation.id}/coverage")
    assert reply.status == 200
    at = (escalation.signalled_at or escalation.created_at).isoformat()
    assert reply.body == {
        "escalation": escalation.id,
        "zone": "counter",
        "at": at,
        "known": True,
        "reason": "",
        "as_of": at,
        "covered": True,
        "cause": "",
        "cameras": [
            {"id": "cam-counter", "availability": "online", "recording": "on", "filming": True}
        ],
    }
    window = await shop.holdup("window")  # no camera films the shop window
    body = (await client.get(f"/api/v1/escalations/{window.id}/coverage")).body
    assert (body["known"], body["covered"], body["cause"], body["cameras"]) == (
        True,
        False,
        "no camera films it",
        [],
    )
    # The same visibility as the escalation: the installer sees it, the owner cannot.
    assert (
        await client.get(f"/api/v1/escalations/{window.id}/coverage", who="installer")
    ).status == 200
    assert (
        await client.get(f"/api/v1/escalations/{window.id}/coverage", who="owner")
    ).status == 403


async def test_a_camera_online_but_not_recording_does_not_film(
    client: Client, shop: Shop, tmp_path: Path
) -> None:
    escalation = await shop.holdup("counter")
    log = await log_of(tmp_path / "off", filming_since_an_hour(recording=False))
    body = await asyncio.to_thread(coverage_at_signal, log, escalation)
    assert body["covered"] is False
    assert body["cause"] == "not recording (cam-counter)"
    assert body["cameras"][0] == {
        "id": "cam-counter",
        "availability": "online",
        "recording": "off",
        "filming": False,
    }


async def test_a_log_that_does_not_reach_the_signal_yet_answers_as_of_its_last_moment(
    shop: Shop, tmp_path: Path
) -> None:
    escalation = await shop.holdup("counter")
    log = await log_of(tmp_path / "behind", filming_since_an_hour(until=-timedelta(minutes=1)))
    body = await asyncio.to_thread(coverage_at_signal, log, escalation)
    span = log.span()
    assert span is not None
    assert body["known"] is True
    assert body["covered"] is True
    assert body["as_of"] == span[1].isoformat()
    assert body["as_of"] < body["at"]
    # Before the log began, it cannot tell.
    before = dataclasses.replace(escalation, signalled_at=span[0] - timedelta(seconds=1))
    early = await asyncio.to_thread(coverage_at_signal, log, before)
    assert (early["known"], early["reason"]) == (
        False,
        "the signal came before the coverage log began",
    )


@pytest.mark.parametrize("coverage", [None])
async def test_without_a_coverage_log_the_answer_says_so(client: Client, shop: Shop) -> None:
    escalation = await shop.holdup("counter")
    body = (await client.get(f"/api/v1/escalations/{escalation.id}/coverage")).body
    assert (body["known"], body["reason"], body["covered"]) == (
        False,
        "the hub keeps no coverage log",
        None,
    )
