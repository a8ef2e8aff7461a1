"""``ecrin status``: the shop's state as the journal leaves it, read offline.

It rebuilds a registry from the journal with the same code the hub runs on start
(``restore_from_journal``), so what it prints is what ``GET /api/v1/state`` showed when
the hub stopped (escalations apart: they live in the escalation outbox, not in the
journal). It reads the journal on a read-only connection, so it also runs beside a
running hub.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from hub.devices import ZoneMap
from hub.journal import JournalError
from hub.state.entities import State
from hub.state.registry import StateRegistry
from hub.state.restore import restore_from_journal

__all__ = ["format_state", "status_main"]


def _value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_value(v) for v in value)
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if (not text or " " in text) else text


def _roles(roles: list[list[str]]) -> str:
    """A camera's roles as ``camera:offline,record:online`` (role ``""``: the camera)."""
    return ",".join(f"{role or 'camera'}:{state}" for role, state in roles)


def format_state(state: State) -> str:
    """One line: the id, the state, since when, and the attributes that say something."""
    data = state.to_dict()
    since = data["last_changed"] or "never heard of"
    details = " ".join(
        f"{key}={_roles(value) if key == 'roles' else _value(value)}"
        for key, value in data["attributes"].items()
        if value not in (None, "", [], ())
    )
    return f"{state.entity_id:<32} {state.state:<12} since {since}  {details}".rstrip()


def status_main(
    journal: Path,
    out: TextIO,
    err: TextIO,
    *,
    as_json: bool = False,
    cameras: Iterable[str] = (),
    zone_maps: Mapping[str, ZoneMap] | None = None,
) -> int:
    """Print the state of every entity from the journal at ``journal``.

    Args:
        journal: the journal file (the configuration's ``journal.path``).
        out: where the states go, one line each, or one JSON document.
        err: where problems go, one line each.
        as_json: print ``{"entities": [...]}`` as ``GET /api/v1/state`` does.
        cameras: the configured cameras (``unknown`` until heard from).
        zone_maps: each device's zone map (panel zones placed in shop zones).

    Returns:
        0; 2 when the journal does not exist; 1 when it is not a readable journal.
    """
    registry = StateRegistry(zone_maps, cameras)
    try:
        result = restore_from_journal(registry, journal)
    except JournalError as exc:
        err.write(f"ecrin status: {exc}\n")
        return 2 if not journal.exists() else 1
    states = registry.states()
    if as_json:
        json.dump({"entities": [s.to_dict() for s in states]}, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        for state in states:
            out.write(format_state(state) + "\n")
        out.write(
            f"{journal}: {result.rows} rows read, {len(states)} entities"
            + (f", {result.skipped} rows of unknown types skipped" if result.skipped else "")
            + "\n"
        )
    return 0
