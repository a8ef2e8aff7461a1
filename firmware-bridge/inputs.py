"""The board's inputs: plain contacts and supervised loops, read and debounced.

A plain contact is read on a digital pin with the internal pull-up: closed pulls it
to ground. A supervised loop is read on the ADC: the loop's two end-of-line resistors
and the pull-up make a divider whose voltage tells normal, alarm, cut and short apart
(README.md, "Wiring"). A state counts once it has held for the debounce time.

Nothing here allocates once the inputs are built: the main loop calls ``scan`` on
every turn.
"""

import machine
import time
from micropython import const

import bridge_codec as codec

_NORMAL = const(0)
_ALARM = const(1)
_CUT = const(2)
_SHORT = const(3)
_DISABLED = const(4)


class Thresholds:
    """Where a supervised loop's ADC reading (0..65535) changes meaning."""

    def __init__(self, short_below, alarm_above, cut_above):
        if not 0 < short_below < alarm_above < cut_above < 65536:
            raise ValueError("eol thresholds must rise: short_below < alarm_above < cut_above")
        self.short_below = short_below
        self.alarm_above = alarm_above
        self.cut_above = cut_above

    def classify(self, reading):
        if reading < self.short_below:
            return _SHORT
        if reading > self.cut_above:
            return _CUT
        if reading > self.alarm_above:
            return _ALARM
        return _NORMAL


class Input:
    """One input: its pin, its mode (role and flags) and its debounced state."""

    def __init__(self, index, pin, has_adc, mode):
        self.index = index
        self.pin_id = pin
        self.has_adc = has_adc
        self.mode = -1
        self.pin = None
        self.adc = None
        self.state = _DISABLED  # the debounced state, as reported
        self.candidate = _DISABLED  # the last reading, waiting to hold
        self.since = 0  # when the candidate was first read (ticks_ms)
        self.configure(mode)

    def configure(self, mode):
        """Apply a mode byte (codec.ROLE_*, MODE_*); raise ValueError if impossible."""
        if mode & codec.MODE_SUPERVISED and not self.has_adc:
            raise ValueError("input %d has no ADC for a supervised loop" % self.index)
        if mode == self.mode:
            return
        self.mode = mode
        self.pin = None
        self.adc = None
        if mode & codec.ROLE_MASK == codec.ROLE_OFF:
            return
        if mode & codec.MODE_SUPERVISED:
            self.adc = machine.ADC(machine.Pin(self.pin_id))
            atten = getattr(machine.ADC, "ATTN_11DB", None)
            if atten is not None:  # ESP32: read the whole 0..3.3 V range
                self.adc.atten(atten)
        else:
            self.pin = machine.Pin(self.pin_id, machine.Pin.IN, machine.Pin.PULL_UP)
        # Start from "normal": a loop found in alarm or tamper at start is reported.
        self.state = _NORMAL
        self.candidate = _NORMAL

    def read(self, thresholds):
        """The input's state now, before debouncing."""
        mode = self.mode
        if mode & codec.ROLE_MASK == codec.ROLE_OFF:
            return _DISABLED
        if self.adc is not None:
            return thresholds.classify(self.adc.read_u16())
        closed = self.pin.value() == 0
        if mode & codec.MODE_INVERTED:
            return _NORMAL if closed else _ALARM
        return _ALARM if closed else _NORMAL


class Inputs:
    """Every input of the board, scanned together."""

    def __init__(self, specs, thresholds, debounce_ms):
        self.thresholds = thresholds
        self.debounce_ms = debounce_ms
        self.items = []
        for index in range(len(specs)):
            spec = specs[index]
            self.items.append(Input(index, spec["pin"], spec.get("adc", False), mode_of(spec)))
        self.count = len(self.items)
        self.states = bytearray(self.count)
        self._refresh_states()

    def _refresh_states(self):
        for i in range(self.count):
            self.states[i] = self.items[i].state

    def configure(self, modes):
        """Apply one mode byte per input, all or none; raise ValueError naming the input."""
        if len(modes) != self.count:
            raise ValueError("%d modes for %d inputs" % (len(modes), self.count))
        for i in range(self.count):
            if modes[i] & codec.MODE_SUPERVISED and not self.items[i].has_adc:
                raise ValueError("input %d has no ADC for a supervised loop" % i)
        for i in range(self.count):
            self.items[i].configure(modes[i])
        self._refresh_states()

    def scan(self, now, owner):
        """Read every input; call ``owner.input_changed(input, old, new)`` for each
        debounced change (a method called by name: a bound method passed in would be a
        new object on every turn)."""
        debounce = self.debounce_ms
        thresholds = self.thresholds
        for i in range(self.count):
            item = self.items[i]
            reading = item.read(thresholds)
            if reading != item.candidate:
                item.candidate = reading
                item.since = now
            if reading != item.state and time.ticks_diff(now, item.since) >= debounce:
                old = item.state
                item.state = reading
                self.states[i] = reading
                owner.input_changed(i, old, reading)


def mode_of(spec):
    """The mode byte of an input entry of the board's file."""
    role = spec.get("role", "input")
    if role == "off":
        mode = codec.ROLE_OFF
    elif role == "input":
        mode = codec.ROLE_INPUT
    elif role == "holdup":
        mode = codec.ROLE_HOLDUP
    else:
        raise ValueError("input on pin %s: role %r is not off, input or holdup" % (spec.get("pin"), role))
    if spec.get("supervised", False):
        mode |= codec.MODE_SUPERVISED
    if spec.get("inverted", False):
        mode |= codec.MODE_INVERTED
    return mode
