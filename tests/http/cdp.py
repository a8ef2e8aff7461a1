"""Drives a real headless Chromium over the Chrome DevTools Protocol (CDP).

Just enough of the protocol for the page tests, spoken over an aiohttp websocket: start
the browser with a fresh profile, open a tab, navigate, evaluate script, wait for a
condition inside the page, click and type with real input events, take a screenshot.
Script errors, failed console assertions and Content-Security-Policy violations are
collected so that a test can insist the page ran cleanly.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = Path("/usr/bin/chromium")

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)

_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


class CdpError(Exception):
    """The browser refused a command or a script threw."""


class Browser:
    """One Chromium process and its DevTools websocket."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        session: aiohttp.ClientSession,
        socket: aiohttp.ClientWebSocketResponse,
    ) -> None:
        self.process = process
        self._session = session
        self._socket = socket
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: list[tuple[str, str | None, asyncio.Queue[dict[str, Any]]]] = []
        self.problems: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._socket:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
                continue
            self._note(data)
            for method, session_id, queue in self._listeners:
                if data.get("method") == method and session_id in (None, data.get("sessionId")):
                    queue.put_nowait(data.get("params", {}))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(CdpError("the browser closed the connection"))

    def _note(self, data: dict[str, Any]) -> None:
        method, params = data.get("method"), data.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            self.problems.append(f"script error: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.problems.append(f"console {params['type']}: {args}")
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            if entry.get("level") == "error" and entry.get("source") != "network":
                self.problems.append(f"{entry.get('source')}: {entry.get('text')}")

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session_id: str | None = None
    ) -> dict[str, Any]:
        """Send one command; return its result or raise ``CdpError``."""
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await self._socket.send_str(json.dumps(message))
        async with asyncio.timeout(30):
            reply = await future
        if "error" in reply:
            raise CdpError(f"{method}: {reply['error'].get('message')}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def listen(self, method: str, session_id: str | None = None) -> asyncio.Queue[dict[str, Any]]:
        """A queue that receives the params of every later ``method`` event."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._listeners.append((method, session_id, queue))
        return queue

    async def new_page(self, width: int = 1100, height: int = 900) -> Page:
        """Open a tab, attach to it and enable what the tests watch."""
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        page = Page(self, attached["sessionId"])
        for domain in ("Page", "Runtime", "Log"):
            await page.send(f"{domain}.enable")
        await page.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        return page

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self.send("Browser.close")
        await self._socket.close()
        await self._session.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        try:
            async with asyncio.timeout(10):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


class Page:
    """One tab, through its flattened CDP session."""

    def __init__(self, browser: Browser, session_id: str) -> None:
        self.browser = browser
        self.session_id = session_id

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.browser.send(method, params, self.session_id)

    async def goto(self, url: str) -> None:
        """Navigate and wait for the load event."""
        loaded = self.browser.listen("Page.loadEventFired", self.session_id)
        result = await self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CdpError(f"navigation failed: {result['errorText']}")
        async with asyncio.timeout(15):
            await loaded.get()

    async def evaluate(self, expression: str) -> Any:
        """Run ``expression`` in the page (promises awaited); return its JSON value."""
        result = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CdpError(f"script failed: {text}")
        return result["result"].get("value")

    async def wait_for(self, predicate: str, timeout: float = 10.0) -> Any:
        """Wait, inside the page, until the JS expression ``predicate`` is truthy."""
        label = json.dumps(predicate)
        script = f"""
            new Promise((resolve, reject) => {{
                const until = Date.now() + {int(timeout * 1000)};
                const check = () => {{
                    let value;
                    try {{ value = ({predicate}); }} catch (e) {{ value = undefined; }}
                    if (value) resolve(value);
                    else if (Date.now() > until) reject(new Error("timed out: " + {label}));
                    else setTimeout(check, 20);
                }};
                check();
            }})
        """
        return await self.evaluate(script)

    async def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element."""
        x, y = await self.evaluate(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                if (!el) throw new Error("no element " + {json.dumps(selector)});
                el.scrollIntoView({{block: "center"}});
                const r = el.getBoundingClientRect();
                return [r.x + r.width / 2, r.y + r.height / 2];
            }})()"""
        )
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
            )

    async def type_into(self, selector: str, text: str) -> None:
        """Focus the field with a click, then type ``text`` as keyboard input."""
        await self.click(selector)
        await self.send("Input.insertText", {"text": text})

    async def screenshot(self, path: Path) -> None:
        data = await self.send("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(data["data"]))


@contextlib.asynccontextmanager
async def launch(profile: Path, *extra_flags: str) -> AsyncIterator[Browser]:
    """Start Chromium with a fresh profile in ``profile``; close it at the end."""
    process = await asyncio.create_subprocess_exec(
        str(CHROMIUM),
        *FLAGS,
        *extra_flags,
        f"--user-data-dir={profile}",
        "about:blank",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        async with asyncio.timeout(30):
            while True:
                line = await process.stderr.readline()
                if not line:
                    raise CdpError("chromium exited before DevTools listened")
                match = _LISTENING.search(line.decode(errors="replace"))
                if match:
                    break
    except BaseException:
        process.kill()
        await process.wait()
        raise
    drain = asyncio.create_task(_drain(process.stderr))
    session = aiohttp.ClientSession()
    socket = await session.ws_connect(match.group(1), max_msg_size=0)
    browser = Browser(process, session, socket)
    try:
        yield browser
    finally:
        await browser.close()
        drain.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drain


async def _drain(stream: asyncio.StreamReader) -> None:
    """Keep reading Chromium's stderr so that a full pipe never blocks it."""
    while await stream.readline():
        pass
