"""``python -m tests.http.report_child_hooks``: the coverage report's child process
(``hub.report_child.main``, its set-up included) with a test's hook run before it
loads the shop file. ``ChildReports(entry=...)`` is the only way to start it: the API
cannot.

The hook is named by ``REPORT_CHILD_HOOK`` in the environment the test gives the hub:

* ``hold``: sleep for an hour (a report that takes longer than any deadline);
* ``die``: the process kills itself (SIGKILL), as the out-of-memory killer would;
* ``print``: a library that prints to standard output, which must not reach the
  report;
* ``chatter``: a library that writes megabytes to standard error before the report.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from hub.report_child import main

HOOK = "REPORT_CHILD_HOOK"


def _hook() -> None:
    what = os.environ.get(HOOK, "")
    if what == "hold":
        time.sleep(3600)
    elif what == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    elif what == "chatter":
        for _ in range(64):
            sys.stderr.write("a library's warning, again and again\n" * 1000)
        sys.stderr.flush()
    elif what == "print":
        print("a library's chatter")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main(before_report=_hook))
