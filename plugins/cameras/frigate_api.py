"""Keeping a hold-up's recordings at Frigate: exports through its HTTP API.

After a hold-up the scene is preserved (``keep_recordings``): the cameras' recordings
of the window must outlive the NVR's own retention. Frigate offers exactly that as an
export: ``POST /api/export/<camera>/start/<start>/end/<end>`` (Frigate 0.12 and later;
docs/docs/integrations/api/export-recording-export-camera-name-start-start-time-end-end-time-post.api.mdx
and ``frigate/api/export.py`` in blakeblackshear/frigate) copies the recordings of the
window into an MP4 of its own, and "exports are saved separately and are never removed
by retention" (docs/docs/configuration/record.md). It answers 200 with
``{"success": true, "export_id": ...}`` and runs the export in the background; 400
``No recordings found for time range`` when it has nothing of the window yet; 404 for
a camera it does not know.

The window usually ends in the future (30 minutes after the hold-up by default), and
Frigate can only export what it has written: a recording segment reaches its
recordings a little after it is filmed (10 s segments, moved out of its cache once
checked). So the window is exported in at most two parts: what is already recorded,
at once (``start`` to ``settle`` seconds ago), so that the evidence is safe even if the
hub stops; and the rest once ``end`` is ``settle`` seconds past. A window already
over is one export.

Each export is retried with exponential backoff (up to ``retry_max`` seconds between
attempts) until Frigate takes it or the device stops, except when Frigate's answer
says that retrying cannot help (404 unknown camera, 401/403 authentication, 422 a
request it cannot read): that is logged as an error, for the installer to mend.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

import aiohttp

from hub.sdk import utcnow

__all__ = ["PERMANENT_STATUSES", "FrigateExporter", "api_base"]

#: Answers of Frigate that retrying cannot change: the configuration must.
PERMANENT_STATUSES: Final = frozenset({401, 403, 404, 422})
#: The first pause between two attempts, doubled each time up to ``retry_max``.
FIRST_RETRY: Final = 1.0


def api_base(url: str) -> str:
    """Frigate's address as the exporter uses it: without a trailing ``/`` or ``/api``."""
    base = url.rstrip("/")
    return base[: -len("/api")] if base.endswith("/api") else base


class FrigateExporter:
    """Asks one Frigate camera to export windows of recordings, retrying until done.

    Args:
        url: Frigate's address (``http://nvr.local:5000``; ``/api`` is added).
        camera: the camera's name at Frigate.
        log: where progress and failures are told (never a secret: the address holds
            none, the configuration refuses credentials in it).
        timeout: seconds one request may take.
        retry_max: the longest pause between two attempts, in seconds.
        settle: seconds Frigate needs to have written what was filmed.
        now: the wall clock (tests pass their own).
        sleep: how to wait (tests pass one that records and returns at once).
    """

    def __init__(
        self,
        url: str,
        camera: str,
        log: logging.Logger,
        *,
        timeout: float = 10.0,
        retry_max: float = 300.0,
        settle: float = 60.0,
        now: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.base = api_base(url)
        self.camera = camera
        self.log = log
        self.timeout = timeout
        self.retry_max = retry_max
        self.settle = timedelta(seconds=settle)
        self._now = now
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None
        #: Attempts made and exports Frigate took, for metrics and tests.
        self.attempts = 0
        self.exported: list[str] = []

    async def close(self) -> None:
        """Close the HTTP session (an export still running is cancelled by its task)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def keep(self, start: datetime, end: datetime, incident: str) -> list[str | None]:
        """Export the window ``start``-``end``, in two parts when it is not over.

        Returns:
            Frigate's export id of each part (None for a part Frigate refused for
            good, or that older Frigate versions take without an id).
        """
        now = self._now()
        if end + self.settle <= now:
            return [await self.export(start, end, incident)]
        cut = now - self.settle
        ids: list[str | None] = []
        if cut > start:
            ids.append(await self.export(start, cut, f"{incident} (1/2)"))
        while (left := (end + self.settle - self._now()).total_seconds()) > 0:
            await self._sleep(left)
        name = f"{incident} (2/2)" if ids else incident
        ids.append(await self.export(max(start, cut), end, name))
        return ids

    async def export(self, start: datetime, end: datetime, name: str) -> str | None:
        """Ask Frigate to export one window, until it takes it or refuses for good."""
        path = (
            f"/api/export/{quote(self.camera, safe='')}"
            f"/start/{math.floor(start.timestamp())}/end/{math.ceil(end.timestamp())}"
        )
        body = {"playback": "realtime", "source": "recordings", "name": name}
        pause = FIRST_RETRY
        while True:
            self.attempts += 1
            try:
                status, answer = await self._post(path, body)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                message = _message(answer)
                if status == 200 and (not isinstance(answer, dict) or answer.get("success", True)):
                    export_id = answer.get("export_id") if isinstance(answer, dict) else None
                    ident = export_id if isinstance(export_id, str) else None
                    if ident is not None:
                        self.exported.append(ident)
                    self.log.info(
                        "Frigate camera %s: exporting %s to %s for %s (export %s)",
                        self.camera,
                        start.isoformat(),
                        end.isoformat(),
                        name,
                        ident or "without an id",
                    )
                    return ident
                if status in PERMANENT_STATUSES:
                    self.log.error(
                        "Frigate camera %s: Frigate refused to export %s to %s for %s"
                        " (HTTP %s: %s); retrying cannot help: check settings.camera and"
                        " settings.api, then export the window by hand (docs/frigate.md)",
                        self.camera,
                        start.isoformat(),
                        end.isoformat(),
                        name,
                        status,
                        message,
                    )
                    return None
                why = f"HTTP {status}: {message}"
            self.log.warning(
                "Frigate camera %s: could not export the window of %s (%s); retrying in %.0f s",
                self.camera,
                name,
                why,
                pause,
            )
            await self._sleep(pause)
            pause = min(pause * 2, self.retry_max)

    async def _post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        async with self._session.post(self.base + path, json=body) as response:
            text = await response.text()
        try:
            answer: Any = json.loads(text)
        except ValueError:
            answer = text
        return response.status, answer


def _message(answer: Any) -> str:
    """Frigate's explanation, one short line."""
    if isinstance(answer, dict):
        for key in ("message", "detail"):
            if key in answer:
                answer = answer[key]
                break
    text = " ".join(str(answer).split())
    return text if len(text) <= 120 else text[:117] + "..."
