"""The live stream (Server-Sent Events) over real HTTP."""

from __future__ import annotations

import aiohttp

from hub.http import HttpSettings, create_app, serve
from hub.http.app import METRICS, REFERENT_API
from hub.http.referent_api import ReferentApi
from tests.http.conftest import STREAM, Client, Shop, stream
from tests.http.openapi_check import OpenApiChecker
from tests.http.sse_client import SseComment, SseEvent, SseReader


def check_event(checker: OpenApiChecker, event: SseEvent) -> None:
    assert checker.validate_schema("Escalation", event.json) == []
    assert event.id == f"{event.json['id']}@{event.json['revision']}"


async def test_open_escalations_first_then_live_changes(
    client: Client, shop: Shop, checker: OpenApiChecker
) -> None:
    older = await shop.holdup()
    old = await shop.holdup()
    async with stream(client) as reader:
        current = [await reader.event(), await reader.event()]
        assert [e.event for e in current] == ["current", "current"]
        assert [e.json["id"] for e in current] == [older.id, old.id]  # oldest first
        assert reader.retry == 3000

        new = await shop.holdup()
        created = await reader.event()
        assert created.event == "created"
        assert created.json["id"] == new.id
        assert created.json["status"] == "open"

        ack = await client.post(f"/api/v1/escalations/{new.id}/ack")
        assert ack.status == 200
        acknowledged = await reader.event()
        assert acknowledged.event == "acknowledged"
        assert acknowledged.json == ack.body
        for event in (*current, created, acknowledged):
            check_event(checker, event)


async def test_an_idle_stream_sends_heartbeats(client: Client) -> None:
    async with stream(client) as reader:
        assert await reader.events_until_heartbeat() == []
        assert await reader.next() == SseComment("heartbeat")


async def test_a_replayed_acknowledgement_is_streamed_once(client: Client, shop: Shop) -> None:
    escalation = await shop.holdup()
    async with stream(client) as reader:
        assert (await reader.event()).event == "current"
        for _ in range(3):
            assert (await client.post(f"/api/v1/escalations/{escalation.id}/ack")).status == 200
        assert (await client.post(f"/api/v1/escalations/{escalation.id}/resolve")).status == 200
        events = [await reader.event(), await reader.event()]
        assert [e.event for e in events] == ["acknowledged", "resolved"]


async def test_a_reconnecting_client_gets_the_open_escalations_again(
    client: Client, shop: Shop
) -> None:
    first = await shop.holdup()
    async with stream(client) as reader:
        assert (await reader.event()).json["id"] == first.id
    await client.post(f"/api/v1/escalations/{first.id}/ack")
    second = await shop.holdup()
    async with stream(client) as reader:
        again = await reader.event()
        assert (again.event, again.json["id"]) == ("current", second.id)
        assert await reader.events_until_heartbeat() == []  # the acknowledged one is not re-sent


async def test_a_stream_shows_only_what_is_addressed_to_its_contact(
    client: Client, shop: Shop
) -> None:
    async with stream(client, "interlocutor") as other, stream(client, "installer") as installer:
        # Start right after a heartbeat, so that the next one is a fence after the change.
        assert await other.events_until_heartbeat() == []
        escalation = await shop.holdup()
        seen = await installer.event()
        assert (seen.event, seen.json["id"]) == ("created", escalation.id)
        assert await other.events_until_heartbeat() == []


async def test_stream_refusals_are_json_before_the_stream_starts(client: Client) -> None:
    assert (await client.get(STREAM, who=None)).status == 401
    owner = await client.get(STREAM, who="owner")
    assert owner.status == 403
    assert owner.body["error"] == "forbidden"


async def test_stopping_the_server_ends_open_streams(shop: Shop, settings: HttpSettings) -> None:
    app = create_app(shop.service, settings)
    api: ReferentApi = app[REFERENT_API]
    headers = {"Authorization": f"Bearer {shop.people.tokens['referent']}"}
    async with aiohttp.ClientSession() as session:
        async with serve(app) as url:
            response = await session.get(
                url + STREAM, headers=headers, timeout=aiohttp.ClientTimeout(total=None)
            )
            reader = SseReader(response)
            assert await reader.events_until_heartbeat() == []
            assert app[METRICS].streams_open == 1
        # The server stopped. The handler returned by itself (a clean end of the chunked
        # body), rather than being cut when the runner's patience ran out.
        while await reader.next() is not None:
            pass
        assert response.content.is_eof()
        response.release()
    assert len(api.streams) == 0
    assert app[METRICS].streams_open == 0
