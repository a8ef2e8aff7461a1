"""Requests the HTTP parser refuses, and bodies that do not decode: the documented JSON
error, one log line, and no header value or token in the log or in the body.

The requests are written byte by byte on a raw socket, as an attacker or a broken
client would send them; aiohttp's client would refuse to send most of them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from dataclasses import dataclass

import pytest
from yarl import URL

from hub.http.errors import ERROR_CODES
from tests.http.conftest import Client, Shop

ACCESS_LOGGER = "aiohttp.access"


@dataclass
class RawReply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, str]:
        data = json.loads(self.body)
        assert isinstance(data, dict)
        return data


async def send_raw(base_url: str, request: bytes) -> RawReply:
    """Write ``request`` as is and read the answer up to the connection's close."""
    url = URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(10):
            data = await reader.read()
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawReply(int(status_line.split()[1]), headers, body)


def request_with(token: str, case: str) -> bytes:
    """A request carrying ``token`` somewhere the parser refuses it."""
    t = token.encode()
    head = b"Host: hub\r\nConnection: close\r\n"
    if case == "nul_in_authorization":
        return (
            b"GET /api/v1/me HTTP/1.1\r\n" + head + b"Authorization: Bearer " + t + b"\x00x\r\n\r\n"
        )
    if case == "control_byte_in_header":
        return b"GET /api/v1/me HTTP/1.1\r\n" + head + b"X-Note: " + t + b"\x01\r\n\r\n"
    if case == "oversized_header":
        return b"GET /api/v1/me HTTP/1.1\r\n" + head + b"X-Big: " + t + b"a" * 9000 + b"\r\n\r\n"
    if case == "too_many_headers":
        many = b"".join(b"X-H%d: %s\r\n" % (n, t) for n in range(200))
        return b"GET /api/v1/me HTTP/1.1\r\n" + head + many + b"\r\n"
    if case == "invalid_method":
        return b"G(T /api/v1/me HTTP/1.1\r\n" + head + b"Authorization: Bearer " + t + b"\r\n\r\n"
    if case == "length_and_chunked":
        return (
            b"POST /api/v1/escalations/esc-0001/ack HTTP/1.1\r\n" + head
            + b"Authorization: Bearer " + t + b"\r\n"
            + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
        )  # fmt: skip
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("nul_in_authorization", 400, "bad_request"),
        ("control_byte_in_header", 400, "bad_request"),
        ("oversized_header", 431, "headers_too_large"),
        ("too_many_headers", 431, "headers_too_large"),
        ("invalid_method", 400, "bad_request"),
        ("length_and_chunked", 400, "bad_request"),
    ],
)
async def test_a_request_the_parser_refuses_gets_the_json_error_and_one_quiet_log_line(
    client: Client, caplog: pytest.LogCaptureFixture, case: str, status: int, code: str
) -> None:
    token = client.people.tokens["referent"]
    caplog.set_level(logging.DEBUG)
    caplog.clear()

    reply = await send_raw(client.base, request_with(token, case))

    assert reply.status == status
    assert ERROR_CODES[code] == status
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json["error"] == code
    assert set(reply.json) == {"error", "reason"}
    assert token.encode() not in reply.body
    records = [r for r in caplog.records if r.name != ACCESS_LOGGER]
    assert len(records) == 1, [r.getMessage()[:80] for r in records]
    assert records[0].exc_info is None
    assert token not in caplog.text
    # And the hub still answers on a fresh connection.
    assert (await client.get("/api/v1/me")).status == 200


async def test_a_token_in_the_query_string_stays_out_of_the_log(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    token = client.people.tokens["referent"]
    caplog.set_level(logging.DEBUG)
    for name in ("token", "access_token"):
        reply = await client.get(f"/api/v1/me?{name}={token}", who=None)
        assert reply.status == 401
    assert any(r.name == ACCESS_LOGGER for r in caplog.records), "no access log at all"
    assert token not in caplog.text


async def test_header_values_stay_out_of_the_access_log(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "a-header-value-that-must-not-be-logged"
    reply = await client.get(
        "/api/v1/me", headers={"User-Agent": secret, "Referer": f"https://x/{secret}"}
    )
    assert reply.status == 200
    assert any(r.name == ACCESS_LOGGER for r in caplog.records), "no access log at all"
    assert secret not in caplog.text


def _gzip(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=31)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", b"this is not gzip at all"),
        ("gzip", _gzip(b"{}")[:10] + b"garbage after a gzip header"),
        ("deflate", b"\x78\x9c not deflate"),
        ("deflate", b"plain"),
    ],
)
async def test_a_body_that_does_not_decode_is_400_and_changes_nothing(
    client: Client, shop: Shop, encoding: str, body: bytes
) -> None:
    escalation = await shop.holdup()
    reply = await client.post(
        f"/api/v1/escalations/{escalation.id}/ack",
        data=body,
        headers={"Content-Type": "application/json", "Content-Encoding": encoding},
    )
    assert reply.status == 400
    assert reply.body["error"] == "invalid_body"
    assert shop.service.get(shop.installer, escalation.id) == escalation


async def test_a_well_encoded_body_is_still_accepted(client: Client, shop: Shop) -> None:
    escalation = await shop.holdup()
    reply = await client.post(
        f"/api/v1/escalations/{escalation.id}/ack",
        data=_gzip(b"{}"),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert reply.status == 200
    assert reply.body["status"] == "acknowledged"
