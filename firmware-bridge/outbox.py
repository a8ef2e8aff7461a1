"""Reliable frames waiting for the hub's acknowledgement (PROTOCOL.md).

A hold-up or tamper frame is kept here, by its type, sequence number and payload,
and framed again on each retransmission: the same three give the same bytes, so the
hub sees the very frame it missed. The slots are made once: one per input, reliable
type and state, so that a pending frame is never dropped for want of room (a change
identical to one still pending is not queued twice).
"""

import bridge_codec as codec

_SLOT = codec.CHANGE_SIZE


class Outbox:
    def __init__(self, inputs):
        self.capacity = max(1, inputs) * 2 * 5  # HOLDUP and TAMPER, five states
        self.used = bytearray(self.capacity)
        self.types = bytearray(self.capacity)
        self.seqs = [0] * self.capacity
        self.payloads = bytearray(self.capacity * _SLOT)
        self.pending = 0

    def find(self, frame_type, input, state):
        """The slot holding that change, or -1."""
        for i in range(self.capacity):
            if (
                self.used[i]
                and self.types[i] == frame_type
                and self.payloads[i * _SLOT] == input
                and self.payloads[i * _SLOT + 1] == state
            ):
                return i
        return -1

    def add(self, frame_type, seq, payload):
        """Keep a frame; return its slot, or -1 if an identical change is pending."""
        if self.find(frame_type, payload[0], payload[1]) >= 0:
            return -1
        for i in range(self.capacity):
            if not self.used[i]:
                self.used[i] = 1
                self.types[i] = frame_type
                self.seqs[i] = seq
                base = i * _SLOT
                for j in range(_SLOT):
                    self.payloads[base + j] = payload[j]
                self.pending += 1
                return i
        return -1  # cannot happen: one slot per input, type and state

    def ack(self, frame_type, seq):
        """Forget the frame the hub acknowledged; True if it was pending."""
        for i in range(self.capacity):
            if self.used[i] and self.types[i] == frame_type and self.seqs[i] == seq:
                self.used[i] = 0
                self.pending -= 1
                return True
        return False

    def copy_payload(self, slot, target):
        base = slot * _SLOT
        for j in range(_SLOT):
            target[j] = self.payloads[base + j]
