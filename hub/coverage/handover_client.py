"""``ecrin register handover --hub URL --token-file FILE``: a hand-over sent to the
running hub's installer API (``POST /api/v1/register/handovers``) instead of written
to a journal the hub holds.

The installer's token is read from a file, never from the command line (where ``ps``
and the shell's history would show it), sent only in the ``Authorization`` header, and
never printed: an error says what the hub answered, never what was sent.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from hub.events import RecordingsHandedOver

__all__ = ["HANDOVERS_PATH", "HubRefused", "HubUnreachable", "post_handover", "read_token"]

#: The route, under the hub's address.
HANDOVERS_PATH: Final = "/api/v1/register/handovers"
#: How long the command waits for the hub's answer (the hub writes two files).
TIMEOUT: Final = 30.0
#: The most of an answer the command reads.
_MAX_ANSWER: Final = 64 * 1024


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """The hub never redirects this route: a redirect would carry the token elsewhere."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


#: Plain HTTP(S), no redirect followed (a 3xx is then an error with its status).
_OPENER: Final = urllib.request.build_opener(_NoRedirect)


class HubUnreachable(Exception):
    """The hub could not be asked (a bad address, nothing listening, no answer)."""


class HubRefused(Exception):
    """The hub answered with an error: its status and its reason, one line."""


def read_token(path: Path) -> str:
    """The installer's token from its file (its first line, blanks trimmed).

    A file other accounts may read is refused, as ssh refuses such a key: the token
    opens the installer API, and the file is its only copy on the machine.

    Raises:
        HubUnreachable: the file cannot be read, others may read it, or it holds no
            token.
    """
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            raise HubUnreachable(
                f"{path}: other accounts may read this token (mode {mode & 0o777:o}):"
                f" chmod 600 {path}"
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HubUnreachable(f"{path}: cannot read the token: {_why(exc)}") from exc
    lines = text.strip().splitlines()
    token = lines[0].strip() if lines else ""
    if not token:
        raise HubUnreachable(f"{path}: holds no token")
    return token


def _why(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__


def post_handover(
    hub: str, token: str, event: RecordingsHandedOver, to_whom: str
) -> dict[str, Any]:
    """Ask the hub at ``hub`` to record the hand-over; its answer (the register line).

    Raises:
        HubUnreachable: the address is not http(s), or the hub did not answer.
        HubRefused: the hub refused (a 4xx or 5xx), with its reason.
    """
    parts = urlsplit(hub)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HubUnreachable(f"--hub {hub!r} is not an http:// or https:// address")
    url = hub.rstrip("/") + HANDOVERS_PATH
    body = json.dumps(
        {
            "camera": event.camera,
            "from": _instant(event.start),
            "to": _instant(event.end),
            "to_whom": to_whom,
            "reference": event.reference,
        }
    ).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT) as response:
            answer = _json(response.read(_MAX_ANSWER))
    except urllib.error.HTTPError as exc:
        with exc:
            data = _json(exc.read(_MAX_ANSWER))
        reason = data.get("reason") if isinstance(data, dict) else None
        raise HubRefused(f"the hub refused ({exc.code}): {reason or exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise HubUnreachable(f"cannot reach the hub at {hub}: {_why_any(cause)}") from None
    if not isinstance(answer, dict):
        raise HubUnreachable(f"the hub at {hub} answered something else than a hand-over")
    return answer


def _why_any(cause: object) -> str:
    if isinstance(cause, BaseException):
        return _why(cause) if getattr(cause, "strerror", None) else str(cause) or _why(cause)
    return str(cause)


def _instant(moment: datetime) -> str:
    return moment.isoformat()


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
