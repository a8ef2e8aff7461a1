"""Start-up objects set aside from the garbage collector (``hub.heap``)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from hub.heap import freeze_startup_objects


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Give the test process its collector back afterwards."""
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_survivors_are_set_aside_and_startup_garbage_is_not(unfrozen: None) -> None:
    kept = [_Node() for _ in range(1000)]
    cycle_a, cycle_b = _Node(), _Node()
    cycle_a.other, cycle_b.other = cycle_b, cycle_a
    cycle_gone = weakref.ref(cycle_a)
    del cycle_a, cycle_b  # start-up garbage: only the collector can free a cycle

    frozen = freeze_startup_objects()

    assert frozen == gc.get_freeze_count()
    assert frozen >= len(kept)
    tracked = {id(o) for o in gc.get_objects()}
    assert not tracked & {id(k) for k in kept}  # frozen objects are no longer walked
    assert cycle_gone() is None  # collected first, not frozen forever


def test_objects_made_afterwards_are_still_collected(unfrozen: None) -> None:
    freeze_startup_objects()
    later = _Node()
    assert id(later) in {id(o) for o in gc.get_objects()}
    later.other = later
    del later
    assert gc.collect() >= 1
