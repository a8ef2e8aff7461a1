"""``/healthz`` as a service manager's probe sees it, on the real hub of a shop."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.e2e.conftest import MakeShop


async def healthz(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as client, client.get(f"{url}/healthz") as reply:
        return reply.status, await reply.json()


async def test_healthz_says_starting_until_the_devices_were_opened(make_shop: MakeShop) -> None:
    async with make_shop() as shop:
        # The hub is up (the fixture saw the panel answer), but the start-up has not
        # been declared over: a probe must not count it as ready yet.
        assert await healthz(shop.url) == (
            503,
            {"status": "starting", "ready": False, "devices": {"configured": 1, "running": 1}},
        )
        readiness = await shop.hub.wait_ready()
        assert readiness.ready
        assert await healthz(shop.url) == (
            200,
            {"status": "ok", "ready": True, "devices": {"configured": 1, "running": 1}},
        )
