"""Start the bridge: read ``board.json``, build the board, run its loop for ever.

On the host (firmware-bridge/host/machine.py stands in for the board),
``micropython main.py --turns N`` runs N turns after a warm-up and prints the heap in
use before and after and the mean loop period, with the heap locked where the port
allows it: any allocation in the loop then fails at once (README.md, "Tests").
"""

import gc
import json
import sys
import time

from bridge import Bridge


def load(path="board.json"):
    with open(path) as f:
        return json.load(f)


def measure(bridge, turns):
    import micropython

    for _ in range(1000):  # warm-up: first heartbeat, first scan, lazy imports
        bridge.turn()
    gc.collect()
    before = gc.mem_alloc()
    start = time.ticks_us()
    micropython.heap_lock()
    try:
        for _ in range(turns):
            bridge.turn()
    finally:
        micropython.heap_unlock()
    elapsed = time.ticks_diff(time.ticks_us(), start)
    gc.collect()
    after = gc.mem_alloc()
    print("turns %d heap_before %d heap_after %d period_us %d" % (turns, before, after, elapsed // turns))


def main():
    bridge = Bridge(load())
    if "--turns" in sys.argv:
        measure(bridge, int(sys.argv[sys.argv.index("--turns") + 1]))
        return
    bridge.run()


main()
