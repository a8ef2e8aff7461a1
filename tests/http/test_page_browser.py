"""The referent page in a real headless Chromium, against the hub over loopback HTTP."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.events import CameraAvailability
from tests.http.cdp import CHROMIUM, Browser, Page, launch
from tests.http.conftest import Client, Shop

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (CI installs it)"
)


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    async with launch(tmp_path / "profile") as chromium:
        yield chromium
        assert chromium.problems == [], "the page logged errors"


@pytest.fixture
async def page(browser: Browser, base_url: str) -> Page:
    tab = await browser.new_page()
    await tab.goto(base_url + "/")
    return tab


def item(escalation_id: str) -> str:
    return f'#escalations li[data-id="{escalation_id}"]'


def js(selector: str) -> str:
    return f"document.querySelector({json.dumps(selector)})"


async def sign_in(page: Page, token: str) -> None:
    await page.evaluate(f"{js('#token-input')}.value = ''")
    await page.type_into("#token-input", token)
    await page.click("#sign-in-button")


async def test_sign_in_follow_live_and_acknowledge(page: Page, client: Client, shop: Shop) -> None:
    shop.bus.publish(CameraAvailability(camera="cam-counter", state="online"))
    existing = await shop.holdup("counter")
    await sign_in(page, client.people.tokens["referent"])

    await page.wait_for(js(item(existing.id)))
    await page.wait_for(f"{js('#connection')}.dataset.state === 'live'")
    assert await page.evaluate(f"{js('#sign-in-view')}.hidden")
    assert await page.evaluate(f"{js(item(existing.id))}.dataset.status") == "open"
    title = await page.evaluate(f"{js(item(existing.id) + ' h3')}.textContent")
    assert "Bijouterie du Centre" in title
    # One numbering of tiers: the page shows the API's (from 0).
    shown = await page.evaluate(
        f"[...document.querySelectorAll({json.dumps(item(existing.id) + ' dt')})]"
        ".find(d => d.textContent.startsWith('Tier')).nextElementSibling.textContent"
    )
    assert shown == str((await client.get(f"/api/v1/escalations/{existing.id}")).body["tier"])
    # The cameras covering the zone, each with its availability when it was raised.
    cameras = await page.evaluate(
        f"[...document.querySelectorAll({json.dumps(item(existing.id) + ' dt')})]"
        ".find(d => d.textContent === 'Cameras').nextElementSibling.textContent"
    )
    assert cameras == "cam-counter (online)"
    # The token is kept for the tab only, and never appears in the address.
    stored = await page.evaluate("sessionStorage.getItem('ecrin.referent.token')")
    assert stored == client.people.tokens["referent"]
    assert await page.evaluate("localStorage.length") == 0
    assert client.people.tokens["referent"] not in await page.evaluate("location.href")

    # A new hold-up appears without a reload, and is announced to screen readers.
    await page.evaluate("window.sameDocument = true")
    new = await shop.holdup("window")
    await page.wait_for(js(item(new.id)))
    assert await page.evaluate("window.sameDocument") is True
    announced = await page.wait_for(f"{js('#announcer')}.textContent")
    assert "Vitrine rue" in announced
    assert await page.evaluate("document.title") == "(2) Écrin — referent"
    if directory := os.environ.get("ECRIN_SCREENSHOT_DIR"):
        await page.screenshot(Path(directory) / "referent-page.png")

    await page.click(f"{item(new.id)} button[data-action='ack']")
    await page.wait_for(f"{js(item(new.id))}.dataset.status === 'acknowledged'")
    reply = await client.get(f"/api/v1/escalations/{new.id}")
    assert reply.body["status"] == "acknowledged"
    assert reply.body["acknowledged_by"] == "referent-37"
    assert await page.evaluate(f"{js(item(new.id) + ' button[data-action=ack]')}") is None

    # A change made elsewhere (resolved from another device) reaches the open page.
    assert (await client.post(f"/api/v1/escalations/{existing.id}/resolve")).status == 200
    await page.wait_for(f"{js(item(existing.id))}.dataset.status === 'resolved'")
    assert await page.evaluate("document.title") == "Écrin — referent"


async def test_a_wrong_token_shows_an_error(page: Page, client: Client) -> None:
    error = js("#sign-in-error")
    await sign_in(page, "ecrin_not-a-real-token")
    message = await page.wait_for(f"!{error}.hidden && {error}.textContent")
    assert "refused" in message
    assert await page.evaluate("sessionStorage.length") == 0
    assert await page.evaluate(f"{js('#escalations-view')}.hidden")
    assert await page.evaluate(f"{error}.getAttribute('role')") == "alert"

    # A good token without a scope to view escalations is turned away too.
    await page.evaluate(f"{error}.hidden = true")
    await sign_in(page, client.people.tokens["owner"])
    message = await page.wait_for(f"!{error}.hidden && {error}.textContent")
    assert "cannot view" in message
    assert await page.evaluate("sessionStorage.length") == 0


async def test_a_reload_keeps_the_session_and_sign_out_forgets_it(
    page: Page, client: Client, shop: Shop, base_url: str
) -> None:
    escalation = await shop.holdup()
    await sign_in(page, client.people.tokens["referent"])
    await page.wait_for(js(item(escalation.id)))
    await page.goto(base_url + "/referent")
    await page.wait_for(js(item(escalation.id)))
    await page.click("#sign-out")
    await page.wait_for(f"!{js('#sign-in-view')}.hidden")
    assert await page.evaluate("sessionStorage.length") == 0
    assert await page.evaluate(f"{js('#escalations')}.children.length") == 0


async def test_the_page_is_accessible_and_silent(page: Page, client: Client, shop: Shop) -> None:
    await shop.holdup()
    await sign_in(page, client.people.tokens["referent"])
    await page.wait_for(f"{js('#escalations')}.children.length === 1")
    report = await page.evaluate(
        """(() => ({
            live: document.querySelector('#announcer').getAttribute('aria-live'),
            label: document.querySelector('label[for=token-input]') !== null,
            buttons: [...document.querySelectorAll('#escalations button')].map(b => b.type),
            headed: [...document.querySelectorAll('#escalations article')]
                .every(a => document.getElementById(a.getAttribute('aria-labelledby'))),
            media: document.querySelectorAll('audio, video').length,
            lang: document.documentElement.lang,
        }))()"""
    )
    assert report == {
        "live": "assertive",
        "label": True,
        "buttons": ["button", "button", "button"],
        "headed": True,
        "media": 0,
        "lang": "en",
    }


async def test_a_french_browser_gets_french_labels(
    tmp_path: Path, base_url: str, client: Client, shop: Shop
) -> None:
    escalation = await shop.holdup()
    async with launch(tmp_path / "profile-fr", "--lang=fr-FR", "--accept-lang=fr-FR") as chromium:
        page = await chromium.new_page()
        await page.goto(base_url + "/")
        assert await page.evaluate("document.documentElement.lang") == "fr"
        assert await page.evaluate(f"{js('#sign-in-button')}.textContent") == "Se connecter"
        await sign_in(page, client.people.tokens["referent"])
        await page.wait_for(js(item(escalation.id)))
        label = await page.evaluate(
            f"{js(item(escalation.id) + ' button[data-action=ack]')}.textContent"
        )
        assert label == "Acquitter"
        if directory := os.environ.get("ECRIN_SCREENSHOT_DIR"):
            await page.screenshot(Path(directory) / "referent-page-fr.png")
        assert chromium.problems == []
