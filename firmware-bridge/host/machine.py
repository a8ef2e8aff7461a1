"""A stand-in for the board's ``machine`` module, for the MicroPython unix port.

It lets the firmware's own modules run unchanged on a computer, driven by a test:

- ``UART`` is the pseudo-terminal named by the ``BRIDGE_UART`` environment variable
  (the test opens the pty and passes its slave's path). As on a real UART, bytes
  written while nobody reads are dropped once the line's buffer is full, rather
  than blocking the loop.
- ``Pin`` and ``ADC`` read levels the test sets, one command a line on the
  firmware's standard input: ``pin <n> <0|1>`` sets an input pin's level,
  ``adc <n> <0..65535>`` an ADC reading; ``wdt`` prints ``wdt <feeds>``, the
  watchdog's feed count. An output pin prints ``out <n> <level>`` when it changes.
  Digital inputs start high (the pull-up, contact open), ADC readings at 32768 (a
  supervised loop at rest with 4.7 kOhm resistors).
- ``WDT`` counts its feeds. ``idle()`` takes the test's commands and waits up to
  ``BRIDGE_IDLE_MS`` milliseconds (1 by default, about a board's loop period; 0 to
  run flat out) for one.

Nothing here allocates on the firmware's per-turn calls when no command arrives.
"""

import os
import select
import sys
import termios

_VTIME = 5  # Linux's indices in termios' control characters
_VMIN = 6
_levels = bytearray(b"\x01" * 64)
_adc = [32768] * 64
_feeds = [0]
_idle_ms = int(os.getenv("BRIDGE_IDLE_MS") or "1")
_control = select.poll()
_control.register(sys.stdin, select.POLLIN)


def _command(line):
    words = line.split()
    if not words:
        return
    if words[0] == "pin" and len(words) == 3:
        _levels[int(words[1])] = int(words[2])
    elif words[0] == "adc" and len(words) == 3:
        _adc[int(words[1])] = int(words[2])
    elif words[0] == "wdt":
        print("wdt %d" % _feeds[0])
    else:
        print("host: unknown command %r" % line)


def idle():
    """Take the test's pending commands; wait up to BRIDGE_IDLE_MS for one."""
    for _ in _control.ipoll(_idle_ms):
        line = sys.stdin.readline()
        if not line:  # the test closed our input: stop listening
            _control.unregister(sys.stdin)
            return
        _command(line)
        return


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, id, mode=IN, pull=None, value=None):
        self.id = id
        self.mode = mode
        if mode == Pin.OUT:
            self.value(0 if value is None else value)

    def value(self, level=None):
        if level is None:
            return _levels[self.id]
        level = 1 if level else 0
        if self.mode == Pin.OUT and _levels[self.id] != level:
            print("out %d %d" % (self.id, level))
        _levels[self.id] = level
        return None


class ADC:
    def __init__(self, pin):
        self.id = pin.id

    def read_u16(self):
        return _adc[self.id]


class WDT:
    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout

    def feed(self):
        _feeds[0] += 1


class UART:
    def __init__(self, id=0, baudrate=115200, tx=None, rx=None, timeout=0, **kwargs):
        path = os.getenv("BRIDGE_UART")
        if not path:
            raise OSError("BRIDGE_UART names no pseudo-terminal")
        self._file = open(path, "r+b")
        fd = self._file.fileno()
        termios.setraw(fd)
        # VMIN 0, VTIME 0: a read returns what has arrived, at once, as a UART's does
        # (MicroPython's readinto would otherwise wait to fill the whole buffer).
        attrs = termios.tcgetattr(fd)
        attrs[6][_VTIME] = 0
        attrs[6][_VMIN] = 0
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
        self._readable = select.poll()
        self._readable.register(fd, select.POLLIN)
        self._writable = select.poll()
        self._writable.register(fd, select.POLLOUT)

    def any(self):
        for _ in self._readable.ipoll(0):
            return 1
        return 0

    def readinto(self, buf):
        return self._file.readinto(buf)

    def write(self, data):
        for _ in self._writable.ipoll(0):
            return self._file.write(data)
        return 0  # nobody is reading and the line is full: the bytes are lost
