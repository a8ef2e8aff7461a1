"""Shared helpers of the camera plugins' tests: the plugins under test, Frigate's
recorded payloads (``data/frigate``, see its README)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import plugins.cameras.frigate

FRIGATE_DATA = Path(__file__).resolve().parent / "data" / "frigate"


def frigate_payload(name: str) -> Any:
    """One of Frigate's recorded payloads, as JSON."""
    return json.loads((FRIGATE_DATA / name).read_text(encoding="utf-8"))


@pytest.fixture
def ecrin_plugins() -> Sequence[ModuleType]:
    return [plugins.cameras.frigate]
