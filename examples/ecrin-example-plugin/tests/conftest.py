"""The plugins under test, for the test kit's fixtures (``plugin_manager``,
``build_device``): Écrin's kit is loaded by pytest itself (``pytest11``)."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import pytest

import ecrin_holdup_box
import ecrin_sos_pendant


@pytest.fixture
def ecrin_plugins() -> Sequence[ModuleType]:
    return [ecrin_holdup_box, ecrin_sos_pendant]
