"""The log's own protections: repeated warnings and errors are counted, not written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from hub.logs import RepeatFilter, configure_logging


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def root_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_storm_of_one_error_is_one_line_then_one_line_with_the_count() -> None:
    clock = Clock()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RepeatFilter(window=60, clock=clock))
    logger = logging.getLogger("test.repeat.storm")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for n in range(5000):
            logger.error("socket.accept() out of system resource from %s", f"10.0.0.{n % 250}")
        assert len(stream.getvalue().splitlines()) == 1
        clock.now += 60
        logger.error("socket.accept() out of system resource from %s", "10.0.0.1")
        records = stream.getvalue().splitlines()
        assert len(records) == 2
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def test_kinds_are_counted_apart_and_information_always_passes() -> None:
    clock = Clock()
    kept: list[logging.LogRecord] = []
    repeat = RepeatFilter(window=60, clock=clock)

    def record(name: str, level: int, msg: str) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, msg, None, None)

    for _ in range(3):
        for rec in (
            record("a", logging.ERROR, "one"),
            record("a", logging.ERROR, "two"),
            record("b", logging.ERROR, "one"),
            record("a", logging.WARNING, "one"),
            record("a", logging.INFO, "one"),
        ):
            if repeat.filter(rec):
                kept.append(rec)
    assert [(r.name, r.levelno, r.msg) for r in kept].count(("a", logging.INFO, "one")) == 3
    assert len(kept) == 4 + 3
    clock.now += 61
    again = record("a", logging.ERROR, "one")
    assert repeat.filter(again)
    assert again.repeated == 2  # type: ignore[attr-defined]


@pytest.mark.usefixtures("root_restored")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_hub_log_writes_the_count(fmt: str) -> None:
    stream = io.StringIO()
    configure_logging(level="info", fmt=fmt, stream=stream)
    logger = logging.getLogger("test.repeat.hub")
    for _ in range(1000):
        logger.warning("connection refused (%s limit reached)", "address")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    for _ in range(10):
        logger.info("an information line is never held back")
    assert len(stream.getvalue().splitlines()) == 11
    counted = logging.LogRecord("x", logging.WARNING, __file__, 1, "again", None, None)
    counted.repeated = 999
    line = logging.getLogger().handlers[0].format(counted)
    if fmt == "json":
        assert "repeated" not in json.loads(lines[0])
        assert json.loads(line)["repeated"] == 999
    else:
        assert "repeated=" not in lines[0]
        assert line.endswith(" repeated=999")
