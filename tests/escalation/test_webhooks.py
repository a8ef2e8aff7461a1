"""Signed webhooks: the signature a receiver checks, and how each answer is classified."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from hub.escalation.webhooks import WebhookSender, sign, verify_signature
from tests.escalation.conftest import Receiver, free_port

SECRET = "a-shared-secret-of-some-length"
BODY = b'{"type":"escalation","id":"esc-1"}'


def test_signature_matches_the_documented_recipe() -> None:
    header = sign(SECRET, BODY, 1_700_000_000)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert verify_signature(SECRET, header, BODY, now=1_700_000_100)


@pytest.mark.parametrize(
    ("secret", "body", "now", "why"),
    [
        ("another-secret-entirely", BODY, 1_700_000_000, "wrong key"),
        (SECRET, BODY.replace(b"esc-1", b"esc-2"), 1_700_000_000, "body tampered"),
        (SECRET, BODY + b" ", 1_700_000_000, "a byte added"),
        (SECRET, BODY, 1_700_000_301, "too old"),
        (SECRET, BODY, 1_699_999_699, "from the future"),
    ],
)
def test_signature_fails(secret: str, body: bytes, now: int, why: str) -> None:
    header = sign(SECRET, BODY, 1_700_000_000)
    assert not verify_signature(secret, header, body, now=now), why


def test_signature_header_tampering_fails() -> None:
    header = sign(SECRET, BODY, 1_700_000_000)
    moved = header.replace("t=1700000000", "t=1700000100")
    assert not verify_signature(SECRET, moved, BODY, now=1_700_000_100)
    assert not verify_signature(SECRET, "t=1700000000", BODY, now=1_700_000_000)
    assert not verify_signature(SECRET, "", BODY, now=1_700_000_000)
    # A rotated key: several v1 values, one of which matches.
    rotated = header + ",v1=" + "0" * 64
    assert verify_signature(SECRET, rotated, BODY, now=1_700_000_000)


@given(st.text(max_size=200), st.binary(max_size=64))
def test_verify_never_raises_on_garbage(header: str, body: bytes) -> None:
    assert verify_signature(SECRET, header, body, now=time.time()) in (True, False)


@pytest.fixture
async def sender() -> AsyncIterator[WebhookSender]:
    async with WebhookSender(timeout=0.3, concurrency=4) as opened:
        yield opened


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver(SECRET).start()
    yield started
    await started.stop()


async def test_delivered_with_headers(sender: WebhookSender, receiver: Receiver) -> None:
    result = await sender.post(receiver.url, SECRET, BODY, "esc-1:0:r:1", "escalation.created")
    assert (result.outcome, result.status) == ("delivered", 200)
    (request,) = receiver.requests
    assert request.verified
    assert request.key == "esc-1:0:r:1"
    assert request.event == "escalation.created"
    assert request.body == BODY


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (201, "delivered"),
        (204, "delivered"),
        (500, "retry"),
        (503, "retry"),
        (408, "retry"),
        (429, "retry"),
        (400, "permanent"),
        (401, "permanent"),
        (404, "permanent"),
        (410, "permanent"),
        (301, "permanent"),
    ],
)
async def test_answers_are_classified(
    sender: WebhookSender, receiver: Receiver, status: int, outcome: str
) -> None:
    receiver.status = status
    result = await sender.post(receiver.url, SECRET, BODY, "k", "escalation.created")
    assert (result.outcome, result.status) == (outcome, status)


async def test_refused_connection_is_retried(sender: WebhookSender) -> None:
    url = f"http://127.0.0.1:{free_port()}/ecrin"
    result = await sender.post(url, SECRET, BODY, "k", "escalation.created")
    assert result.outcome == "retry"
    assert result.status is None
    assert result.error


async def test_timeout_is_retried(sender: WebhookSender, receiver: Receiver) -> None:
    receiver.hold = asyncio.Event()  # answers only when the test ends
    result = await sender.post(receiver.url, SECRET, BODY, "k", "escalation.created")
    assert result.outcome == "retry"
    assert "no answer within" in result.error


async def test_retry_after_is_honoured_up_to_a_cap(sender: WebhookSender) -> None:
    async def busy(request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "7"})

    app = web.Application()
    app.router.add_post("/", busy)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        result = await sender.post(f"http://127.0.0.1:{port}/", SECRET, BODY, "k", "e")
    finally:
        await runner.cleanup()
    assert (result.outcome, result.retry_after) == ("retry", 7.0)


DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def test_the_documented_recipe_and_worked_example_hold() -> None:
    text = DOCS.read_text(encoding="utf-8")
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, str(DOCS), "exec"), namespace)
    documented = namespace["verify_signature"]
    secret, t = "my-shared-secret-0123456789", 1798129812
    body = b'{"event":"created","id":"esc-20261224-163012-a1b2c3","type":"escalation"}'
    header = sign(secret, body, t)
    assert header.split("v1=")[1] in text  # the worked example is what the hub computes
    assert documented(secret, header, body, now=t + 10)
    assert not documented(secret, header, body + b" ", now=t)
    assert not documented(secret, header, body, now=t + 301)
    assert not documented(secret, "t=1,v1=é", body, now=1)
