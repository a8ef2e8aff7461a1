"""Structured logging that never prints a secret.

Every record comes out as one line of ``key=value`` pairs (or one JSON object with
``--log-format json``), so that an installer can grep it and a log shipper can parse it.
A filter replaces every secret value from the configuration (passwords, tokens) with
``***`` in the message and its arguments, whatever the code that logged it did.

Another keeps a storm of identical warnings or errors (a flood of refused connections,
asyncio's "socket.accept() out of system resource" while descriptors run out) from
filling the disk: the first line of a kind is written, the repeats within a minute are
counted, and the next line of that kind after the minute carries the count
(``repeated=N``).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TextIO

__all__ = ["RedactingFilter", "RepeatFilter", "configure_logging"]

_REDACTED = "***"


class RedactingFilter(logging.Filter):
    """Replace secret values in log records (message, arguments and exception text)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: tuple[str, ...] = ()
        self.update(secrets)

    def update(self, secrets: Iterable[str]) -> None:
        """Set the secret values to hide (longest first, so overlaps hide fully)."""
        values = {s for s in secrets if s and len(s) >= 3}
        self.secrets = tuple(sorted(values, key=len, reverse=True))

    def _scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, _REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = self._scrub(record.getMessage())
            record.args = None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = self._scrub(record.exc_text)
        return True


class RepeatFilter(logging.Filter):
    """Let one line of each kind through per ``window``; count the others.

    A kind is a logger, a level and a message template (before its arguments are
    filled in), so "connection refused from %s" from a thousand addresses is one kind.
    Lines below ``level`` (the access log, information) always pass.

    Args:
        window: seconds during which repeats of a line are only counted.
        level: the lowest level that is rate-limited.
        max_kinds: kinds remembered; the oldest are forgotten first.
        clock: a monotonic clock (tests pass their own).
    """

    def __init__(
        self,
        window: float = 60.0,
        level: int = logging.WARNING,
        max_kinds: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.window = window
        self.level = level
        self.max_kinds = max_kinds
        self._clock = clock
        # kind -> [start of its window, repeats counted in it]
        self._kinds: OrderedDict[tuple[str, int, str], list[float]] = OrderedDict()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.level:
            return True
        kind = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        seen = self._kinds.get(kind)
        if seen is not None and now - seen[0] < self.window:
            seen[1] += 1
            return False
        if seen is not None and seen[1]:
            record.repeated = int(seen[1])
        self._kinds[kind] = [now, 0]
        self._kinds.move_to_end(kind)
        while len(self._kinds) > self.max_kinds:
            self._kinds.popitem(last=False)
        return True


class _KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        level = record.levelname.lower()
        msg = json.dumps(record.getMessage(), ensure_ascii=False)
        text = f"time={when} level={level} logger={record.name} msg={msg}"
        repeated = getattr(record, "repeated", 0)
        if repeated:
            text += f" repeated={repeated}"
        if record.exc_info or record.exc_text:
            exc = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
            text += f" exc={json.dumps(exc, ensure_ascii=False)}"
        return text


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        repeated = getattr(record, "repeated", 0)
        if repeated:
            data["repeated"] = repeated
        if record.exc_info or record.exc_text:
            data["exc"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(data, ensure_ascii=False)


def configure_logging(
    level: str = "info",
    fmt: str = "text",
    stream: TextIO | None = None,
    secrets: Iterable[str] = (),
) -> RedactingFilter:
    """Install the hub's handler on the root logger and return its redaction filter
    (call ``update`` on it once the configuration's secrets are known)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_JsonFormatter() if fmt == "json" else _KeyValueFormatter())
    redactor = RedactingFilter(secrets)
    # Before the redactor, which fills the arguments into the message (the template
    # is what makes two lines the same kind).
    handler.addFilter(RepeatFilter())
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return redactor
