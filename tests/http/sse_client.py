"""A small Server-Sent Events reader for the tests, parsing the stream as a browser does."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass(frozen=True)
class SseEvent:
    event: str
    data: str
    id: str | None

    @property
    def json(self) -> Any:
        return json.loads(self.data)


@dataclass(frozen=True)
class SseComment:
    text: str


class SseReader:
    """Reads events and comments from an open ``text/event-stream`` response."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.retry: int | None = None

    async def next(self, timeout: float = 5.0) -> SseEvent | SseComment | None:
        """The next event or comment; None at the end of the stream."""
        event, event_id = "message", None
        data: list[str] = []
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.response.content.readline()
                if not raw:
                    return None
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith(":"):
                    return SseComment(line[1:].strip())
                if line == "":
                    if data:
                        return SseEvent(event, "\n".join(data), event_id)
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "event":
                    event = value
                elif name == "data":
                    data.append(value)
                elif name == "id":
                    event_id = value
                elif name == "retry":
                    self.retry = int(value)

    async def event(self, timeout: float = 5.0) -> SseEvent:
        """The next event, skipping comments; fails at the end of the stream."""
        while True:
            item = await self.next(timeout)
            assert item is not None, "the stream ended"
            if isinstance(item, SseEvent):
                return item

    async def events_until_heartbeat(self, timeout: float = 5.0) -> list[SseEvent]:
        """Every event before the next heartbeat comment (the stream was idle after them)."""
        found: list[SseEvent] = []
        while True:
            item = await self.next(timeout)
            assert item is not None, "the stream ended"
            if isinstance(item, SseComment):
                return found
            found.append(item)
