"""Random requests never reach the catch-all: every one gets a documented 4xx (or 200).

The fixtures check after each test that the app counted no unexpected exception and
that every response, fuzzed or not, matched the OpenAPI document.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http.conftest import Client, Shop

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
EXPECTED = {200, 400, 401, 403, 404, 405, 409, 413, 415, 429}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    st.binary(max_size=5000),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.text(max_size=200).map(str.encode),
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "",
        "x/y",
        "multipart/form-data",
    ]
)
header_text = st.text(
    st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=300
)


@FUZZ
@given(
    body=bodies,
    content_type=content_types,
    action=st.sampled_from(["ack", "resolve", "release-scene"]),
    who=st.sampled_from(["referent", "installer", "owner", "interlocutor"]),
)
async def test_random_bodies(
    client: Client, shop: Shop, body: bytes, content_type: str, action: str, who: str
) -> None:
    found = shop.engine.list(shop.installer)
    escalation = found[0] if found else await shop.holdup()
    headers = {"Content-Type": content_type} if content_type else {}
    reply = await client.post(
        f"/api/v1/escalations/{escalation.id}/{action}", who=who, data=body, headers=headers
    )
    assert reply.status in EXPECTED


@FUZZ
@given(params=st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12)), max_size=4))
async def test_random_queries(client: Client, params: list[tuple[str, str]]) -> None:
    reply = await client.get("/api/v1/escalations", params=params)
    assert reply.status in EXPECTED


@FUZZ
@given(escalation_id=st.text(min_size=1, max_size=200), method=st.sampled_from(["GET", "POST"]))
async def test_random_ids(client: Client, escalation_id: str, method: str) -> None:
    suffix = "/ack" if method == "POST" else ""
    reply = await client.call(
        method, f"/api/v1/escalations/{quote(escalation_id, safe='')}{suffix}"
    )
    assert reply.status in EXPECTED


@FUZZ
@given(header=header_text)
async def test_random_authorization_headers(client: Client, header: str) -> None:
    reply = await client.get("/api/v1/me", who=None, headers={"Authorization": header})
    assert reply.status in {401, 429}
