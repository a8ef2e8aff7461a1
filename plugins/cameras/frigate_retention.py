"""How long Frigate keeps a camera's recordings, read from its HTTP API.

The shop declares each camera's retention (``retention_days``, at most 31 days: CSI
L252-5), and its register gives destruction dates from it; Frigate is what deletes.
``GET /api/config`` answers Frigate's whole configuration, defaults filled in, and
``cameras.<name>.record`` says how long each kind of recording is kept:

* ``retain.days``: every recording (continuous), Frigate 0.12 to 0.16;
* ``continuous.days`` and ``motion.days``: the same split in two, Frigate 0.17;
* ``alerts.retain.days`` and ``detections.retain.days``: recordings of review items,
  Frigate 0.14 and later;
* ``events.retain.default`` and ``events.retain.objects``: recordings of tracked
  objects, before 0.14.

Frigate keeps a segment for "the largest matching retention value"
(docs/docs/configuration/record.md), so the longest of these is how long any
recording of the camera may live: what the declared retention must equal. (A
recording Frigate exports is not counted: exports are kept until deleted by hand,
and are what a sealed scene or a hand-over keeps on purpose.)

``FrigateRetention`` reads it at the device's start and once a day
(``CHECK_PERIOD``), and the device emits a ``RetentionChecked`` each time: a
difference is a technical fault, journaled, shown on the camera's state, and logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, Final

import aiohttp

from hub.sdk import Event, RetentionChecked
from plugins.cameras.frigate_api import api_base

__all__ = [
    "CHECK_PERIOD",
    "SOURCE",
    "FrigateRetention",
    "RetentionUnknown",
    "retention_days",
    "watch_retention",
]

#: The most of Frigate's configuration read (a large NVR's is a few hundred KB).
MAX_CONFIG: Final = 4 * 1024 * 1024
#: Seconds between two checks once one succeeded.
CHECK_PERIOD: Final = 86400.0
#: What a ``RetentionChecked`` names as its source.
SOURCE: Final = "Frigate GET /api/config"


class RetentionUnknown(Exception):
    """Frigate's answer does not say how long it keeps the camera's recordings."""


def _days(node: Any, *path: str) -> Iterator[float]:
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return
        node = node[key]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        yield float(node)


def retention_days(config: Any, camera: str) -> float:
    """The longest Frigate keeps any recording of ``camera``, in days.

    Args:
        config: Frigate's ``GET /api/config`` answer, parsed.
        camera: the camera's name at Frigate.

    Raises:
        RetentionUnknown: the camera is not in the answer, or its ``record`` section
            names no retention Frigate is known to use.
    """
    cameras = config.get("cameras") if isinstance(config, Mapping) else None
    if not isinstance(cameras, Mapping) or camera not in cameras:
        raise RetentionUnknown(f"Frigate's configuration has no camera {camera!r}")
    record = cameras[camera].get("record") if isinstance(cameras[camera], Mapping) else None
    found = [
        *_days(record, "retain", "days"),
        *_days(record, "continuous", "days"),
        *_days(record, "motion", "days"),
        *_days(record, "alerts", "retain", "days"),
        *_days(record, "detections", "retain", "days"),
        *_days(record, "events", "retain", "default"),
    ]
    events = record.get("events") if isinstance(record, Mapping) else None
    retain = events.get("retain") if isinstance(events, Mapping) else None
    objects = retain.get("objects") if isinstance(retain, Mapping) else None
    if isinstance(objects, Mapping):
        found += [
            float(v)
            for v in objects.values()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
        ]
    if not found:
        raise RetentionUnknown(f"Frigate's configuration gives no retention for {camera!r}")
    return max(found)


class FrigateRetention:
    """Reads one camera's retention from Frigate's HTTP API.

    Args:
        url: Frigate's address (``http://nvr.local:5000``; ``/api`` is added).
        camera: the camera's name at Frigate.
        log: where failures are told.
        timeout: seconds the request may take.
    """

    def __init__(self, url: str, camera: str, log: logging.Logger, *, timeout: float) -> None:
        self.base = api_base(url)
        self.camera = camera
        self.log = log
        self.timeout = timeout

    async def read(self) -> float:
        """The camera's retention at Frigate, in days.

        Raises:
            RetentionUnknown: Frigate answered, but not with the camera's retention.
            aiohttp.ClientError, TimeoutError: Frigate could not be asked.
        """
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(self.base + "/api/config") as response,
        ):
            if response.status != 200:
                raise RetentionUnknown(f"Frigate answered HTTP {response.status} to /api/config")
            body = await response.content.read(MAX_CONFIG + 1)
            if len(body) > MAX_CONFIG:
                raise RetentionUnknown(f"Frigate's /api/config is over {MAX_CONFIG} bytes")
            try:
                config = json.loads(body)
            except ValueError as exc:
                raise RetentionUnknown(f"Frigate's /api/config is not JSON: {exc}") from exc
        return retention_days(config, self.camera)


async def watch_retention(
    reader: FrigateRetention,
    camera: str,
    declared: int,
    emit: Callable[[Event], None],
    *,
    retry: float,
    period: float = CHECK_PERIOD,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> None:
    """Check the camera's retention now and every ``period`` seconds, until cancelled.

    Each answer is a ``RetentionChecked`` (a difference is logged as an error too);
    Frigate out of reach is retried every ``retry`` seconds; an answer that does not
    tell (a camera Frigate does not know) is logged and asked again a period later.

    Args:
        reader: asks Frigate.
        camera: the configured camera id, put on the events.
        declared: the camera's ``retention_days``.
        emit: the device's ``ctx.emit``.
        retry: seconds before asking again when Frigate could not be asked.
        period: seconds between two checks.
        sleep: how to wait (tests pass one that returns at once).
    """
    log = reader.log
    while True:
        try:
            actual = await reader.read()
        except RetentionUnknown as exc:
            log.warning("%s: cannot check the retention at Frigate: %s", camera, exc)
            await sleep(period)
            continue
        except (aiohttp.ClientError, TimeoutError) as exc:
            why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            log.warning(
                "%s: cannot ask Frigate its retention (%s); again in %.0f s", camera, why, retry
            )
            await sleep(retry)
            continue
        event = RetentionChecked(
            camera=camera, declared_days=declared, actual_days=actual, source=SOURCE
        )
        emit(event)
        if not event.matches:
            log.error(
                "%s: Frigate keeps camera %s's recordings %g days, the configuration declares"
                " %d (retention_days): the register's destruction dates are wrong; set"
                " Frigate's record retention to %d days (docs/frigate.md, Retention)",
                camera,
                reader.camera,
                actual,
                declared,
                declared,
            )
        await sleep(period)
