"""The bridge firmware's main loop: inputs in, frames out, the hub's commands applied.

One ``Bridge`` owns the serial link, the inputs, the outputs, the reliable outbox and
the watchdog. ``turn()`` is one pass of the main loop and allocates nothing once the
bridge is built: frames are encoded into the codec's ``Encoder`` buffers, bytes read
into a buffer made once and decoded in place, the clock kept as small integers. Only
a command from the hub (rare, and answered at once) makes objects, which the garbage
collector takes back; the heap does not grow (tests/bridge/test_firmware.py runs
100,000 turns under a locked heap).
"""

import gc
import os
import time

import machine

import bridge_codec as codec
from inputs import Inputs, Thresholds, mode_of
from outbox import Outbox

FIRMWARE_VERSION = "1.0.0"
CAPABILITIES = codec.CAP_SUPERVISED | codec.CAP_OUTPUTS | codec.CAP_WATCHDOG | codec.CAP_CONFIGURE


class Output:
    def __init__(self, pin):
        self.pin = machine.Pin(pin, machine.Pin.OUT, value=0)
        self.value = 0
        self.pulse_until = -1  # ticks_ms when a pulse ends, -1: none

    def set(self, value):
        self.value = value
        self.pin.value(value)


class Bridge:
    """The board, from its configuration (the parsed ``board.json``)."""

    def __init__(self, config, uart=None):
        self.name = config["name"]
        self.heartbeat_ms = config.get("heartbeat_ms", 1000)
        self.retry_ms = config.get("retry_ms", 500)
        eol = config.get("eol", {})
        thresholds = Thresholds(
            eol.get("short_below", 16000), eol.get("alarm_above", 38000), eol.get("cut_above", 55000)
        )
        specs = config["inputs"]
        if len(specs) > codec.MAX_INPUTS:
            raise ValueError("at most %d inputs" % codec.MAX_INPUTS)
        self.inputs = Inputs(specs, thresholds, config.get("debounce_ms", 30))
        self.default_modes = bytes([mode_of(spec) for spec in specs])
        self.outputs = [Output(spec["pin"]) for spec in config.get("outputs", [])]
        if len(self.outputs) > codec.MAX_OUTPUTS:
            raise ValueError("at most %d outputs" % codec.MAX_OUTPUTS)
        if uart is None:
            link = config["uart"]
            uart = machine.UART(
                link["id"],
                baudrate=link.get("baudrate", 115200),
                tx=machine.Pin(link["tx"]),
                rx=machine.Pin(link["rx"]),
                timeout=0,
            )
        self.uart = uart
        self.wdt = machine.WDT(timeout=config.get("watchdog_ms", 5000))
        self.encoder = codec.Encoder()
        self.decoder = codec.Decoder(codec.HUB_TYPES)
        self.commands = codec.SeqTracker(8)
        self.outbox = Outbox(self.inputs.count)
        self.rx = bytearray(64)
        self.bad_payloads = 0  # hub frames with a good CRC and a payload that does not parse
        self.seq = 0
        self.boot_id = _random_u32()
        self.version = codec.VERSION  # until a HELLO says otherwise
        # The board's clock: seconds and milliseconds since start (small integers).
        self.uptime_s = 0
        self.ms = 0
        now = time.ticks_ms()
        self.last_tick = now
        self.next_heartbeat = now
        self.next_retry = time.ticks_add(now, self.retry_ms)
        self.send_hello()

    # -- sending ---------------------------------------------------------------------

    def _next_seq(self):
        seq = self.seq
        self.seq = (seq + 1) & 0xFFFF
        return seq

    def _write(self, view):
        self.uart.write(view)

    def send(self, frame_type, length, version=-1):
        """Frame the payload in the encoder and write it; return its sequence number."""
        seq = self._next_seq()
        self._write(self.encoder.encode(frame_type, seq, length, self.version if version < 0 else version))
        return seq

    def send_hello(self):
        hello = codec.Hello(
            codec.VERSION,
            codec.MIN_VERSION,
            CAPABILITIES,
            self.boot_id,
            self.inputs.count,
            len(self.outputs),
            self.heartbeat_ms,
            self.name,
            FIRMWARE_VERSION,
        )
        self.send(codec.HELLO, codec.pack_hello(self.encoder.payload, 0, hello), 1)

    def send_heartbeat(self):
        outputs = 0
        for i in range(len(self.outputs)):
            if self.outputs[i].value:
                outputs |= 1 << i
        n = codec.pack_heartbeat(
            self.encoder.payload,
            0,
            self.uptime_s,
            self.ms,
            self.outbox.pending,
            self.decoder.errors + self.bad_payloads,
            self.inputs.states,
            self.inputs.count,
            outputs,
        )
        self.send(codec.HEARTBEAT, n)

    def send_ack(self, frame_type, seq):
        self.send(codec.ACK, codec.pack_ack(self.encoder.payload, 0, frame_type, seq))

    def send_error(self, code, ref_type, ref_seq, detail):
        n = codec.pack_error(self.encoder.payload, 0, code, ref_type, ref_seq, detail)
        self.send(codec.ERROR, n, 1 if code == codec.ERR_VERSION else -1)

    def send_reliable(self, frame_type, input, state):
        payload = self.encoder.payload
        codec.pack_change(payload, 0, input, state, self.uptime_s, self.ms)
        if self.outbox.find(frame_type, input, state) >= 0:
            return  # the same change is still waiting for its acknowledgement
        seq = self._next_seq()
        self.outbox.add(frame_type, seq, payload)
        self._write(self.encoder.encode(frame_type, seq, codec.CHANGE_SIZE, self.version))

    def resend_pending(self):
        outbox = self.outbox
        if not outbox.pending:
            return
        for slot in range(outbox.capacity):
            if outbox.used[slot]:
                outbox.copy_payload(slot, self.encoder.payload)
                view = self.encoder.encode(
                    outbox.types[slot], outbox.seqs[slot], codec.CHANGE_SIZE, self.version
                )
                self._write(view)

    # -- inputs ------------------------------------------------------------------------

    def input_changed(self, input, old, new):
        """Report a debounced change (PROTOCOL.md, "Input states")."""
        mode = self.inputs.items[input].mode
        role = mode & codec.ROLE_MASK
        if new == codec.CUT or new == codec.SHORT:
            self.send_reliable(codec.TAMPER, input, new)
            return
        if old == codec.CUT or old == codec.SHORT:
            self.send_reliable(codec.TAMPER, input, new)
            if new != codec.ALARM:
                return
        if role == codec.ROLE_HOLDUP:
            self.send_reliable(codec.HOLDUP, input, new)
        elif role == codec.ROLE_INPUT:
            n = codec.pack_change(self.encoder.payload, 0, input, new, self.uptime_s, self.ms)
            self.send(codec.INPUT, n)

    # -- receiving ---------------------------------------------------------------------

    def receive(self):
        uart = self.uart
        rx = self.rx
        decoder = self.decoder
        while uart.any():
            n = uart.readinto(rx)
            if not n:
                return
            for i in range(n):
                status = decoder.push(rx[i])
                if status == codec.FRAME:
                    self.handle()
                elif status == codec.UNKNOWN_TYPE:
                    self.send_error(codec.ERR_UNKNOWN_TYPE, decoder.type, decoder.seq, 0)
                elif status == codec.BAD_VERSION:
                    self.send_error(codec.ERR_VERSION, decoder.type, decoder.seq, codec.VERSION)

    def handle(self):
        decoder = self.decoder
        frame_type = decoder.type
        seq = decoder.seq
        try:
            if frame_type == codec.ACK:
                acked_type, acked_seq = codec.parse_ack(decoder.payload())
                self.outbox.ack(acked_type, acked_seq)
            elif frame_type == codec.HELLO:
                self.hello(codec.parse_hello(decoder.payload()), seq)
            elif frame_type == codec.REQUEST_STATE:
                self.send_heartbeat()
            elif frame_type == codec.CONFIGURE or frame_type == codec.SET_OUTPUT:
                if self.commands.check(seq, True) == codec.DUPLICATE:
                    self.send_ack(frame_type, seq)  # its acknowledgement was lost
                elif frame_type == codec.CONFIGURE:
                    self.configure(codec.parse_configure(decoder.payload()), seq)
                else:
                    self.set_output(codec.parse_set_output(decoder.payload()), seq)
            # ERROR from the hub: counted by the hub itself; nothing to do here.
        except ValueError:
            self.bad_payloads += 1
            self.send_error(codec.ERR_BAD_PAYLOAD, frame_type, seq, 0)

    def hello(self, theirs, seq):
        ours = codec.Hello(codec.VERSION, codec.MIN_VERSION)
        version = codec.negotiate(ours, theirs)
        if version < 0:
            self.send_error(codec.ERR_VERSION, codec.HELLO, seq, codec.VERSION)
            return
        self.version = version
        self.commands.reset()
        self.send_hello()
        self.send_heartbeat()

    def configure(self, config, seq):
        try:
            self.inputs.configure(config.modes)
        except ValueError:
            detail = 0
            for i in range(min(len(config.modes), self.inputs.count)):
                if config.modes[i] & codec.MODE_SUPERVISED and not self.inputs.items[i].has_adc:
                    detail = i
                    break
            self.send_error(codec.ERR_BAD_CONFIG, codec.CONFIGURE, seq, detail)
            return
        if config.heartbeat_ms:
            self.heartbeat_ms = min(max(config.heartbeat_ms, 100), 60000)
        if config.debounce_ms:
            self.inputs.debounce_ms = min(config.debounce_ms, 1000)
        if config.retry_ms:
            self.retry_ms = min(max(config.retry_ms, 50), 10000)
        self.send_ack(codec.CONFIGURE, seq)

    def set_output(self, command, seq):
        output, value, pulse_ms = command
        if output >= len(self.outputs):
            self.send_error(codec.ERR_NO_SUCH_OUTPUT, codec.SET_OUTPUT, seq, output)
            return
        item = self.outputs[output]
        item.set(value)
        item.pulse_until = time.ticks_add(time.ticks_ms(), pulse_ms) if pulse_ms else -1
        self.send_ack(codec.SET_OUTPUT, seq)

    # -- the loop ------------------------------------------------------------------------

    def tick(self, now):
        elapsed = time.ticks_diff(now, self.last_tick)
        self.last_tick = now
        ms = self.ms + elapsed
        while ms >= 1000:
            ms -= 1000
            self.uptime_s += 1
        self.ms = ms

    def turn(self):
        """One pass of the main loop."""
        now = time.ticks_ms()
        self.tick(now)
        self.wdt.feed()
        self.receive()
        self.inputs.scan(now, self)
        for i in range(len(self.outputs)):
            item = self.outputs[i]
            if item.pulse_until != -1 and time.ticks_diff(now, item.pulse_until) >= 0:
                item.pulse_until = -1
                item.set(1 - item.value)
        if time.ticks_diff(now, self.next_heartbeat) >= 0:
            self.next_heartbeat = time.ticks_add(now, self.heartbeat_ms)
            self.send_heartbeat()
        if time.ticks_diff(now, self.next_retry) >= 0:
            self.next_retry = time.ticks_add(now, self.retry_ms)
            self.resend_pending()
        machine.idle()

    def run(self):
        gc.collect()
        while True:
            self.turn()


def _random_u32():
    data = os.urandom(4)
    return (data[0] << 24) | (data[1] << 16) | (data[2] << 8) | data[3]
