"""The referent page: three static files, served by the hub itself.

No build step and no CDN: the page must work in a police station whose network
reaches the hub and nothing else, and must not depend on a third party that could
see which shops are being held up. The files are read once, when the app is made,
and only these names are served (no directory walk, so no path tricks).

The Content-Security-Policy allows scripts, styles and connections to this origin
only: even a configuration value that slipped markup into the page could not run
code or send data elsewhere.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

from aiohttp import hdrs, web

__all__ = ["PAGE_HEADERS", "add_page_routes"]

_CONTENT_TYPES: Final = {
    "referent.html": "text/html; charset=utf-8",
    "referent.js": "text/javascript; charset=utf-8",
    "referent.css": "text/css; charset=utf-8",
}

#: Headers on every page file: same-origin only, never framed, never sniffed.
PAGE_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    hdrs.CACHE_CONTROL: "no-cache",
}


def _load() -> dict[str, bytes]:
    folder = resources.files("hub.http").joinpath("static")
    return {name: folder.joinpath(name).read_bytes() for name in _CONTENT_TYPES}


def add_page_routes(app: web.Application) -> None:
    """Register ``GET /``, ``GET /referent`` (the page) and ``GET /static/{name}``."""
    files = _load()

    def respond(name: str) -> web.Response:
        headers = dict(PAGE_HEADERS)
        headers[hdrs.CONTENT_TYPE] = _CONTENT_TYPES[name]
        return web.Response(body=files[name], headers=headers)

    async def page(_request: web.Request) -> web.Response:
        return respond("referent.html")

    async def static(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in files or name.endswith(".html"):
            raise web.HTTPNotFound()
        return respond(name)

    app.router.add_get("/", page, name="page", allow_head=False)
    app.router.add_get("/referent", page, name="referent-page", allow_head=False)
    app.router.add_get("/static/{name}", static, name="static", allow_head=False)
