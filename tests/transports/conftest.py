"""Fixtures for transport tests: a real pty cable and an event sink."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.transports.pty import PtyCable
from tests.transports.sink import EventSink


@pytest.fixture
def cable(tmp_path: Path) -> Iterator[PtyCable]:
    """A pty cable whose hub end is the symlink ``tmp_path/ttyUSB0`` (replug-able)."""
    pty = PtyCable(tmp_path / "ttyUSB0")
    yield pty
    pty.close()


@pytest.fixture
def sink() -> EventSink:
    return EventSink()
