"""The referent API over real HTTP: visibility, actions, idempotence, every refusal a 4xx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from hub.escalation.engine import EscalationEngine
from hub.escalation.model import Status
from hub.events import AlarmKind
from hub.http import HttpSettings, create_app, serve
from hub.http.app import METRICS
from tests.escalation.conftest import engine_for
from tests.http.conftest import Client, People, Shop, shop_config

ESCALATIONS = "/api/v1/escalations"


def error_of(reply: Any) -> str:
    body = reply.body
    assert set(body) == {"error", "reason"}
    assert body["reason"]
    assert "\n" not in body["reason"]
    return str(body["error"])


# -- who am I ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "scopes"),
    [("referent", ["referent"]), ("installer", ["installer"]), ("owner", [])],
)
async def test_me_names_the_contact_and_its_scopes(
    client: Client, people: People, who: str, scopes: list[str]
) -> None:
    reply = await client.get("/api/v1/me", who=who)
    assert reply.status == 200
    contact = people.contacts[who]
    assert reply.body == {
        "id": contact.id,
        "name": contact.name,
        "role": contact.role.value,
        "scopes": scopes,
    }
    assert reply.headers["Cache-Control"] == "no-store"


# -- visibility --------------------------------------------------------------------------
async def test_a_referent_sees_only_what_was_addressed_to_them(client: Client, shop: Shop) -> None:
    escalation = await shop.holdup()

    mine = await client.get(ESCALATIONS, who="referent")
    assert mine.status == 200
    assert [e["id"] for e in mine.body["escalations"]] == [escalation.id]
    assert mine.body["escalations"][0]["kind"] == "holdup"

    other = await client.get(ESCALATIONS, who="interlocutor")
    assert other.status == 200
    assert other.body == {"escalations": []}
    hidden = await client.get(f"{ESCALATIONS}/{escalation.id}", who="interlocutor")
    assert hidden.status == 404
    assert error_of(hidden) == "not_found"

    everything = await client.get(ESCALATIONS, who="installer")
    assert [e["id"] for e in everything.body["escalations"]] == [escalation.id]


async def test_a_contact_without_scope_is_forbidden(client: Client, shop: Shop) -> None:
    escalation = await shop.holdup()
    for path in (ESCALATIONS, f"{ESCALATIONS}/{escalation.id}", f"{ESCALATIONS}/stream"):
        reply = await client.get(path, who="owner")
        assert reply.status == 403, path
        assert error_of(reply) == "forbidden"


async def test_get_returns_the_escalation_as_the_list_does(client: Client, shop: Shop) -> None:
    escalation = await shop.holdup()
    one = await client.get(f"{ESCALATIONS}/{escalation.id}")
    assert one.status == 200
    assert one.body == escalation.to_dict()
    assert "amount" not in one.body


@pytest.mark.parametrize("escalation_id", ["esc-9999", "..", "a" * 200, "esc%00", "-leading"])
async def test_unknown_or_impossible_ids_are_404(client: Client, escalation_id: str) -> None:
    for method, suffix in (("GET", ""), ("POST", "/ack"), ("POST", "/resolve")):
        reply = await client.call(method, f"{ESCALATIONS}/{escalation_id}{suffix}")
        assert reply.status == 404, (method, escalation_id)
        assert error_of(reply) == "not_found"


# -- the list's query ------------------------------------------------------------------------
async def test_list_filters_by_status_and_limits_newest_first(client: Client, shop: Shop) -> None:
    first = await shop.holdup("counter")
    second = await shop.holdup("window")
    ack = await client.post(f"{ESCALATIONS}/{first.id}/ack")
    assert ack.status == 200

    both = await client.get(ESCALATIONS)
    assert [e["id"] for e in both.body["escalations"]] == [second.id, first.id]
    opened = await client.get(ESCALATIONS, params={"status": "open"})
    assert [e["id"] for e in opened.body["escalations"]] == [second.id]
    acked = await client.get(ESCALATIONS, params={"status": "acknowledged"})
    assert [e["id"] for e in acked.body["escalations"]] == [first.id]
    resolved = await client.get(ESCALATIONS, params={"status": "resolved"})
    assert resolved.body["escalations"] == []
    newest = await client.get(ESCALATIONS, params={"limit": "1"})
    assert [e["id"] for e in newest.body["escalations"]] == [second.id]
    most = await client.get(ESCALATIONS, params={"limit": "500", "status": "open"})
    assert most.status == 200


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "status=OPEN",
        "status=",
        "limit=0",
        "limit=501",
        "limit=-1",
        "limit=abc",
        "limit=",
        "limit=1e2",
        "limit=%2B5",
        "limit=%205",
        "limit=00000000000000000000001",
        "token=abc",
        "status=open&status=resolved",
        "limit=1&limit=2",
        "%ff=1",
    ],
)
async def test_bad_query_values_are_400(client: Client, query: str) -> None:
    reply = await client.get(f"{ESCALATIONS}?{query}")
    assert reply.status == 400, query
    assert error_of(reply) == "invalid_query"


async def test_routes_without_parameters_refuse_a_query(client: Client, shop: Shop) -> None:
    escalation = await shop.holdup()
    for method, path in (
        ("GET", "/api/v1/me"),
        ("GET", f"{ESCALATIONS}/{escalation.id}"),
        ("GET", f"{ESCALATIONS}/stream"),
        ("POST", f"{ESCALATIONS}/{escalation.id}/ack"),
    ):
        reply = await client.call(method, f"{path}?x=1")
        assert reply.status == 400, path
        assert error_of(reply) == "invalid_query"
    assert shop.service.get(shop.installer, escalation.id).status is Status.OPEN


# -- actions ---------------------------------------------------------------------------------
async def test_acknowledge_is_idempotent(client: Client, shop: Shop) -> None:
    escalation = await shop.holdup()
    first = await client.post(f"{ESCALATIONS}/{escalation.id}/ack")
    assert first.status == 200
    assert first.body["status"] == "acknowledged"
    assert first.body["acknowledged_by"] == "referent-37"

    replay = await client.post(f"{ESCALATIONS}/{escalation.id}/ack")
    assert replay.status == 200
    assert replay.body == first.body  # same time, same person: nothing changed twice

    listed = await client.get(f"{ESCALATIONS}/{escalation.id}")
    assert listed.body == first.body


async def test_an_acknowledgement_reaches_the_contacts_webhook(client: Client, shop: Shop) -> None:
    escalation = await shop.holdup()
    created = await shop.webhooks.wait_for("escalation.created")
    assert created["id"] == escalation.id
    assert (await client.post(f"{ESCALATIONS}/{escalation.id}/ack")).status == 200
    acknowledged = await shop.webhooks.wait_for("escalation.acknowledged")
    assert acknowledged["id"] == escalation.id


async def test_only_a_referent_may_acknowledge(client: Client, shop: Shop) -> None:
    escalation = await shop.holdup()
    installer = await client.post(f"{ESCALATIONS}/{escalation.id}/ack", who="installer")
    assert installer.status == 403
    assert error_of(installer) == "forbidden"
    not_addressed = await client.post(f"{ESCALATIONS}/{escalation.id}/ack", who="interlocutor")
    assert not_addressed.status == 404
    assert shop.service.get(shop.installer, escalation.id).status is Status.OPEN


async def test_a_resolved_escalation_cannot_be_acknowledged(client: Client, shop: Shop) -> None:
    escalation = await shop.holdup()
    resolved = await client.post(f"{ESCALATIONS}/{escalation.id}/resolve")
    assert resolved.status == 200
    assert resolved.body["status"] == "resolved"
    assert resolved.body["resolved_by"] == "referent-37"

    ack = await client.post(f"{ESCALATIONS}/{escalation.id}/ack")
    assert ack.status == 409
    assert error_of(ack) == "conflict"

    for who in ("referent", "installer"):  # resolved once by anyone: a replay changes nothing
        again = await client.post(f"{ESCALATIONS}/{escalation.id}/resolve", who=who)
        assert again.status == 200
        assert again.body == resolved.body


async def test_an_installer_closes_a_hold_up_only_once_a_referent_has_it(
    client: Client, shop: Shop
) -> None:
    escalation = await shop.holdup()
    early = await client.post(f"{ESCALATIONS}/{escalation.id}/resolve", who="installer")
    assert early.status == 403
    assert error_of(early) == "forbidden"
    assert (await client.post(f"{ESCALATIONS}/{escalation.id}/ack")).status == 200
    later = await client.post(f"{ESCALATIONS}/{escalation.id}/resolve", who="installer")
    assert later.status == 200
    assert later.body["resolved_by"] == "installer"


async def test_release_scene_by_the_addressed_referent_or_the_installer(
    client: Client, shop: Shop
) -> None:
    first = await shop.holdup()
    second = await shop.holdup()
    assert first.scene_sealed

    refused = await client.post(f"{ESCALATIONS}/{first.id}/release-scene", who="interlocutor")
    assert refused.status == 404
    by_referent = await client.post(f"{ESCALATIONS}/{first.id}/release-scene")
    assert by_referent.status == 200
    assert by_referent.body["scene_sealed"] is False
    by_installer = await client.post(f"{ESCALATIONS}/{second.id}/release-scene", who="installer")
    assert by_installer.status == 200
    assert by_installer.body["scene_sealed"] is False
    forbidden = await client.post(f"{ESCALATIONS}/{second.id}/release-scene", who="owner")
    assert forbidden.status == 403
    replay = await client.post(f"{ESCALATIONS}/{first.id}/release-scene")
    assert replay.status == 200
    assert replay.body == by_referent.body


async def test_releasing_a_scene_that_was_never_preserved_is_a_conflict(
    client: Client, shop: Shop
) -> None:
    panic = await shop.alarm(AlarmKind.PANIC)
    assert not panic.scene_sealed
    reply = await client.post(f"{ESCALATIONS}/{panic.id}/release-scene")
    assert reply.status == 409
    assert error_of(reply) == "conflict"


# -- bodies -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"json": {}}, {"data": b"  \n", "headers": {"Content-Type": "text/plain"}}],
)
async def test_an_action_takes_no_body_or_an_empty_object(
    client: Client, shop: Shop, kwargs: dict[str, Any]
) -> None:
    escalation = await shop.holdup()
    reply = await client.post(f"{ESCALATIONS}/{escalation.id}/ack", **kwargs)
    assert reply.status == 200
    assert reply.body["status"] == "acknowledged"


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("data", "headers", "status", "code"),
    [
        (b'{"note": "suspect parti vers la gare"}', JSON, 400, "invalid_body"),
        (b'{"reason": 1}', JSON, 400, "invalid_body"),
        (b"[]", JSON, 400, "invalid_body"),
        (b'"free text"', JSON, 400, "invalid_body"),
        (b"null", JSON, 400, "invalid_body"),
        (b"{not json", JSON, 400, "invalid_json"),
        (b"\xff\xfe{}", JSON, 400, "invalid_json"),
        (b"[" * 4000, JSON, 400, "invalid_json"),
        (b"{}", {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        (b"note=x", {"Content-Type": "application/x-www-form-urlencoded"}, 415, None),
        (b"{" + b" " * 5000 + b"}", JSON, 413, "payload_too_large"),
    ],
)
async def test_bad_bodies_are_refused_and_change_nothing(
    client: Client, shop: Shop, data: bytes, headers: dict[str, str], status: int, code: str | None
) -> None:
    escalation = await shop.holdup()
    for action in ("ack", "resolve", "release-scene"):
        reply = await client.post(
            f"{ESCALATIONS}/{escalation.id}/{action}", data=data, headers=headers
        )
        assert reply.status == status, (action, data[:20])
        assert error_of(reply) == (code or "unsupported_media_type")
    assert shop.service.get(shop.installer, escalation.id) == escalation


async def test_an_oversized_chunked_body_is_413(client: Client, shop: Shop) -> None:
    escalation = await shop.holdup()

    async def chunks() -> Any:
        for _ in range(10):
            yield b" " * 1000

    reply = await client.post(f"{ESCALATIONS}/{escalation.id}/ack", data=chunks(), headers=JSON)
    assert reply.status == 413
    assert error_of(reply) == "payload_too_large"
    assert shop.service.get(shop.installer, escalation.id).status is Status.OPEN


# -- routing errors -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", ESCALATIONS),
        ("PUT", f"{ESCALATIONS}/esc-0001"),
        ("GET", f"{ESCALATIONS}/esc-0001/ack"),
        ("POST", "/api/v1/me"),
        ("POST", "/"),
        ("HEAD", ESCALATIONS),
    ],
)
async def test_a_method_a_route_does_not_have_is_405(
    client: Client, method: str, path: str
) -> None:
    reply = await client.call(method, path)
    assert reply.status == 405
    assert "Allow" in reply.headers
    if method != "HEAD":
        assert error_of(reply) == "method_not_allowed"


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing", "/api/v2/escalations", f"{ESCALATIONS}/", "/x"]
)
async def test_an_unknown_path_is_a_json_404(client: Client, path: str) -> None:
    reply = await client.get(path)
    assert reply.status == 404
    assert error_of(reply) == "not_found"


# -- the catch-all ---------------------------------------------------------------------------
class BrokenEngine(EscalationEngine):
    """An engine with a bug: the one fault a real part cannot be made to show on demand."""

    def list(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in the engine")


@pytest.mark.internal_error_expected
async def test_an_unexpected_exception_is_a_generic_logged_500(
    people: People, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import aiohttp

    config = shop_config(tmp_path, list(people.contacts.values()))
    async with engine_for(config, cls=BrokenEngine) as engine:
        app: web.Application = create_app(engine, HttpSettings())
        async with serve(app) as url, aiohttp.ClientSession() as session:
            headers = {"Authorization": f"Bearer {people.tokens['referent']}"}
            async with session.get(url + ESCALATIONS, headers=headers) as response:
                assert response.status == 500
                body = json.loads(await response.text())
            async with session.get(url + "/api/v1/me", headers=headers) as response:
                assert response.status == 200
    assert body == {"error": "internal_error", "reason": "internal error; it has been logged"}
    assert "engine" not in json.dumps(body)
    assert app[METRICS].internal_errors == 1
    assert any(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in caplog.records)
