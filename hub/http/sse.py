"""Server-Sent Events framing (the ``text/event-stream`` format of the HTML standard).

Kept apart from the handlers so the framing rules live in one place: a field value
never contains a line break (``data`` is compact JSON with every non-ASCII character
escaped, so it is always one line, whatever a site or zone name holds), and a comment
line keeps idle proxies from closing the connection.
"""

from __future__ import annotations

import json
from typing import Any, Final

__all__ = ["HEARTBEAT", "format_event", "retry_field"]

#: A comment line: ignored by clients, keeps the connection and proxies awake.
HEARTBEAT: Final = b": heartbeat\n\n"


def _field(name: str, value: str) -> str:
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError(f"SSE {name} must be one line")
    return f"{name}: {value}\n"


def format_event(event: str, data: Any, event_id: str | None = None) -> bytes:
    """One SSE message: ``event:``, ``id:`` and ``data:`` (compact JSON) lines.

    Raises:
        ValueError: ``event`` or ``event_id`` contains a line break.
    """
    text = _field("event", event)
    if event_id is not None:
        text += _field("id", event_id)
    # ensure_ascii escapes every control and non-ASCII character: one line, always.
    text += _field("data", json.dumps(data, ensure_ascii=True, separators=(",", ":")))
    return (text + "\n").encode("utf-8")


def retry_field(milliseconds: int) -> bytes:
    """Tell the client how long to wait before reconnecting."""
    return f"retry: {int(milliseconds)}\n\n".encode("ascii")
