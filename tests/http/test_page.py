"""The page's files over HTTP: served by the hub itself, locked to its own origin."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from tests.http.conftest import Client

STATIC = resources.files("hub.http").joinpath("static")


@pytest.mark.parametrize("path", ["/", "/referent"])
async def test_the_page_is_served_with_a_strict_policy(client: Client, path: str) -> None:
    reply = await client.get(path, who=None)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = reply.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    assert '<script src="/static/referent.js" defer></script>' in reply.text
    assert 'aria-live="assertive"' in reply.text


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("referent.js", "text/javascript"), ("referent.css", "text/css")],
)
async def test_the_script_and_style_are_served(
    client: Client, name: str, content_type: str
) -> None:
    reply = await client.get(f"/static/{name}", who=None)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == f"{content_type}; charset=utf-8"
    assert reply.text == STATIC.joinpath(name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "name", ["referent.html", "nothing.js", "..%2Fapp.py", "%2e%2e%2f%2e%2e%2fpyproject.toml"]
)
async def test_nothing_else_is_served_from_static(client: Client, name: str) -> None:
    reply = await client.get(f"/static/{name}", who=None)
    assert reply.status == 404
    assert reply.body["error"] == "not_found"


def test_the_page_loads_nothing_from_elsewhere_and_makes_no_sound() -> None:
    for name in ("referent.html", "referent.js", "referent.css"):
        text = STATIC.joinpath(name).read_text(encoding="utf-8")
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text), name
        assert not re.search(r"\b(Audio|AudioContext|<audio|speechSynthesis|vibrate)\b", text), name
        assert "innerHTML" not in text, name
        assert "localStorage" not in text, name
