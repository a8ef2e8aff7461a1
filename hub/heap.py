"""Keeping CPython's full garbage collections short once the hub has started.

A full collection (generation 2) walks every object the collector tracks. A running
hub holds tens of thousands that live as long as the process: imported modules,
plugins, the configuration, compiled patterns, the HTTP application. Walked at every
full collection, they made each one a 20 to 30 ms pause of the event loop, measured
with 3,000 ordinary events a second beside the hold-ups; a hold-up read during one
waits for it. ``gc.freeze`` moves the objects alive at that moment to a permanent
generation the collector skips, and the same full collection then takes about 3 ms.

It is done once, by the ``ecrin run`` and ``ecrin demo`` process after start-up, not by
``Hub`` itself: freezing is a decision for the whole process, which a program that
embeds a hub (a test suite, for one) makes for itself.
"""

from __future__ import annotations

import gc

__all__ = ["freeze_startup_objects"]


def freeze_startup_objects() -> int:
    """Collect what start-up left behind, then set every surviving object aside from
    future collections; returns how many objects are now set aside.

    The collection first keeps start-up garbage from being frozen with the rest (it
    would never be freed). Objects set aside are still freed by reference counting
    when the last reference goes; only reference cycles among them stay.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
