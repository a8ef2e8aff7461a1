"""The referent page shows, on an escalation, which cameras filmed its zone when the
signal came: real headless Chromium, the hub over loopback, a real coverage log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.coverage.model import CoverageReader
from tests.http.cdp import CHROMIUM, Page, launch
from tests.http.conftest import Client, Shop
from tests.http.test_coverage_view import filming_since_an_hour, log_of

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (CI installs it)"
)


@pytest.fixture
async def coverage(tmp_path: Path) -> CoverageReader:
    return await log_of(tmp_path / "coverage", filming_since_an_hour())


@pytest.fixture
async def page(tmp_path: Path, base_url: str) -> AsyncIterator[Page]:
    async with launch(tmp_path / "profile") as chromium:
        tab = await chromium.new_page()
        await tab.goto(base_url + "/")
        yield tab
        assert chromium.problems == [], "the page logged errors"


def fact(escalation_id: str, label: str) -> str:
    """The text of one fact of an escalation, or null while it is not shown."""
    terms = json.dumps(f'#escalations li[data-id="{escalation_id}"] dt')
    return (
        f"[...document.querySelectorAll({terms})]"
        f".find(d => d.textContent === {json.dumps(label)})?.nextElementSibling.textContent"
    )


async def test_the_page_shows_which_cameras_filmed_the_zone_at_the_signal(
    page: Page, client: Client, shop: Shop
) -> None:
    counter = await shop.holdup("counter")
    window = await shop.holdup("window")
    await page.evaluate("document.querySelector('#token-input').value = ''")
    await page.type_into("#token-input", client.people.tokens["referent"])
    await page.click("#sign-in-button")

    shown = await page.wait_for(fact(counter.id, "Filmed at the signal"))
    assert shown == "yes — cam-counter (filming and recording)"
    shown = await page.wait_for(fact(window.id, "Filmed at the signal"))
    assert shown == "no"
