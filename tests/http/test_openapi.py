"""The OpenAPI document against the implementation.

Every route of the app is documented and every documented operation is a route; every
documented response is produced here over real HTTP (and each response body of every
test is validated by the checker the fixtures attach); the scopes documented for an
operation are the ones the app enforces; the schemas follow the model.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from openapi_spec_validator import validate

from hub.coverage.formats import FORMATS
from hub.coverage.register_store import REGISTER_FILE, read_handovers
from hub.escalation.model import ContactRole, Escalation, Priority, Status
from hub.events import AlarmKind
from hub.http import ERROR_CODES, Readiness, openapi_document
from tests.http.conftest import (
    WHO,
    Client,
    CoverageLog,
    FakeClock,
    Handovers,
    Shop,
    post_with_stalled_body,
)
from tests.http.openapi_check import OpenApiChecker

#: A hand-over the fixture's hub accepts (its "now" is 2026-03-20 12:00 UTC).
HANDOVER = {
    "camera": "cam-counter",
    "from": "2026-03-10T10:00:00+01:00",
    "to": "2026-03-10T10:40:00+01:00",
    "to_whom": "Parquet de Tours",
    "reference": "PV 2026/123",
}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "referent-api.md"


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    validate(document)


async def test_the_served_document_is_the_document(client: Client) -> None:
    reply = await client.get("/api/openapi.json", who=None)
    assert reply.status == 200
    assert reply.body == openapi_document()


def test_every_route_is_documented_and_every_operation_is_a_route(
    app: web.Application, checker: OpenApiChecker
) -> None:
    routes = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
    }
    assert routes == checker.operations()


def test_the_escalation_schema_is_the_model(checker: OpenApiChecker) -> None:
    schema = checker.document["components"]["schemas"]["Escalation"]
    names = [f.name for f in dataclasses.fields(Escalation)]
    assert sorted(schema["properties"]) == sorted(names)
    assert sorted(schema["required"]) == sorted(names)
    assert schema["additionalProperties"] is False
    assert schema["properties"]["status"]["enum"] == [s.value for s in Status]
    assert schema["properties"]["priority"]["enum"] == [p.value for p in Priority]
    me = checker.document["components"]["schemas"]["Me"]
    assert me["properties"]["role"]["enum"] == [r.value for r in ContactRole]
    for name in ("Escalation", "Me"):
        for example in checker.document["components"]["schemas"][name]["examples"]:
            assert checker.validate_schema(name, example) == []


def test_the_error_codes_are_documented_everywhere(checker: OpenApiChecker) -> None:
    error = checker.document["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["enum"] == sorted(ERROR_CODES)
    table = dict(
        re.findall(r"^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|", DOCS.read_text(encoding="utf-8"), re.M)
    )
    assert {code: int(status) for code, status in table.items()} == dict(ERROR_CODES)


def test_the_checker_catches_what_breaks_the_document(checker: OpenApiChecker) -> None:
    cases: list[tuple[str | None, web.StreamResponse]] = [
        ("/api/v1/me", web.json_response({"id": 1})),  # body not the schema
        ("/api/v1/me", web.json_response({"error": "x"}, status=418)),  # status undocumented
        ("/api/v1/me", web.json_response({"error": "missing_token", "reason": "r"}, status=401)),
        ("/healthz", web.Response(text="ok")),  # content type undocumented
        (None, web.json_response({"error": "not_found"}, status=404)),  # no reason
    ]
    for template, response in cases:
        before = len(checker.problems)
        checker.check("GET", template, response)
        assert len(checker.problems) > before, (template, response.status)
    checker.problems.clear()


# -- every documented response, produced ---------------------------------------------------
async def _stream_status(
    client: Client, who: str | None, query: str = "", headers: dict[str, str] | None = None
) -> int:
    async with client.session.get(
        f"{client.base}/api/v1/escalations/stream{query}",
        headers=client.auth(who) | (headers or {}),
        timeout=aiohttp.ClientTimeout(total=None),
    ) as response:
        if response.status == 200:
            await response.content.readline()
        return response.status


async def test_every_documented_response_is_produced(
    client: Client,
    shop: Shop,
    checker: OpenApiChecker,
    clock: FakeClock,
    readiness: list[Readiness],
    coverage_log: CoverageLog,
    handovers: Handovers,
) -> None:
    acked, resolved, released, spare = [await shop.holdup() for _ in range(4)]
    panic = await shop.alarm(AlarmKind.PANIC)  # preserves no scene
    E = "/api/v1/escalations"
    R = "/api/v1/reports/coverage?from=2024-03-12&to=2024-03-12"
    JSON = {"Content-Type": "application/json"}
    big = b"{" + b" " * 5000 + b"}"
    calls: list[tuple[str, str, dict[str, Any], int]] = [
        ("GET", "/api/openapi.json", {"who": None}, 200),
        ("GET", "/healthz", {"who": None}, 200),
        ("GET", "/metrics", {"who": None}, 200),
        ("GET", "/", {"who": None}, 200),
        ("GET", "/referent", {"who": None}, 200),
        ("GET", "/static/referent.js", {"who": None}, 200),
        ("GET", "/static/nothing.js", {"who": None}, 404),
        ("GET", "/api/v1/me", {}, 200),
        ("GET", "/api/v1/me?x=1", {}, 400),
        ("GET", "/api/v1/me", {"who": None}, 401),
        ("GET", E, {}, 200),
        ("GET", f"{E}?limit=0", {}, 400),
        ("GET", E, {"who": None}, 401),
        ("GET", E, {"who": "owner"}, 403),
        ("GET", f"{E}/{spare.id}", {}, 200),
        ("GET", f"{E}/{spare.id}?x=1", {}, 400),
        ("GET", f"{E}/{spare.id}", {"who": None}, 401),
        ("GET", f"{E}/{spare.id}", {"who": "owner"}, 403),
        ("GET", f"{E}/esc-none", {}, 404),
        ("GET", f"{E}/{spare.id}/coverage", {}, 200),
        ("GET", f"{E}/{spare.id}/coverage?x=1", {}, 400),
        ("GET", f"{E}/{spare.id}/coverage", {"who": None}, 401),
        ("GET", f"{E}/{spare.id}/coverage", {"who": "owner"}, 403),
        ("GET", f"{E}/esc-none/coverage", {}, 404),
        ("POST", f"{E}/{acked.id}/ack", {}, 200),
        ("POST", f"{E}/{resolved.id}/resolve", {}, 200),
        ("POST", f"{E}/{released.id}/release-scene", {}, 200),
        ("POST", f"{E}/{resolved.id}/ack", {}, 409),
        ("POST", f"{E}/{panic.id}/release-scene", {}, 409),
        ("GET", "/api/v1/state", {"who": "installer"}, 200),
        ("GET", "/api/v1/state?x=1", {"who": "installer"}, 400),
        ("GET", "/api/v1/state", {"who": None}, 401),
        ("GET", "/api/v1/state", {"who": "referent"}, 403),
        *[("GET", f"{R}&format={fmt}", {"who": "installer"}, 200) for fmt in FORMATS],
        ("GET", f"{R}&x=1", {"who": "installer"}, 400),
        ("GET", R, {"who": None}, 401),
        ("GET", R, {"who": "referent"}, 403),
    ]
    H = "/api/v1/register/handovers"
    handover = {"json": HANDOVER, "who": "installer"}
    calls += [
        ("POST", H, handover, 201),
        ("POST", H, {**handover, "json": {**HANDOVER, "camera": "cam-nowhere"}}, 400),
        ("POST", H, {**handover, "who": None}, 401),
        ("POST", H, {**handover, "who": "referent"}, 403),
        ("POST", H, {"data": big, "headers": JSON, "who": "installer"}, 413),
        (
            "POST",
            H,
            {"data": b"{}", "headers": {"Content-Type": "text/plain"}, "who": "installer"},
            415,
        ),
    ]
    for action in ("ack", "resolve", "release-scene"):
        path = f"{E}/{spare.id}/{action}"
        calls += [
            ("POST", path, {"data": b"[]", "headers": JSON}, 400),
            ("POST", path, {"who": None}, 401),
            ("POST", path, {"who": "owner"}, 403),
            ("POST", f"{E}/esc-none/{action}", {}, 404),
            ("POST", path, {"data": big, "headers": JSON}, 413),
            ("POST", path, {"data": b"{}", "headers": {"Content-Type": "text/plain"}}, 415),
        ]
    for method, path, kwargs, status in calls:
        reply = await client.call(method, path, **kwargs)
        assert reply.status == status, (method, path)
    for action in ("ack", "resolve", "release-scene"):
        assert await post_with_stalled_body(client, f"{E}/{spare.id}/{action}") == 408
    assert await post_with_stalled_body(client, H, who="installer") == 408
    handovers.disk_fails = True  # the journal cannot be written: nothing recorded
    assert (await client.post(H, **handover)).status == 503
    # Both or neither: the register kept only the hand-over the journal holds.
    assert [h.id for h in read_handovers(handovers.directory / REGISTER_FILE)] == [1]
    assert [e.reference for e in handovers.published] == ["PV 2026/123"]
    assert len(handovers.kept) == 1
    coverage_log.reader = None  # a hub that has recorded no coverage yet
    assert (await client.get(R, who="installer")).status == 503
    readiness.append(Readiness(ready=False, configured=1, running=0))  # a hub still starting
    assert (await client.get("/healthz", who=None)).status == 503
    readiness.append(Readiness(ready=True, configured=2, running=1))  # a device retried
    assert (await client.get("/healthz", who=None)).body["status"] == "degraded"
    assert await _stream_status(client, "referent") == 200
    assert await _stream_status(client, "referent", "?x=1") == 400
    assert await _stream_status(client, None) == 401
    assert await _stream_status(client, "owner") == 403

    # Lock the address out, then every authenticated operation answers 429 to a
    # request without a valid token.
    wrong = {"Authorization": "Bearer wrong"}
    for _ in range(10):
        await client.get("/api/v1/me", who=None, headers=wrong)
    for method, path in (
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/state"),
        ("GET", R),
        ("GET", E),
        ("GET", f"{E}/{spare.id}"),
        ("GET", f"{E}/{spare.id}/coverage"),
        ("POST", f"{E}/{spare.id}/ack"),
        ("POST", f"{E}/{spare.id}/resolve"),
        ("POST", f"{E}/{spare.id}/release-scene"),
        ("POST", "/api/v1/register/handovers"),
    ):
        assert (await client.call(method, path, who=None, headers=wrong)).status == 429, path
    assert await _stream_status(client, None, headers=wrong) == 429

    missing = checker.documented_responses() - checker.seen
    assert missing == set(), "documented responses no test produced"
    assert checker.problems == []


# -- scopes --------------------------------------------------------------------------------
def _allowed(security: list[dict[str, list[str]]], scopes: frozenset[str]) -> bool:
    return any(all(set(roles) <= scopes for roles in req.values()) for req in security)


async def test_the_documented_scopes_are_the_enforced_scopes(
    client: Client, shop: Shop, checker: OpenApiChecker
) -> None:
    escalation = await shop.holdup()
    checked = 0
    for method, template in sorted(checker.operations()):
        operation = checker.document["paths"][template][method.lower()]
        security = operation.get("security", checker.document["security"])
        if security == []:
            continue  # public
        for who in WHO:
            scopes = client.people.contacts[who].scopes
            # An id nobody can see: an allowed caller gets past the scope check to a 404.
            path = template.replace("{id}", "esc-none")
            if template == "/api/v1/reports/coverage":
                path += "?from=2024-03-12&to=2024-03-12"  # what it requires
            # A camera nobody has: an allowed caller gets past the scope check to a 400.
            handover = template == "/api/v1/register/handovers"
            body = {"json": {**HANDOVER, "camera": "cam-none"}} if handover else {}
            if template.endswith("/stream"):
                status = await _stream_status(client, who)
            else:
                status = (await client.call(method, path, who=who, **body)).status
            if _allowed(security, scopes):
                expected = (400,) if handover else (200, 404)
                assert status in expected, (method, template, who, status)
            else:
                assert status == 403, (method, template, who, status)
            checked += 1
    assert checked == 11 * len(WHO)
    assert shop.service.get(shop.installer, escalation.id) == escalation


@pytest.mark.parametrize("who", WHO)
async def test_me_lists_exactly_the_scopes_the_document_knows(client: Client, who: str) -> None:
    reply = await client.get("/api/v1/me", who=who)
    known = {"referent", "installer"}
    assert set(reply.body["scopes"]) == client.people.contacts[who].scopes & known
