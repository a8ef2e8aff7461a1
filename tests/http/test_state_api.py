"""``GET /api/v1/state`` over real HTTP: what an installer sees, who may not look.

Every body is also validated against the OpenAPI document by the checker the fixtures
attach to the app (``tests/http/conftest.py``).
"""

from __future__ import annotations

from hub.events import AlarmKind, PanelState
from tests.http.conftest import Client, Shop
from tests.http.openapi_check import OpenApiChecker


async def test_an_installer_gets_every_entity_with_the_documented_schema(
    client: Client, shop: Shop, checker: OpenApiChecker
) -> None:
    shop.bus.publish(PanelState(device="panel", partition=1, state="armed_away", ready=False))
    escalation = await shop.holdup("counter")
    reply = await client.get("/api/v1/state", who="installer")
    assert reply.status == 200
    assert reply.headers["Cache-Control"] == "no-store"
    states = {s["entity_id"]: s for s in reply.body["entities"]}
    assert list(states) == sorted(states)
    assert states["partition:panel:1"]["state"] == "armed_away"
    assert states["partition:panel:1"]["attributes"]["armed"] is True
    counter = states["zone:counter"]
    assert (counter["state"], counter["attributes"]["silent"]) == ("alarm", True)
    assert counter["attributes"]["kind"] == "holdup"
    esc = states[f"escalation:{escalation.id}"]
    assert (esc["state"], esc["attributes"]["tier"]) == ("open", 0)
    assert esc["attributes"]["priority"] == "life-safety"
    camera = states["camera:cam-counter"]  # configured, never heard from
    assert (camera["state"], camera["last_changed"]) == ("unknown", None)
    assert states["device:panel"]["state"] == "ok"
    assert checker.problems == []


async def test_the_state_follows_an_acknowledgement(client: Client, shop: Shop) -> None:
    escalation = await shop.alarm(AlarmKind.PANIC, "safe")
    ack = await client.post(f"/api/v1/escalations/{escalation.id}/ack", who="referent")
    assert ack.status == 200
    reply = await client.get("/api/v1/state", who="installer")
    states = {s["entity_id"]: s for s in reply.body["entities"]}
    assert states[f"escalation:{escalation.id}"]["state"] == "acknowledged"


async def test_referents_are_refused_and_a_missing_token_is_401(client: Client) -> None:
    referent = await client.get("/api/v1/state", who="referent")
    assert (referent.status, referent.body["error"]) == (403, "forbidden")
    owner = await client.get("/api/v1/state", who="owner")
    assert owner.status == 403
    anonymous = await client.get("/api/v1/state", who=None)
    assert (anonymous.status, anonymous.body["error"]) == (401, "missing_token")
    unknown = await client.get("/api/v1/state?domain=zone", who="installer")
    assert (unknown.status, unknown.body["error"]) == (400, "invalid_query")


def test_the_state_schema_is_the_model(checker: OpenApiChecker) -> None:
    import dataclasses

    from hub.http.openapi import STATE_ATTRIBUTES
    from hub.state import Domain, State

    schema = checker.document["components"]["schemas"]["State"]
    assert sorted(schema["required"]) == sorted(f.name for f in dataclasses.fields(State))
    assert set(STATE_ATTRIBUTES) == set(Domain)
    branches = {b["properties"]["domain"]["const"]: b for b in schema["oneOf"]}
    for domain, cls in STATE_ATTRIBUTES.items():
        attributes = branches[domain.value]["properties"]["attributes"]
        assert sorted(attributes["properties"]) == sorted(f.name for f in dataclasses.fields(cls))
    for example in schema["examples"]:
        assert checker.validate_schema("State", example) == []
    wrong = dict(schema["examples"][0], attributes={"reason": "a link's, not a partition's"})
    assert checker.validate_schema("State", wrong) != []
