"""The process's open-files limit: raised at start as far as the system allows.

A service manager usually starts the hub with a soft limit of 1024 descriptors and a
much higher hard limit. Every client connection, webhook delivery, serial line and
SQLite file takes one; running out means a hold-up that cannot be delivered. The hub
raises its soft limit to the hard limit at start, and logs both once, so an installer
can see what it runs with (the HTTP listener keeps a reserve below that limit).
"""

from __future__ import annotations

import logging
import resource

__all__ = ["raise_open_files_limit"]

log = logging.getLogger(__name__)

#: The soft limit asked for when the hard limit is unlimited (Linux refuses "unlimited"
#: for the soft limit of open files).
_CEILING = 1 << 20


def raise_open_files_limit() -> tuple[int, int]:
    """Raise the soft limit of open files to the hard limit; return (soft, hard).

    A refusal (a container that forbids it) keeps the limit as it was: logged, not
    fatal.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = _CEILING if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError) as exc:
            log.warning("open files: could not raise the soft limit to %d: %s", wanted, exc)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    log.info("open files: soft limit %s, hard limit %s", _shown(soft), _shown(hard))
    return soft, hard


def _shown(limit: int) -> str:
    return "unlimited" if limit == resource.RLIM_INFINITY else str(limit)
